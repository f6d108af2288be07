"""POSTs each message to Twilio's Messages resource with HTTP Basic auth.

201 is a created (queued) message. Errors are `{"code", "message", "more_info", "status"}`:
401 (20003) and 403 make the destination unavailable; 429 (20429, "never processed") is
retried without ambiguity; 500, 502, 504, a timeout or a connection lost after the request
may have created the message, so they are retried and flagged ambiguous; 503 is retried; any
other 4xx refuses the message with Twilio's code. 21610 (the recipient replied STOP) is logged
as a suppression, `suppressed:unsubscribed`. A message whose form cannot be built is refused
alone, with the reason.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from urllib.parse import urlencode

from activations.destination import (
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.twilio.capabilities import CAPABILITIES
from activations.destinations.twilio.config import TwilioConfig
from activations.destinations.twilio.mapping import message_form, messages_path
from activations.http import TRANSIENT_STATUSES, retry_after_seconds
from activations.http_client import Answer, HttpSession
from activations.secrets import Secrets
from waymark.core import crash

MAYBE_CREATED = frozenset({500, 502, 504})
UNSUBSCRIBED = 21610
"""Attempt to send to unsubscribed recipient: the number replied STOP to this sender."""


class TwilioClient:
    capabilities = CAPABILITIES

    def __init__(self, config: TwilioConfig, secrets: Secrets) -> None:
        self.config = config
        self.account_sid = secrets.require(config.account_sid_env)
        token = secrets.require(config.auth_token_env)
        credentials = base64.b64encode(f"{self.account_sid}:{token}".encode()).decode()
        secrets.remember(credentials)
        self.authorization = f"Basic {credentials}"
        self.from_number = (
            secrets.setting(config.from_number_env) if config.from_number_env else None
        )
        self.service_sid = (
            secrets.setting(config.messaging_service_sid_env)
            if config.messaging_service_sid_env
            else None
        )
        self.session = HttpSession(config.base_url, config.timeout_seconds, "base_url")
        self.path = messages_path(self.account_sid)

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        return [self._send(op) for op in batch]

    def _send(self, op: Operation) -> OperationResult:
        try:
            form = message_form(op, self.config, self.from_number, self.service_sid)
            body = urlencode(form).encode()
        except Exception as error:  # whatever the cause, it is this message's alone
            return OperationResult.unbuildable(op.op_id, error)
        headers = {
            "Authorization": self.authorization,
            "Content-Type": "application/x-www-form-urlencoded",
            "Accept": "application/json",
        }
        answer = self.session.request("POST", self.path, headers=headers, body=body)
        crash.point("twilio.after_request")
        return _result(op, answer)

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self.session.drop()


def _result(op: Operation, answer: Answer) -> OperationResult:
    status = answer.status
    if 200 <= status < 300:
        return OperationResult.success(op.op_id)
    code, message = _error(answer)
    if status in (401, 403):
        raise DestinationUnavailable(f"Twilio refused the request: HTTP {status}: {message}")
    text = f"HTTP {status}: {message}"
    if code == str(UNSUBSCRIBED):
        text = f"suppressed:unsubscribed: {text}"
    if status in TRANSIENT_STATUSES or status >= 500:
        return OperationResult(
            op.op_id, False, transient=True, error_code=code, error_message=text,
            retry_after=retry_after_seconds(answer.header("retry-after")),
            ambiguous=status in MAYBE_CREATED,
        )  # fmt: skip
    return OperationResult(op.op_id, False, error_code=code, error_message=text)


def _error(answer: Answer) -> tuple[str, str]:
    """Twilio's `{"code", "message", "more_info", "status"}`, or the body's text."""
    document = answer.json()
    if isinstance(document, dict) and (document.get("code") or document.get("message")):
        code = str(document.get("code") or f"http_{answer.status}")
        message = str(document.get("message") or "")
        if document.get("more_info"):
            message += f" ({document['more_info']})"
        return code, message
    return f"http_{answer.status}", answer.text() or "(no body)"


def open_twilio(
    config: TwilioConfig, secrets: Secrets, context: SyncContext | None
) -> TwilioClient:
    if context is not None:
        raise DestinationUnavailable("Twilio destinations take journey sends, not syncs")
    return TwilioClient(config, secrets)
