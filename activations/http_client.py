"""One kept-alive HTTP(S) connection to a vendor API, telling lost replies from refused calls.

Vendor clients send requests through `HttpSession.request` (or its `json` and `form` shorthands)
and read an `Answer`; the base URL is configuration, so tests and the demo point it at a local
stand-in. What matters for exactly-once is which failures may have taken effect:
- the connection could not be made, or the request could not be written: nothing reached the
  vendor, `DeliveryError(transient=True)`;
- the request was written but no answer came back (timeout, reset): the vendor may have acted,
  `DeliveryError(transient=True, ambiguous=True)`.
A connection idle longer than `IDLE_RECONNECT_SECONDS` is replaced before use: vendors close
idle keep-alive connections, and a request written into a closed one would look like a lost
reply.
"""

from __future__ import annotations

import http.client
import json
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from activations.destination import DeliveryError, DestinationUnavailable

IDLE_RECONNECT_SECONDS = 4.0


@dataclass(frozen=True)
class Answer:
    status: int
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body.strip() else None
        except ValueError:
            return None

    def text(self) -> str:
        """The whole body as text. Never cut here: a cut before redaction could leave part of a
        token the vendor echoed (`activations.secrets` cuts after redacting)."""
        return self.body.decode("utf-8", errors="replace").strip()


class HttpSession:
    """Requests to one origin over one connection, reopened after errors."""

    def __init__(self, base_url: str, timeout: float, what: str = "base URL") -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DestinationUnavailable(f"{what}: '{base_url}' is not an http(s) URL")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None
        self.last_used = 0.0

    @property
    def origin(self) -> str:
        port = f":{self.port}" if self.port else ""
        return f"{self.scheme}://{self.host}{port}{self.prefix}"

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        body: bytes | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Answer:
        target = self.prefix + path + (f"?{urlencode(query)}" if query else "")
        connection = self._connect()
        try:
            connection.request(method, target, body=body, headers=dict(headers or {}))
        except OSError as error:
            self.drop()
            raise DeliveryError("connection_failed", str(error), transient=True) from error
        try:
            response = connection.getresponse()
            data = response.read()
        except TimeoutError as error:
            self.drop()
            raise DeliveryError(
                "timeout", f"no answer within {self.timeout:g} s", transient=True, ambiguous=True
            ) from error
        except (OSError, http.client.HTTPException) as error:
            self.drop()
            message = f"no response: {type(error).__name__}: {error}"
            raise DeliveryError("no_response", message, transient=True, ambiguous=True) from error
        self.last_used = time.monotonic()
        answer = Answer(
            response.status, {name.lower(): value for name, value in response.getheaders()}, data
        )
        if (answer.header("connection") or "").lower() == "close":
            self.drop()
        return answer

    def json(
        self,
        method: str,
        path: str,
        document: Any,
        headers: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
    ) -> Answer:
        """A JSON request body, compactly encoded."""
        body = json.dumps(document, separators=(",", ":")).encode()
        sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        return self.request(method, path, body=body, headers=sent, query=query)

    def form(
        self, method: str, path: str, fields: Mapping[str, str], headers: Mapping[str, str]
    ) -> Answer:
        """An `application/x-www-form-urlencoded` request body."""
        sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.request(method, path, body=urlencode(fields).encode(), headers=sent)

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is not None and time.monotonic() - self.last_used > (
            IDLE_RECONNECT_SECONDS
        ):
            self.drop()
        if self.connection is None:
            if self.scheme == "https":
                self.connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
            self.last_used = time.monotonic()
        return self.connection

    def drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
