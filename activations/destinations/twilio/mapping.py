"""A journey message as the form Twilio's Message create endpoint takes.

`POST /2010-04-01/Accounts/{AccountSid}/Messages.json`, form-encoded
(https://www.twilio.com/docs/messaging/api/message-resource#create-a-message-resource):
`To` (the customer's current golden phone, in E.164), `From` or `MessagingServiceSid`, `Body`
(the template's rendered `body`), and `StatusCallback` when configured.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from activations.destination import InvalidMessage, Operation, SyncContext
from activations.destinations.twilio.config import TwilioConfig
from waymark.core.identifiers import normalize_phone_e164


def messages_path(account_sid: str) -> str:
    return f"/2010-04-01/Accounts/{quote(account_sid, safe='')}/Messages.json"


def recipient(raw: str) -> str:
    """E.164 when the number is international (`+` or `00`): formatting removed. A national
    number is sent as it is, for Twilio to refuse (21211) rather than guessed into a country."""
    text = raw.strip()
    if text.startswith(("+", "00")):
        return normalize_phone_e164(text, None) or text
    return text


def message_form(
    op: Operation,
    config: TwilioConfig,
    from_number: str | None,
    messaging_service_sid: str | None,
) -> dict[str, str]:
    to, body = op.payload.get("to"), op.payload.get("body")
    if not to:
        raise InvalidMessage("the customer has no phone number")
    if not body:
        raise InvalidMessage("the outbox payload needs `body`")
    form = {"To": recipient(str(to))}
    if from_number:
        form["From"] = from_number
    if messaging_service_sid:
        form["MessagingServiceSid"] = messaging_service_sid
    form["Body"] = str(body)
    if config.status_callback_url:
        form["StatusCallback"] = config.status_callback_url.format(
            idempotency_key=quote(op.op_id, safe="")
        )
    return form


def preview(op: Operation, config: TwilioConfig, context: SyncContext | None) -> dict[str, Any]:
    """Credentials and the sender come from the environment at send time; a dry run names
    the variables instead."""
    sender = f"${config.from_number_env}" if config.from_number_env else None
    service = f"${config.messaging_service_sid_env}" if config.messaging_service_sid_env else None
    return {
        "method": "POST",
        "path": f"/2010-04-01/Accounts/${config.account_sid_env}/Messages.json",
        "form": message_form(op, config, sender, service),
    }
