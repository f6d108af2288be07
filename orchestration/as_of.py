"""The instant a run evaluates every time rule at (`as_of`), carried by one run tag.

A run's `as_of` is its `waymark/as_of` tag: schedules set it to the tick's scheduled time, anyone
launching a run may set it (Launchpad tags, `dagster job launch --tags`), and a run without one is
evaluated as of the moment its first asset asked. That moment is written back to the run's tags,
so every asset in the run (dbt now, journeys later) sees the same instant, the run page shows it,
and a re-execution, which copies the tags, replays the same instant.
"""

from __future__ import annotations

from datetime import UTC, datetime

import dagster as dg

AS_OF_TAG = "waymark/as_of"


def parse_as_of(text: str) -> datetime:
    """An ISO 8601 instant (`2026-06-30 00:00:00`, `2026-06-30T02:15:00+02:00`, `...Z`) in UTC.

    Text without an offset is UTC, as everywhere in Waymark.
    """
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError as error:
        raise ValueError(
            f"{AS_OF_TAG} must be an ISO 8601 date or time such as '2026-06-30 00:00:00', "
            f"got {text!r}"
        ) from error
    if parsed.tzinfo is None:
        return parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def format_as_of(instant: datetime) -> str:
    """The form the dbt project casts to a timestamp: UTC, whole seconds, no offset."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC)
    return instant.strftime("%Y-%m-%d %H:%M:%S")


def as_of_tags(instant: datetime) -> dict[str, str]:
    return {AS_OF_TAG: format_as_of(instant)}


def run_as_of(context: dg.AssetExecutionContext, now: datetime | None = None) -> datetime:
    """This run's `as_of`: its tag, or now (recorded on the run so later assets agree)."""
    # Read the stored run, not `context.run`: an earlier asset of this run may have added the tag
    # after the run (and its cached tags) started.
    run_id = context.run.run_id
    run = context.instance.get_run_by_id(run_id) or context.run
    if AS_OF_TAG in run.tags:
        return parse_as_of(run.tags[AS_OF_TAG])
    instant = (now or datetime.now(UTC)).replace(microsecond=0)
    context.instance.add_run_tags(run_id, as_of_tags(instant))
    return instant
