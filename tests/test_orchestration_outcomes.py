"""Dagster shows activation outcomes as they are, through real runs: a sync or send that did not
run is not a materialization, a check judges only the run of its own materialization, and a
failed rejected-share check alerts like a failed run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from orchestration_support import (
    ALERT_SECRET,
    HOOK_SECRET,
    SENDS,
    SYNC,
    AlertReceiver,
    Location,
    checks,
    metadata,
    project,
    sample_warehouse,
    verified,
)

from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.testing import SAMPLE_AS_OF, Failure, SampleWarehouse, WebhookReceiver
from orchestration.alert_webhook import AlertWebhook
from orchestration.alerts import alert_on_run_failure
from waymark.warehouse.manifest import load_manifest, prepare_manifest

REJECTED, CONFIGURED = "rejected_share_within_threshold", "destination_configured"


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    return load_manifest(prepare_manifest())


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    server = WebhookReceiver(HOOK_SECRET)
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return sample_warehouse(tmp_path / "warehouse.duckdb")


@pytest.fixture
def configured(receiver: WebhookReceiver, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_URL", receiver.url)
    monkeypatch.setenv("HOOK_SECRET", HOOK_SECRET)


def test_a_sync_with_unset_credentials_is_not_a_green_materialization(
    tmp_path: Path, manifest, warehouse, receiver, configured, monkeypatch
) -> None:
    """An earlier clean run exists (from a shell); the Dagster run here has no HOOK_URL. It must
    neither materialize the asset nor pass a check on that earlier run."""
    paths = project(tmp_path)
    location = Location(paths, manifest, warehouse)
    (loaded,) = location.loaded.syncs
    earlier = run_sync(warehouse.path, loaded, RunOptions(as_of=SAMPLE_AS_OF, secrets=Secrets()))
    assert (earlier.status, earlier.sent) == ("success", 3)
    monkeypatch.delenv("HOOK_URL")

    with dg.instance_for_test() as instance:
        result = location.materialize(SYNC, instance)
        assert result.get_asset_materialization_events() == []
        assert instance.get_latest_materialization_event(SYNC) is None
    evaluations = checks(result)
    assert set(evaluations) == {CONFIGURED}  # nothing ran, so no rejected share is judged
    configured_check = evaluations[CONFIGURED]
    assert not configured_check.passed
    assert configured_check.severity == dg.AssetCheckSeverity.WARN
    assert configured_check.description == "support_hook: needs HOOK_URL (not set)"
    # The sync was not run: no second run row, nothing in flight.
    assert warehouse.execute("select count(*) from activations.sync_runs") == [(1,)]


def test_journey_sends_with_no_configured_destination_are_not_materialized(
    tmp_path: Path, manifest, warehouse
) -> None:
    warehouse.outbox("welcome:i3:s1", "cat", "unconfigured_hook", channel="webhook")
    result = Location(project(tmp_path), manifest, warehouse).materialize(SENDS)

    assert result.get_asset_materialization_events() == []
    evaluations = checks(result)
    assert set(evaluations) == {CONFIGURED}
    assert not evaluations[CONFIGURED].passed
    assert evaluations[CONFIGURED].severity == dg.AssetCheckSeverity.WARN
    assert evaluations[CONFIGURED].description.startswith(
        "unconfigured_hook: needs OTHER_HOOK_SECRET, OTHER_HOOK_URL (not set)"
    )
    assert warehouse.execute("select state from journeys.journey_outbox") == [("pending",)]


def test_a_rejected_share_check_judges_only_the_run_of_its_own_materialization(
    tmp_path: Path, manifest, warehouse, receiver, configured, monkeypatch
) -> None:
    """Two runs of one sync interleave: the Dagster run's sync refuses bob, and before its check
    is evaluated another context (a `waymark sync` from a shell) runs the same sync cleanly."""
    location = Location(project(tmp_path), manifest, warehouse)
    (loaded,) = location.loaded.syncs
    receiver.reject_keys["bob"] = Failure(422, "invalid_email", "bob bounces")
    other_runs = []

    def run_then_another_context_runs(*args: Any, **kwargs: Any):
        report = run_sync(*args, **kwargs)
        receiver.reject_keys.clear()
        other = run_sync(warehouse.path, loaded, RunOptions(as_of=SAMPLE_AS_OF, secrets=Secrets()))
        other_runs.append(other)
        return report

    # Imported once the manifest exists: the code location reads it at import.
    from orchestration import activations as sync_assets

    monkeypatch.setattr(sync_assets, "run_sync", run_then_another_context_runs)
    result = location.materialize(SYNC)

    (other,) = other_runs
    assert (other.status, other.sent, other.rejected) == ("success", 1, 0)  # bob, cleanly
    own = metadata(result)
    assert (own["status"], own["rejected"]) == ("partial", 1)
    evaluation = checks(result)[REJECTED]
    assert evaluation.metadata["run_id"].value == own["run_id"] != other.run_id
    assert not evaluation.passed
    assert "1 of 3 attempted operations refused" in evaluation.description


def test_a_failed_rejected_share_check_alerts_like_a_failed_run(
    tmp_path: Path, manifest, warehouse, receiver, configured, monkeypatch
) -> None:
    alerts = AlertReceiver()
    try:
        monkeypatch.setenv("WAYMARK_ALERT_WEBHOOK_URL", alerts.url)
        monkeypatch.setenv("WAYMARK_ALERT_WEBHOOK_SECRET", ALERT_SECRET)
        webhook = AlertWebhook()
        location = Location(project(tmp_path), manifest, warehouse)
        repository = dg.Definitions(
            assets=location.defs.assets,
            sensors=[alert_on_run_failure],
            resources={**location.resources, "alerts": webhook},
        ).get_repository_def()
        receiver.reject_keys["bob"] = Failure(422, "invalid_email", "bob bounces")
        with dg.instance_for_test() as instance:
            context = dg.build_sensor_context(
                instance=instance, repository_def=repository, resources={"alerts": webhook}
            )
            alert_on_run_failure.evaluate_tick(context)  # starts after the runs so far
            result = location.materialize(SYNC, instance)
            assert not result.success and metadata(result)["status"] == "partial"
            context = dg.build_sensor_context(
                instance=instance,
                repository_def=repository,
                resources={"alerts": webhook},
                cursor=context.cursor,
            )
            alert_on_run_failure.evaluate_tick(context)

        (alert,) = alerts.alerts()
        assert verified(*alerts.received[0])
        assert alert["type"] == "run_failure"
        details = alert["details"]
        assert details["run_id"] == result.run_id
        (step,) = details["failed_steps"]
        assert "blocking asset check failed" in step["error"]
        (failed,) = details["failed_checks"]
        assert (failed["asset"], failed["check"]) == ("syncs/at_risk_to_support", REJECTED)
        assert "1 of 3 attempted operations refused" in failed["description"]
    finally:
        alerts.close()
