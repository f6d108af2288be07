"""A small HTTP/1.1 client for vendor REST APIs: one kept-alive connection per base URL.

Every vendor client needs the same three things from the wire: send a request and read the
whole answer; tell a request that never left (safe to retry) from one whose answer was lost
(it may have taken effect: ambiguous); and a base URL that configuration can point at a local
stand-in. Vendor-specific meaning of the answer stays in each destination's client.
"""

from __future__ import annotations

import http.client
import json
import ssl
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode, urlsplit

from activations.destination import DeliveryError, DestinationUnavailable


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        """The body as JSON, or None when it is empty or not JSON."""
        try:
            return json.loads(self.body) if self.body else None
        except ValueError:
            return None


class RestSession:
    """Requests against one base URL (`https://graph.facebook.com`, a stand-in's URL)."""

    def __init__(self, base_url: str, timeout: float, what: str) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise DestinationUnavailable(f"{what}: base_url '{base_url}' is not an http(s) URL")
        self.scheme, self.host, self.port = parts.scheme, parts.hostname, parts.port
        self.prefix = parts.path.rstrip("/")
        self.timeout = timeout
        self.connection: http.client.HTTPConnection | None = None

    def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        target = self.prefix + path + (f"?{urlencode(query)}" if query else "")
        connection = self._connect()
        try:
            connection.request(method, target, body=body, headers=headers or {})
        except OSError as error:
            self.drop()
            raise DeliveryError("connection_failed", str(error), transient=True) from error
        try:
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException) as error:
            # The request went out; the vendor may have applied it.
            self.drop()
            message = f"no response: {error or type(error).__name__}"
            raise DeliveryError("no_response", message, transient=True, ambiguous=True) from error
        headers_read = {name.lower(): value for name, value in response.getheaders()}
        if headers_read.get("connection", "").lower() == "close":
            self.drop()
        return Response(response.status, headers_read, answer)

    def json(
        self,
        method: str,
        path: str,
        document: Any,
        headers: dict[str, str] | None = None,
        query: dict[str, str] | None = None,
    ) -> Response:
        body = json.dumps(document, separators=(",", ":")).encode()
        sent = {"Content-Type": "application/json", "Accept": "application/json", **(headers or {})}
        return self.request(method, path, body=body, headers=sent, query=query)

    def form(self, method: str, path: str, fields: dict[str, str], headers: dict[str, str]):
        body = urlencode(fields).encode()
        sent = {"Content-Type": "application/x-www-form-urlencoded", **headers}
        return self.request(method, path, body=body, headers=sent)

    def _connect(self) -> http.client.HTTPConnection:
        if self.connection is None:
            if self.scheme == "https":
                self.connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                self.connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.timeout
                )
        return self.connection

    def drop(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None
