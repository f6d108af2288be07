"""What a tick reads: the recent events, and the instances that need looking at.

Cost follows what changed, not the size of the warehouse:
- events are read from a window, `(watermark - lookback, as_of]` per journey, where the
  watermark is the journey's previous tick; the lookback admits events that land late;
- instances are loaded only when due (`next_due_at <= as_of`), or when the customer has an event
  or an audience exit in the window that the journey waits for, exits on or counts as its goal.
"""

from __future__ import annotations

from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.sql import Binder, EngineError
from waymark.journeys.journey import ReEntry


def read_windows(ctx: TickContext) -> None:
    """Each journey's event window start; refuses an as_of earlier than a previous tick."""
    rows = ctx.run(f"select journey, last_tick_as_of from {ctx.tables.watermarks}").fetchall()
    last = dict(rows)
    latest = max(last.values(), default=None)
    if latest is not None and ctx.as_of < latest:
        raise EngineError(
            f"as_of {ctx.as_of:%Y-%m-%d %H:%M:%S} is before the latest tick "
            f"({latest:%Y-%m-%d %H:%M:%S}); journeys only move forward in time"
        )
    for name in ctx.plans:
        ctx.windows[name] = last.get(name, ctx.as_of) - ctx.lookback
    described = ctx.run(f"describe {ctx.tables.customers}").fetchall()
    ctx.customer_columns = {row[0]: str(row[1]).upper() for row in described}


def load_journey_table(ctx: TickContext) -> None:
    """`_journeys`: per journey, the values its SQL joins on."""
    b = Binder()
    rows = []
    for plan in ctx.plans.values():
        journey = plan.journey
        goal = journey.goal
        re_entry: ReEntry = journey.re_entry
        window = ctx.windows[plan.name]
        rows.append(
            "select "
            + ", ".join(
                [
                    f"{b.bind(plan.name)} as journey",
                    f"{b.timestamp(window)} as window_start",
                    f"{b.timestamp(window - goal.within) if goal else 'null::timestamp'}"
                    " as goal_horizon",
                    f"{b.bind(plan.first_step)} as first_step",
                    f"{b.bind(re_entry.mode)} as re_entry",
                    f"{b.interval(re_entry.cooldown) if re_entry.cooldown else 'null::interval'}"
                    " as cooldown",
                    f"cast({b.bind([s.id for s in plan.wait_event_steps] or [''])} as varchar[])"
                    " as wait_steps",
                    f"{b.bind(journey.priority)}::integer as priority",
                ]
            )
        )
    body = " union all ".join(rows) or (
        "select null::varchar journey, null::timestamp window_start, null::timestamp "
        "goal_horizon, null::varchar first_step, null::varchar re_entry, null::interval "
        "cooldown, null::varchar[] wait_steps, null::integer priority where false"
    )
    ctx.run(f"create or replace temp table _journeys as {body}", b)


def load_events(ctx: TickContext) -> None:
    """`_events`: every catalogue event some journey names, in the widest journey window."""
    wanted: dict[str, tuple[str, str | None]] = {}
    for plan in ctx.plans.values():
        for name in plan.event_names():
            definition = plan.events.get(name)
            if definition is None:
                raise EngineError(f"journey {plan.name}: event '{name}' is not in the catalogue")
            wanted[name] = (definition.match.event_type, definition.match.event_name)
    b = Binder()
    names = sorted(wanted)
    types = [wanted[name][0] for name in names]
    event_names = [wanted[name][1] for name in names]
    ctx.run(
        f"""
        create or replace temp table _events as
        select e.event_id, e.customer_id, c.event, e.properties, e.occurred_at
        from {ctx.tables.events} as e
        inner join (
            select unnest(cast({b.bind(names or [""])} as varchar[])) as event,
                unnest(cast({b.bind(types or [""])} as varchar[])) as event_type,
                unnest(cast({b.bind(event_names or [None])} as varchar[])) as event_name
        ) as c on e.event_type = c.event_type
            and (c.event_name is null or e.event_name = c.event_name)
        where e.occurred_at > {b.timestamp(ctx.window_start)}
            and e.occurred_at <= {b.timestamp(ctx.as_of)}
            and e.event_type in (select unnest(cast({b.bind(types or [""])} as varchar[])))
        """,
        b,
    )
    ctx.event_counts = dict(
        ctx.run("select event, count(*) from _events group by event").fetchall()
    )


def load_triggers(ctx: TickContext) -> None:
    """`_triggers`: (journey, customer) pairs with something in the window that can change an
    instance that is not due: an awaited, exit or goal event, or leaving an exit audience."""
    parts, b = [], Binder()
    for plan in ctx.plans.values():
        events = sorted(plan.trigger_events())
        start = b.timestamp(ctx.windows[plan.name])
        if events:
            parts.append(
                f"select {b.bind(plan.name)} as journey, customer_id from _events "
                f"where event in ({b.names(events)}) and occurred_at > {start}"
            )
        if plan.exit_audiences:
            parts.append(
                f"select {b.bind(plan.name)} as journey, customer_id from "
                f"{ctx.tables.memberships} where audience_name in "
                f"({b.names(plan.exit_audiences)}) and exited_at > {start} "
                f"and exited_at <= {b.timestamp(ctx.as_of)}"
            )
    body = " union ".join(parts) or "select null::varchar journey, null::varchar customer_id"
    ctx.run(f"create or replace temp table _triggers as {body}", b)


def load_instances(ctx: TickContext) -> None:
    """Instances of known journeys that are due, triggered, or may reach their goal."""
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    ctx.run(
        f"""
        insert into _work
        select i.*, false,
            i.status = 'active'
                and (i.next_due_at <= {as_of} or list_contains(j.wait_steps, i.current_step)),
            false, false, i.transitions
        from {ctx.tables.instances} as i
        inner join _journeys as j on j.journey = i.journey
        where (i.status = 'active' and i.next_due_at <= {as_of})
            or (
                (i.status = 'active' or (i.converted_at is null and i.entered_at >= j.goal_horizon))
                and exists (
                    select 1 from _triggers as t
                    where t.journey = i.journey and t.customer_id = i.customer_id
                )
            )
        """,
        b,
    )


def load_members(ctx: TickContext) -> None:
    """`_customers` and `_members`: the profiles, and current memberships (at as_of) of the
    audiences branches and exits test, of the customers of the instances in `_work`."""
    ctx.work_counts = dict(ctx.run("select journey, count(*) from _work group by 1").fetchall())
    # The profiles of the customers this tick looks at, read once: steps, sends and templates
    # join this instead of scanning every column of the whole customer table each time.
    ctx.run(
        f"create or replace temp table _customers as select * from {ctx.tables.customers} "
        "where customer_id in (select customer_id from _work)"
    )
    audiences: set[str] = set()
    for plan in ctx.plans.values():
        if ctx.work_counts.get(plan.name):
            audiences |= plan.condition_audiences() | set(plan.exit_audiences)
    ctx.run("create or replace temp table _members (audience_name varchar, customer_id varchar)")
    if not audiences:
        return
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    ctx.run(
        f"""
        insert into _members
        select distinct m.audience_name, m.customer_id
        from {ctx.tables.memberships} as m
        where m.audience_name in ({b.names(sorted(audiences) or [""])})
            and m.entered_at <= {as_of} and (m.exited_at is null or m.exited_at > {as_of})
            and m.customer_id in (select customer_id from _work)
        """,
        b,
    )
