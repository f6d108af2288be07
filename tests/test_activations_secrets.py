"""Secrets set in the environment never reach the terminal, the warehouse logs or output files."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from activations.secrets import Secrets
from activations.testing import (
    SAMPLE_AS_OF,
    Failure,
    MailSink,
    SampleWarehouse,
    WebhookReceiver,
    write_project,
)
from activations.testing_postgres import PostgresScratch
from waymark.cli.main import main
from waymark.core.instants import format_instant

HOOK_SECRET = "hook-signing-secret-8f2e"
PG_PASSWORD = "pg-password-c41d"
MAIL_PASSWORD = "mail-password-77ab"


def test_secrets_appear_in_no_output(tmp_path: Path, monkeypatch, capsys) -> None:
    receiver = WebhookReceiver(HOOK_SECRET)
    sink = MailSink(credentials=("shop", MAIL_PASSWORD))
    pg = PostgresScratch()
    try:
        # A receiver that echoes the secret back in its error must not get it into the log.
        receiver.reject_keys["bob"] = Failure(422, "bad_token", f"token {HOOK_SECRET} rejected")
        monkeypatch.setenv("HOOK_URL", receiver.url)
        monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)
        monkeypatch.setenv("PG_PASSWORD", PG_PASSWORD)  # trust auth accepts and ignores it
        monkeypatch.setenv("MAIL_HOST", "127.0.0.1")
        monkeypatch.setenv("MAIL_PORT", str(sink.port))
        monkeypatch.setenv("MAIL_USER", "shop")
        monkeypatch.setenv("MAIL_PASSWORD", MAIL_PASSWORD)
        sync = {
            "type": "audience",
            "model": "audiences.members",
            "mode": "mirror",
            "key": "customer_id",
            "fields": {"email": "customer.email"},
            "purpose": "email_marketing",
        }
        paths = write_project(
            tmp_path / "project",
            {
                "hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]},
                "mail": {
                    "kind": "smtp",
                    "channel": "email",
                    "env": ["MAIL_HOST", "MAIL_PORT", "MAIL_USER", "MAIL_PASSWORD"],
                },
            },
            {
                "hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}},
                "mail": {
                    "config": {
                        "host_env": "MAIL_HOST",
                        "port_env": "MAIL_PORT",
                        "username_env": "MAIL_USER",
                        "password_env": "MAIL_PASSWORD",
                        "starttls": False,
                        "from_address": "hello@shop.example",
                    }
                },
                "db": {
                    "kind": "postgres",
                    "env": ["PG_PASSWORD"],
                    "config": {
                        "dbname": pg.dbname,
                        "user": "postgres",
                        "password_env": "PG_PASSWORD",
                        "schema_name": pg.schema,
                    },
                },
            },
            {
                "to_hook": {**sync, "destination": "hook"},
                "to_db": {**sync, "destination": "db", "settings": {"table": "members"}},
            },
        )
        warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
        for name in ("ann", "bob"):
            warehouse.customer(name)
        warehouse.members(["ann", "bob"])
        warehouse.outbox("j:1:welcome", "ann", "mail")
        common = ["--warehouse", str(warehouse.path), "--syncs", str(paths.syncs)]
        common += [
            "--destinations",
            str(paths.destinations),
            "--as-of",
            format_instant(SAMPLE_AS_OF),
        ]
        codes = [
            main(["sync", "to_hook", "--dry-run", *common]),
            main(["sync", "to_hook", *common]),
            main(["sync", "to_db", *common]),
            main(["syncs", "sends", "--dry-run", *common]),
            main(["syncs", "sends", *common]),
            main(["syncs", "list", "--syncs", str(paths.syncs)]),
        ]
        # An erasure whose removal is refused with the secret echoed back stays open.
        receiver.reject_keys["ann"] = Failure(422, "bad_token", f"token {HOOK_SECRET} rejected")
        codes.append(main(["forget", "--customer", "ann", *common]))
        codes.append(main(["syncs", "erase", *common]))
        assert codes == [0, 1, 0, 0, 0, 0, 1, 1]  # to_hook is partial: bob was refused
        printed = capsys.readouterr()
        assert len(sink.messages) == 1 and receiver.bad_signatures == 0

        texts = [printed.out, printed.err]
        with duckdb.connect(str(warehouse.path), read_only=True) as con:
            tables = ("sync_state", "sync_runs", "sync_changelog", "deletion_audit")
            for table in (*tables, "deletion_requests"):
                rows = con.execute(f"select * from activations.{table}").fetchall()
                texts.append(repr(rows))
            logged = con.execute(
                "select error_message from activations.sync_changelog where record_key = 'bob'"
            ).fetchone()
        texts += [path.read_text() for path in tmp_path.rglob("*.yml")]
        everything = "\n".join(texts)
        for secret in (HOOK_SECRET, PG_PASSWORD, MAIL_PASSWORD):
            assert secret not in everything
        assert logged == ("HTTP 422: token [redacted] rejected",)
        assert "bad_token: HTTP 422: token [redacted] rejected" in everything  # the audit
        assert "a***@***.org" in printed.out  # the dry run printed masked payloads
    finally:
        receiver.close()
        sink.close()
        pg.close()


def test_a_missing_secret_is_named_not_shown(monkeypatch) -> None:
    secrets = Secrets({"PRESENT": "a-long-secret-value"})
    with pytest.raises(Exception, match="environment variable ABSENT is not set"):
        secrets.require("ABSENT")
    value = secrets.require("PRESENT")
    assert secrets.redact(f"error near {value}!") == "error near [redacted]!"


def test_secret_url_parts_and_cut_prefixes_are_redacted() -> None:
    url = "https://hook:pa%24s-word-1@hooks.example/services/T00A1B2C3/B9x8Y7z6W5?token=q-77abc&v=2"
    secrets = Secrets({"HOOK_URL": url, "TOKEN": "tok-0123456789abcdef"})
    secrets.require("HOOK_URL")
    token = secrets.require("TOKEN")
    echoed = (
        "POST /services/T00A1B2C3/B9x8Y7z6W5?token=q-77abc&v=2 refused; user hook password "
        "pa$s-word-1 (encoded pa%24s-word-1), tok-0123456789abcdef%3D in a form, route services"
    )
    redacted = secrets.redact(echoed)
    for part in ("T00A1B2C3", "B9x8Y7z6W5", "q-77abc", "pa$s-word-1", "pa%24s-word-1", token):
        assert part not in redacted
    assert "route services" in redacted  # a word of the route is not a token
    # A vendor that cut its own echo leaves a prefix; a cut of ours never leaves 4+ characters.
    assert secrets.redact(f"Bearer {token[:11]}…") == "Bearer [redacted]…"
    text = "x" * 40 + token[:7] + "y" * 20  # 7 characters: under the prefix rule
    for limit in range(44, 48):
        assert secrets.redact(text, limit) == "x" * 40 + "[redacted]"
