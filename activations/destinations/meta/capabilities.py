"""What a Meta Custom Audience accepts, from the Marketing API reference:

- Custom Audience Users (https://developers.facebook.com/docs/marketing-api/reference/custom-audience/users):
  `POST /{audience_id}/users` adds and `DELETE /{audience_id}/users` removes; `payload` is
  `{"schema": [...], "data": [[...]]}` with one column per key, blank for an unknown value; at
  most 10,000 users per request; `session` (`session_id`, `batch_seq`, `last_batch_flag`,
  `estimated_num_total`) ties the requests of one upload together.
- Customer File Custom Audiences, "Hashing and Normalizing Data"
  (https://developers.facebook.com/docs/marketing-api/audiences/guides/custom-audiences):
  EMAIL, PHONE, FN, LN, ZIP and COUNTRY are normalised, then SHA-256 hashed (lower-case hex).
- Rate limiting (https://developers.facebook.com/docs/graph-api/overview/rate-limiting):
  Business Use Case limits per ad account, reported in `X-Business-Use-Case-Usage` with
  `estimated_time_to_regain_access` in minutes; throttled calls fail with codes 4, 17, 32, 613
  or 80000-80014 (80003: custom audiences).
"""

from __future__ import annotations

from activations.destination import Capabilities, RateLimit

USERS_PER_REQUEST = 10_000
"""Meta's per-request maximum of users (the reference above)."""

IDENTIFIER_KEYS = {
    "email": "EMAIL",
    "phone": "PHONE",
    "first_name": "FN",
    "last_name": "LN",
    "zip": "ZIP",
    "country": "COUNTRY",
}
"""Waymark identifier -> Meta schema key, in the order columns are sent."""

CAPABILITIES = Capabilities(
    identifiers=frozenset(IDENTIFIER_KEYS),
    hashing="meta",
    # An audience is a set of people: add (upsert, add_only) and remove (mirror). There is no
    # "update only the members that exist" in the API, so update_only is not offered.
    sync_modes=frozenset({"upsert", "add_only", "mirror"}),
    # A journey step can add a customer to an audience named in its template.
    journey_sends=True,
    # One delivery is one upload session of up to ten requests of 10,000 users: the session
    # fields then describe the whole upload, and every request stays within Meta's maximum.
    max_batch_size=10 * USERS_PER_REQUEST,
    # The lowest published Custom Audience BUC allowance (development tier) is a few thousand
    # calls an hour per ad account; stay inside it. Throttling answers are retried as well.
    rate_limit=RateLimit(3000, 3600.0),
    # Adding a member who is already in the audience, or removing one who is not, changes
    # nothing: a replayed operation has no second effect.
    idempotent=True,
    removal=True,
    # Members are matched on hashed identifiers: a removal (or a changed email) must send the
    # hashes that were added, which the engine keeps for this destination.
    needs_previous=True,
)
