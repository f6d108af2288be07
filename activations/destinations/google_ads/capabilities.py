"""What a Google Ads Customer Match list accepts, from the Google Ads API reference:

- OfflineUserDataJobService (https://developers.google.com/google-ads/api/reference/rpc/v23/OfflineUserDataJobService):
  `customers/{id}/offlineUserDataJobs:create` (type CUSTOMER_MATCH_USER_LIST with
  `customerMatchUserListMetadata.userList`), `{job}:addOperations` (create/remove of
  `UserData.userIdentifiers`, `enablePartialFailure`), then `{job}:run`.
- Customer Match upload guide (https://developers.google.com/google-ads/api/docs/remarketing/audience-segments/customer-match/get-started):
  at most 100,000 user identifiers per addOperations request (10,000 recommended) and 20
  identifiers per UserData; email, phone (E.164) and names normalised then SHA-256 hashed,
  country code and postal code in clear inside `addressInfo`.
- Quotas (https://developers.google.com/google-ads/api/docs/best-practices/quotas): limits per
  developer token are enforced as RESOURCE_EXHAUSTED with a retry delay rather than published
  as a fixed rate, so pacing follows the answers.
"""

from __future__ import annotations

from activations.destination import Capabilities

IDENTIFIERS_PER_REQUEST = 10_000
"""Google's recommended size of one addOperations request (the hard maximum is 100,000)."""

CAPABILITIES = Capabilities(
    identifiers=frozenset({"email", "phone", "first_name", "last_name", "zip", "country"}),
    hashing="google",
    # A customer list is a set of people: add (upsert, add_only) and remove (mirror).
    sync_modes=frozenset({"upsert", "add_only", "mirror"}),
    journey_sends=False,
    # One delivery is one job: Google advises few large jobs over many small ones.
    max_batch_size=100_000,
    rate_limit=None,
    # Creating a member who is in the list, or removing one who is not, changes nothing: a
    # replayed operation (a job run twice with the same data) has no second effect.
    idempotent=True,
    removal=True,
    # Removals must repeat the identifiers that were added; the engine keeps them.
    needs_previous=True,
)
