"""What a signed JSON webhook accepts. A webhook is the receiver's own contract, so the limits
here are the conventions Waymark signs up to; the references are the specifications followed."""

from __future__ import annotations

from activations.destination import Capabilities

WAYMARK_IDENTIFIERS = frozenset(
    {"customer_id", "email", "phone", "user_id", "anonymous_id", "crm_contact_id"}
)

CAPABILITIES = Capabilities(
    # Any identifier travels as plain JSON; the receiver decides what it matches on.
    identifiers=WAYMARK_IDENTIFIERS,
    hashing=None,
    sync_modes=frozenset({"upsert", "update_only", "add_only", "mirror"}),
    journey_sends=True,
    # One event per request, as Standard Webhooks delivers messages
    # (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
    # each request carries its own webhook-id, so a receiver de-duplicates message by message.
    max_batch_size=1,
    # No published limit: receivers answer 429 with Retry-After (RFC 6585 section 4,
    # https://www.rfc-editor.org/rfc/rfc6585#section-4; RFC 9110 section 10.2.3,
    # https://www.rfc-editor.org/rfc/rfc9110#section-10.2.3), which delivery honours; a config
    # may also set requests_per_second.
    rate_limit=None,
    # Idempotency-Key header (https://datatracker.ietf.org/doc/draft-ietf-httpapi-idempotency-key-header/)
    # and webhook-id carry the op id: a receiver that de-duplicates applies a replay once.
    idempotent=True,
    # Removals are events of type "remove" the receiver applies.
    removal=True,
    # `data` carries a cleared field as null; a field left out is one the receiver keeps.
    clears_fields=True,
)
