"""Journey email through a SendGrid v3 Mail Send stand-in on loopback: exact requests out,
SendGrid's errors logged, rate limits waited for, consent enforced, ambiguity flagged."""

from __future__ import annotations

import http.client
import json
import random
import time
from pathlib import Path

import pytest

from activations.delivery import RetryPolicy
from activations.destinations.smtp.mapping import unsubscribe_token
from activations.dry_run import dry_run_sends
from activations.runner import RunOptions
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.standins.base import Failure
from activations.standins.sendgrid import SendgridStandIn
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from waymark.core import crash

API_KEY = "SG.test-key.5b1f0c9e"
UNSUBSCRIBE_SECRET = "unsubscribe-secret-83"
FROM = "Waymark Shop <hello@shop.example>"
WELCOME = {"subject": "Welcome, Ann", "text": "Hi Ann", "html": "<p>Hi Ann</p>"}


@pytest.fixture
def sendgrid():
    server = SendgridStandIn(api_key=API_KEY, verified_senders={"hello@shop.example"})
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def destinations(tmp_path: Path, sendgrid: SendgridStandIn, **config):
    settings = {
        "api_key_env": "SENDGRID_API_KEY",
        "base_url": sendgrid.url,
        "from_address": FROM,
        "list_unsubscribe_url": "https://shop.example/u?c={customer_id}&t={token}",
        "unsubscribe_secret_env": "SENDGRID_UNSUBSCRIBE_SECRET",
        "timeout_seconds": 0.5,
        **config,
    }
    env = ["SENDGRID_API_KEY", "SENDGRID_UNSUBSCRIBE_SECRET"]
    paths = write_project(
        tmp_path / "project",
        {"email_sendgrid": {"kind": "sendgrid", "channel": "email", "env": env}},
        {"email_sendgrid": {"config": settings}},
        {},
    )
    loaded = load_project(paths)
    assert not loaded.issues, loaded.issues
    return loaded.destinations


def send(warehouse, targets, *, key: str = API_KEY, attempts: int = 3, sleeps=None, give_up=5):
    env = {"SENDGRID_API_KEY": key, "SENDGRID_UNSUBSCRIBE_SECRET": UNSUBSCRIBE_SECRET}
    options = RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(env),
        sleep=sleeps.append if sleeps is not None else (lambda _: None),
        rng=random.Random(3),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.0),
    )
    return deliver_sends(warehouse.path, targets, options, give_up_after_runs=give_up)


def states(warehouse) -> dict[str, str]:
    return dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))


def logged(warehouse) -> list[tuple]:
    return warehouse.execute(
        "select record_key, result, ambiguous, error_code, error_message "
        "from activations.sync_changelog order by recorded_at, record_key"
    )


def test_marketing_and_transactional_mail_requests(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("lead_nurture:i1:welcome", "ann", "email_sendgrid",
                     template="lead_welcome", payload=WELCOME)  # fmt: skip
    receipt = {"subject": "Your ticket", "text": "We are on it"}
    warehouse.outbox("csat:i2:apology", "ann", "email_sendgrid", purpose="transactional",
                     template="service_recovery_apology", payload=receipt)  # fmt: skip
    [report] = send(warehouse, destinations(tmp_path, sendgrid))
    assert (report.status, report.sent, report.requests) == ("success", 2, 2)
    apology, welcome = sendgrid.requests  # keys in order: csat:..., lead_nurture:...
    for request in (apology, welcome):
        assert (request.method, request.path) == ("POST", "/v3/mail/send")
        assert request.headers["authorization"] == f"Bearer {API_KEY}"
        assert request.headers["content-type"] == "application/json"
    token = unsubscribe_token(UNSUBSCRIBE_SECRET, "ann", "email_marketing")
    assert welcome.json() == {
        "personalizations": [{"to": [{"email": "ann@example.org"}]}],
        "from": {"email": "hello@shop.example", "name": "Waymark Shop"},
        "subject": "Welcome, Ann",
        "content": [
            {"type": "text/plain", "value": "Hi Ann"},
            {"type": "text/html", "value": "<p>Hi Ann</p>"},
        ],
        "custom_args": {
            "waymark_idempotency_key": "lead_nurture:i1:welcome",
            "waymark_customer_id": "ann",
            "waymark_template": "lead_welcome",
        },
        "headers": {
            "List-Unsubscribe": f"<https://shop.example/u?c=ann&t={token}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        "categories": ["lead_welcome"],
    }
    body = apology.json()
    assert "headers" not in body and body["content"] == [
        {"type": "text/plain", "value": "We are on it"}
    ]
    assert [m.idempotency_key for m in sendgrid.messages] == [
        "csat:i2:apology",
        "lead_nurture:i1:welcome",
    ]
    assert states(warehouse) == {"lead_nurture:i1:welcome": "sent", "csat:i2:apology": "sent"}


def test_consent_and_suppression_keep_mail_from_sendgrid(tmp_path, warehouse, sendgrid):
    warehouse.customer("ok")
    warehouse.customer("denied", email_marketing_consent="denied")
    warehouse.customer("bounced")
    warehouse.engagement("email", "bounced@example.org", "bounced", "hard")
    warehouse.customer("complainer")
    warehouse.engagement("email", "complainer@example.org", "complained")
    warehouse.customer("silent", email=None)
    for name in ("ok", "denied", "bounced", "complainer", "silent"):
        warehouse.outbox(f"m:{name}", name, "email_sendgrid", payload=WELCOME)
    [report] = send(warehouse, destinations(tmp_path, sendgrid))
    assert (report.status, report.sent, report.dropped) == ("success", 1, 4)
    assert [m.to for m in sendgrid.messages] == [["ok@example.org"]]
    seen = b" ".join(request.body for request in sendgrid.requests)
    for name in ("denied", "bounced", "complainer", "silent"):
        assert name.encode() not in seen
    drops = {row[0]: row[3] for row in logged(warehouse)}
    assert drops == {
        "m:ok": None,
        "m:denied": "no_consent:denied",
        "m:bounced": "suppressed:hard_bounced",
        "m:complainer": "suppressed:complained",
        "m:silent": "no_address",
    }


def test_refusals_are_logged_with_sendgrids_message_and_field(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.customer("typo", email="typo@@example.org")
    warehouse.outbox("k:ann", "ann", "email_sendgrid", payload=WELCOME)
    warehouse.outbox("k:typo", "typo", "email_sendgrid", payload=WELCOME)
    warehouse.outbox("k:empty", "ann", "email_sendgrid", payload={"subject": "No body"})
    [report] = send(warehouse, destinations(tmp_path, sendgrid))
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 2)
    assert len(sendgrid.requests) == 2  # the message without text never left
    assert logged(warehouse) == [
        ("k:ann", "sent", False, None, None),
        ("k:empty", "rejected", False, "invalid_message",
         "the outbox payload needs `subject` and `text`"),
        ("k:typo", "rejected", False, "http_400:personalizations.0.to.0.email",
         "HTTP 400: Does not contain a valid address. (field personalizations.0.to.0.email)"),
    ]  # fmt: skip
    assert states(warehouse) == {"k:ann": "sent", "k:typo": "failed", "k:empty": "failed"}


def test_a_refused_key_fails_the_run_and_keeps_messages_pending(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    targets = destinations(tmp_path, sendgrid)
    [report] = send(warehouse, targets, key="SG.revoked-key-000")
    assert report.status == "failed" and "invalid, expired, or revoked" in report.error
    assert states(warehouse) == {"k:1": "pending"} and logged(warehouse) == []
    assert "SG.revoked-key-000" not in report.error
    [healed] = send(warehouse, targets)
    assert healed.status == "success" and healed.ambiguous == 0 and len(sendgrid.messages) == 1


def test_an_unverified_sender_makes_the_destination_unavailable(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    targets = destinations(tmp_path, sendgrid, from_address="news@unverified.example")
    [report] = send(warehouse, targets)
    assert report.status == "failed" and "verified Sender Identity" in report.error
    assert states(warehouse) == {"k:1": "pending"} and sendgrid.messages == []


def test_429_waits_until_the_rate_limit_resets(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    reset = int(time.time()) + 6
    headers = {"X-RateLimit-Limit": "600", "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": str(reset)}  # fmt: skip
    sendgrid.fail_next(
        Failure(429, {"errors": [{"field": None, "message": "too many requests"}]}, headers)
    )
    sleeps: list[float] = []
    [report] = send(warehouse, destinations(tmp_path, sendgrid), sleeps=sleeps)
    assert (report.status, report.request_retries) == ("success", 1)
    assert 4 <= sleeps[0] <= 6
    assert warehouse.execute("select attempts from activations.sync_changelog") == [(2,)]


def test_the_stand_in_limits_requests_per_window(tmp_path, warehouse):
    sendgrid = SendgridStandIn(api_key=API_KEY, rate_limit=2, rate_window=60)
    try:
        for n in range(3):
            warehouse.customer(f"c{n}")
            warehouse.outbox(f"k:{n}", f"c{n}", "email_sendgrid", payload=WELCOME)
        [report] = send(warehouse, destinations(tmp_path, sendgrid), attempts=1)
        assert (report.status, report.sent, report.retried) == ("partial", 2, 1)
        last = logged(warehouse)[-1]
        assert last[:2] == ("k:2", "retry") and last[3] == "http_429"
        assert states(warehouse)["k:2"] == "pending"
    finally:
        sendgrid.close()


def test_server_errors_retry_and_may_be_ambiguous(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    warehouse.outbox("k:2", "ann", "email_sendgrid", payload={**WELCOME, "subject": "Two"})
    down = "The SendGrid v3 Web API is not available."
    unavailable = {"errors": [{"field": None, "message": down}]}
    sendgrid.fail_next(Failure(503, unavailable), Failure(500, {"errors": [{"message": "oops"}]}))
    targets = destinations(tmp_path, sendgrid)
    [report] = send(warehouse, targets, attempts=1)
    assert (report.status, report.retried, report.ambiguous) == ("failed", 2, 1)
    assert [row[1:4] for row in logged(warehouse)] == [
        ("retry", False, "http_503"),
        ("retry", True, "http_500"),  # SendGrid may have queued it
    ]
    [second] = send(warehouse, targets)
    assert second.sent == 2 and len(sendgrid.messages) == 2


def test_a_lost_reply_is_retried_and_the_possible_duplicate_flagged(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    # SendGrid queues the message, but its 202 never arrives within the 0.5 s timeout.
    sendgrid.fail_next(Failure(202, b"", delay=0.8, applied=True))
    [report] = send(warehouse, destinations(tmp_path, sendgrid))
    assert (report.status, report.sent, report.ambiguous) == ("success", 1, 1)
    assert len(sendgrid.by_key()["k:1"]) == 2  # the one duplicate SendGrid cannot prevent
    assert logged(warehouse) == [("k:1", "sent", True, None, None)]


def test_a_crash_after_sending_replays_once_and_flags_it(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    targets = destinations(tmp_path, sendgrid)
    with (
        crash.installed(crash.crash_at("sendgrid.after_request")),
        pytest.raises(crash.SimulatedCrash),
    ):
        send(warehouse, targets)
    assert states(warehouse) == {"k:1": "sending"}
    [report] = send(warehouse, targets)
    assert (report.sent, report.replayed, report.ambiguous) == (1, 1, 1)
    assert len(sendgrid.by_key()["k:1"]) == 2 and states(warehouse) == {"k:1": "sent"}


def test_the_api_key_never_reaches_logs(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    echo = {"errors": [{"field": None, "message": f"key {API_KEY} lacks a scope"}]}
    sendgrid.fail_next(Failure(400, echo))
    send(warehouse, destinations(tmp_path, sendgrid))
    tables = ("sync_runs", "sync_changelog")
    rows = [warehouse.execute(f"select * from activations.{table}") for table in tables]
    dump = json.dumps(rows, default=str)
    assert API_KEY not in dump and UNSUBSCRIBE_SECRET not in dump
    assert "key [redacted] lacks a scope" in dump


def test_dry_run_prints_the_body_masked_and_sends_nothing(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.outbox("k:1", "ann", "email_sendgrid", payload=WELCOME)
    text = dry_run_sends(warehouse.path, destinations(tmp_path, sendgrid), SAMPLE_AS_OF)
    assert sendgrid.requests == [] and "ann@example.org" not in text
    assert '"path": "/v3/mail/send"' in text and '"email": "a***@***.org"' in text
    assert UNSUBSCRIBE_SECRET not in text


def post(server, body: bytes, key: str = API_KEY) -> tuple[int, dict | None]:
    connection = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=5)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    connection.request("POST", "/v3/mail/send", body=body, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else None


def test_the_stand_in_reports_every_problem_like_sendgrid(sendgrid):
    body = {
        "personalizations": [{"to": [{"email": "a@example.org"}, {"email": "A@example.org"}]}],
        "from": {"email": "hello@shop.example"},
        "content": [
            {"type": "text/html", "value": "<p>Hi</p>"},
            {"type": "text/plain", "value": ""},
        ],
        "headers": {"Subject": "sneaky"},
        "custom_args": {"n": 1},
    }
    status, answer = post(sendgrid, json.dumps(body).encode())
    assert status == 400
    assert {(e["field"], e["message"][:40]) for e in answer["errors"]} == {
        ("personalizations.0.to.1.email", "Each unique email address in the persona"),
        ("subject", "The subject is required. You can get aro"),
        ("content.1.value", "The content value must be a string at le"),
        ("content", "If present, text/plain must be first, fo"),
        ("headers", "The headers parameter contains a reserve"),
        ("custom_args", "Invalid type. Expected: object of string"),
    }
    assert all(e["help"].startswith("http://sendgrid.com/docs/") for e in answer["errors"])
    assert post(sendgrid, b"{}", key="SG.unknown")[0] == 401
    assert sendgrid.messages == []


def test_a_crlf_in_a_profile_value_reaches_sendgrid_on_one_line(tmp_path, warehouse, sendgrid):
    warehouse.customer("ann")
    warehouse.customer("bob")
    crafted = {**WELCOME, "subject": "Welcome, Olivia\r\nBcc: evil@x"}
    warehouse.outbox("w:i1:mail", "ann", "email_sendgrid", payload=crafted)
    warehouse.outbox("w:i2:mail", "bob", "email_sendgrid", payload=WELCOME)
    [report] = send(warehouse, destinations(tmp_path, sendgrid))
    assert (report.status, report.sent) == ("success", 2)
    subjects = sorted(request.json()["subject"] for request in sendgrid.requests)
    assert subjects == ["Welcome, Ann", "Welcome, Olivia Bcc: evil@x"]
