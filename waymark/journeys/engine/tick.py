"""`tick(as_of)`: one evaluation of every journey over the warehouse, as of an injected time.

A tick:
1. reads each journey's event window and the instances that need looking at;
2. deploys journey versions it has not seen (what happens to an audience's current members,
   decided once per version) and enrols new entrants (entry events, audience memberships,
   schedules);
3. applies global exits, then goals;
4. advances instances round by round and decides sends together (priority, caps, quiet hours);
5. writes instances, step log, outbox, profile attributes and tags, watermarks, versions and
   a summary, in one transaction.

Steps 1-4 work in temporary tables only, so the journey tables change all at once or not at
all: a crash anywhere before the commit leaves them as they were, and the next tick redoes the
work; after the commit, running the same as_of again finds nothing new (every instance is
waiting past as_of, and every entry in the window is already recognised).

The engine calls `waymark.core.crash.point(name)` between its writes, at the points in
`CRASH_POINTS`, so tests can kill a tick anywhere and compare the state after a rerun with an
uninterrupted one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import duckdb

from waymark.core import crash
from waymark.core.instants import to_warehouse
from waymark.journeys.engine.advance import run_rounds
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.enrol import enrol
from waymark.journeys.engine.exits import apply_exits, apply_goals
from waymark.journeys.engine.load import (
    load_events,
    load_instances,
    load_journey_table,
    load_members,
    load_triggers,
    read_windows,
)
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sends import decide_sends
from waymark.journeys.engine.sql import Binder
from waymark.journeys.engine.state import Tables, ensure_state
from waymark.journeys.engine.versions import count_members, load_deployments
from waymark.journeys.engine.write import prepare_writes, write_results
from waymark.journeys.journey import Journey
from waymark.journeys.references import Project

DEFAULT_LOOKBACK = timedelta(hours=24)
"""How far behind the previous tick a window reaches, for events that land late."""

CRASH_POINTS = (
    "tick.begin",
    "tick.after_enrol",
    "tick.after_exits",
    "tick.after_goals",
    "tick.after_round",  # every advance round (engine/advance.py)
    "tick.after_sends",  # every batch of send decisions (engine/sends.py)
    "tick.before_write",  # this and the five after it: engine/write.py
    "tick.after_instances",
    "tick.after_step_log",
    "tick.after_outbox",
    "tick.after_profiles",
    "tick.after_watermarks",
    "tick.before_commit",
    "tick.after_commit",
)
"""The crash points a tick reaches, in order."""


@dataclass
class TickResult:
    as_of: datetime
    journeys: int = 0
    entered: int = 0
    advanced: int = 0
    sent: int = 0
    suppressed: Counter[str] = field(default_factory=Counter)
    """reason code -> count, delayed and dropped together."""
    delayed: int = 0
    exited: Counter[str] = field(default_factory=Counter)
    converted: int = 0
    looked_at: int = 0
    """Instances the tick loaded or created (a measure of its cost)."""
    deployed: dict[str, str] = field(default_factory=dict)
    """journey -> the version this tick deployed and what it decided about existing members."""
    statements: int = 0

    def summary(self) -> dict[str, object]:
        return {
            "as_of": self.as_of.strftime("%Y-%m-%d %H:%M:%S"),
            "entered": self.entered,
            "advanced": self.advanced,
            "sent_to_outbox": self.sent,
            "suppressed": dict(sorted(self.suppressed.items())),
            "delayed": self.delayed,
            "exited": dict(sorted(self.exited.items())),
            "converted": self.converted,
            "instances_looked_at": self.looked_at,
            "deployed": dict(sorted(self.deployed.items())),
        }


def plans_for(journeys: Sequence[Journey], project: Project) -> dict[str, JourneyPlan]:
    events = project.catalogue.events
    return {
        journey.name: JourneyPlan(journey, events, project.templates)
        for journey in sorted(journeys, key=lambda j: j.name)
    }


def tick(
    con: duckdb.DuckDBPyConnection,
    journeys: Sequence[Journey],
    project: Project,
    as_of: datetime,
    *,
    tables: Tables | None = None,
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> TickResult:
    """Evaluate every journey as of `as_of` and commit the result; see the module docstring."""
    ctx = TickContext(
        con, tables or Tables(), to_warehouse(as_of), plans_for(journeys, project), lookback
    )
    crash.point("tick.begin")
    ensure_state(con, ctx.tables)
    try:
        # Everything up to the writes happens in temporary tables, outside any transaction:
        # DuckDB 2.0 loses rows of large temporary tables created inside a transaction on a
        # file database, and nothing persistent changes before the write transaction anyway.
        result = _evaluate(ctx)
        prepare_writes(ctx)
        con.begin()
        try:
            write_results(ctx)
            _record_tick(ctx, result)
            crash.point("tick.before_commit")
        except BaseException:
            con.rollback()
            raise
        con.commit()
    finally:
        ctx.drop_scratch()
    crash.point("tick.after_commit")
    return result


def _evaluate(ctx: TickContext) -> TickResult:
    read_windows(ctx)
    ctx.create_scratch()
    load_journey_table(ctx)
    load_events(ctx)
    load_triggers(ctx)
    load_instances(ctx)
    load_deployments(ctx)
    enrol(ctx)
    count_members(ctx)
    crash.point("tick.after_enrol")
    load_members(ctx)
    apply_exits(ctx)
    crash.point("tick.after_exits")
    apply_goals(ctx)
    crash.point("tick.after_goals")
    while True:
        run_rounds(ctx)
        if not decide_sends(ctx):
            break
    return _result(ctx)


def _result(ctx: TickContext) -> TickResult:
    result = TickResult(ctx.as_of, journeys=len(ctx.plans))
    rows = ctx.run("select action, reason, disposition, count(*) from _log group by all").fetchall()
    for action, reason, disposition, count in rows:
        if action == "entered":
            result.entered += count
        elif action in ("advanced", "branched"):
            result.advanced += count
        elif action == "sent":
            result.sent += count
        elif action == "suppressed":
            result.suppressed[reason] += count
            result.delayed += count if disposition == "delayed" else 0
        elif action == "exited":
            result.exited[reason] += count
        elif action == "converted":
            result.converted += count
    result.looked_at = int(ctx.scalar("select count(*) from _work"))
    result.deployed = {
        name: deployment.describe()
        for name, deployment in ctx.deployments.items()
        if deployment.is_new
    }
    result.statements = ctx.statements
    return result


def _record_tick(ctx: TickContext, result: TickResult) -> None:
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    ctx.run(
        f"""
        insert into {ctx.tables.ticks}
        select {as_of}, coalesce(max(run), 0) + 1, {b.bind(result.journeys)},
            {b.bind(result.entered)}, {b.bind(result.advanced)}, {b.bind(result.sent)},
            {b.bind(sum(result.suppressed.values()))}, {b.bind(sum(result.exited.values()))},
            {b.bind(result.converted)}
        from {ctx.tables.ticks} where as_of = {as_of}
        """,
        b,
    )
