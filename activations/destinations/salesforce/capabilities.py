"""What Salesforce's REST API accepts, from its published reference (API version 46.0+)."""

from __future__ import annotations

from activations.destination import Capabilities

CAPABILITIES = Capabilities(
    # Audience syncs send contact identifiers as plain fields (a CRM stores them in clear).
    identifiers=frozenset({"email", "phone", "first_name", "last_name", "crm_contact_id"}),
    hashing=None,
    # upsert and mirror: sObject Collections upsert by external id
    # (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_upsert.htm);
    # add_only: sObject Collections create, where a unique external id refuses a second create
    # (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_create.htm);
    # update_only: a SOQL lookup of the external ids, then sObject Collections update by Id
    # (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_update.htm),
    # because the collection upsert has no update-only switch (`updateOnly` exists only on the
    # single-record sObject Rows by External ID resource);
    # mirror removals: the same lookup, then sObject Collections delete
    # (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections_delete.htm).
    sync_modes=frozenset({"upsert", "update_only", "add_only", "mirror"}),
    # Journey sends on the crm channel become Tasks, upserted by an external id holding the
    # idempotency key; Task supports upsert() (object reference,
    # https://developer.salesforce.com/docs/atlas.en-us.object_reference.meta/object_reference/sforce_api_objects_task.htm).
    journey_sends=True,
    # "The list can contain up to 200 objects" (sObject Collections, all four resources above).
    max_batch_size=200,
    # No per-second limit is published: orgs get a rolling 24-hour allocation of API requests
    # (https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_api.htm);
    # exceeding it answers 403 REQUEST_LIMIT_EXCEEDED, which defers the rows to the next run.
    rate_limit=None,
    # An upsert by external id of the same values, a delete of an absent record and a Task
    # upserted by its idempotency key have no second effect. Salesforce itself has no
    # idempotency header (https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_upsert.htm).
    idempotent=True,
    removal=True,
    # The REST API empties a field given as null in the JSON record (SOAP's fieldsToNull); a
    # field left out keeps its value (Update a Record,
    # https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/dome_update_fields.htm).
    clears_fields=True,
)
