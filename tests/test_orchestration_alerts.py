"""Alerts on failed runs and missed schedule ticks, POSTed to a real HTTP server on loopback."""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external import RemoteSchedule
from dagster._core.scheduler.instigation import (
    ScheduleInstigatorData,
    TickData,
    TickStatus,
)
from dagster._core.test_utils import in_process_test_workspace
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from orchestration_support import ALERT_SECRET as SECRET
from orchestration_support import ALERT_TOKEN as TOKEN
from orchestration_support import AlertReceiver, verified

from orchestration.alert_webhook import Alert, AlertDeliveryError, AlertWebhook
from orchestration.alerts import (
    ScheduleTicks,
    alert_on_missed_schedules,
    alert_on_run_failure,
    missed_tick,
)


class Log:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def __getattr__(self, level: str):
        return lambda message: self.lines.append(f"{level}: {message}")


@pytest.fixture
def receiver() -> Iterator[AlertReceiver]:
    server = AlertReceiver()
    yield server
    server.close()


@pytest.fixture
def configured(receiver: AlertReceiver, monkeypatch: pytest.MonkeyPatch) -> AlertWebhook:
    monkeypatch.setenv("WAYMARK_ALERT_WEBHOOK_URL", receiver.url)
    monkeypatch.setenv("WAYMARK_ALERT_WEBHOOK_SECRET", SECRET)
    return AlertWebhook()


ALERT = Alert("run_failure", "run-1", "Run run-1 of warehouse_refresh failed", {"job": "x"})


def test_an_alert_is_signed_and_its_secrets_never_logged(receiver, configured) -> None:
    log = Log()
    assert configured.deliver(ALERT, log)
    ((headers, body),) = receiver.received
    assert verified(headers, body)
    assert headers["content-type"] == "application/json"
    document = json.loads(body)
    assert document["id"] == headers["webhook-id"] == ALERT.alert_id
    assert (document["type"], document["summary"], document["details"]) == (
        "run_failure",
        ALERT.summary,
        {"job": "x"},
    )
    assert any(ALERT.summary in line for line in log.lines)
    assert not any(SECRET in line or TOKEN in line for line in log.lines)
    # The same alert delivered again carries the same id, for the receiver to de-duplicate.
    configured.deliver(ALERT, log)
    assert receiver.received[1][0]["webhook-id"] == ALERT.alert_id


def test_a_refusing_webhook_is_retried_then_reported_without_secrets(receiver, configured) -> None:
    receiver.statuses = [503, 503, 503]
    sleeps: list[float] = []
    with pytest.raises(AlertDeliveryError) as raised:
        configured.deliver(ALERT, Log(), sleep=sleeps.append)
    assert len(receiver.received) == 3 and sleeps == [2.0, 4.0]
    assert "HTTP 503" in str(raised.value) and "WAYMARK_ALERT_WEBHOOK_URL" in str(raised.value)
    assert TOKEN not in str(raised.value) and SECRET not in str(raised.value)

    receiver.statuses = [500]
    assert configured.deliver(ALERT, Log(), sleep=sleeps.append)  # second attempt accepted


def test_without_a_webhook_alerts_are_only_logged(monkeypatch) -> None:
    monkeypatch.delenv("WAYMARK_ALERT_WEBHOOK_URL", raising=False)
    log = Log()
    assert AlertWebhook().deliver(ALERT, log) is False
    assert any("WAYMARK_ALERT_WEBHOOK_URL is not set" in line for line in log.lines)


@dg.op
def load_orders() -> None:
    raise RuntimeError("orders file is truncated")


@dg.job
def nightly_load() -> None:
    load_orders()


def test_a_failed_run_is_posted_with_its_failed_steps(receiver, configured) -> None:
    defs = dg.Definitions(
        jobs=[nightly_load], sensors=[alert_on_run_failure], resources={"alerts": configured}
    )
    repository = defs.get_repository_def()
    with dg.instance_for_test() as instance:
        context = dg.build_sensor_context(
            instance=instance, repository_def=repository, resources={"alerts": configured}
        )
        alert_on_run_failure.evaluate_tick(context)  # the first tick starts after existing runs
        result = nightly_load.execute_in_process(
            instance=instance, raise_on_error=False, tags={"waymark/as_of": "2026-06-30 00:00:00"}
        )
        assert not result.success
        context = dg.build_sensor_context(
            instance=instance,
            repository_def=repository,
            resources={"alerts": configured},
            cursor=context.cursor,
        )
        alert_on_run_failure.evaluate_tick(context)

    (alert,) = receiver.alerts()
    assert alert["type"] == "run_failure"
    details = alert["details"]
    assert (details["run_id"], details["job"], details["as_of"]) == (
        result.run_id,
        "nightly_load",
        "2026-06-30 00:00:00",
    )
    (step,) = details["failed_steps"]
    assert step["step"] == "load_orders" and "orders file is truncated" in step["error"]
    assert verified(*receiver.received[0])


def test_the_missed_tick_rule() -> None:
    day = datetime(2026, 7, 1, tzinfo=UTC)
    nightly = ScheduleTicks(
        "nightly", "0 3 * * *", "UTC", (day - timedelta(days=3)).timestamp(), None
    )

    def at(hour: int, minute: int = 0, days: int = 0) -> float:
        return (day + timedelta(days=days, hours=hour, minutes=minute)).timestamp()

    def tick(last: float | None) -> ScheduleTicks:
        return ScheduleTicks(nightly.name, nightly.cron, "UTC", nightly.running_since, last)

    assert missed_tick(tick(at(3)), at(9), 600) is None
    assert missed_tick(tick(at(3, days=-1)), at(9), 600) == day + timedelta(hours=3)
    assert missed_tick(tick(None), at(9), 600) == day + timedelta(hours=3)
    # Within the grace period a tick is late, not missed.
    assert missed_tick(tick(at(3, days=-1)), at(3, 5), 600) is None
    # A schedule turned on after its last due time has missed nothing yet.
    started = ScheduleTicks("nightly", "0 3 * * *", "UTC", at(8), None)
    assert missed_tick(started, at(9), 600) is None
    weekdays = ScheduleTicks("weekday", "0 8 * * mon-fri", "UTC", at(0, days=-10), at(8, days=-3))
    # 2026-07-04 is a Saturday: the last due tick was Friday's.
    assert missed_tick(weekdays, at(12, days=3), 600) == day + timedelta(days=2, hours=8)


CODE_LOCATION = """
import dagster as dg

from orchestration.alerts import AlertWebhook, alert_sensors


@dg.op
def export() -> None: ...


@dg.job
def partner_export() -> None:
    export()


defs = dg.Definitions(
    jobs=[partner_export],
    schedules=[
        dg.ScheduleDefinition(
            name="partner_export_daily", job=partner_export, cron_schedule="{cron}",
            execution_timezone="UTC",
        )
    ],
    sensors=alert_sensors,
    resources={{"alerts": AlertWebhook()}},
)
"""


def test_a_schedule_that_did_not_tick_is_alerted_once(tmp_path: Path, receiver, configured) -> None:
    # Due two hours ago every day: yesterday's tick is the last one, so today's was missed.
    due = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(hours=2)
    source = tmp_path / "location.py"
    source.write_text(CODE_LOCATION.format(cron=f"0 {due.hour} * * *"))
    spec = importlib.util.spec_from_file_location("alert_test_location", source)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    repository = module.defs.get_repository_def()

    with dg.instance_for_test() as instance:
        origin = LoadableTargetOrigin(python_file=str(source), attribute="defs")
        with in_process_test_workspace(instance, origin) as workspace:
            (entry,) = workspace.get_code_location_entries().values()
            (remote_repository,) = entry.code_location.get_repositories().values()
            schedule: RemoteSchedule = remote_repository.get_schedule("partner_export_daily")
            # Turned on three days ago (what the UI's toggle records), ticked until yesterday.
            state = instance.start_schedule(schedule)
            since = (due - timedelta(days=3)).timestamp()
            instance.update_instigator_state(
                state.with_data(ScheduleInstigatorData(schedule.cron_schedule, since))
            )
            for days in (3, 2, 1):
                instance.create_tick(
                    TickData(
                        instigator_origin_id=schedule.get_remote_origin_id(),
                        instigator_name=schedule.name,
                        instigator_type=state.instigator_type,
                        status=TickStatus.SUCCESS,
                        timestamp=(due - timedelta(days=days)).timestamp(),
                        selector_id=schedule.selector_id,
                        run_ids=[f"run-{days}"],
                    )
                )

            def evaluate(cursor: str | None) -> dg.SensorEvaluationContext:
                context = dg.build_sensor_context(
                    instance=instance,
                    repository_def=repository,
                    resources={"alerts": configured},
                    cursor=cursor,
                )
                alert_on_missed_schedules.evaluate_tick(context)
                return context

            first = evaluate(None)
            (alert,) = receiver.alerts()
            assert alert["type"] == "missed_schedule"
            assert alert["details"]["schedule"] == "partner_export_daily"
            assert alert["details"]["job"] == "partner_export"
            assert alert["details"]["missed_at"] == due.isoformat()
            assert alert["details"]["last_tick_at"] == (due - timedelta(days=1)).isoformat()
            evaluate(first.cursor)
            assert len(receiver.received) == 1  # once per missed tick

            instance.create_tick(
                TickData(
                    instigator_origin_id=schedule.get_remote_origin_id(),
                    instigator_name=schedule.name,
                    instigator_type=state.instigator_type,
                    status=TickStatus.SKIPPED,
                    timestamp=due.timestamp(),
                    selector_id=schedule.selector_id,
                    skip_reason="a warehouse run was already queued",
                )
            )
            evaluate(None)  # on time again (a skipped tick still ran): nothing to report
            assert len(receiver.received) == 1


def test_alert_logs_reach_the_python_logger(receiver, configured, caplog) -> None:
    logger = logging.getLogger("waymark.test.alerts")
    with caplog.at_level(logging.INFO, logger=logger.name):
        configured.deliver(ALERT, logger)
    assert "[waymark alert] Run run-1 of warehouse_refresh failed" in caplog.text
    assert TOKEN not in caplog.text and SECRET not in caplog.text
