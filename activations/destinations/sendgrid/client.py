"""POSTs each message to SendGrid's v3 Mail Send endpoint over one kept-alive connection.

202 Accepted (with `X-Message-Id`) is a sent message; 200 is sandbox mode (validated, not
queued) and counts as sent too. 401 and 403 (key refused, scope missing, sender not verified)
make the destination unavailable: the run fails and the message goes back to pending. 429 waits
until `X-RateLimit-Reset` (or Retry-After). Other 4xx refuse the message with SendGrid's
`{"errors": [{"message", "field", "help"}]}`. A timeout or a dropped connection after the
request was written, and 500/502/504, may have queued the message: transient and ambiguous.
A message whose request cannot be built is refused alone, with the reason.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence

from activations.destination import (
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.sendgrid.capabilities import CAPABILITIES
from activations.destinations.sendgrid.config import SendgridConfig
from activations.destinations.sendgrid.mapping import MAIL_SEND_PATH, mail_body
from activations.http import TRANSIENT_STATUSES, retry_after_seconds
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

MAYBE_QUEUED = frozenset({500, 502, 504})
"""Server errors after which SendGrid may have queued the message anyway."""


class SendgridClient:
    capabilities = CAPABILITIES

    def __init__(self, config: SendgridConfig, secrets: Secrets) -> None:
        self.config = config
        self.api_key = secrets.require(config.api_key_env)
        self.unsubscribe_secret = (
            secrets.require(config.unsubscribe_secret_env)
            if config.unsubscribe_secret_env
            else None
        )
        self.session = HttpSession(config.base_url, config.timeout_seconds, "base_url")

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        return [self._send(op) for op in batch]

    def _send(self, op: Operation) -> OperationResult:
        try:
            body = mail_body(op, self.config, self.unsubscribe_secret)
            data = json.dumps(body, separators=(",", ":")).encode()
        except Exception as error:  # whatever the cause, it is this message's alone
            return OperationResult.unbuildable(op.op_id, error)
        headers = {
            "Authorization": f"Bearer {self.api_key}",
            "Content-Type": "application/json",
        }
        answer = self.session.request("POST", MAIL_SEND_PATH, headers=headers, body=data)
        crash.point("sendgrid.after_request")
        return self._result(op, answer)

    def _result(self, op: Operation, answer: Answer) -> OperationResult:
        status = answer.status
        if 200 <= status < 300:
            return OperationResult.success(op.op_id)
        field, message = _first_error(answer)
        text = f"HTTP {status}: {message}" + (f" (field {field})" if field else "")
        if status in (401, 403):
            raise DestinationUnavailable(f"SendGrid refused the request: {text}")
        code = f"http_{status}" + (f":{field}" if field else "")
        if status == 429:
            return OperationResult(
                op.op_id, False, transient=True, error_code=code, error_message=text,
                retry_after=_rate_limit_wait(answer),
            )  # fmt: skip
        if status in TRANSIENT_STATUSES or status >= 500:
            return OperationResult(
                op.op_id, False, transient=True, error_code=code, error_message=text,
                retry_after=retry_after_seconds(answer.header("retry-after")),
                ambiguous=status in MAYBE_QUEUED,
            )  # fmt: skip
        return OperationResult(op.op_id, False, error_code=code, error_message=text)

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.session.drop()


def _first_error(answer: Answer) -> tuple[str | None, str]:
    """`{"errors": [{"message", "field", "help"}]}`; every message is kept, the first field."""
    document = answer.json()
    errors = document.get("errors") if isinstance(document, dict) else None
    if isinstance(errors, list) and errors:
        items = [e for e in errors if isinstance(e, dict)]
        field = next((str(e["field"]) for e in items if e.get("field")), None)
        message = "; ".join(str(e.get("message")) for e in items) or "(no message)"
        return field, message
    return None, answer.text() or "(no body)"


def _rate_limit_wait(answer: Answer) -> float | None:
    """Seconds until `X-RateLimit-Reset` (a Unix time), or the Retry-After when one is sent."""
    retry_after = retry_after_seconds(answer.header("retry-after"))
    if retry_after is not None:
        return retry_after
    reset = answer.header("x-ratelimit-reset")
    if reset and reset.strip().isdigit():
        return max(0.0, int(reset) - time.time())
    return None


def open_sendgrid(
    config: SendgridConfig, secrets: Secrets, context: SyncContext | None
) -> SendgridClient:
    if context is not None:
        raise DestinationUnavailable("SendGrid destinations take journey sends, not syncs")
    return SendgridClient(config, secrets)
