"""What HubSpot's CRM API accepts, from HubSpot's developer documentation:

- Contacts batch endpoints (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/contacts/batch/upsert-contacts):
  `POST /crm/v3/objects/contacts/batch/{upsert,update,read,archive}`, at most 100 inputs per
  request; upsert and update address a contact by a unique property (`idProperty`, e.g. email).
  Batch answers are 200, or 207 Multi-Status with `errors[]` (`status`, `category`, `message`,
  `context`) next to `results[]`.
- Tasks (https://developers.hubspot.com/docs/api-reference/legacy/crm/objects/tasks/guide):
  `POST /crm/v3/objects/tasks/batch/create` with `hs_timestamp`, `hs_task_subject`,
  `hs_task_body`, `hs_task_priority`, `hs_task_status` and an association to the contact
  (HUBSPOT_DEFINED type 204, task to contact); `POST /crm/v3/objects/tasks/search`.
- API usage guidelines (https://developers.hubspot.com/docs/developer-tooling/platform/usage-guidelines):
  private apps get 100 requests per 10 seconds (Free and Starter; 190 on Professional and
  Enterprise) and 250,000 a day (650,000 / 1,000,000); over it HubSpot answers 429 with
  `{"status": "error", "errorType": "RATE_LIMIT", "policyName": "TEN_SECONDLY_ROLLING" | "DAILY",
  ...}`. Search endpoints allow 5 requests per second.
- Error handling (https://developers.hubspot.com/docs/api-reference/error-handling): 401 bad
  credentials, 403 missing scopes, 207 partial batch success.
"""

from __future__ import annotations

from activations.destination import Capabilities, RateLimit

BATCH_INPUTS = 100

CAPABILITIES = Capabilities(
    identifiers=frozenset({"email", "phone", "customer_id", "crm_contact_id"}),
    hashing=None,
    # upsert and add_only: batch/upsert; update_only: batch/update (a missing contact is
    # refused); mirror: upsert plus batch/archive of contacts that left the model.
    sync_modes=frozenset({"upsert", "update_only", "add_only", "mirror"}),
    # Journey CRM steps create tasks associated with the customer's contact.
    journey_sends=True,
    max_batch_size=BATCH_INPUTS,
    # The lowest published private-app burst limit; a config may lower it further.
    rate_limit=RateLimit(100, 10.0),
    # Contacts: an upsert or update replayed writes the same values, an archive of an archived
    # contact is a no-op. Tasks: HubSpot has no idempotency key, so each task carries the op id
    # in the `waymark_op_id` property and the client searches for it before creating (see
    # README.md for the window this leaves).
    idempotent=True,
    removal=True,
    # A contact is found by its id property (email); when the email changes, or the contact is
    # archived, the email it was last sent under is needed.
    needs_previous=True,
    # Updates overwrite the properties given and keep the others; "property values can be
    # cleared by passing an empty string" (HubSpot's CRM object update reference). Nulls are
    # left out unless a sync declares `on_null: clear`, so a blank never wipes what a sales team
    # typed.
    clears_fields=True,
)
