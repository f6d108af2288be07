"""Advancing instances: rounds of set-based moves until every instance waits or has left.

A round asks which (journey, step) pairs have ready instances, runs one statement per pair that
decides all of them at once into `_moves`, then applies the moves to `_work` and logs them.
Instances that arrive at an instant step stay ready for the next round; waits hold them; sends
hold them until the tick's send decisions (`waymark.journeys.engine.sends`), which need every
send of the tick together to apply priority and caps. The graph rules (no loop without a pause)
bound the rounds by the longest chain of instant steps.
"""

from __future__ import annotations

import json

from waymark.core import crash
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.profile import profile_update_rows
from waymark.journeys.engine.sql import Binder, EngineError
from waymark.journeys.engine.steps_sql import scope, step_select
from waymark.journeys.steps import SendStep, TagStep, UpdateProfileStep

MAX_ROUNDS = 1000


def route_moves(ctx: TickContext, plan: JourneyPlan, step_id: str, select: str, b: Binder) -> None:
    """Turn a step query's labels into moves: the label's target, or an exit when it has none."""
    whens_next, whens_exit = [], []
    for label, target in plan.targets[step_id].items():
        bound = b.bind(label)
        if target is None:
            whens_exit.append(f"when {bound} then {b.bind(plan.exit_reason_for(step_id, label))}")
        else:
            whens_next.append(f"when {bound} then {b.bind(target)}")
    next_sql = f"case x.label {' '.join(whens_next)} end" if whens_next else "null"
    exit_sql = f"case x.label {' '.join(whens_exit)} end" if whens_exit else "null"
    ctx.pending_moves += ctx.count(
        f"""
        insert into _moves
        select x.instance_id, {b.bind(step_id)},
            case when x.forced_exit is not null then 'exit' when x.label is null then 'stay'
                when ({exit_sql}) is not null then 'exit' else 'move' end,
            {next_sql}, x.clock, x.due, coalesce(x.forced_exit, {exit_sql}),
            case when x.label is null and x.forced_exit is null then null else x.action end,
            x.reason, x.disposition, x.detail, x.variant, x.holdout_group
        from ({select}) as x
        """,
        b,
    )


def apply_moves(ctx: TickContext) -> int:
    """Apply `_moves` to `_work`, log them, and empty `_moves`; returns how many moved."""
    moved, ctx.pending_moves = ctx.pending_moves, 0
    if not moved:
        return 0
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    batch, exits = ctx.next_batch(), ctx.next_batch()
    ctx.run(
        f"""
        insert into _log
        select {batch}, instance_id, from_step, action, reason, disposition,
            case when outcome = 'move' then next_step end, detail, clock
        from _moves where action is not null
        union all
        select {exits}, instance_id, from_step, 'exited', exit_reason, null, null, null, clock
        from _moves where outcome = 'exit' and action is distinct from 'exited'
        """
    )
    # The same new values either way: an UPDATE touches only the moved rows, a rebuild of
    # `_work` is one vectorised pass and much faster when most rows move (a big first tick).
    changes = {
        "current_step": "case m.outcome when 'move' then m.next_step when 'exit' then null "
        "else w.current_step end",
        "step_entered_at": "case m.outcome when 'move' then m.clock else w.step_entered_at end",
        "next_due_at": "case m.outcome when 'stay' then m.next_due_at end",
        "ready": "m.outcome = 'move'",
        "pending_send": "m.outcome = 'hold'",
        "status": "case m.outcome when 'exit' then 'exited' else w.status end",
        "exit_reason": "case m.outcome when 'exit' then m.exit_reason else w.exit_reason end",
        "exited_at": f"case m.outcome when 'exit' then {as_of} else w.exited_at end",
        "variant": "coalesce(m.variant, w.variant)",
        "holdout_group": "coalesce(m.holdout_group, w.holdout_group)",
        "dirty": "w.dirty or m.outcome in ('move', 'exit') or m.action is not null "
        "or m.next_due_at is distinct from w.next_due_at",
    }
    if moved * 4 >= ctx.work_size:
        replaced = ", ".join(
            f"case when m.instance_id is null then w.{name} else {value} end as {name}"
            for name, value in changes.items()
        )
        ctx.rebuild_work(
            f"select w.* replace ({replaced}) "
            "from _work as w left join _moves as m on m.instance_id = w.instance_id",
            b,
        )
    else:
        sets = ", ".join(f"{name} = {value}" for name, value in changes.items())
        ctx.run(
            f"update _work as w set {sets} from _moves as m where w.instance_id = m.instance_id",
            b,
        )
    ctx.run("delete from _moves")
    return int(moved)


def run_rounds(ctx: TickContext) -> None:
    """Rounds until no instance is ready (sends stay held for the send decisions)."""
    for _ in range(MAX_ROUNDS):
        groups = ctx.run(
            "select journey, current_step from _work where ready and status = 'active' "
            "and not pending_send group by all order by all"
        ).fetchall()
        if not groups:
            return
        for journey, step_id in groups:
            plan = ctx.plans[journey]
            if not plan.has_step(step_id):
                _step_removed(ctx, plan, step_id)
                continue
            _evaluate(ctx, plan, step_id)
        apply_moves(ctx)
        crash.point("tick.after_round")
    raise EngineError(f"instances still moving after {MAX_ROUNDS} rounds")


def _evaluate(ctx: TickContext, plan: JourneyPlan, step_id: str) -> None:
    step, b = plan.step(step_id), Binder()
    if isinstance(step, SendStep):
        send = step.send
        ctx.held_sends += ctx.count(
            f"""
            insert into _sends
            select w.instance_id, w.journey, {b.bind(step.id)}, w.customer_id,
                {b.bind(send.channel)}, {b.bind(send.destination)}, {b.bind(send.template)},
                {b.bind(send.purpose)}, {b.bind(plan.journey.priority)}, w.entered_at
            from _work as w where {scope(b, plan, step)}
            """,
            b,
        )
        hold = Binder()
        ctx.pending_moves += ctx.count(
            f"insert into _moves (instance_id, from_step, outcome) "
            f"select w.instance_id, {hold.bind(step.id)}, 'hold' from _work as w "
            f"where {scope(hold, plan, step)}",
            hold,
        )
        return
    if isinstance(step, TagStep | UpdateProfileStep):
        _write_profile(ctx, plan, step)
        return
    route_moves(ctx, plan, step_id, step_select(ctx, plan, step, b), b)


def _write_profile(ctx: TickContext, plan: JourneyPlan, step: TagStep | UpdateProfileStep) -> None:
    batch, b = ctx.next_batch(), Binder()
    if isinstance(step, TagStep):
        ctx.written.add("_tags_new")
        ctx.run(
            f"insert into _tags_new select {batch}, w.customer_id, {b.bind(step.tag)}, w.journey, "
            f"w.instance_id, {b.bind(step.id)} from _work as w where {scope(b, plan, step)}",
            b,
        )
        reason, detail = "tagged", step.tag
    else:
        update = step.update_profile
        value = update.value
        if isinstance(value, str) and ("{{" in value or "{%" in value):
            profile_update_rows(ctx, plan, step, batch)
        else:
            ctx.written.add("_profile_new")
            ctx.run(
                f"insert into _profile_new select {batch}, w.customer_id, "
                f"{b.bind(update.attribute)}, cast({b.bind(json.dumps(value))} as json), "
                f"w.journey, w.instance_id, {b.bind(step.id)} from _work as w "
                f"where {scope(b, plan, step)}",
                b,
            )
        reason, detail = "profile_updated", update.attribute
    select = f"""
        select w.instance_id, 'next' as label, w.step_entered_at as clock,
            null::timestamp as due, 'advanced' as action,
            case when f.instance_id is null then {b.bind(reason)} else 'render_error' end
                as reason,
            coalesce(f.error, {b.bind(detail)}) as detail, null::varchar as variant,
            null::varchar as holdout_group, null::varchar as disposition,
            null::varchar as forced_exit
        from _work as w left join _render_failures as f on f.instance_id = w.instance_id
        where {scope(b, plan, step)}
    """
    route_moves(ctx, plan, step.id, select, b)


def _step_removed(ctx: TickContext, plan: JourneyPlan, step_id: str) -> None:
    """An instance at a step the journey no longer has (the file changed) exits."""
    b = Binder()
    ctx.pending_moves += ctx.count(
        f"""
        insert into _moves (instance_id, from_step, outcome, clock, exit_reason, action, reason)
        select instance_id, current_step, 'exit', step_entered_at, 'step_removed', 'exited',
            'step_removed'
        from _work where journey = {b.bind(plan.name)} and current_step = {b.bind(step_id)}
            and ready and status = 'active'
        """,
        b,
    )
