"""Journey sends from the outbox to a real SMTP server (aiosmtpd) and a real webhook receiver."""

from __future__ import annotations

import random
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from activations.delivery import RetryPolicy
from activations.destinations.smtp.mapping import message_id, unsubscribe_token
from activations.runner import RunOptions
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.sync_files import load_project
from activations.testing import (
    SAMPLE_AS_OF,
    MailSink,
    SampleWarehouse,
    WebhookReceiver,
    write_project,
)
from waymark.journeys.context import template_context
from waymark.journeys.templates import read_template

FROM = "Shop <hello@shop.example>"


def project(tmp_path: Path, mail_config: dict | None = None):
    mail = {
        "host_env": "MAIL_HOST",
        "port_env": "MAIL_PORT",
        "starttls": False,
        "from_address": FROM,
        "list_unsubscribe_url": "https://shop.example/unsubscribe?c={customer_id}&t={token}",
        "unsubscribe_secret_env": "MAIL_UNSUBSCRIBE_SECRET",
        **(mail_config or {}),
    }
    paths = write_project(
        tmp_path / "project",
        {
            "mail": {
                "kind": "smtp",
                "channel": "email",
                "env": [
                    "MAIL_HOST",
                    "MAIL_PORT",
                    "MAIL_USER",
                    "MAIL_PASSWORD",
                    "MAIL_UNSUBSCRIBE_SECRET",
                ],
            },
            "desk": {"kind": "webhook", "channel": "webhook", "env": ["DESK_URL", "DESK_SECRET"]},
        },
        {
            "mail": {"config": mail},
            "desk": {"config": {"url_env": "DESK_URL", "signing_secret_env": "DESK_SECRET"}},
        },
        {},
    )
    loaded = load_project(paths)
    assert not loaded.issues, loaded.issues
    return loaded.destinations


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def sink():
    server = MailSink()
    yield server
    server.close()


def send(warehouse, destinations, env, attempts: int = 3, give_up: int = 5):
    options = RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(env),
        sleep=lambda _: None,
        rng=random.Random(2),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.0),
    )
    return deliver_sends(warehouse.path, destinations, options, give_up_after_runs=give_up)


def mail_env(sink: MailSink, **extra: str) -> dict[str, str]:
    return {
        "MAIL_HOST": "127.0.0.1",
        "MAIL_PORT": str(sink.port),
        "MAIL_UNSUBSCRIBE_SECRET": "unsub-secret-41",
        **extra,
    }


def states(warehouse: SampleWarehouse) -> dict[str, str]:
    return dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))


def test_email_has_a_deterministic_message_id_and_one_click_unsubscribe(tmp_path, warehouse, sink):
    warehouse.customer("ann")
    warehouse.outbox(
        "winback:i1:offer", "ann", "mail", payload={"subject": "15% off", "text": "Hi"}
    )
    warehouse.outbox(
        "order:i2:receipt",
        "ann",
        "mail",
        purpose="transactional",
        payload={"subject": "Receipt", "text": "Thanks", "html": "<p>Thanks</p>"},
    )
    [report] = send(warehouse, project(tmp_path), mail_env(sink))
    assert (report.status, report.sent) == ("success", 2)
    marketing, receipt = sorted(sink.messages, key=lambda m: str(m["Subject"]))
    assert marketing["Message-ID"] == message_id("winback:i1:offer", FROM)
    assert marketing["To"] == "ann@example.org"
    assert marketing["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    token = unsubscribe_token("unsub-secret-41", "ann", "email_marketing")
    assert marketing["List-Unsubscribe"].strip() == (
        f"<https://shop.example/unsubscribe?c=ann&t={token}>"
    )
    assert receipt["List-Unsubscribe"] is None and receipt.is_multipart()
    assert states(warehouse) == {"winback:i1:offer": "sent", "order:i2:receipt": "sent"}


def test_consent_and_suppression_are_enforced_when_sending(tmp_path, warehouse, sink):
    warehouse.customer("denied", email_marketing_consent="denied")
    warehouse.customer("bounced")
    warehouse.engagement("email", "bounced@example.org", "bounced", "hard")
    warehouse.customer("complainer")
    warehouse.engagement("email", "complainer@example.org", "complained")
    warehouse.customer("silent", email=None)
    for name in ("denied", "bounced", "complainer", "silent"):
        warehouse.outbox(f"m:{name}", name, "mail")
        warehouse.outbox(f"t:{name}", name, "mail", purpose="transactional")
    [report] = send(warehouse, project(tmp_path), mail_env(sink))
    assert sorted(str(m["To"]) for m in sink.messages) == [
        "complainer@example.org",
        "denied@example.org",
    ]
    drops = dict(
        warehouse.execute(
            "select record_key, error_code from activations.sync_changelog where result = 'dropped'"
        )
    )
    assert drops == {
        "m:denied": "no_consent:denied",
        "m:bounced": "suppressed:hard_bounced",
        "t:bounced": "suppressed:hard_bounced",
        "m:complainer": "suppressed:complained",
        "m:silent": "no_address",
        "t:silent": "no_address",
    }
    assert states(warehouse)["m:denied"] == "dropped" and states(warehouse)["t:denied"] == "sent"
    assert report.status == "success" and report.dropped == 6


def test_refused_recipients_fail_or_wait_with_the_servers_reason(tmp_path, warehouse, sink):
    warehouse.customer("gone")
    warehouse.customer("busy")
    sink.refuse["gone@example.org"] = (550, "5.1.1 No such user")
    sink.refuse["busy@example.org"] = (451, "4.2.1 Mailbox busy, try later")
    warehouse.outbox("k:gone", "gone", "mail")
    warehouse.outbox("k:busy", "busy", "mail")
    destinations, env = project(tmp_path), mail_env(sink)
    [report] = send(warehouse, destinations, env, attempts=1, give_up=2)
    assert (report.status, report.rejected, report.retried) == ("failed", 1, 1)
    assert states(warehouse) == {"k:gone": "failed", "k:busy": "pending"}
    logged = warehouse.execute(
        "select record_key, result, error_code, error_message from activations.sync_changelog "
        "order by record_key"
    )
    assert logged == [
        ("k:busy", "retry", "451", "4.2.1 Mailbox busy, try later"),
        ("k:gone", "rejected", "550", "5.1.1 No such user"),
    ]
    [second] = send(warehouse, destinations, env, attempts=1, give_up=2)
    assert second.given_up == 1 and states(warehouse)["k:busy"] == "failed"
    assert send(warehouse, destinations, env) == []


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl for a test certificate")
def test_starttls_and_login(tmp_path, warehouse):
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    sink = MailSink(credentials=("shop", "relay-password-77"), tls_context=context)
    try:
        warehouse.customer("ann")
        warehouse.outbox("k:1", "ann", "mail")
        config = {"starttls": True, "ca_file": str(cert)}
        config |= {"username_env": "MAIL_USER", "password_env": "MAIL_PASSWORD"}
        destinations = project(tmp_path, config)
        env = mail_env(sink, MAIL_USER="shop", MAIL_PASSWORD="wrong-password-00")
        [refused] = send(warehouse, destinations, env)
        assert refused.status == "failed" and "refused the credentials (535)" in refused.error
        assert states(warehouse) == {"k:1": "pending"}  # nothing was sent: not ambiguous
        env["MAIL_PASSWORD"] = "relay-password-77"
        [report] = send(warehouse, destinations, env)
        assert report.status == "success" and len(sink.messages) == 1
    finally:
        sink.close()


def test_webhook_sends_carry_the_outbox_idempotency_key(tmp_path, warehouse, sink):
    receiver = WebhookReceiver("desk-secret-123")
    try:
        warehouse.customer("ann")
        payload = {"type": "service_recovery", "ticket_id": "t-9"}
        warehouse.outbox(
            "csat:i7:task", "ann", "desk", channel="webhook", purpose="transactional",
            template="service_recovery_task", payload=payload,
        )  # fmt: skip
        env = {"DESK_URL": receiver.url, "DESK_SECRET": "desk-secret-123"}
        [report] = send(warehouse, project(tmp_path), env)
        assert report.status == "success" and receiver.bad_signatures == 0
        assert receiver.seen_headers[0]["Idempotency-Key"] == "csat:i7:task"
        [event] = receiver.applied
        assert event["data"] == {**payload, "template": "service_recovery_task"}
        assert (event["type"], event["customer_id"], event["purpose"]) == (
            "send",
            "ann",
            "transactional",
        )
    finally:
        receiver.close()


def test_a_crlf_in_a_profile_value_does_not_block_the_email_channel(tmp_path, warehouse, sink):
    # Nine messages; the first name of one reached its subject with a line break (as outbox
    # rows rendered before subjects were kept on one line still hold), and a previous run
    # left it `sending`. Every message goes, that one with its subject on one line.
    for number in range(9):
        customer = f"c{number}"
        warehouse.customer(customer)
        subject = "Hi Olivia\r\nBcc: evil@x" if number == 4 else f"Hi {customer}"
        payload = {"subject": subject, "text": "Hello"}
        warehouse.outbox(f"welcome:i{number}:mail", customer, "mail", payload=payload)
    warehouse.execute(
        "update journeys.journey_outbox set state = 'sending' where idempotency_key = ?",
        ["welcome:i4:mail"],
    )
    [report] = send(warehouse, project(tmp_path), mail_env(sink))
    assert (report.status, report.sent) == ("success", 9)
    assert set(states(warehouse).values()) == {"sent"} and len(sink.messages) == 9
    subjects = {str(message["Subject"]) for message in sink.messages}
    assert "Hi Olivia Bcc: evil@x" in subjects
    assert all(message["Bcc"] is None for message in sink.messages)


def test_a_message_that_cannot_be_built_fails_alone_with_its_reason(tmp_path, warehouse, sink):
    warehouse.customer("ann")
    warehouse.customer("eve", email="eve@example.org\r\nBcc: evil@example.net")
    warehouse.outbox("k:eve", "eve", "mail")
    warehouse.outbox("k:ann", "ann", "mail")
    destinations, env = project(tmp_path), mail_env(sink)
    [report] = send(warehouse, destinations, env)
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 1)
    assert states(warehouse) == {"k:eve": "failed", "k:ann": "sent"}
    assert warehouse.execute(
        "select result, error_code, error_message from activations.sync_changelog "
        "where record_key = 'k:eve'"
    ) == [("rejected", "invalid_message", "the customer's email address contains a line break")]
    assert send(warehouse, destinations, env) == []  # nothing is left to block a later run


def test_an_email_subject_renders_on_one_line(tmp_path) -> None:
    path = tmp_path / "welcome.yml"
    path.write_text(
        "channel: email\n"
        "subject: 'Hi {{ customer.first_name }}'\n"
        "html: '<p>Hi {{ customer.first_name }}</p>'\n"
        "text: 'Hi {{ customer.first_name }}'\n"
    )
    loaded, issues = read_template(path)
    assert issues == [] and loaded is not None
    first_name = "Olivia\r\nBcc: evil@x\u2028X-Spam: no"
    message = loaded.render(template_context({"first_name": first_name}, None, "j", "s", None))
    assert message.subject == "Hi Olivia Bcc: evil@x X-Spam: no"
    assert message.text == f"Hi {first_name}"  # bodies keep their line breaks


def test_a_header_value_in_config_must_be_one_line(tmp_path) -> None:
    paths = write_project(
        tmp_path / "project",
        {"mail": {"kind": "smtp", "channel": "email", "env": ["MAIL_HOST"]}},
        {"mail": {"config": {"host_env": "MAIL_HOST", "from_address": "Shop\n<a@shop.example>"}}},
        {},
    )
    issues = [str(issue) for issue in load_project(paths).issues]
    assert any("from_address" in issue and "must be one line" in issue for issue in issues), issues
