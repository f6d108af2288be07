"""Replaying history through one journey without sending anything.

The warehouse is attached read-only to an in-memory DuckDB; the engine keeps its state in a
scratch schema there, ticks from `start` to `end` at a fixed interval exactly as production
would, and the would-be outbox is read back instead of delivered. Nothing in the warehouse is
written, so a simulation can run beside production (when no run holds the file for writing).

Limits, because the warehouse holds one build: events and audience memberships are replayed by
their timestamps, but profile traits (branch conditions, consent, time zones, profile-timestamp
waits) are the warehouse's current values; frequency caps and priority see only the simulated
journey's own sends.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from waymark.core.instants import to_warehouse
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import EngineError
from waymark.journeys.engine.state import Tables
from waymark.journeys.engine.tick import DEFAULT_LOOKBACK, tick
from waymark.journeys.journey import Journey, ScheduleEntry
from waymark.journeys.references import Project

SCRATCH = Tables(
    customers="warehouse.marts.customers",
    events="warehouse.marts.customer_events",
    memberships="warehouse.marts.audience_memberships",
    state="simulation",
)


@dataclass
class StepCounts:
    step_id: str
    kind: str
    arrived: int = 0
    waiting: int = 0
    branched: Counter[str] = field(default_factory=Counter)
    suppressed: Counter[str] = field(default_factory=Counter)
    would_send: int = 0
    exited: Counter[str] = field(default_factory=Counter)


@dataclass
class Simulation:
    journey: str
    start: datetime
    end: datetime
    every: timedelta
    ticks: int = 0
    """Ticks that ran; ticks with nothing to do are skipped (see `_next_tick`)."""
    entered: int = 0
    converted: int = 0
    steps: list[StepCounts] = field(default_factory=list)
    exits: Counter[str] = field(default_factory=Counter)
    would_send: list[dict] = field(default_factory=list)

    @property
    def sends(self) -> int:
        return len(self.would_send)


def simulate(
    warehouse: Path,
    journey: Journey,
    project: Project,
    start: datetime,
    end: datetime,
    *,
    every: timedelta = timedelta(hours=1),
    lookback: timedelta = DEFAULT_LOOKBACK,
) -> Simulation:
    start, end = to_warehouse(start), to_warehouse(end)
    if end < start:
        raise EngineError(f"--to {end} is before --from {start}")
    if every <= timedelta(0):
        raise EngineError("the tick interval must be longer than zero")
    if not Path(warehouse).is_file():
        raise EngineError(f"no warehouse at {warehouse}; build one with `waymark demo`")
    result = Simulation(journey.name, start, end, every)
    with duckdb.connect(":memory:") as con:
        try:
            con.execute(f"attach '{_quoted(warehouse)}' as warehouse (read_only)")
        except duckdb.Error as error:
            raise EngineError(f"cannot read {warehouse}: {error}") from error
        moment = start
        while moment <= end:
            tick(con, [journey], project, moment, tables=SCRATCH, lookback=lookback)
            result.ticks += 1
            moment = _next_tick(con, journey, project, moment, start, every)
        _count(con, journey, result)
    return result


def _next_tick(
    con: duckdb.DuckDBPyConnection,
    journey: Journey,
    project: Project,
    moment: datetime,
    start: datetime,
    every: timedelta,
) -> datetime:
    """The next tick on the grid `start + k * every` that has anything to do.

    A tick with no instance due, and no event or membership change the journey reads since the
    previous tick, changes nothing; skipping it gives the same result as running it, faster.
    Schedule entries fire on their own clock, so those journeys run every tick."""
    following = moment + every
    if isinstance(journey.entry, ScheduleEntry):
        return following
    plan = JourneyPlan(journey, project.catalogue.events, project.templates)
    matches = [plan.events[name].match for name in sorted(plan.event_names())]
    audiences = sorted(
        {a for a in (plan.entry_audience, *plan.exit_audiences) if a} | plan.condition_audiences()
    )
    t = SCRATCH
    activity = con.execute(
        f"""
        select least(
            (select min(next_due_at) from {t.instances} where status = 'active'),
            (select min(e.occurred_at) from {t.events} as e
                inner join (select unnest($types) as event_type, unnest($names) as event_name)
                    as c on e.event_type = c.event_type
                    and (c.event_name is null or e.event_name = c.event_name)
                where e.occurred_at > $after),
            (select min(entered_at) from {t.memberships}
                where entered_at > $after and audience_name in (select unnest($audiences))),
            (select min(exited_at) from {t.memberships}
                where exited_at > $after and audience_name in (select unnest($audiences)))
        )
        """,
        {
            "after": moment,
            "types": [m.event_type for m in matches] or [""],
            "names": [m.event_name for m in matches] or [""],
            "audiences": audiences or [""],
        },
    ).fetchone()[0]
    if activity is None:
        return datetime.max
    if activity <= following:
        return following
    steps = -(-(activity - start) // every)  # ceiling: the first grid tick at or after it
    return start + steps * every


def _quoted(path: Path) -> str:
    return str(Path(path).resolve()).replace("'", "''")


def _count(con: duckdb.DuckDBPyConnection, journey: Journey, result: Simulation) -> None:
    t = SCRATCH
    steps = {step.id: StepCounts(step.id, step.kind) for step in journey.steps}
    log = con.execute(
        f"select step_id, action, reason, next_step, count(*) from {t.step_log} group by all"
    ).fetchall()
    for step_id, action, reason, next_step, count in log:
        if next_step in steps and action != "entered":
            steps[next_step].arrived += count
        if action == "entered":
            result.entered += count
            steps[step_id].arrived += count
        elif action == "converted":
            result.converted += count
        elif step_id not in steps:
            continue
        elif action == "branched":
            steps[step_id].branched[reason] += count
        elif action == "suppressed":
            steps[step_id].suppressed[reason] += count
        elif action == "sent":
            steps[step_id].would_send += count
        elif action == "exited":
            steps[step_id].exited[reason] += count
            result.exits[reason] += count
    for step_id, count in con.execute(
        f"select current_step, count(*) from {t.instances} where status = 'active' group by 1"
    ).fetchall():
        if step_id in steps:
            steps[step_id].waiting = count
    result.steps = list(steps.values())
    cursor = con.execute(
        f"""select queued_at, customer_id, step_id, channel, destination, template, purpose,
            variant, idempotency_key, cast(payload as varchar) as payload
        from {t.outbox} order by queued_at, idempotency_key"""
    )
    names = [column[0] for column in cursor.description]
    for row in cursor.fetchall():
        send = dict(zip(names, row, strict=True))
        send["queued_at"] = send["queued_at"].strftime("%Y-%m-%d %H:%M:%S")
        send["payload"] = json.loads(send["payload"])
        result.would_send.append(send)


def write_would_send(result: Simulation, path: Path) -> None:
    """One JSON object per line: when, who, which step and template, and the rendered message."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    with temporary.open("w", encoding="utf-8") as out:
        for send in result.would_send:
            out.write(json.dumps(send, ensure_ascii=False, default=str) + "\n")
    temporary.replace(path)


def format_simulation(result: Simulation) -> str:
    lines = [
        f"simulated {result.journey} from {result.start:%Y-%m-%d %H:%M} to "
        f"{result.end:%Y-%m-%d %H:%M} UTC, a tick every {result.every} "
        f"({result.ticks} had something to do)",
        f"entered {result.entered:,}   would send {result.sends:,}   "
        f"converted {result.converted:,}   still in the journey "
        f"{sum(s.waiting for s in result.steps):,}",
        "",
        f"{'step':<24}{'kind':<18}{'arrived':>9}{'waiting':>9}{'would send':>12}  outcomes",
    ]
    for step in result.steps:
        outcomes = [f"{r} {n:,}" for r, n in sorted(step.branched.items())]
        outcomes += [f"suppressed {r} {n:,}" for r, n in sorted(step.suppressed.items())]
        outcomes += [f"exited {r} {n:,}" for r, n in sorted(step.exited.items())]
        sends = f"{step.would_send:,}" if step.kind == "send" else ""
        lines.append(
            f"{step.step_id:<24}{step.kind:<18}{step.arrived:>9,}{step.waiting:>9,}{sends:>12}"
            f"  {', '.join(outcomes)}"
        )
    by_channel: dict[str, int] = defaultdict(int)
    for send in result.would_send:
        by_channel[send["channel"]] += 1
    if by_channel:
        channels = ", ".join(f"{c} {n:,}" for c, n in sorted(by_channel.items()))
        lines += ["", f"would send by channel: {channels}"]
    if result.exits:
        exits = ", ".join(f"{r} {n:,}" for r, n in sorted(result.exits.items()))
        lines.append(f"exits: {exits}")
    return "\n".join(lines)
