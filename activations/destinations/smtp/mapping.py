"""A journey message as an email.

The outbox payload holds `subject`, `text` and optionally `html`; the recipient is the
customer's current golden email. Header values rendered from customer data stay on one line
(`waymark.core.text.single_line`): a line break would start another header. Headers:
- `Message-ID: <sha256(idempotency key)[:40]@domain>`: the same message always has the same id,
  so a copy sent again after a crash is recognisable as a duplicate (RFC 5322 section 3.6.4);
- `List-Unsubscribe` (RFC 2369) with `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
  (RFC 8058, https://www.rfc-editor.org/rfc/rfc8058) on marketing messages when configured.
"""

from __future__ import annotations

import hashlib
import hmac
from email.message import EmailMessage
from email.utils import formatdate, parseaddr
from typing import Any

from activations.destination import InvalidMessage, Operation, SyncContext
from activations.destinations.smtp.config import SmtpConfig
from waymark.core.text import has_line_break, single_line


def message_id(idempotency_key: str, from_address: str) -> str:
    domain = parseaddr(from_address)[1].rpartition("@")[2] or "waymark.invalid"
    return f"<{hashlib.sha256(idempotency_key.encode()).hexdigest()[:40]}@{domain}>"


def unsubscribe_token(secret: str, customer_id: str, purpose: str) -> str:
    signed = f"{customer_id}:{purpose}".encode()
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()[:32]


def build_message(
    op: Operation, config: SmtpConfig, unsubscribe_secret: str | None = None
) -> EmailMessage:
    payload = op.payload
    subject, text, to = payload.get("subject"), payload.get("text"), payload.get("to")
    if not to:
        raise InvalidMessage("the customer has no email address")
    if has_line_break(str(to)):
        raise InvalidMessage("the customer's email address contains a line break")
    if not subject or not text:
        raise InvalidMessage("the outbox payload needs `subject` and `text`")
    message = EmailMessage()
    message["From"] = config.from_address
    message["To"] = str(to)
    message["Subject"] = single_line(str(subject))
    message["Message-ID"] = message_id(op.op_id, config.from_address)
    message["Date"] = formatdate(usegmt=True)
    if config.reply_to:
        message["Reply-To"] = config.reply_to
    unsubscribe = _list_unsubscribe(op, config, unsubscribe_secret)
    if unsubscribe:
        message["List-Unsubscribe"] = unsubscribe
        if config.list_unsubscribe_url:
            message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(str(text))
    if payload.get("html"):
        message.add_alternative(str(payload["html"]), subtype="html")
    return message


def _list_unsubscribe(op: Operation, config: SmtpConfig, secret: str | None) -> str | None:
    if op.purpose in (None, "transactional"):
        return None
    targets = []
    if config.list_unsubscribe_url:
        token = unsubscribe_token(secret, op.customer_id or "", op.purpose) if secret else ""
        url = config.list_unsubscribe_url.format(
            customer_id=op.customer_id or "", purpose=op.purpose, token=token
        )
        targets.append(f"<{url}>")
    if config.list_unsubscribe_mailto:
        targets.append(f"<mailto:{config.list_unsubscribe_mailto}>")
    return ", ".join(targets) or None


def preview(op: Operation, config: SmtpConfig, context: SyncContext | None) -> dict[str, Any]:
    # The token needs the secret; a preview shows where it goes instead of its value.
    message = build_message(op, config, unsubscribe_secret=None)
    headers = {name: str(value) for name, value in message.items() if name != "Date"}
    return {"headers": headers, "text": op.payload.get("text"), "html": op.payload.get("html")}
