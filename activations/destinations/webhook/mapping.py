"""The JSON a webhook receives, and its Standard Webhooks signature.

Body: `{"id", "type", "source", "key", "customer_id", "purpose", "data"}` where `type` is the
operation (upsert, update, insert, remove, send), `source` the sync name or `journey`, `data`
the mapped fields or the rendered message. A field whose value is null is absent from `data`
(the receiver keeps its value) unless the sync declares `on_null: clear` for it; then it is
present as null. The body is compact JSON with sorted keys, so the same operation always
produces the same bytes.

Signature (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md):
`webhook-signature: v1,<base64 HMAC-SHA256(secret, "<webhook-id>.<webhook-timestamp>.<body>")>`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from activations.destination import Operation, SyncContext


def event_body(op: Operation, context: SyncContext | None = None) -> dict[str, Any]:
    return {
        "id": op.op_id,
        "type": op.kind,
        "source": op.source,
        "key": op.record_key,
        "customer_id": op.customer_id,
        "purpose": op.purpose,
        "data": dict(op.payload),
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), default=str).encode()


def signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    return event_body(op, context)
