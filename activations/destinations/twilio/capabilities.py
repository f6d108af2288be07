"""What Twilio's Programmable Messaging REST API accepts, from its published reference."""

from __future__ import annotations

from activations.destination import Capabilities

CAPABILITIES = Capabilities(
    identifiers=frozenset({"phone"}),
    hashing=None,
    # A text message per customer, not a record kept in step: journey sends only. The Message
    # resource creates messages; it holds no list or profile a sync could keep in step
    # (https://www.twilio.com/docs/messaging/api/message-resource).
    sync_modes=frozenset(),
    journey_sends=True,
    # POST /2010-04-01/Accounts/{AccountSid}/Messages.json creates one message per request.
    max_batch_size=1,
    # Twilio queues messages and sends them at each sender's throughput (for example one
    # segment per second for a US long code) rather than refusing them; only concurrent API
    # requests over the account's limit get 429 / 20429, "never processed and always safe to
    # retry" (https://www.twilio.com/docs/api/errors/20429). A config may set
    # requests_per_second.
    rate_limit=None,
    # The Message create operation documents no idempotency key (its OpenAPI definition,
    # twilio/twilio-oai spec twilio_api_v2010 CreateMessage, takes none);
    # I-Twilio-Idempotency-Token is a header Twilio puts on the webhooks it sends, not one it
    # reads on requests. One message per request keeps a replay after a crash to the single
    # message in flight, flagged ambiguous in the log.
    idempotent=False,
    removal=False,
)
