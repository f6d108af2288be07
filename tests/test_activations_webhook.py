"""Syncs to a real webhook receiver on loopback: modes, diffing, rejections, retries, consent."""

from __future__ import annotations

import random
from dataclasses import replace
from pathlib import Path

import pytest

from activations.delivery import RetryPolicy
from activations.dry_run import dry_run_sync
from activations.pii import sha256_hex
from activations.runner import RunOptions, run_sync
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sync_files import SyncPaths, load_project
from activations.testing import (
    SAMPLE_AS_OF,
    Failure,
    SampleWarehouse,
    WebhookReceiver,
    write_project,
)

SECRET = "whsec-test-5f1c2e"


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def project(tmp_path: Path, mode: str = "mirror", **spec: object) -> SyncPaths:
    sync = {
        "type": "audience",
        "model": "audiences.members",
        "destination": "crm_hook",
        "mode": mode,
        "key": "customer_id",
        "fields": {"email": "customer.email"},
        "purpose": "email_marketing",
        **spec,
    }
    return write_project(
        tmp_path / "project",
        {"crm_hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]}},
        {"crm_hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}}},
        {"members_hook": sync},
    )


class Runner:
    def __init__(self, paths: SyncPaths, warehouse: SampleWarehouse, receiver: WebhookReceiver):
        self.paths, self.warehouse = paths, warehouse
        self.env = {"HOOK_URL": receiver.url, "HOOK_SECRET": SECRET}
        self.sleeps: list[float] = []

    def loaded(self):
        loaded_project = load_project(self.paths)
        assert not loaded_project.issues, loaded_project.issues
        return loaded_project.valid()["members_hook"]

    def run(self, policy: RetryPolicy | None = None) -> RunReport:
        options = RunOptions(
            as_of=SAMPLE_AS_OF,
            secrets=Secrets(self.env),
            sleep=self.sleeps.append,
            rng=random.Random(7),
            policy=policy or RetryPolicy(base_delay=0.01),
        )
        return run_sync(self.warehouse.path, self.loaded(), options)

    def changelog(self) -> list[tuple]:
        return self.warehouse.execute(
            "select record_key, operation, result, error_code, error_message, attempts "
            "from activations.sync_changelog order by recorded_at, record_key"
        )


def customers(warehouse: SampleWarehouse, *ids: str) -> None:
    for customer_id in ids:
        warehouse.customer(customer_id)


def test_mirror_adds_then_removes_what_left_the_audience(tmp_path, warehouse, receiver) -> None:
    customers(warehouse, "ann", "bob", "cat", "dan")
    warehouse.members(["ann", "bob", "cat"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    first = runner.run()
    assert first.status == "success" and first.sent == 3 and first.planned_creates == 3
    assert set(receiver.records) == {("members_hook", k) for k in ("ann", "bob", "cat")}
    assert receiver.records[("members_hook", "ann")] == {"email": "ann@example.org"}
    assert receiver.bad_signatures == 0

    warehouse.members(["bob", "cat", "dan"])
    second = runner.run()
    assert (second.planned_creates, second.planned_removes, second.sent) == (1, 1, 2)
    assert set(receiver.records) == {("members_hook", k) for k in ("bob", "cat", "dan")}
    removed = [row for row in runner.changelog() if row[1] == "remove"]
    assert removed == [("ann", "remove", "sent", None, None, 1)]
    runs = warehouse.execute("select status, sent, planned_removes from activations.sync_runs")
    assert sorted(runs) == [("success", 2, 1), ("success", 3, 0)]


def test_unchanged_rows_cost_no_request(tmp_path, warehouse, receiver) -> None:
    customers(warehouse, "ann", "bob", "cat")
    warehouse.members(["ann", "bob", "cat"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    runner.run()
    before = receiver.requests
    again = runner.run()
    assert receiver.requests == before and again.requests == 0
    assert (again.unchanged, again.sent, again.status) == (3, 0, "success")

    warehouse.customer("bob", email="bob@new.example.org")
    changed = runner.run()
    assert receiver.requests == before + 1 and changed.planned_updates == 1
    assert receiver.records[("members_hook", "bob")] == {"email": "bob@new.example.org"}


def test_permanent_rejection_is_logged_then_given_up(tmp_path, warehouse, receiver) -> None:
    customers(warehouse, "ann", "bob")
    warehouse.members(["ann", "bob"])
    receiver.reject_keys["bob"] = Failure(422, "invalid_contact", "bob is on a blocklist")
    runner = Runner(project(tmp_path, give_up_after_runs=2), warehouse, receiver)

    first = runner.run()
    assert (first.status, first.sent, first.rejected) == ("partial", 1, 1)
    rejected = [row for row in runner.changelog() if row[0] == "bob"]
    assert rejected == [
        ("bob", "upsert", "rejected", "invalid_contact", "HTTP 422: bob is on a blocklist", 1)
    ]
    second = runner.run()
    assert (second.status, second.given_up) == ("failed", 1)
    requests = receiver.requests
    third = runner.run()
    assert receiver.requests == requests and third.status == "success"
    state = warehouse.execute(
        "select status, failed_runs, last_error_code from activations.sync_state "
        "where record_key = 'bob'"
    )
    assert state == [("given_up", 2, "invalid_contact")]

    # A new payload is a new attempt.
    warehouse.customer("bob", email="bob@fixed.example.org")
    del receiver.reject_keys["bob"]
    assert runner.run().sent == 1


def test_429_with_retry_after_is_waited_for_and_retried(tmp_path, warehouse, receiver) -> None:
    customers(warehouse, "ann")
    warehouse.members(["ann"])
    receiver.next_failures.append(Failure(429, "rate_limited", "slow down", retry_after="3"))
    runner = Runner(project(tmp_path), warehouse, receiver)
    report = runner.run()
    assert report.status == "success" and report.request_retries == 1
    assert runner.sleeps and runner.sleeps[0] >= 3
    assert runner.changelog() == [("ann", "upsert", "sent", None, None, 2)]


def test_transient_failure_is_retried_next_run_with_latest_values(
    tmp_path, warehouse, receiver
) -> None:
    customers(warehouse, "ann")
    warehouse.members(["ann"])
    receiver.next_failures.append(Failure(503, None, "maintenance"))
    runner = Runner(project(tmp_path), warehouse, receiver)
    first = runner.run(RetryPolicy(max_attempts=1))
    assert (first.status, first.retried) == ("failed", 1)
    assert runner.changelog()[0][2:4] == ("retry", "http_503")

    warehouse.customer("ann", email="ann@latest.example.org")
    second = runner.run()
    assert second.status == "success" and second.sent == 1
    assert receiver.records[("members_hook", "ann")] == {"email": "ann@latest.example.org"}


def test_consent_and_suppression_drops_are_logged_once(tmp_path, warehouse, receiver) -> None:
    warehouse.customer("ok")
    warehouse.customer("denied", email_marketing_consent="denied")
    warehouse.customer("unknown", email_marketing_consent="unknown")
    warehouse.customer("bounced")
    warehouse.engagement("email", "bounced@example.org", "bounced", "hard")
    warehouse.customer("complainer")
    warehouse.engagement("email", "complainer@example.org", "complained")
    warehouse.customer("unsubscribed", email_marketing_consent="revoked")
    warehouse.engagement("email", "unsubscribed@example.org", "unsubscribed")
    everyone = ["ok", "denied", "unknown", "bounced", "complainer", "unsubscribed", "stranger"]
    warehouse.members(everyone)
    runner = Runner(project(tmp_path), warehouse, receiver)

    report = runner.run()
    assert (report.status, report.sent, report.dropped) == ("success", 1, 6)
    assert set(receiver.records) == {("members_hook", "ok")}
    drops = {row[0]: row[3] for row in runner.changelog() if row[2] == "dropped"}
    assert drops == {
        "denied": "no_consent:denied",
        "unknown": "no_consent:unknown",
        "bounced": "suppressed:hard_bounced",
        "complainer": "suppressed:complained",
        "unsubscribed": "suppressed:unsubscribed",
        "stranger": "no_consent:unknown_customer",
    }
    assert runner.run().dropped == 0  # the same drops are not logged again

    warehouse.customer("denied", email_marketing_consent="granted")
    assert runner.run().sent == 1
    assert ("members_hook", "denied") in receiver.records


def test_withdrawn_consent_removes_the_member_in_mirror_mode(tmp_path, warehouse, receiver):
    customers(warehouse, "ann", "bob")
    warehouse.members(["ann", "bob"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    runner.run()
    warehouse.customer("bob", email_marketing_consent="revoked")
    report = runner.run()
    assert report.planned_removes == 1 and report.dropped == 1
    assert set(receiver.records) == {("members_hook", "ann")}
    state = warehouse.execute(
        "select status, last_error_code from activations.sync_state where record_key = 'bob'"
    )
    assert state == [("dropped", "no_consent:revoked")]
    removal = [row for row in runner.changelog() if row[:2] == ("bob", "remove")]
    assert removal == [("bob", "remove", "sent", "no_consent:revoked", None, 1)]


def test_add_only_never_updates_and_update_only_never_creates(tmp_path, warehouse, receiver):
    customers(warehouse, "ann")
    warehouse.members(["ann"])
    add_only = Runner(project(tmp_path / "a", mode="add_only"), warehouse, receiver)
    assert add_only.run().sent == 1
    warehouse.customer("ann", email="ann@changed.example.org")
    report = add_only.run()
    assert report.requests == 0 and report.unchanged == 1
    assert receiver.records[("members_hook", "ann")] == {"email": "ann@example.org"}

    receiver.records.clear()
    warehouse.execute("delete from activations.sync_state")
    update_only = Runner(project(tmp_path / "u", mode="update_only"), warehouse, receiver)
    report = update_only.run()
    assert (report.status, report.rejected) == ("failed", 1)
    assert update_only.changelog()[-1][2:5] == ("rejected", "not_found", "HTTP 404: no such record")


def test_dry_run_prints_masked_payloads_and_sends_nothing(tmp_path, warehouse, receiver):
    customers(warehouse, "ann", "bob")
    warehouse.customer("eve", email_marketing_consent="denied")
    warehouse.members(["ann", "bob", "eve"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    text = dry_run_sync(warehouse.path, runner.loaded(), SAMPLE_AS_OF, sample=5)
    assert receiver.requests == 0
    assert "creates 2, updates 0, removes 0, dropped 1" in text
    assert "dropped 1: no_consent:denied" in text
    assert '"email": "a***@***.org"' in text and '"type": "upsert"' in text
    assert "ann@example.org" not in text
    tables = warehouse.execute(
        "select count(*) from information_schema.tables where table_schema = 'activations'"
    )
    assert tables == [(0,)]


def test_a_destination_that_requires_hashing_gets_normalised_sha256(tmp_path, warehouse, receiver):
    warehouse.customer("ann", email="  Ann.Lee@Example.ORG ")
    warehouse.members(["ann"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    loaded = runner.loaded()
    connector = loaded.destination.connector
    hashing = replace(connector.capabilities, hashing="meta")
    loaded.destination = replace(
        loaded.destination, connector=replace(connector, capabilities=hashing)
    )
    runner.loaded = lambda: loaded
    assert runner.run().status == "success"
    assert receiver.records[("members_hook", "ann")] == {"email": sha256_hex("ann.lee@example.org")}
    text = dry_run_sync(warehouse.path, loaded, SAMPLE_AS_OF)
    assert "Ann.Lee" not in text and "ann.lee" not in text


def test_quick_hashes_skip_unchanged_rows_and_never_hide_a_change(tmp_path, warehouse, receiver):
    customers(warehouse, "ann", "bob")
    warehouse.members(["ann", "bob"])
    runner = Runner(project(tmp_path), warehouse, receiver)
    runner.run()

    def quick() -> dict:
        return dict(warehouse.execute("select record_key, quick_hash from activations.sync_state"))

    remembered = quick()
    assert all(remembered.values())  # remembered for what the destination holds

    warehouse.customer("bob", email="bob@second.example.org")
    assert runner.run().planned_updates == 1
    assert quick()["ann"] == remembered["ann"] and quick()["bob"] != remembered["bob"]
    warehouse.customer("bob")  # back to the first payload: still a change
    assert runner.run().planned_updates == 1
    assert receiver.records[("members_hook", "bob")] == {"email": "bob@example.org"}

    # Hashes DuckDB no longer computes the same way: rows fall back to MD5, nothing is resent,
    # and the quick hashes are remembered again.
    warehouse.execute("update activations.sync_state set quick_hash = 42")
    requests = receiver.requests
    again = runner.run()
    assert (again.unchanged, again.requests, receiver.requests) == (2, 0, requests)
    assert quick() == remembered
