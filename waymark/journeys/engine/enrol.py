"""Enrolment: new instances from entry events, new audience memberships and schedules.

Candidates come from the window, plus, when this tick deploys an audience journey's version
that enrols existing members (waymark.journeys.engine.versions), every current member who
joined before the window, entering as of the tick; one becomes an instance unless
- the same entry (event, membership or schedule firing) already started one;
- re-entry forbids it: `never` (any earlier instance for the customer and key), `every_time`
  (an instance that had not ended by the entry's time: one never runs twice at once), or
  `after_cooldown` (that, or an entry less than the cooldown before it);
- an earlier candidate for the same customer and key in this tick entered first.
These rules only ever reject more as instances are added, so an entry rejected once stays
rejected when a later tick's window sees it again: ticks can overlap without doubling entries.
"""

from __future__ import annotations

from waymark.core.cron import latest_fire
from waymark.core.instants import to_warehouse
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.plan import JourneyPlan
from waymark.journeys.engine.sql import Binder, filter_sql
from waymark.journeys.journey import AudienceEntry, EventEntry, ScheduleEntry

CANDIDATE_COLUMNS = """
    journey varchar, customer_id varchar, instance_key varchar, entry_kind varchar,
    entry_ref varchar, entry_event varchar, entry_event_id varchar, entry_properties varchar,
    entered_at timestamp, entry_reason varchar
"""


def enrol(ctx: TickContext) -> None:
    b = Binder()
    selects = [_candidates(ctx, plan, b) for plan in ctx.plans.values() if plan.journey.enabled]
    selects = [select for select in selects if select]
    if not selects:
        return
    ctx.run(f"create or replace temp table _candidates ({CANDIDATE_COLUMNS})")
    ctx.run(f"insert into _candidates {' union all '.join(selects)}", b)
    instances, b = ctx.tables.instances, Binder()
    as_of = b.timestamp(ctx.as_of)
    ctx.run(
        f"""
        create or replace temp table _entrants as
        with fresh as (
            select c.* from _candidates as c
            where not exists (
                select 1 from {instances} as i
                where i.journey = c.journey and i.entry_ref = c.entry_ref
                    and i.customer_id = c.customer_id
            )
        ),
        allowed as (
            select f.* from fresh as f
            inner join _journeys as j on j.journey = f.journey
            where not exists (
                select 1 from {instances} as i
                where i.journey = f.journey and i.customer_id = f.customer_id
                    and i.instance_key is not distinct from f.instance_key
                    and (
                        j.re_entry = 'never'
                        or coalesce(i.exited_at, 'infinity'::timestamp) >= f.entered_at
                        or (j.re_entry = 'after_cooldown'
                            and i.entered_at > f.entered_at - j.cooldown)
                    )
            )
        )
        select allowed.*, j.first_step,
            left(md5(allowed.journey || ':' || allowed.entry_ref || ':' || allowed.customer_id), 20)
                as instance_id
        from allowed
        inner join _journeys as j on j.journey = allowed.journey
        qualify row_number() over (
            partition by allowed.journey, allowed.customer_id, allowed.instance_key
            order by allowed.entered_at, allowed.entry_ref
        ) = 1
        """,
        b,
    )
    ctx.run(
        f"""
        insert into _work by name
        select instance_id, journey, customer_id, instance_key, entry_kind, entry_ref,
            entry_event, entry_event_id, entry_properties, entered_at,
            'active' as status, first_step as current_step, entered_at as step_entered_at,
            null as next_due_at, null as variant, null as holdout_group, null as exit_reason,
            null as exited_at, null as converted_at, null as goal_event_id, 0 as transitions,
            {as_of} as updated_at, true as is_new, true as ready, false as pending_send,
            true as dirty, 0 as base_transitions
        from _entrants
        """,
        b,
    )
    batch = ctx.next_batch()
    ctx.run(
        f"""
        insert into _log
        select {batch}, instance_id, first_step, 'entered', entry_reason, null, first_step,
            entry_ref, entered_at
        from _entrants
        """
    )
    ctx.run("drop table _candidates")
    ctx.run("drop table _entrants")


def _candidates(ctx: TickContext, plan: JourneyPlan, b: Binder) -> str | None:
    """The SELECT of the journey's entry candidates in its window, or None."""
    entry = plan.journey.entry
    journey, start = b.bind(plan.name), b.timestamp(ctx.windows[plan.name])
    if isinstance(entry, EventEntry):
        if not any(ctx.event_counts.get(name) for name in entry.event):
            return None
        kinds: dict[str, str] = {}
        for name in entry.event:
            kinds.update(plan.property_kinds(name))
        key = plan.journey.instance_property
        key_sql = f"json_extract_string(e.properties, '$.{key}')" if key else "null"
        return f"""
            select {journey}, e.customer_id, {key_sql}, 'event', e.event_id, e.event,
                e.event_id, e.properties, e.occurred_at, 'event:' || e.event
            from _events as e
            where e.event in ({b.names(entry.event)}) and e.occurred_at > {start}
                and {filter_sql(b, "e", entry.where, kinds)}
                and {key_sql + " is not null" if key else "true"}
        """
    if isinstance(entry, AudienceEntry):
        return _audience_candidates(ctx, plan, entry, b)
    assert isinstance(entry, ScheduleEntry)
    # The latest firing in the window; earlier missed firings collapse into it, and one
    # already entered is recognised by its entry_ref.
    schedule = entry.schedule
    latest = latest_fire(schedule.cron, ctx.as_of, schedule.timezone)
    fired = to_warehouse(latest) if latest is not None else None
    if fired is None or fired <= ctx.windows[plan.name]:
        return None
    at = b.timestamp(fired)
    if schedule.audience:
        who = (
            f"select distinct customer_id from {ctx.tables.memberships} "
            f"where audience_name = {b.bind(schedule.audience)} and entered_at <= {at} "
            f"and (exited_at is null or exited_at > {at})"
        )
    else:
        who = f"select customer_id from {ctx.tables.customers}"
    ref = b.bind(f"schedule:{fired:%Y-%m-%dT%H:%M:%S}")
    return f"""
        select {journey}, customer_id, null, 'schedule', {ref}, null, null, null, {at},
            'schedule'
        from ({who})
    """


def _audience_candidates(
    ctx: TickContext, plan: JourneyPlan, entry: AudienceEntry, b: Binder
) -> str:
    """Memberships that started in the window (after any `skip` bound), and, at the tick that
    deploys a version enrolling existing members, the current members from before the window."""
    journey, start, as_of = (
        b.bind(plan.name),
        b.timestamp(ctx.windows[plan.name]),
        b.timestamp(ctx.as_of),
    )
    audience = b.bind(entry.audience)
    deployment = ctx.deployments.get(plan.name)
    skip_before = deployment.skip_members_before if deployment else None
    skipped = f"and m.entered_at > {b.timestamp(skip_before)}" if skip_before else ""
    joined = f"""
        select {journey}, m.customer_id, null, 'audience', m.membership_id,
            null, null, null, m.entered_at, 'audience'
        from {ctx.tables.memberships} as m
        where m.audience_name = {audience}
            and m.entered_at > {start} and m.entered_at <= {as_of} {skipped}
    """
    if deployment is None or not deployment.enrols_existing:
        return joined
    return f"""{joined}
        union all
        select {journey}, m.customer_id, null, 'audience', m.membership_id,
            null, null, null, {as_of}, 'existing_member'
        from {ctx.tables.memberships} as m
        where m.audience_name = {audience} and m.entered_at <= {start}
            and (m.exited_at is null or m.exited_at > {as_of})
    """
