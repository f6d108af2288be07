"""Alerts on what should have happened and did not: a failed run, a schedule that did not tick.

- `alert_on_run_failure`: every failed run of this code location (a warehouse refresh, a sync,
  a bare materialization) is logged and POSTed to the alert webhook with its job, failed steps
  and errors, and the ERROR checks that failed in it. A blocking check that fails (the
  activations' rejected share) fails its step, so it arrives here like any other failure.
- `alert_on_missed_schedules`: a running schedule whose latest tick is older than its cron
  allows (the last time it should have fired, plus a grace period) is reported once per missed
  tick. That catches a daemon that was down or stuck, a code location that failed to load and
  a schedule whose evaluation errored (failed ticks do not count as ticks). It cannot report
  while the daemon itself is down: sensors run in the daemon, so the alert comes when it is back.

Both are off by default, like every schedule and sensor here; turn them on under *Automation*.
"""

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
from dagster._core.scheduler.instigation import InstigatorStatus, InstigatorType, TickStatus

from orchestration.alert_webhook import Alert, AlertWebhook
from orchestration.as_of import AS_OF_TAG
from waymark.core.cron import latest_fire

_TICKED = [TickStatus.SUCCESS, TickStatus.SKIPPED]


@dataclass(frozen=True)
class ScheduleTicks:
    """A running schedule as the missed-tick rule sees it (times are UNIX seconds)."""

    name: str
    cron: str
    timezone: str
    running_since: float | None
    last_tick: float | None
    """Scheduled time of the latest successful or skipped tick."""


def due_tick(cron: str, timezone: str, before: float) -> datetime | None:
    """The latest time the cron fires at or before `before`, in the schedule's time zone."""
    fired = latest_fire(cron, datetime.fromtimestamp(before, UTC), timezone)
    return fired.astimezone(ZoneInfo(timezone)) if fired is not None else None


def missed_tick(schedule: ScheduleTicks, now: float, grace_seconds: float) -> datetime | None:
    """The scheduled time the schedule should have ticked at, and did not, or None."""
    due = due_tick(schedule.cron, schedule.timezone, now - grace_seconds)
    if due is None:
        return None
    if schedule.running_since is not None and due.timestamp() < schedule.running_since:
        return None  # due before the schedule was turned on
    if schedule.last_tick is not None and schedule.last_tick >= due.timestamp():
        return None
    return due


def running_schedules(
    instance: dg.DagsterInstance, repository: dg.RepositoryDefinition, location: str | None
) -> list[ScheduleTicks]:
    """The repository's schedules that are on, with their latest tick."""
    definitions = {schedule.name: schedule for schedule in repository.schedule_defs}
    states = instance.all_instigator_state(
        instigator_type=InstigatorType.SCHEDULE,
        instigator_statuses={InstigatorStatus.RUNNING, InstigatorStatus.DECLARED_IN_CODE},
    )
    found = []
    for state in states:
        selector = state.repository_selector
        schedule = definitions.get(state.instigator_name)
        if schedule is None or selector.repository_name != repository.name:
            continue
        if location is not None and selector.location_name != location:
            continue
        ticks = instance.get_ticks(
            state.instigator_origin_id, state.selector_id, limit=1, statuses=_TICKED
        )
        data = state.instigator_data
        cron = schedule.cron_schedule
        found += [
            ScheduleTicks(
                schedule.name,
                expression,
                schedule.execution_timezone or "UTC",
                getattr(data, "start_timestamp", None),
                ticks[0].timestamp if ticks else None,
            )
            for expression in ([cron] if isinstance(cron, str) else list(cron))
        ]
    return found


def missed_schedule_alert(schedule: ScheduleTicks, due: datetime, job: str | None) -> Alert:
    last = (
        datetime.fromtimestamp(schedule.last_tick, UTC).isoformat()
        if schedule.last_tick is not None
        else None
    )
    return Alert(
        kind="missed_schedule",
        subject=f"{schedule.name}@{due.isoformat()}",
        summary=(
            f"Schedule {schedule.name} ({schedule.cron} {schedule.timezone}) did not run at "
            f"{due.isoformat()}; its last tick was {last or 'never'}."
        ),
        details={
            "schedule": schedule.name,
            "cron": schedule.cron,
            "timezone": schedule.timezone,
            "job": job,
            "missed_at": due.isoformat(),
            "last_tick_at": last,
        },
    )


def error_text(error: Any, limit: int = 2000) -> str:
    """An error's message with its causes ("Error executing op x: RuntimeError: why")."""
    parts = []
    while error is not None and len(parts) < 5:
        parts.append((error.message or "").strip().rstrip(":"))
        error = error.cause
    return " | caused by: ".join(part for part in parts if part)[:limit]


def failed_checks(instance: dg.DagsterInstance, run_id: str) -> list[dict[str, str]]:
    """The checks of a run that failed with ERROR severity: asset, check and what it found."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION):
        event = entry.dagster_event
        evaluation = event.event_specific_data if event is not None else None
        if evaluation is None or evaluation.passed:
            continue
        if evaluation.severity != dg.AssetCheckSeverity.ERROR:
            continue
        found.append(
            {
                "asset": evaluation.asset_key.to_user_string(),
                "check": evaluation.check_name,
                "description": (evaluation.description or "")[:2000],
            }
        )
    return found


def run_failure_alert(context: dg.RunFailureSensorContext) -> Alert:
    run = context.dagster_run
    steps = [
        {"step": event.step_key, "error": error_text(event.event_specific_data.error)}
        for event in context.get_step_failure_events()
        if event.event_specific_data is not None and event.event_specific_data.error is not None
    ]
    message = (context.failure_event.message or "").strip()
    return Alert(
        kind="run_failure",
        subject=run.run_id,
        summary=f"Run {run.run_id[:8]} of {run.job_name} failed: {message}",
        details={
            "run_id": run.run_id,
            "job": run.job_name,
            "as_of": run.tags.get(AS_OF_TAG),
            "schedule": run.tags.get("dagster/schedule_name"),
            "sensor": run.tags.get("dagster/sensor_name"),
            "message": message,
            "failed_steps": steps,
            "failed_checks": failed_checks(context.instance, run.run_id),
        },
    )


@dg.run_failure_sensor(
    name="alert_on_run_failure",
    description="Logs every failed run and POSTs it to the alert webhook (WAYMARK_ALERT_*).",
    minimum_interval_seconds=30,
)
def alert_on_run_failure(context: dg.RunFailureSensorContext, alerts: AlertWebhook) -> None:
    alerts.deliver(run_failure_alert(context), context.log)


@dg.sensor(
    name="alert_on_missed_schedules",
    description="Alerts when a running schedule's last tick is older than its cron allows.",
    minimum_interval_seconds=60,
)
def alert_on_missed_schedules(
    context: dg.SensorEvaluationContext, alerts: AlertWebhook
) -> dg.SkipReason:
    repository = context.repository_def
    if repository is None:
        return dg.SkipReason("No repository to read schedules from.")
    origin = context.code_location_origin
    location = origin.location_name if origin is not None else None
    alerted = json.loads(context.cursor) if context.cursor else {}
    now = time.time()
    jobs = {schedule.name: schedule.job_name for schedule in repository.schedule_defs}
    missed = []
    for schedule in running_schedules(context.instance, repository, location):
        due = missed_tick(schedule, now, alerts.missed_schedule_grace_seconds)
        if due is None or due.timestamp() <= alerted.get(schedule.name, 0):
            continue
        # The cursor moves only past alerts delivered (or logged, without a webhook): a failed
        # POST raises and is tried again at the next evaluation.
        alerts.deliver(missed_schedule_alert(schedule, due, jobs.get(schedule.name)), context.log)
        alerted[schedule.name] = due.timestamp()
        context.update_cursor(json.dumps(alerted, sort_keys=True))
        missed.append(schedule.name)
    return dg.SkipReason(_describe(missed))


def _describe(missed: Iterable[str]) -> str:
    names = sorted(missed)
    return f"Alerted on missed ticks of {', '.join(names)}." if names else "Every schedule on time."


alert_sensors = [alert_on_run_failure, alert_on_missed_schedules]
__all__ = ["AlertWebhook", "alert_sensors"]
