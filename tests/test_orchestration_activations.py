"""Activations in Dagster: an asset per sync file, journey sends, rejected-share checks and sync
schedules, materialized against a real webhook receiver on loopback and a small DuckDB file."""

from __future__ import annotations

import importlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import pytest
import yaml
from orchestration_support import (
    HOOK_SECRET,
    SENDS,
    SYNC,
    Location,
    checks,
    metadata,
    project,
    sample_warehouse,
)

from activations.sync_files import SyncPaths, load_project, sync_files
from activations.testing import SAMPLE_AS_OF, Failure, SampleWarehouse, WebhookReceiver
from orchestration.as_of import AS_OF_TAG
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import load_manifest, prepare_manifest

SECRET = HOOK_SECRET
REJECTED, CONFIGURED = "rejected_share_within_threshold", "destination_configured"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_manifest(prepare_manifest())


@pytest.fixture(scope="module")
def defs(manifest: dict[str, Any]) -> dg.Definitions:
    return importlib.import_module("orchestration.definitions").defs


@pytest.fixture
def receiver():
    server = WebhookReceiver(SECRET)
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return sample_warehouse(tmp_path / "warehouse.duckdb")


def test_every_committed_sync_file_is_an_asset_downstream_of_its_model(
    defs: dg.Definitions,
) -> None:
    from orchestration.warehouse import WAREHOUSE_POOL

    graph = defs.resolve_asset_graph()
    refresh = set(defs.resolve_job_def("warehouse_refresh").asset_layer.executable_asset_keys)
    files = sync_files(SyncPaths.default().syncs)
    assert len(files) >= 5
    for path in files:
        spec = yaml.safe_load(path.read_text())
        key = dg.AssetKey(["syncs", path.stem])
        node = graph.get(key)
        assert node.group_name == "activations"
        assert node.parent_keys == {dg.AssetKey(spec["model"].split("."))}
        assert node.pools == {WAREHOUSE_POOL}
        assert key in refresh
        assert {check.name for check in graph.asset_check_keys if check.asset_key == key} == {
            REJECTED,
            CONFIGURED,
        }
        schedule = defs.resolve_schedule_def(f"sync_{path.stem}_schedule")
        assert schedule.cron_schedule == spec["schedule"]
        assert schedule.default_status == dg.DefaultScheduleStatus.STOPPED
        job = defs.resolve_job_def(schedule.job_name)
        assert set(job.asset_layer.executable_asset_keys) == {key}
    sends = graph.get(SENDS)
    assert dg.AssetKey("journey_tick") in sends.parent_keys
    assert SENDS in refresh


def test_a_sync_schedule_runs_as_of_its_tick(defs: dg.Definitions) -> None:
    schedule = defs.resolve_schedule_def("sync_high_value_at_risk_to_support_schedule")
    tick = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        (request,) = list(schedule.evaluate_tick(context).run_requests or [])
    assert request.tags[AS_OF_TAG] == "2026-07-01 08:00:00"


def test_a_sync_asset_sends_only_changes_and_reports_its_counts(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    location = Location(project(tmp_path), manifest, warehouse)

    first = location.materialize(SYNC)
    assert first.success
    figures = metadata(first)
    assert {name: figures[name] for name in ("status", "planned_creates", "sent", "dropped")} == {
        "status": "success",
        "planned_creates": 3,
        "sent": 3,
        "dropped": 1,
    }
    assert figures["as_of"] == format_instant(SAMPLE_AS_OF) and figures["rejected_share"] == 0.0
    assert checks(first)[REJECTED].passed and checks(first)[CONFIGURED].passed
    assert sorted(key for _, key in receiver.records) == ["ann", "bob", "cat"]

    requests = receiver.requests
    second = location.materialize(SYNC)
    figures = metadata(second)
    # The consent drop is logged once; afterwards the key costs nothing, like any unchanged one.
    assert (figures["status"], figures["unchanged"], figures["sent"]) == ("success", 4, 0)
    assert figures["requests"] == 0 and receiver.requests == requests
    # The URL is a secret (it may embed a token): it appears in no metadata.
    assert receiver.url not in json.dumps({**figures, **metadata(first)}, default=str)


def test_rejections_over_the_threshold_fail_the_check_and_the_step(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    receiver.reject_keys["bob"] = Failure(422, "invalid_email", "bob@example.org bounces")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SYNC)

    # A partial run materializes; its check fails, and being blocking fails the step (and so
    # the run, which is what alerts).
    assert not result.success
    figures = metadata(result)
    assert (figures["status"], figures["sent"], figures["rejected"]) == ("partial", 2, 1)
    reasons = figures["top_rejection_reasons"]
    assert "`invalid_email` ×1: HTTP 422: b***@***.org bounces" in reasons  # masked
    assert "bob@example.org" not in reasons
    evaluation = checks(result)[REJECTED]
    assert not evaluation.passed
    assert evaluation.severity == dg.AssetCheckSeverity.ERROR
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert "blocking asset check failed" in failure.step_failure_data.error.message
    assert "1 of 3 attempted operations refused (33.3%; threshold 5.0%)" in evaluation.description


def test_a_sync_file_threshold_overrides_the_default(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    receiver.reject_keys["bob"] = Failure(422, "invalid_email", "bounces")
    paths = project(tmp_path, max_rejected_share=0.5)
    evaluation = checks(Location(paths, manifest, warehouse).materialize(SYNC))[REJECTED]
    assert evaluation.passed
    assert evaluation.metadata["threshold"].value == 0.5


def test_a_run_that_delivers_nothing_fails_the_step(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    for key in ("ann", "bob", "cat"):
        receiver.reject_keys[key] = Failure(400, "bad_request", "refused")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SYNC)

    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    assert "failed: 0 sent, 3 rejected" in failure.step_failure_data.user_failure_data.description
    assert warehouse.execute("select status, rejected from activations.sync_runs") == [
        ("failed", 3)
    ]


def test_an_invalid_sync_file_gets_an_asset_that_fails_with_located_problems(
    tmp_path: Path, manifest, warehouse
) -> None:
    paths = project(tmp_path, mode="sometimes")
    location = Location(paths, manifest, warehouse)
    result = location.materialize(SYNC)
    assert not result.success
    (failure,) = [event for event in result.all_events if event.is_step_failure]
    description = failure.step_failure_data.user_failure_data.description
    assert "at_risk_to_support.yml:" in description and "mode:" in description


def test_journey_sends_say_so_when_there_is_no_outbox(tmp_path: Path, manifest, warehouse) -> None:
    warehouse.execute("drop table journeys.journey_outbox")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SENDS)
    assert result.success
    figures = metadata(result)
    assert figures["status"] == "no outbox"
    assert "journeys.journey_outbox does not exist yet" in figures["reason"]
    assert set(checks(result)) == {CONFIGURED}  # no send run, so no rejected share to judge
    assert checks(result)[CONFIGURED].passed


def test_journey_sends_deliver_the_outbox_per_destination(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    warehouse.outbox("welcome:i1:s1", "ann", "support_hook", channel="webhook")
    warehouse.outbox("welcome:i2:s1", "bob", "support_hook", channel="webhook")
    warehouse.outbox("welcome:i4:s1", "dan", "support_hook", channel="webhook")  # no consent
    warehouse.outbox("welcome:i3:s1", "cat", "unconfigured_hook", channel="webhook")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SENDS)

    assert result.success
    figures = metadata(result)
    assert (figures["sent"], figures["dropped"], figures["waiting"]) == (2, 1, 4)
    assert figures["status"] == "success (some destinations skipped)"
    rows = {record.data["destination"]: record.data for record in figures["destinations"].records}
    assert rows["support_hook"]["status"] == "success" and rows["support_hook"]["sent"] == 2
    assert rows["unconfigured_hook"]["status"] == "skipped"
    assert "OTHER_HOOK_SECRET, OTHER_HOOK_URL (not set)" in rows["unconfigured_hook"]["note"]
    assert checks(result)[REJECTED].passed
    configured = checks(result)[CONFIGURED]
    assert not configured.passed and configured.severity == dg.AssetCheckSeverity.WARN
    assert "unconfigured_hook: needs OTHER_HOOK_SECRET, OTHER_HOOK_URL" in configured.description
    states = dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))
    assert states == {
        "welcome:i1:s1": "sent",
        "welcome:i2:s1": "sent",
        "welcome:i4:s1": "dropped",
        "welcome:i3:s1": "pending",
    }
    assert sorted(event["id"] for event in receiver.applied) == ["welcome:i1:s1", "welcome:i2:s1"]


def test_journey_send_rejections_fail_the_check(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    warehouse.outbox("welcome:i1:s1", "ann", "support_hook", channel="webhook")
    warehouse.outbox("welcome:i2:s1", "bob", "support_hook", channel="webhook")
    receiver.reject_keys["welcome:i2:s1"] = Failure(422, "template_unknown", "no such template")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SENDS)
    assert not result.success  # the blocking check failed the step
    evaluation = checks(result)[REJECTED]
    assert not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR
    assert evaluation.description.startswith("support_hook: Too many rejections: 1 of 2")
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        reasons = con.execute(
            "select error_code from activations.sync_changelog where result = 'rejected'"
        ).fetchall()
    assert reasons == [("template_unknown",)]


def test_the_erasure_asset_removes_the_customer_and_audits_it(
    tmp_path: Path, manifest, warehouse, receiver, monkeypatch
) -> None:
    """A request recorded between refreshes is processed by the next one: the member the
    mirror sync delivered is removed at the receiver and the removal is audited."""
    from activations.erasure import record_request
    from orchestration.erasure import erasure_definitions

    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    paths = project(tmp_path)
    location = Location(paths, manifest, warehouse)
    assert location.materialize(SYNC).success
    assert ("at_risk_to_support", "bob") in receiver.records

    when = datetime(2026, 6, 29, 12, 0)
    with duckdb.connect(str(warehouse.path)) as con:
        record_request(con, customer_id="bob", requested_at=when, received_at=when)
    (asset,) = erasure_definitions(load_project(paths), manifest).assets
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [asset],
            resources=location.resources,
            instance=instance,
            tags={AS_OF_TAG: format_instant(SAMPLE_AS_OF)},
        )
    figures = metadata(result)
    assert (figures["status"], figures["requests"], figures["still_open"]) == ("processed", 1, 0)
    assert figures["actions"] == {"removed": 1}
    assert ("at_risk_to_support", "bob") not in receiver.records
    audit = warehouse.execute(
        "select sync_name, record_key, result from activations.deletion_audit"
    )
    assert audit == [("at_risk_to_support", "bob", "removed")]

    # Nothing open: the next refresh has nothing to do.
    with dg.instance_for_test() as instance:
        again = dg.materialize(
            [asset],
            resources=location.resources,
            instance=instance,
            tags={AS_OF_TAG: format_instant(SAMPLE_AS_OF)},
        )
    assert metadata(again)["requests"] == 0


def test_the_sync_asset_page_shows_the_destination_audience(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    writes = {
        name: graph.get(dg.AssetKey(["syncs", name])).metadata["writes"]
        for name in ("high_value_at_risk_to_meta", "vip_lookalike_seed_to_google_ads")
    }
    assert writes == {
        "high_value_at_risk_to_meta": "Custom Audience 23850000000000001 "
        "(waymark_winback_high_value)",
        "vip_lookalike_seed_to_google_ads": "Customer Match list "
        "customers/1234567890/userLists/7001",
    }
