"""What an SMTP relay accepts, from the SMTP and Internet Message Format standards."""

from __future__ import annotations

from activations.destination import Capabilities

CAPABILITIES = Capabilities(
    identifiers=frozenset({"email"}),
    hashing=None,
    # Mail is a message per customer, not a record to keep in step: journey sends only.
    sync_modes=frozenset(),
    journey_sends=True,
    # SMTP has no idempotency key (RFC 5321, https://www.rfc-editor.org/rfc/rfc5321): a message
    # whose DATA was sent but whose reply was lost may be delivered, and sending it again may
    # deliver it twice. One message per batch limits that ambiguity to the single message in
    # flight. Message-ID (RFC 5322 section 3.6.4, https://www.rfc-editor.org/rfc/rfc5322#section-3.6.4)
    # is derived from the idempotency key so a duplicate is recognisable downstream.
    max_batch_size=1,
    # Relays publish their own limits; a config sets requests_per_second to match.
    rate_limit=None,
    idempotent=False,
    removal=False,
)
