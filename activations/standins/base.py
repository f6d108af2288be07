"""The HTTP plumbing every vendor stand-in shares: a threaded loopback server, a request log,
and failures injected ahead of the vendor logic.

A stand-in subclasses `StandIn` and implements `handle(request) -> Reply`, validating the
request the way the vendor documents it and answering with the vendor's own error shapes.
Injected failures (`fail_next`) are answered before `handle` runs, so the stand-in's state is
untouched by a refused call, exactly as a vendor's would be.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass(frozen=True)
class Request:
    """One HTTP request as received."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    headers: Mapping[str, str]
    """Header names lower-cased."""
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body or b"null")

    def form(self) -> dict[str, list[str]]:
        return parse_qs(self.body.decode(), keep_blank_values=True)


@dataclass
class Reply:
    status: int
    body: Any = None
    """A dict or list is sent as JSON; bytes or str as they are."""
    headers: dict[str, str] = field(default_factory=dict)

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, self.headers.get("Content-Type", "application/octet-stream")
        if isinstance(self.body, str):
            return self.body.encode(), self.headers.get("Content-Type", "text/plain")
        if self.body is None:
            return b"", self.headers.get("Content-Type", "application/json")
        return json.dumps(self.body).encode(), "application/json"


@dataclass
class Failure:
    """An answer forced on the next request: a status with the vendor's error body, or a stall
    of `delay` seconds before answering (longer than the client's timeout = a timeout).

    With `applied`, the vendor logic runs first and only the answer is replaced: the vendor
    took the request but its reply was lost, the case that makes a retry a possible duplicate."""

    status: int = 503
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    applied: bool = False


class StandIn:
    """A vendor API on 127.0.0.1 (port chosen by the OS). Use as a context manager or `close()`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.failures: list[Failure] = []
        self.lock = threading.RLock()
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in separate writes; without this, Nagle's algorithm and
            # the client's delayed ACK hold every response back by tens of milliseconds.
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                parts = urlsplit(self.path)
                request = Request(
                    self.command,
                    parts.path,
                    parse_qs(parts.query, keep_blank_values=True),
                    {k.lower(): v for k, v in self.headers.items()},
                    body,
                )
                reply = stand_in._dispatch(request)
                payload, content_type = reply.encoded()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        if name.lower() != "content-type":
                            self.send_header(name, value)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (a timeout test); nothing to answer

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve  # noqa: N815

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        """Base URL, no trailing slash."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def fail_next(self, *failures: Failure) -> None:
        """Answer the next requests with these, in order, before any vendor logic runs."""
        with self.lock:
            self.failures.extend(failures)

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def next_failure(self, request: Request) -> Failure | None:
        """The injected failure this request gets (a stand-in may keep several queues)."""
        return self.failures.pop(0) if self.failures else None

    def _dispatch(self, request: Request) -> Reply:
        with self.lock:
            self.requests.append(request)
            failure = self.next_failure(request)
        if failure is not None:
            if failure.applied:
                with self.lock:
                    self.handle(request)
            if failure.delay:
                time.sleep(failure.delay)
            return Reply(failure.status, failure.body, dict(failure.headers))
        with self.lock:
            return self.handle(request)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> StandIn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
