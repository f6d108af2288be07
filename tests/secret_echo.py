"""A hostile vendor on loopback: every request is answered with an error that echoes it back.

Each answer is a 4xx or 5xx, as plain text or as JSON, in turn from `combinations` of status
and form (the JSON carries the text under every key the vendor clients read: `message`,
`error.message`, `errors[].message`, `error_description`). The text holds:

1. a sweep of `SWEEP` characters: one secret the request carried, repeated, after `p` filler
   characters. Each time that secret is swept the next combination is used, and `p` grows by
   one after every combination, so over `(len(secret) + 1) * len(combinations)` answers a cut
   at any position inside the sweep falls at every offset of the secret in every combination,
   wherever the client or the recorder cuts;
2. the whole request: method, path and query, every header, and the body.

Secrets the request did not carry are not swept (the server cannot echo what it never saw);
`incomplete()` names the secrets whose sweep has not covered every offset in every form yet,
so a test can prove its sweep ran in full. Paths in `tokens` answer an OAuth token request
with `{"access_token", "instance_url"}` instead, so that the API calls behind it are echoed;
with `refuse_tokens` they are echoed like any other request.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SWEEP = 4000
FILLER = "~"


class EchoServer:
    def __init__(
        self,
        secrets: Sequence[str],
        *,
        combinations: Sequence[tuple[int, str]] = ((400, "text"), (400, "json")),
        tokens: dict[str, str] | None = None,
    ) -> None:
        self.secrets = list(secrets)
        self.combinations = list(combinations)
        self.tokens = dict(tokens or {})
        self.refuse_tokens = False
        self.swept: Counter[str] = Counter()
        self.requests = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = server.answer(self.command, self.path, self.headers.items(), body)
                content_type = "application/json" if answer[:1] in (b"{", b"[") else "text/plain"
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

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
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def answer(self, method: str, target: str, headers, body: bytes) -> tuple[int, bytes]:
        path = target.partition("?")[0]
        if path in self.tokens and not self.refuse_tokens:
            token = {"access_token": self.tokens[path], "instance_url": self.url}
            return 200, json.dumps({**token, "token_type": "Bearer"}).encode()
        lines = [f"{method} {target}", *(f"{name}: {value}" for name, value in headers)]
        echo = "\n".join(lines) + "\n\n" + body.decode("utf-8", errors="replace")
        combinations = self.combinations
        with self.lock:
            self.requests += 1
            carried = [secret for secret in self.secrets if secret in echo]
            status, form = combinations[self.requests % len(combinations)]
            sweep = ""
            if carried:
                secret = min(carried, key=lambda s: (self.swept[s] >= self._full(s), self.swept[s]))
                round_, combination = divmod(self.swept[secret], len(combinations))
                status, form = combinations[combination]
                self.swept[secret] += 1
                unit = secret + FILLER
                sweep = (FILLER * (round_ % len(unit)) + unit * (SWEEP // len(unit) + 1))[:SWEEP]
        text = f"{sweep}\n{echo}"
        if form == "text":
            return status, text.encode()
        error = {"code": "echo", "message": text, "status": "INVALID_ARGUMENT"}
        document = {
            "code": "echo",
            "message": text,
            "error": error,
            "error_description": text,
            "errors": [{"message": text, "category": "ECHO", "field": "echo"}],
        }
        return status, json.dumps(document).encode()

    def _full(self, secret: str) -> int:
        return (len(secret) + 1) * len(self.combinations)

    def needed(self, secrets: Sequence[str]) -> int:
        """Answers a full sweep of these secrets takes (each request sweeps one)."""
        return sum(self._full(secret) for secret in secrets)

    def incomplete(self, secrets: Sequence[str]) -> list[str]:
        return [s for s in secrets if self.swept[s] < self._full(s)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
