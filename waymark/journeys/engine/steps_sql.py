"""One SELECT per step kind: what happens to every ready instance at that step.

Each query returns, per instance: `label` (the transition taken, as in `Step.transitions()`;
null = stay), `clock` (the instance's time after the step), `due` (when a staying instance is
next looked at), the log `action`, `reason` and `detail`, `variant`/`holdout_group` to record,
and `forced_exit` (an exit reason that overrides the label). Instant steps keep the instance's
clock; waits move it to when they ended, so a tick that comes late still measures the next wait
from the right moment.
"""

from __future__ import annotations

from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.keys import keyed_sql
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import (
    Binder,
    EngineError,
    condition_sql,
    filter_sql,
    identifier,
    local_time_sql,
    point_sql,
    utc_time_sql,
)
from waymark.journeys.steps import (
    BranchStep,
    ExitStep,
    HoldoutStep,
    SplitStep,
    Step,
    WaitDuration,
    WaitStep,
    WaitUntilEventStep,
    WaitUntilProfileTimestamp,
    WaitUntilTimeOfDay,
)

_NOTHING = "null::varchar as variant, null::varchar as holdout_group, null::varchar as disposition"


def scope(b: Binder, plan: JourneyPlan, step: Step) -> str:
    return (
        f"w.journey = {b.bind(plan.name)} and w.current_step = {b.bind(step.id)} "
        "and w.ready and w.status = 'active' and not w.pending_send"
    )


def zone_sql(b: Binder, plan: JourneyPlan) -> str:
    """The customer's time zone when it is a known zone (`customers_join`), else the journey's
    fallback."""
    window = plan.journey.send_window
    return f"coalesce(z.name, {b.bind(window.fallback_timezone if window else 'UTC')})"


def customers_join(ctx: TickContext) -> str:
    return (
        "left join _customers as c on c.customer_id = w.customer_id "
        "left join _zones as z on z.name = c.timezone"
    )


def step_select(ctx: TickContext, plan: JourneyPlan, step: Step, b: Binder) -> str:
    if isinstance(step, WaitStep):
        return _wait(ctx, plan, step, b)
    if isinstance(step, WaitUntilEventStep):
        return _wait_until_event(ctx, plan, step, b)
    if isinstance(step, BranchStep):
        return _branch(ctx, plan, step, b)
    if isinstance(step, SplitStep):
        return _split(plan, step, b)
    if isinstance(step, HoldoutStep):
        return _holdout(plan, step, b)
    if isinstance(step, ExitStep):
        return (
            f"select w.instance_id, null::varchar as label, w.step_entered_at as clock, "
            f"null::timestamp as due, 'exited' as action, {b.bind(step.exit.reason)} as reason, "
            f"null::varchar as detail, {_NOTHING}, {b.bind(step.exit.reason)} as forced_exit "
            f"from _work as w where {scope(b, plan, step)}"
        )
    raise EngineError(f"journey {plan.name}: step {step.id} is not evaluated in SQL")


def _wait(ctx: TickContext, plan: JourneyPlan, step: WaitStep, b: Binder) -> str:
    as_of, wait = b.timestamp(ctx.as_of), step.wait
    if isinstance(wait, WaitDuration):
        due, reason, forced = (
            f"w.step_entered_at + {b.interval(wait.duration)}",
            "wait_elapsed",
            "null",
        )
        source = f"from _work as w where {scope(b, plan, step)}"
        clock = due
    elif isinstance(wait, WaitUntilTimeOfDay):
        minutes = wait.until_time_of_day.hour * 60 + wait.until_time_of_day.minute
        local = local_time_sql("w.step_entered_at", zone_sql(b, plan))
        candidate = f"date_trunc('day', {local}) + to_minutes(cast({b.bind(minutes)} as bigint))"
        # One row per instance with its zone, local clock and the day's candidate; the outer
        # query reads them as columns of `w`.
        source = f"""from (
            select w.*, {zone_sql(b, plan)} as zone, {local} as local_at, {candidate} as candidate
            from _work as w {customers_join(ctx)} where {scope(b, plan, step)}
        ) as w"""
        next_local = (
            "(case when w.candidate <= w.local_at then w.candidate + interval 1 day "
            "else w.candidate end)"
        )
        due, reason, forced = utc_time_sql(next_local, "w.zone"), "time_of_day_reached", "null"
        clock = due
    else:
        assert isinstance(wait, WaitUntilProfileTimestamp)
        column = wait.until_profile_timestamp
        if not ctx.customer_columns.get(column, "").startswith("TIMESTAMP"):
            raise EngineError(
                f"journey {plan.name}: step {step.id} waits on '{column}', "
                "which is not a timestamp column of marts.customers"
            )
        due = f"(c.{identifier(column)} + {b.interval(wait.offset)})"
        reason = "profile_time_reached"
        forced = f"case when c.{identifier(column)} is null then 'missing_profile_timestamp' end"
        source = f"from _work as w {customers_join(ctx)} where {scope(b, plan, step)}"
        clock = f"greatest(w.step_entered_at, {due})"
    return f"""
        select w.instance_id, case when {due} <= {as_of} then 'next' end as label,
            {clock} as clock, {due} as due,
            case when ({forced}) is not null then 'exited' else 'advanced' end as action,
            coalesce({forced}, {b.bind(reason)}) as reason, null::varchar as detail, {_NOTHING},
            {forced} as forced_exit
        {source}
    """


def _wait_until_event(
    ctx: TickContext, plan: JourneyPlan, step: WaitUntilEventStep, b: Binder
) -> str:
    wait, as_of = step.wait_until_event, b.timestamp(ctx.as_of)
    timeout = f"w.step_entered_at + {b.interval(wait.timeout)}"
    kinds = plan.property_kinds(wait.event)
    keyed = keyed_sql(plan, wait.event)
    return f"""
        with hits as (
            select w.instance_id, min({{'at': e.occurred_at, 'id': e.event_id}}) as hit
            from _work as w
            inner join _events as e on e.customer_id = w.customer_id
                and e.event = {b.bind(wait.event)}
            where {scope(b, plan, step)}
                -- Strictly after: the event that ended the previous wait (the instance's
                -- clock is its time) must not end this one too.
                and e.occurred_at > w.step_entered_at
                and e.occurred_at <= least({timeout}, {as_of})
                and e.event_id is distinct from w.entry_event_id
                and {keyed} and {filter_sql(b, "e", wait.where, kinds)}
            group by w.instance_id
        )
        select w.instance_id,
            case when h.hit is not null then 'on_event'
                when {timeout} <= {as_of} then 'on_timeout' end as label,
            coalesce(struct_extract(h.hit, 'at'), {timeout}) as clock, {timeout} as due,
            'advanced' as action,
            case when h.hit is not null then {b.bind("event:" + wait.event)} else 'timeout' end
                as reason,
            struct_extract(h.hit, 'id') as detail, {_NOTHING}, null::varchar as forced_exit
        from _work as w left join hits as h on h.instance_id = w.instance_id
        where {scope(b, plan, step)}
    """


def _branch(ctx: TickContext, plan: JourneyPlan, step: BranchStep, b: Binder) -> str:
    cases = " ".join(
        f"when {condition_sql(b, path.when, 'c', '_members', ctx.customer_columns)} "
        f"then 'when[{index}]'"
        for index, path in enumerate(step.branch.conditions)
    )
    return f"""
        select instance_id, label, clock, null::timestamp as due, 'branched' as action,
            label as reason, null::varchar as detail, {_NOTHING}, null::varchar as forced_exit
        from (
            select w.instance_id, case {cases} else 'else' end as label,
                w.step_entered_at as clock
            from _work as w {customers_join(ctx)} where {scope(b, plan, step)}
        )
    """


def _split(plan: JourneyPlan, step: SplitStep, b: Binder) -> str:
    variants = step.split.variants
    total = sum(variant.weight for variant in variants)
    point = point_sql(b, plan.journey.split_salt, step.id, "w.customer_id")
    edge, cases = 0, []
    for variant in variants[:-1]:
        edge += variant.weight
        cases.append(f"when point < {b.bind(edge / total)} then {b.bind(variant.name)}")
    cases_sql = " ".join(cases)
    return f"""
        select instance_id, 'variant ' || variant as label, clock, null::timestamp as due,
            'branched' as action, 'variant:' || variant as reason, null::varchar as detail,
            variant, null::varchar as holdout_group, null::varchar as disposition,
            null::varchar as forced_exit
        from (
            select instance_id, clock,
                case {cases_sql} else {b.bind(variants[-1].name)} end as variant
            from (
                select w.instance_id, w.step_entered_at as clock, {point} as point
                from _work as w where {scope(b, plan, step)}
            )
        )
    """


def _holdout(plan: JourneyPlan, step: HoldoutStep, b: Binder) -> str:
    point = point_sql(b, plan.journey.split_salt, step.id, "w.customer_id")
    return f"""
        select instance_id, case grp when 'control' then 'control' else 'next' end as label,
            clock, null::timestamp as due, 'branched' as action, grp as reason,
            null::varchar as detail, null::varchar as variant, grp as holdout_group,
            null::varchar as disposition, null::varchar as forced_exit
        from (
            select w.instance_id, w.step_entered_at as clock,
                case when {point} * 100 < {b.bind(float(step.holdout.percent))}
                    then 'control' else 'treatment' end as grp
            from _work as w where {scope(b, plan, step)}
        )
    """
