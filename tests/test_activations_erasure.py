"""Right-to-erasure requests against real stand-ins: the webhook receiver, a real PostgreSQL and
the loopback Graph API; removals through the delivery path, one audit row per action, future
syncs and sends dropped, and Waymark's own logs reduced to keys."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from pathlib import Path

import duckdb
import pytest

from activations.delivery import RetryPolicy
from activations.erasure import ErasureRequestError, record_request
from activations.erasure_run import process_erasures
from activations.pii import sha256_hex
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.standins.meta import MetaStandIn
from activations.sync_files import load_project
from activations.tables import ensure_tables
from activations.testing import (
    SAMPLE_AS_OF,
    Failure,
    SampleWarehouse,
    WebhookReceiver,
    write_project,
)
from activations.testing_postgres import PostgresScratch
from waymark.cli.main import main
from waymark.core import crash
from waymark.core.instants import format_instant

SECRET = "whsec-erasure-61c0"
TOKEN = "EAAG-erasure-token-77a1"
AUDIENCE = "23850000000000001"
AUDIT_COLUMNS = "sync_name, destination, record_key, action, result, error"


class Bench:
    """One project with a webhook audience, a PostgreSQL object sync and a Meta audience."""

    def __init__(self, root: Path, receiver: WebhookReceiver, pg: PostgresScratch, meta):
        self.warehouse = SampleWarehouse(root / "warehouse.duckdb")
        self.env = {"HOOK_URL": receiver.url, "HOOK_SECRET": SECRET, "META_TOKEN": TOKEN}
        members = {
            "type": "audience",
            "model": "audiences.members",
            "mode": "upsert",
            "key": "customer_id",
            "fields": {"email": "customer.email"},
        }
        self.paths = write_project(
            root / "project",
            {
                "hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]},
                "meta_ads": {"kind": "meta", "channel": "ads", "env": ["META_TOKEN"]},
            },
            {
                "hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}},
                "meta_ads": {"config": {"access_token_env": "META_TOKEN", "base_url": meta.url}},
                "app_db": {
                    "kind": "postgres",
                    "config": {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema},
                },
            },
            {
                "members_hook": {**members, "destination": "hook", "purpose": "email_marketing"},
                "members_meta": {
                    **members,
                    "destination": "meta_ads",
                    "purpose": "ads_personalisation",
                    "settings": {"audience_id": AUDIENCE},
                },
                "profiles": {
                    "type": "object",
                    "model": "marts.customers",
                    "destination": "app_db",
                    "mode": "upsert",
                    "key": "customer_id",
                    "fields": {"email": "email", "first_name": "first_name"},
                    "purpose": "transactional",
                    "settings": {"table": "profiles"},
                },
            },
        )
        self.capabilities: dict[str, object] = {}

    def options(self, policy: RetryPolicy | None = None) -> RunOptions:
        return RunOptions(
            as_of=SAMPLE_AS_OF,
            secrets=Secrets(self.env),
            sleep=lambda _: None,
            rng=random.Random(3),
            policy=policy or RetryPolicy(base_delay=0.0),
        )

    def project(self):
        project = load_project(self.paths)
        assert not project.issues, project.issues
        for name, capabilities in self.capabilities.items():
            loaded = project.valid()[name]
            connector = replace(loaded.destination.connector, capabilities=capabilities)
            loaded.destination = replace(loaded.destination, connector=connector)
        return project

    def sync(self, name: str):
        report = run_sync(self.warehouse.path, self.project().valid()[name], self.options())
        assert report.status == "success", report.summary()
        return report

    def forget(self, customer_id: str | None = None, **values: str):
        with duckdb.connect(str(self.warehouse.path)) as con:
            ensure_tables(con)
            request_id, _ = record_request(
                con,
                customer_id=customer_id,
                requested_at=values.pop("requested_at", "2026-06-29 12:00:00"),
                received_at="2026-06-29 12:05:00",
                **values,
            )
        return request_id

    def erase(self, policy: RetryPolicy | None = None):
        return process_erasures(self.warehouse.path, self.project(), self.options(policy))

    def audit(self, request_id: str | None = None) -> list[tuple]:
        return self.warehouse.execute(
            f"select {AUDIT_COLUMNS} from activations.deletion_audit "
            "where ? is null or request_id = ? order by processed_at, sync_name, record_key",
            [request_id, request_id],
        )


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def pg():
    scratch = PostgresScratch()
    yield scratch
    scratch.close()


@pytest.fixture
def meta():
    server = MetaStandIn(TOKEN, [AUDIENCE])
    yield server
    server.close()


@pytest.fixture
def bench(tmp_path, receiver, pg, meta) -> Bench:
    bench = Bench(tmp_path, receiver, pg, meta)
    for name in ("ann", "bob"):
        bench.warehouse.customer(name, phone=None)
    bench.warehouse.members(["ann", "bob"])
    for name in ("members_hook", "members_meta", "profiles"):
        bench.sync(name)
    return bench


def test_a_request_removes_the_customer_everywhere_with_one_audit_row_each(
    bench, receiver, pg, meta
) -> None:
    request_id = bench.forget("ann")
    [outcome] = bench.erase()
    assert outcome.status == "processed" and outcome.customers == ["ann"]
    assert outcome.results == {"removed": 3}

    assert set(receiver.records) == {("members_hook", "bob")}
    assert pg.query("select customer_id from {schema}.profiles") == [("bob",)]
    assert meta.audience() == {frozenset({("EMAIL", sha256_hex("bob@example.org"))})}
    [delete] = [r for r in meta.requests if r.method == "DELETE"]
    assert json.loads(delete.form()["payload"][0])["data"] == [[sha256_hex("ann@example.org")]]

    assert bench.audit(request_id) == [
        ("members_hook", "hook", "ann", "remove", "removed", None),
        ("members_meta", "meta_ads", "ann", "remove", "removed", None),
        ("profiles", "app_db", "ann", "remove", "removed", None),
    ]
    audited = bench.warehouse.execute(
        "select distinct requested_at, run_id is not null, op_id like '%:erase-' || request_id "
        "from activations.deletion_audit"
    )
    assert [row[1:] for row in audited] == [(True, True)]
    assert str(audited[0][0]) == "2026-06-29 12:00:00"
    runs = bench.warehouse.execute(
        "select sync_name, status, planned_removes, sent from activations.sync_runs "
        "where run_kind = 'erasure' order by 1"
    )
    assert runs == [
        (f"erasure:{name}", "success", 1, 1)
        for name in ("members_hook", "members_meta", "profiles")
    ]
    removals = bench.warehouse.execute(
        "select sync_name, operation, result, error_code from activations.sync_changelog "
        "where record_key = 'ann' and operation = 'remove' order by 1"
    )
    assert removals == [
        (name, "remove", "sent", "deleted:erasure_request")
        for name in ("members_hook", "members_meta", "profiles")
    ]

    # Waymark keeps keys and hashes, not the delivered values.
    state = bench.warehouse.execute(
        "select status, payload_hash, delivered_payload, inflight_payload, last_error_code "
        "from activations.sync_state where record_key = 'ann'"
    )
    assert state == [("dropped", None, None, None, "deleted:erasure_request")] * 3
    assert bench.warehouse.execute(
        "select status, processed_at is not null from activations.deletion_requests"
    ) == [("processed", True)]
    assert bench.erase() == []  # nothing open any more


def test_later_syncs_and_sends_drop_the_customer_whatever_the_purpose(bench, receiver) -> None:
    bench.forget("ann")
    bench.erase()
    requests = receiver.requests
    bench.warehouse.customer("ann", email="ann@renamed.example.org")
    again = bench.sync("members_hook")
    assert (again.sent, again.dropped, again.drop_reasons) == (
        0,
        1,
        {"deleted:erasure_request": 1},
    )
    assert receiver.requests == requests
    assert bench.sync("members_hook").dropped == 0  # the drop is logged once
    profiles = bench.sync("profiles")  # transactional purpose: still dropped
    assert profiles.drop_reasons == {"deleted:erasure_request": 1}

    bench.warehouse.outbox("j:1:a", "ann", "hook", purpose="transactional")
    bench.warehouse.outbox("j:1:b", "bob", "hook", purpose="transactional")
    [report] = deliver_sends(bench.warehouse.path, bench.project().destinations, bench.options())
    assert (report.sent, report.dropped) == (1, 1)
    drops = bench.warehouse.execute(
        "select record_key, error_code from activations.sync_changelog "
        "where sync_name = 'sends:hook' and operation = 'drop'"
    )
    assert drops == [("j:1:a", "deleted:erasure_request")]


def test_journey_messages_are_dropped_and_their_bodies_emptied(bench) -> None:
    bench.warehouse.outbox("j:1:s1", "ann", "hook", payload={"subject": "Hi Ann"})
    [sent] = deliver_sends(bench.warehouse.path, bench.project().destinations, bench.options())
    assert sent.sent == 1
    bench.warehouse.outbox("j:1:s2", "ann", "hook", payload={"subject": "Still there, Ann?"})
    bench.warehouse.outbox("j:2:s1", "bob", "hook", payload={"subject": "Hi Bob"})
    request_id = bench.forget("ann")
    [outcome] = bench.erase()
    assert outcome.status == "processed"
    delivered, dropped = [row for row in bench.audit(request_id) if row[0] == "sends:hook"]
    assert dropped == ("sends:hook", "hook", "j:1:s2", "drop_message", "dropped", None)
    assert delivered[:5] == ("sends:hook", "hook", "ann", "none", "manual_required")
    assert "1 journey message(s) were delivered" in delivered[5]
    outbox = bench.warehouse.execute(
        "select idempotency_key, state, cast(payload as varchar) from journeys.journey_outbox "
        "order by 1"
    )
    assert outbox == [
        ("j:1:s1", "sent", "{}"),
        ("j:1:s2", "dropped", "{}"),
        ("j:2:s1", "pending", '{"subject": "Hi Bob"}'),
    ]
    logged = bench.warehouse.execute(
        "select run_id, error_code from activations.sync_changelog where record_key = 'j:1:s2'"
    )
    assert logged == [(request_id, "deleted:erasure_request")]


def test_a_destination_without_removal_gets_a_manual_action_row(bench, receiver) -> None:
    connector = bench.project().valid()["members_hook"].destination.connector
    bench.capabilities["members_hook"] = replace(connector.capabilities, removal=False)
    request_id = bench.forget("ann")
    [outcome] = bench.erase()
    assert outcome.status == "processed"
    assert ("members_hook", "ann") in receiver.records  # nothing could be removed there
    hook = [row for row in bench.audit(request_id) if row[0] == "members_hook"]
    assert hook == [
        (
            "members_hook",
            "hook",
            "ann",
            "none",
            "manual_required",
            "webhook destinations cannot remove records: erase it in hook itself",
        )
    ]
    kept = bench.warehouse.execute(
        "select payload_hash is not null, delivered_payload from activations.sync_state "
        "where sync_name = 'members_hook' and record_key = 'ann'"
    )
    assert kept == [(True, None)]


def test_a_failed_removal_stays_open_and_is_retried_with_a_new_audit_row(bench, receiver) -> None:
    request_id = bench.forget("ann")
    receiver.next_failures.append(Failure(503, "unavailable", "down for ann@example.org"))
    [first] = bench.erase(RetryPolicy(max_attempts=1))
    assert first.status == "open" and first.results == {"retrying": 1, "removed": 2}
    assert ("members_hook", "ann") in receiver.records
    retrying = [row for row in bench.audit(request_id) if row[4] == "retrying"]
    assert retrying == [
        (
            "members_hook",
            "hook",
            "ann",
            "remove",
            "retrying",
            "unavailable: HTTP 503: down for a***@***.org",
        )
    ]
    # Until it is removed the delivered payload stays; the vendor's message is not kept.
    assert bench.warehouse.execute(
        "select last_error_message from activations.sync_state "
        "where sync_name = 'members_hook' and record_key = 'ann'"
    ) == [(None,)]

    [second] = bench.erase()
    assert second.status == "processed" and second.results == {"removed": 1}
    assert set(receiver.records) == {("members_hook", "bob")}
    results = [row[4] for row in bench.audit(request_id) if row[0] == "members_hook"]
    assert results == ["retrying", "removed"]
    assert bench.erase() == []


@pytest.mark.parametrize(
    "point", ["sync.before_send", "sync.after_send", "sync.after_record", "erasure.after_removals"]
)
def test_a_crash_during_removal_is_completed_without_a_second_effect(bench, receiver, point):
    request_id = bench.forget("ann")
    with crash.installed(crash.crash_at(point)), pytest.raises(crash.SimulatedCrash):
        bench.erase()
    [outcome] = bench.erase()
    assert outcome.status == "processed"
    assert set(receiver.records) == {("members_hook", "bob")}
    assert receiver.duplicate_effects() == 0
    removals = [e for e in receiver.applied if e["type"] == "remove"]
    assert len(removals) == 1
    audit = bench.audit(request_id)
    assert [row[:5] for row in audit] == [
        (name, destination, "ann", "remove", "removed")
        for name, destination in (
            ("members_hook", "hook"),
            ("members_meta", "meta_ads"),
            ("profiles", "app_db"),
        )
    ]


def test_a_request_by_email_matches_the_customer_and_keeps_only_a_hash(bench, receiver) -> None:
    request_id = bench.forget(email="  Ann@Example.ORG ")
    [outcome] = bench.erase()
    assert outcome.customers == ["ann"] and outcome.status == "processed"
    assert set(receiver.records) == {("members_hook", "bob")}
    stored = bench.warehouse.execute(
        "select customer_id, email_sha256 from activations.deletion_requests where request_id = ?",
        [request_id],
    )
    assert stored == [(None, sha256_hex("ann@example.org"))]
    # Identity resolution gives the person a new customer id: still recognised and dropped.
    bench.warehouse.execute("delete from marts.customers where customer_id = 'ann'")
    bench.warehouse.customer("ann2", email="ann@example.org")
    bench.warehouse.members(["ann2", "bob"])
    report = bench.sync("members_hook")
    assert report.drop_reasons == {"deleted:erasure_request": 1} and report.sent == 0

    # Recorded by a DuckDB that hashed differently: the SHA-256 digest still decides.
    bench.warehouse.execute("update activations.deletion_requests set quick_canary = 1")
    bench.warehouse.customer("ann3", email="ann@example.org")
    bench.warehouse.execute("delete from marts.customers where customer_id = 'ann2'")
    bench.warehouse.members(["ann3", "bob"])
    report = bench.sync("members_hook")
    assert report.drop_reasons == {"deleted:erasure_request": 1} and report.sent == 0


def test_requests_are_imported_once_from_a_landed_relation(bench, receiver, monkeypatch) -> None:
    bench.warehouse.execute("create schema landing")
    bench.warehouse.execute(
        "create table landing.privacy_requests as select * from (values "
        "('tkt-1', 'ann', null, timestamp '2026-06-28 09:00:00'), "
        "('tkt-2', null, 'nobody@example.org', timestamp '2026-06-28 10:00:00')) "
        "as t(request_ref, customer_id, email, requested_at)"
    )
    for name, value in bench.env.items():
        monkeypatch.setenv(name, value)
    argv = [
        "syncs",
        "erase",
        "--requests-from",
        "landing.privacy_requests",
        "--warehouse",
        str(bench.warehouse.path),
        "--syncs",
        str(bench.paths.syncs),
        "--as-of",
        format_instant(SAMPLE_AS_OF),
    ]
    assert main(argv) == 0
    assert set(receiver.records) == {("members_hook", "bob")}
    assert main(argv) == 0  # the same rows are not requests again
    requests = bench.warehouse.execute(
        "select external_ref, source, status from activations.deletion_requests order by 1"
    )
    assert requests == [
        ("tkt-1", "landing.privacy_requests", "processed"),
        ("tkt-2", "landing.privacy_requests", "processed"),
    ]


def test_waymark_forget_records_and_processes(bench, receiver, monkeypatch, capsys) -> None:
    for name, value in bench.env.items():
        monkeypatch.setenv(name, value)
    common = ["--warehouse", str(bench.warehouse.path), "--syncs", str(bench.paths.syncs)]
    assert (
        main(["forget", "--customer", "ann", "--as-of", format_instant(SAMPLE_AS_OF), *common]) == 0
    )
    out = capsys.readouterr().out
    assert "erasure request del_" in out and "(ann): processed; 3 removed" in out
    assert set(receiver.records) == {("members_hook", "bob")}

    assert main(["forget", *common]) == 1
    assert "a request names a customer id, an email or a phone" in capsys.readouterr().err
    assert main(["forget", "--email", "not-an-address", *common]) == 1
    assert "email: 'not-an-address' is not an email address" in capsys.readouterr().err


def test_request_validation_names_the_field(tmp_path) -> None:
    warehouse = SampleWarehouse(tmp_path / "w.duckdb")
    with duckdb.connect(str(warehouse.path)) as con:
        ensure_tables(con)
        with pytest.raises(ErasureRequestError, match="phone: '12' does not normalise"):
            record_request(
                con,
                customer_id=None,
                phone="12",
                requested_at="2026-01-01",
                received_at="2026-01-01",
            )


def test_a_gone_sync_file_needs_a_manual_action_and_a_broken_one_is_retried(bench, pg) -> None:
    (bench.paths.syncs / "members_hook.yml").unlink()
    broken = bench.paths.syncs / "profiles.yml"
    working = broken.read_text()
    broken.write_text("name: profiles\nmode: [unclosed\n")
    request_id = bench.forget("ann")
    project = load_project(bench.paths)
    [outcome] = process_erasures(bench.warehouse.path, project, bench.options())
    assert outcome.status == "open"
    audit = {row[0]: row[4:] for row in bench.audit(request_id)}
    assert audit["members_hook"] == (
        "manual_required",
        "no sync file members_hook.yml any more: its destination may hold the record",
    )
    assert audit["profiles"] == ("failed", "profiles.yml is invalid (waymark syncs validate)")
    assert audit["members_meta"][0] == "removed"

    broken.write_text(working)
    [outcome] = process_erasures(bench.warehouse.path, load_project(bench.paths), bench.options())
    assert outcome.status == "processed" and outcome.results == {"removed": 1}
    assert pg.query("select customer_id from {schema}.profiles") == [("bob",)]
