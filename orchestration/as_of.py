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

from waymark.core.instants import format_instant, parse_instant

AS_OF_TAG = "waymark/as_of"


def parse_as_of(text: str) -> datetime:
    """A run's `waymark/as_of` tag as an instant; a bad one names the tag."""
    try:
        return parse_instant(text)
    except ValueError as error:
        raise ValueError(f"{AS_OF_TAG}: {error}") from None


def as_of_tags(instant: datetime) -> dict[str, str]:
    return {AS_OF_TAG: format_instant(instant)}


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
