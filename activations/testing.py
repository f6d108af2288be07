"""Local servers that speak each destination's contract, with failures on demand.

They back the activation tests and let a developer watch a sync on a laptop:
- `WebhookReceiver`: an HTTP server on loopback that verifies the Standard Webhooks signature,
  applies each event once per Idempotency-Key, and answers 429 / 5xx / 4xx when told to;
- `MailSink`: an aiosmtpd SMTP server that keeps every message and refuses chosen recipients.
Both count what reached them, so tests can prove that unchanged rows cost no request and that
crashes neither lose nor double an effect.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from activations.standins.base import free_port
from waymark.core.instants import parse_instant


@dataclass
class Failure:
    status: int
    code: str | None = None
    message: str | None = None
    retry_after: str | None = None


@dataclass
class WebhookReceiver:
    """Signed JSON events in; `records[(source, key)]` holds what the receiver applied."""

    secret: str
    requests: int = 0
    bad_signatures: int = 0
    replays_absorbed: int = 0
    applied: list[dict[str, Any]] = field(default_factory=list)
    records: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    reject_keys: dict[str, Failure] = field(default_factory=dict)
    """record key -> the answer every event for it gets."""
    next_failures: list[Failure] = field(default_factory=list)
    """Answers for the next requests, in order, before anything is applied."""
    seen_headers: list[dict[str, str]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: dict[str, tuple[int, bytes]] = {}
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are written separately; without this, Nagle's algorithm and the
            # client's delayed ACK hold every response back by tens of milliseconds.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer, headers = receiver._handle(dict(self.headers.items()), body)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/events"

    def _handle(self, headers: dict[str, str], body: bytes) -> tuple[int, bytes, dict[str, str]]:
        with self._lock:
            self.requests += 1
            self.seen_headers.append(headers)
            if not self._signed(headers, body):
                self.bad_signatures += 1
                return 401, b'{"error": {"code": "bad_signature"}}', {}
            key = headers.get("Idempotency-Key", "")
            if key in self._answers:
                self.replays_absorbed += 1
                status, answer = self._answers[key]
                return status, answer, {}
            if self.next_failures:
                failure = self.next_failures.pop(0)
                return self._failure(failure)
            event = json.loads(body)
            rejection = self.reject_keys.get(event["key"])
            if rejection is not None:
                return self._failure(rejection)
            self.applied.append(event)
            record = (event["source"], event["key"])
            if event["type"] == "remove":
                self.records.pop(record, None)
            elif event["type"] == "insert" and record in self.records:
                pass
            elif event["type"] == "update" and record not in self.records:
                return 404, b'{"error": {"code": "not_found", "message": "no such record"}}', {}
            else:
                self.records[record] = event["data"]
            answer = json.dumps({"ok": True, "id": event["id"]}).encode()
            self._answers[key] = (200, answer)
            return 200, answer, {}

    def _failure(self, failure: Failure) -> tuple[int, bytes, dict[str, str]]:
        document = {"error": {"code": failure.code, "message": failure.message}}
        headers = {"Retry-After": failure.retry_after} if failure.retry_after else {}
        return failure.status, json.dumps(document).encode(), headers

    def _signed(self, headers: dict[str, str], body: bytes) -> bool:
        message_id = headers.get("webhook-id", "")
        timestamp = headers.get("webhook-timestamp", "")
        signed = f"{message_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(
            hmac.new(self.secret.encode(), signed, hashlib.sha256).digest()
        ).decode()
        offered = headers.get("webhook-signature", "").removeprefix("v1,")
        return hmac.compare_digest(expected, offered) and headers.get("Idempotency-Key") == (
            message_id
        )

    def duplicate_effects(self) -> int:
        """Effects applied twice: a message id twice, or a record version under two ids."""
        sends = Counter(e["id"] for e in self.applied if e["type"] == "send")
        versions = Counter(e["id"].rsplit(":", 1)[0] for e in self.applied if e["type"] != "send")
        return sum(n - 1 for n in sends.values()) + sum(n - 1 for n in versions.values())

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class MailSink:
    """An SMTP server on loopback that keeps every message it accepts."""

    refuse: dict[str, tuple[int, str]] = field(default_factory=dict)
    """recipient -> SMTP reply code and text for RCPT TO."""
    credentials: tuple[str, str] | None = None
    tls_context: Any = None
    messages: list[Message] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        from aiosmtpd.controller import Controller
        from aiosmtpd.smtp import AuthResult

        sink = self

        class Handler:
            async def handle_RCPT(self, server, session, envelope, address, options):  # noqa: N802
                if address in sink.refuse:
                    code, text = sink.refuse[address]
                    return f"{code} {text}"
                envelope.rcpt_tos.append(address)
                return "250 OK"

            async def handle_DATA(self, server, session, envelope):  # noqa: N802
                sink.messages.append(message_from_bytes(envelope.content))
                return "250 Message accepted for delivery"

        def authenticate(server, session, envelope, mechanism, auth_data):
            if sink.credentials is None:
                return AuthResult(success=False, handled=False)
            login = (auth_data.login.decode(), auth_data.password.decode())
            # handled=False: aiosmtpd itself answers 535 on failure.
            return AuthResult(success=login == sink.credentials, handled=False)

        self.port = free_port()
        options: dict[str, Any] = {"hostname": "127.0.0.1", "port": self.port}
        if self.credentials is not None:
            options.update(
                authenticator=authenticate, auth_require_tls=self.tls_context is not None
            )
        if self.tls_context is not None:
            options.update(tls_context=self.tls_context, require_starttls=True)
        self.controller = Controller(Handler(), **options)
        self.controller.start()

    def message_ids(self) -> Counter[str]:
        return Counter(str(message["Message-ID"]) for message in self.messages)

    def close(self) -> None:
        self.controller.stop()


SAMPLE_AS_OF = parse_instant("2026-06-30 00:00:00")

_SAMPLE_DDL = """
create schema if not exists marts;
create schema if not exists staging;
create schema if not exists audiences;
create schema if not exists journeys;
create table if not exists marts.customers (
    customer_id varchar primary key, first_name varchar, email varchar, phone varchar,
    lifecycle_stage varchar, revenue decimal(18, 2),
    email_marketing_consent varchar, sms_marketing_consent varchar,
    ads_personalisation_consent varchar
);
create table if not exists staging.stg_messaging__engagement (
    engagement_id varchar, channel varchar, email varchar, phone varchar, event_type varchar,
    bounce_type varchar, occurred_at timestamp
);
create table if not exists audiences.members (customer_id varchar, score integer);
create table if not exists journeys.journey_outbox (
    idempotency_key varchar primary key, customer_id varchar, channel varchar,
    destination varchar, template varchar, purpose varchar, payload json, state varchar
);
"""


@dataclass
class SampleWarehouse:
    """A DuckDB file with the relations activations read, shaped like the real marts."""

    path: Any
    con: Any = None

    def __post_init__(self) -> None:
        import duckdb

        with duckdb.connect(str(self.path)) as con:
            con.execute(_SAMPLE_DDL)

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        import duckdb

        if self.con is not None:
            cursor = self.con.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []
        with duckdb.connect(str(self.path)) as con:
            cursor = con.execute(sql, params or [])
            return cursor.fetchall() if cursor.description else []

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Many changes over one connection (each connection costs a checkpoint on close)."""
        import duckdb

        with duckdb.connect(str(self.path)) as con:
            self.con = con
            try:
                yield
            finally:
                self.con = None

    def customer(self, customer_id: str, *, consent: str = "granted", **values: Any) -> None:
        row = {
            "customer_id": customer_id,
            "first_name": values.get("first_name", customer_id.title()),
            "email": values.get("email", f"{customer_id}@example.org"),
            "phone": values.get("phone"),
            "lifecycle_stage": values.get("lifecycle_stage", "lead"),
            "revenue": values.get("revenue", 0),
            "email_marketing_consent": values.get("email_marketing_consent", consent),
            "sms_marketing_consent": values.get("sms_marketing_consent", consent),
            "ads_personalisation_consent": values.get("ads_personalisation_consent", consent),
        }
        names = ", ".join(row)
        self.execute(
            f"insert or replace into marts.customers ({names}) "
            f"values ({', '.join('?' for _ in row)})",
            list(row.values()),
        )

    def engagement(self, channel: str, address: str, event_type: str, bounce: str | None = None):
        email, phone = (address, None) if channel == "email" else (None, address)
        self.execute(
            "insert into staging.stg_messaging__engagement values "
            "(gen_random_uuid()::varchar, ?, ?, ?, ?, ?, timestamp '2026-06-01 00:00:00')",
            [channel, email, phone, event_type, bounce],
        )

    def members(self, customer_ids: list[str]) -> None:
        self.execute("delete from audiences.members")
        for customer_id in customer_ids:
            self.execute("insert into audiences.members values (?, 1)", [customer_id])

    def outbox(self, key: str, customer_id: str, destination: str, **values: Any) -> None:
        self.execute(
            "insert into journeys.journey_outbox values (?, ?, ?, ?, ?, ?, ?, 'pending')",
            [
                key,
                customer_id,
                values.get("channel", "email"),
                destination,
                values.get("template", "welcome"),
                values.get("purpose", "email_marketing"),
                json.dumps(values.get("payload", {"subject": "Hello", "text": "Hi there"})),
            ],
        )


def write_project(
    folder: Any, destinations: dict[str, Any], connector_settings: dict[str, Any], syncs: dict
) -> Any:
    """destinations.yml, syncs/_destinations.yml and syncs/<name>.yml under `folder`."""
    from pathlib import Path

    import yaml

    from activations.sync_files import SyncPaths

    root = Path(folder)
    (root / "syncs").mkdir(parents=True, exist_ok=True)
    (root / "destinations.yml").write_text(yaml.safe_dump({"destinations": destinations}))
    (root / "syncs" / "_destinations.yml").write_text(
        yaml.safe_dump({"destinations": connector_settings})
    )
    for name, spec in syncs.items():
        (root / "syncs" / f"{name}.yml").write_text(yaml.safe_dump({"name": name, **spec}))
    return SyncPaths(root / "syncs", root / "destinations.yml")
