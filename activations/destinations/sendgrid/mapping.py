"""A journey message as a SendGrid v3 Mail Send request body.

The outbox payload holds `subject`, `text` and optionally `html`; `to` is the customer's
current golden email. The body (https://www.twilio.com/docs/sendgrid/api-reference/mail-send/mail-send):
- `personalizations: [{"to": [{"email"}]}]`, `from`, `reply_to`, `subject` (on one line: it
  becomes the Subject header, and a line break from a profile value would start another);
- `content`: text/plain first, then text/html, as the endpoint requires;
- `headers`: `List-Unsubscribe` (RFC 2369) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
  (RFC 8058) on marketing messages when configured; transactional messages carry neither;
- `custom_args`: `waymark_idempotency_key` (journey:instance:step), `waymark_customer_id`,
  `waymark_template`, which SendGrid returns on every Event Webhook event;
- `categories` and, for marketing, `asm.group_id` when configured.
"""

from __future__ import annotations

import json
from email.utils import parseaddr
from typing import Any

from activations.destination import InvalidMessage, Operation, SyncContext
from activations.destinations.sendgrid.config import SendgridConfig
from activations.destinations.smtp.mapping import unsubscribe_token
from waymark.core.text import single_line

MAIL_SEND_PATH = "/v3/mail/send"
MAX_CUSTOM_ARGS_BYTES = 10_000


def _address(value: str) -> dict[str, str]:
    name, email = parseaddr(value)
    return {"email": email, "name": name} if name else {"email": email}


def is_marketing(op: Operation) -> bool:
    return op.purpose not in (None, "transactional")


def mail_body(
    op: Operation, config: SendgridConfig, unsubscribe_secret: str | None = None
) -> dict[str, Any]:
    payload = op.payload
    to, subject, text = payload.get("to"), payload.get("subject"), payload.get("text")
    if not to:
        raise InvalidMessage("the customer has no email address")
    if not subject or not text:
        raise InvalidMessage("the outbox payload needs `subject` and `text`")
    content = [{"type": "text/plain", "value": str(text)}]
    if payload.get("html"):
        content.append({"type": "text/html", "value": str(payload["html"])})
    custom_args = {
        "waymark_idempotency_key": op.op_id,
        "waymark_customer_id": op.customer_id or "",
        "waymark_template": str(payload.get("template") or ""),
    }
    if len(json.dumps(custom_args).encode()) > MAX_CUSTOM_ARGS_BYTES:
        raise InvalidMessage("custom_args exceed SendGrid's 10,000 bytes")
    body: dict[str, Any] = {
        "personalizations": [{"to": [{"email": str(to)}]}],
        "from": _address(config.from_address),
        "subject": single_line(str(subject)),
        "content": content,
        "custom_args": custom_args,
    }
    if config.reply_to:
        body["reply_to"] = _address(config.reply_to)
    headers = _unsubscribe_headers(op, config, unsubscribe_secret)
    if headers:
        body["headers"] = headers
    categories = [
        *config.categories,
        *([str(payload["template"])] if payload.get("template") else []),
    ]
    if categories:
        body["categories"] = categories
    if config.asm_group_id and is_marketing(op):
        body["asm"] = {"group_id": config.asm_group_id}
    return body


def _unsubscribe_headers(
    op: Operation, config: SendgridConfig, secret: str | None
) -> dict[str, str]:
    if not is_marketing(op):
        return {}
    targets = []
    if config.list_unsubscribe_url:
        purpose = op.purpose or ""
        token = unsubscribe_token(secret, op.customer_id or "", purpose) if secret else ""
        url = config.list_unsubscribe_url.format(
            customer_id=op.customer_id or "", purpose=purpose, token=token
        )
        targets.append(f"<{url}>")
    if config.list_unsubscribe_mailto:
        targets.append(f"<mailto:{config.list_unsubscribe_mailto}>")
    if not targets:
        return {}
    headers = {"List-Unsubscribe": ", ".join(targets)}
    if config.list_unsubscribe_url:
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    return headers


def preview(op: Operation, config: SendgridConfig, context: SyncContext | None) -> dict:
    # The unsubscribe token needs the secret; a preview shows where it goes, not its value.
    return {"method": "POST", "path": MAIL_SEND_PATH, "body": mail_body(op, config, None)}
