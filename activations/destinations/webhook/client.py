"""POSTs each operation as signed JSON over one kept-alive connection."""

from __future__ import annotations

import base64
import http.client
import ssl
import time
from collections.abc import Sequence
from urllib.parse import unquote, urlsplit

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.webhook.capabilities import CAPABILITIES
from activations.destinations.webhook.config import WebhookConfig
from activations.destinations.webhook.mapping import encode, event_body, signature
from activations.http import http_result
from activations.secrets import Secrets
from waymark.core import crash


class WebhookClient:
    capabilities = CAPABILITIES

    def __init__(self, config: WebhookConfig, secrets: Secrets, context: SyncContext | None):
        self.context = context
        self.url = urlsplit(secrets.require(config.url_env))
        if self.url.scheme not in ("http", "https") or not self.url.hostname:
            raise DestinationUnavailable(f"{config.url_env} does not hold an http(s) URL")
        self.secret = secrets.require(config.signing_secret_env)
        self.token = secrets.optional(config.bearer_token_env)
        self.basic = None
        if self.url.username is not None and not self.token:
            # `https://user:password@host/...`: the credentials go as Basic auth, as curl and
            # browsers send them, never in the request line.
            pair = f"{unquote(self.url.username)}:{unquote(self.url.password or '')}"
            self.basic = base64.b64encode(pair.encode()).decode()
            secrets.remember(self.basic)
        self.timeout = config.timeout_seconds
        self.path = (self.url.path or "/") + (f"?{self.url.query}" if self.url.query else "")
        self.connection: http.client.HTTPConnection | None = None

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        return [self._post(op) for op in batch]

    def _post(self, op: Operation) -> OperationResult:
        body = encode(event_body(op, self.context))
        timestamp = int(time.time())
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": op.op_id,
            "webhook-id": op.op_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(self.secret, op.op_id, timestamp, body),
        }
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        elif self.basic:
            headers["Authorization"] = f"Basic {self.basic}"
        connection = self._connect()
        try:
            connection.request("POST", self.path, body=body, headers=headers)
        except OSError as error:
            self._drop()
            # The request may be partly written; the receiver de-duplicates by key on replay.
            raise DeliveryError("connection_failed", str(error), transient=True) from error
        try:
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            self._drop()
            message = f"no response: {error}"
            raise DeliveryError("no_response", message, transient=True, ambiguous=True) from error
        crash.point("webhook.after_request")
        if response.status in (401, 403):
            raise DestinationUnavailable(
                f"HTTP {response.status}: the receiver refused our credentials"
            )
        if response.getheader("Connection", "").lower() == "close":
            self._drop()
        return http_result(op.op_id, response.status, response.getheader("Retry-After"), answer)

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            host, port = self.url.hostname or "", self.url.port
            if self.url.scheme == "https":
                context = ssl.create_default_context()
                self.connection = http.client.HTTPSConnection(
                    host, port, timeout=self.timeout, context=context
                )
            else:
                self.connection = http.client.HTTPConnection(host, port, timeout=self.timeout)
        return self.connection

    def _drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        self._drop()


def open_webhook(
    config: WebhookConfig, secrets: Secrets, context: SyncContext | None
) -> WebhookClient:
    return WebhookClient(config, secrets, context)
