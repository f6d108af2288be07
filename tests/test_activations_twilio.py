"""Journey SMS through a Twilio Messages stand-in on loopback: exact requests out, Twilio's
error codes logged (21610 as a suppression), retries, consent, and flagged ambiguity."""

from __future__ import annotations

import base64
import http.client
import json
import random
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest

from activations.delivery import RetryPolicy
from activations.dry_run import dry_run_sends
from activations.runner import RunOptions
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.standins.base import Failure
from activations.standins.twilio import TwilioStandIn
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from waymark.core import crash

SID = "AC" + "5a" * 16
TOKEN = "twilio-auth-token-9c41e"
SENDER = "+15005550006"
MESSAGES = f"/2010-04-01/Accounts/{SID}/Messages.json"
REMINDER = {"body": "Waymark Shop: your Linen shirt is still in your cart. Reply STOP to opt out."}


@pytest.fixture
def twilio():
    server = TwilioStandIn(account_sid=SID, auth_token=TOKEN)
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def destinations(tmp_path: Path, twilio: TwilioStandIn, **config):
    settings = {
        "account_sid_env": "TWILIO_ACCOUNT_SID",
        "auth_token_env": "TWILIO_AUTH_TOKEN",
        "from_number_env": "TWILIO_FROM_NUMBER",
        "base_url": twilio.url,
        "status_callback_url": "https://hooks.shop.example/twilio?key={idempotency_key}",
        "timeout_seconds": 0.5,
        **config,
    }
    env = ["TWILIO_ACCOUNT_SID", "TWILIO_AUTH_TOKEN", "TWILIO_FROM_NUMBER"]
    paths = write_project(
        tmp_path / "project",
        {"sms_twilio": {"kind": "twilio", "channel": "sms", "env": env}},
        {"sms_twilio": {"config": settings}},
        {},
    )
    loaded = load_project(paths)
    assert not loaded.issues, loaded.issues
    return loaded.destinations


def send(warehouse, targets, *, token: str = TOKEN, attempts: int = 3, sleeps=None):
    env = {"TWILIO_ACCOUNT_SID": SID, "TWILIO_AUTH_TOKEN": token, "TWILIO_FROM_NUMBER": SENDER}
    options = RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(env),
        sleep=sleeps.append if sleeps is not None else (lambda _: None),
        rng=random.Random(4),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.0),
    )
    return deliver_sends(warehouse.path, targets, options)


def customer(warehouse, name: str, phone: str | None, **values) -> None:
    warehouse.customer(name, phone=phone, **values)


def sms(warehouse, key: str, name: str, payload=None, purpose: str = "sms_marketing") -> None:
    warehouse.outbox(key, name, "sms_twilio", channel="sms", purpose=purpose,
                     template="cart_reminder_sms", payload=payload or REMINDER)  # fmt: skip


def states(warehouse) -> dict[str, str]:
    return dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))


def logged(warehouse) -> list[tuple]:
    return warehouse.execute(
        "select record_key, result, ambiguous, error_code, error_message "
        "from activations.sync_changelog order by recorded_at, record_key"
    )


def test_a_message_is_one_form_post_with_basic_auth(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+1 (415) 555-0101")
    sms(warehouse, "cart:i1:sms", "ann")
    [report] = send(warehouse, destinations(tmp_path, twilio))
    assert (report.status, report.sent, report.requests) == ("success", 1, 1)
    [request] = twilio.requests
    assert (request.method, request.path) == ("POST", MESSAGES)
    assert (
        request.headers["authorization"]
        == "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    )
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(request.body.decode()) == {
        "To": ["+14155550101"],
        "From": [SENDER],
        "Body": [REMINDER["body"]],
        "StatusCallback": ["https://hooks.shop.example/twilio?key=cart%3Ai1%3Asms"],
    }
    [message] = twilio.messages
    assert (message["to"], message["status"], message["direction"]) == (
        "+14155550101", "queued", "outbound-api"
    )  # fmt: skip
    assert states(warehouse) == {"cart:i1:sms": "sent"}


def test_a_messaging_service_picks_the_sender(tmp_path, warehouse):
    service = "MG" + "0f" * 16
    twilio = TwilioStandIn(account_sid=SID, auth_token=TOKEN, messaging_services={service})
    try:
        customer(warehouse, "ann", "+14155550101")
        sms(warehouse, "k:1", "ann")
        targets = destinations(tmp_path, twilio, from_number_env=None,
                               messaging_service_sid_env="TWILIO_FROM_NUMBER")  # fmt: skip
        env_sender = service
        env = {
            "TWILIO_ACCOUNT_SID": SID,
            "TWILIO_AUTH_TOKEN": TOKEN,
            "TWILIO_FROM_NUMBER": env_sender,
        }
        options = RunOptions(as_of=SAMPLE_AS_OF, secrets=Secrets(env), sleep=lambda _: None)
        [report] = deliver_sends(warehouse.path, targets, options)
        assert report.status == "success"
        form = parse_qs(twilio.requests[0].body.decode())
        assert form["MessagingServiceSid"] == [service] and "From" not in form
        assert twilio.messages[0]["status"] == "accepted"
    finally:
        twilio.close()


def test_twilio_error_codes_are_logged_and_21610_reads_as_a_suppression(
    tmp_path, warehouse, twilio
):
    customer(warehouse, "ann", "+14155550101")
    customer(warehouse, "magic", "+15005550001")  # Twilio's invalid 'To' test number
    customer(warehouse, "stopped", "+14155550199")
    customer(warehouse, "landline", "+15005550009")
    customer(warehouse, "national", "4155550123")
    twilio.opt_out("+14155550199")
    for name in ("ann", "magic", "stopped", "landline", "national"):
        sms(warehouse, f"k:{name}", name)
    sms(warehouse, "k:long", "ann", {"body": "x" * 1601})
    sms(warehouse, "k:empty", "ann", {"subject": "no body"})
    [report] = send(warehouse, destinations(tmp_path, twilio))
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 6)
    docs = "https://www.twilio.com/docs/errors"
    assert logged(warehouse) == [
        ("k:ann", "sent", False, None, None),
        ("k:empty", "rejected", False, "invalid_message", "the outbox payload needs `body`"),
        ("k:landline", "rejected", False, "21614",
         f"HTTP 400: 'To' number is not a valid mobile number ({docs}/21614)"),
        ("k:long", "rejected", False, "21617",
         "HTTP 400: The concatenated message body exceeds the 1600 character limit. "
         f"({docs}/21617)"),
        ("k:magic", "rejected", False, "21211",
         f"HTTP 400: The 'To' number +15005550001 is not a valid phone number. ({docs}/21211)"),
        ("k:national", "rejected", False, "21211",
         f"HTTP 400: The 'To' number 4155550123 is not a valid phone number. ({docs}/21211)"),
        ("k:stopped", "rejected", False, "21610",
         "suppressed:unsubscribed: HTTP 400: Attempt to send to unsubscribed recipient "
         f"({docs}/21610)"),
    ]  # fmt: skip
    assert len(twilio.requests) == 6  # the message without a body never left
    assert [m["to"] for m in twilio.messages] == ["+14155550101"]


def test_consent_and_suppression_keep_sms_from_twilio(tmp_path, warehouse, twilio):
    customer(warehouse, "ok", "+14155550101")
    customer(warehouse, "denied", "+14155550102", sms_marketing_consent="denied")
    customer(warehouse, "replied_stop", "+14155550103", sms_marketing_consent="revoked")
    warehouse.engagement("sms", "+14155550103", "unsubscribed")
    customer(warehouse, "no_phone", None)
    for name in ("ok", "denied", "replied_stop", "no_phone"):
        sms(warehouse, f"k:{name}", name)
    sms(warehouse, "t:no_phone", "no_phone", purpose="transactional")
    [report] = send(warehouse, destinations(tmp_path, twilio))
    assert (report.status, report.sent, report.dropped) == ("success", 1, 4)
    assert [m["to"] for m in twilio.messages] == ["+14155550101"]
    seen = b" ".join(r.body for r in twilio.requests)
    assert b"14155550102" not in seen and b"14155550103" not in seen
    drops = {row[0]: row[3] for row in logged(warehouse) if row[1] == "dropped"}
    assert drops == {
        "k:denied": "no_consent:denied",
        "k:replied_stop": "suppressed:unsubscribed",
        "k:no_phone": "no_address",
        "t:no_phone": "no_address",
    }


def test_bad_credentials_fail_the_run_without_charging_messages(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    targets = destinations(tmp_path, twilio)
    [report] = send(warehouse, targets, token="wrong-token-0000")
    assert report.status == "failed" and "HTTP 401: Authenticate" in report.error
    assert states(warehouse) == {"k:1": "pending"} and logged(warehouse) == []
    [healed] = send(warehouse, targets)
    assert (healed.status, healed.ambiguous) == ("success", 0) and len(twilio.messages) == 1


def test_20429_is_retried_after_retry_after_without_ambiguity(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    busy = {"code": 20429, "message": "Too Many Requests", "status": 429}
    twilio.fail_next(Failure(429, busy, {"Retry-After": "2"}))
    sleeps: list[float] = []
    [report] = send(warehouse, destinations(tmp_path, twilio), sleeps=sleeps)
    assert (report.status, report.request_retries, report.ambiguous) == ("success", 1, 0)
    assert sleeps[0] >= 2 and len(twilio.messages) == 1


def test_server_errors_are_retried_next_run_and_500_is_flagged(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    sms(warehouse, "k:2", "ann", {"body": "second"})
    internal = {"code": 20500, "message": "Internal Server Error", "status": 500}
    unavailable = {"code": 20503, "message": "Service Unavailable", "status": 503}
    twilio.fail_next(Failure(500, internal), Failure(503, unavailable))
    targets = destinations(tmp_path, twilio)
    [report] = send(warehouse, targets, attempts=1)
    assert (report.status, report.retried, report.ambiguous) == ("failed", 2, 1)
    assert [row[1:4] for row in logged(warehouse)] == [
        ("retry", True, "20500"),
        ("retry", False, "20503"),
    ]
    [second] = send(warehouse, targets)
    assert second.sent == 2 and len(twilio.messages) == 2


def test_a_lost_reply_is_retried_and_the_possible_duplicate_flagged(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    twilio.fail_next(Failure(201, {}, delay=0.8, applied=True))  # created, reply lost
    [report] = send(warehouse, destinations(tmp_path, twilio))
    assert (report.status, report.sent, report.ambiguous) == ("success", 1, 1)
    assert len(twilio.messages) == 2  # Twilio has no idempotency key: the one duplicate
    assert logged(warehouse) == [("k:1", "sent", True, None, None)]


def test_a_crash_after_sending_replays_once_and_flags_it(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    targets = destinations(tmp_path, twilio)
    with (
        crash.installed(crash.crash_at("twilio.after_request")),
        pytest.raises(crash.SimulatedCrash),
    ):
        send(warehouse, targets)
    [report] = send(warehouse, targets)
    assert (report.sent, report.replayed, report.ambiguous) == (1, 1, 1)
    assert len(twilio.messages) == 2 and states(warehouse) == {"k:1": "sent"}


def test_credentials_never_reach_logs_or_dry_runs(tmp_path, warehouse, twilio):
    customer(warehouse, "ann", "+14155550101")
    sms(warehouse, "k:1", "ann")
    basic = base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
    echo = {"code": 21606, "message": f"token {TOKEN} and header {basic} refused", "status": 400}
    twilio.fail_next(Failure(400, echo))
    targets = destinations(tmp_path, twilio)
    text = dry_run_sends(warehouse.path, targets, SAMPLE_AS_OF)
    assert twilio.requests == [] and "+14155550101" not in text
    assert '"To": "+*********01"' in text and "/Accounts/$TWILIO_ACCOUNT_SID/" in text
    send(warehouse, targets)
    tables = ("sync_runs", "sync_changelog")
    rows = [warehouse.execute(f"select * from activations.{table}") for table in tables]
    dump = json.dumps(rows, default=str)
    assert TOKEN not in dump and basic not in dump and SID not in dump
    assert "token [redacted] and header [redacted] refused" in dump


def post(server, form: dict[str, str], user: str = SID, password: str = TOKEN, account: str = SID):
    connection = http.client.HTTPConnection("127.0.0.1", server.server.server_address[1], timeout=5)
    basic = base64.b64encode(f"{user}:{password}".encode()).decode()
    headers = {"Authorization": f"Basic {basic}",
               "Content-Type": "application/x-www-form-urlencoded"}  # fmt: skip
    path = f"/2010-04-01/Accounts/{account}/Messages.json"
    connection.request("POST", path, body=urlencode(form).encode(), headers=headers)
    response = connection.getresponse()
    payload = json.loads(response.read())
    connection.close()
    return response.status, payload.get("code"), payload


def test_the_stand_in_answers_twilios_codes(twilio):
    ok = {"To": "+14155550101", "From": SENDER, "Body": "hi"}
    assert post(twilio, {"From": SENDER, "Body": "hi"})[:2] == (400, 21604)
    assert post(twilio, {**ok, "From": "+14155550000"})[:2] == (400, 21606)
    assert post(twilio, {"To": "+14155550101", "Body": "hi"})[:2] == (400, 21603)
    assert post(twilio, {**ok, "Body": ""})[:2] == (400, 21602)
    assert post(twilio, {**ok, "To": SENDER})[:2] == (400, 21266)
    assert post(twilio, {**ok, "StatusCallback": "ftp://x"})[:2] == (400, 21609)
    assert post(twilio, {**ok, "To": "+15005550003"})[:2] == (400, 21408)
    assert post(twilio, {**ok, "To": "+15005550002"})[:2] == (400, 21612)
    assert post(twilio, ok, password="nope")[:2] == (401, 20003)
    assert post(twilio, ok, account="AC" + "0" * 32)[:2] == (404, 20404)
    status, _, created = post(twilio, ok)
    assert status == 201 and created["sid"].startswith("SM") and created["num_segments"] == "1"
    assert created["status"] == "queued" and created["direction"] == "outbound-api"
    assert [m["sid"] for m in twilio.messages] == [created["sid"]]


def test_a_message_that_cannot_be_built_fails_alone_and_the_rest_are_sent(
    tmp_path, warehouse, twilio
):
    for name in ("ann", "bob", "cat"):
        customer(warehouse, name, "+1 415 555 0101")
    sms(warehouse, "k:ann", "ann")
    # A payload another producer wrote as an array, left `sending` by an earlier run.
    sms(warehouse, "k:bob", "bob", payload=["Waymark Shop: hello"])
    warehouse.execute(
        "update journeys.journey_outbox set state = 'sending' where idempotency_key = 'k:bob'"
    )
    sms(warehouse, "k:cat", "cat")
    targets = destinations(tmp_path, twilio)
    [report] = send(warehouse, targets)
    assert (report.status, report.sent, report.rejected) == ("partial", 2, 1)
    assert states(warehouse) == {"k:ann": "sent", "k:bob": "failed", "k:cat": "sent"}
    assert ("k:bob", "rejected", True, "invalid_message",
            "the outbox payload is an array, not a JSON object") in logged(warehouse)  # fmt: skip
    assert send(warehouse, targets) == []  # nothing is left to block a later run
