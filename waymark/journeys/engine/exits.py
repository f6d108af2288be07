"""Global exit criteria and goals, checked for every instance a tick looks at.

Exits come first in a tick, before any step runs: a customer who ordered at 10:30 gets no
reminder at the 11:00 tick even if their wait ended at 10:05. An instance exits when, since it
entered, an `exit_when` event happened (its `where` holding) or the customer left an
`audience_exit` audience and is not back in it. The earliest criterion is the reason. In a keyed
journey, an event that carries the key property counts only for the instance with that key.

A goal is counted once per instance: the first goal event within `within` of entry. Exited
instances count too (a holdout's control group exits at once and is compared on its goal rate).
"""

from __future__ import annotations

from waymark.journeys.engine.advance import apply_moves
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.keys import keyed_sql
from waymark.journeys.engine.sql import Binder, filter_sql


def apply_exits(ctx: TickContext) -> None:
    b, parts = Binder(), []
    as_of = b.timestamp(ctx.as_of)
    for plan in ctx.plans.values():
        if not ctx.work_counts.get(plan.name):
            continue
        journey = b.bind(plan.name)
        for criterion in plan.exit_events:
            if not ctx.event_counts.get(criterion.event):
                continue
            kinds = plan.property_kinds(criterion.event)
            keyed = keyed_sql(plan, criterion.event)
            parts.append(
                f"""
                select w.instance_id, {b.bind("exit_event:" + criterion.event)} as reason,
                    e.occurred_at as exit_at
                from _work as w
                inner join _events as e on e.customer_id = w.customer_id
                    and e.event = {b.bind(criterion.event)}
                where w.journey = {journey} and w.status = 'active'
                    and e.occurred_at >= w.entered_at
                    and e.event_id is distinct from w.entry_event_id
                    and {keyed} and {filter_sql(b, "e", criterion.where, kinds)}
                """
            )
        for audience in plan.exit_audiences:
            name = b.bind(audience)
            parts.append(
                f"""
                select w.instance_id, {b.bind("audience_exit:" + audience)} as reason,
                    m.exited_at as exit_at
                from _work as w
                inner join {ctx.tables.memberships} as m on m.customer_id = w.customer_id
                    and m.audience_name = {name}
                where w.journey = {journey} and w.status = 'active'
                    and m.exited_at >= w.entered_at and m.exited_at <= {as_of}
                    and not exists (
                        select 1 from _members as now
                        where now.audience_name = {name} and now.customer_id = w.customer_id
                    )
                """
            )
    if not parts:
        return
    union = " union all ".join(parts)
    ctx.pending_moves += ctx.count(
        f"""
        insert into _moves (instance_id, from_step, outcome, clock, exit_reason, action, reason)
        select w.instance_id, w.current_step, 'exit', struct_extract(found.hit, 'at'),
            struct_extract(found.hit, 'reason'), 'exited', struct_extract(found.hit, 'reason')
        from (
            select instance_id, min({{'at': exit_at, 'reason': reason}}) as hit
            from ({union}) group by instance_id
        ) as found
        inner join _work as w on w.instance_id = found.instance_id
        """,
        b,
    )
    apply_moves(ctx)


def apply_goals(ctx: TickContext) -> None:
    b, parts = Binder(), []
    for plan in ctx.plans.values():
        goal = plan.journey.goal
        if goal is None or not ctx.work_counts.get(plan.name):
            continue
        if not ctx.event_counts.get(goal.event):
            continue
        kinds = plan.property_kinds(goal.event)
        parts.append(
            f"""
            select w.instance_id, {b.bind("goal:" + goal.event)} as reason,
                min({{'at': e.occurred_at, 'id': e.event_id}}) as hit
            from _work as w
            inner join _events as e on e.customer_id = w.customer_id
                and e.event = {b.bind(goal.event)}
            where w.journey = {b.bind(plan.name)} and w.converted_at is null
                and e.occurred_at >= w.entered_at
                and e.occurred_at <= w.entered_at + {b.interval(goal.within)}
                and e.event_id is distinct from w.entry_event_id
                and {keyed_sql(plan, goal.event)} and {filter_sql(b, "e", goal.where, kinds)}
            group by w.instance_id
            """
        )
    if not parts:
        return
    if not ctx.count(f"create or replace temp table _goals as {' union all '.join(parts)}", b):
        ctx.run("drop table _goals")
        return
    batch = ctx.next_batch()
    ctx.run(
        f"""
        insert into _log
        select {batch}, g.instance_id, w.current_step, 'converted', g.reason, null, null,
            struct_extract(g.hit, 'id'), struct_extract(g.hit, 'at')
        from _goals as g inner join _work as w on w.instance_id = g.instance_id
        """
    )
    ctx.run(
        """
        update _work set converted_at = struct_extract(g.hit, 'at'),
            goal_event_id = struct_extract(g.hit, 'id'), dirty = true
        from _goals as g where _work.instance_id = g.instance_id
        """
    )
    ctx.run("drop table _goals")
