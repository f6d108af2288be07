"""HTTP answers as delivery outcomes, shared by every HTTP destination.

Transient: 408, 409 (the same idempotency key is still being processed), 425, 429 and 5xx;
everything else outside 2xx is a rejection of the record. Retry-After is read in both of its
forms, seconds and HTTP-date (RFC 9110 section 10.2.3). Error texts are returned whole: they
are redacted and then cut where they are recorded (`activations.secrets`), because a cut made
first could leave part of a token that the receiver echoed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from activations.destination import OperationResult

TRANSIENT_STATUSES = frozenset({408, 409, 425, 429})


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def http_result(op_id: str, status: int, retry_after: str | None, body: bytes) -> OperationResult:
    if 200 <= status < 300:
        return OperationResult.success(op_id)
    transient = status in TRANSIENT_STATUSES or status >= 500
    code, message = _error_fields(body)
    return OperationResult(
        op_id,
        False,
        transient=transient,
        error_code=code or f"http_{status}",
        error_message=f"HTTP {status}: {message}" if message else f"HTTP {status}",
        retry_after=retry_after_seconds(retry_after),
    )


def _error_fields(body: bytes) -> tuple[str | None, str | None]:
    """`{"error": {"code", "message"}}` or `{"code", "message"}` or the text of the body."""
    text = body.decode("utf-8", errors="replace").strip()
    try:
        document = json.loads(text) if text else None
    except ValueError:
        return None, text or None
    if isinstance(document, dict):
        error = document.get("error", document)
        if isinstance(error, dict):
            code, message = error.get("code"), error.get("message")
            if code is not None or message is not None:
                return (str(code) if code is not None else None), str(message or "")
        elif isinstance(error, str):
            return None, error
    return None, text or None
