"""What SendGrid's v3 Mail Send endpoint accepts, from its published reference."""

from __future__ import annotations

from activations.destination import Capabilities

CAPABILITIES = Capabilities(
    identifiers=frozenset({"email"}),
    hashing=None,
    # Mail is a message per customer, not a record kept in step: journey sends only.
    sync_modes=frozenset(),
    journey_sends=True,
    # POST /v3/mail/send takes up to 1,000 personalizations per request
    # (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send), but a 400
    # refuses the whole request and SendGrid has no idempotency key: one message per request
    # keeps a refusal to its own message and the ambiguity after a crash or a lost reply to
    # the single message in flight.
    max_batch_size=1,
    # No number is published for mail/send: every response carries X-RateLimit-Limit,
    # -Remaining and -Reset, and 429 answers past the limit
    # (https://www.twilio.com/docs/sendgrid/api-reference/how-to-use-the-sendgrid-v3-api/rate-limits).
    # The client waits until X-RateLimit-Reset; a config may set requests_per_second.
    rate_limit=None,
    # No idempotency key in the Mail Send API: the idempotency key travels in custom_args
    # (returned by the Event Webhook) so a duplicate is recognisable downstream.
    idempotent=False,
    removal=False,
)
