"""Send decisions: every message a tick wants to send, decided together in SQL.

In order, first match wins (each recorded in `journey_step_log` as `suppressed`):
1. `deleted:erasure_request` (dropped): an erasure request covers the customer
   (`waymark.core.erasure`), so nothing about them is rendered into the outbox;
   `already_sent`: the step already queued this instance's message (a loop came back to it);
   `unknown_customer`, `no_address` (email or SMS without one) and `no_consent:<status>` (a
   marketing purpose whose consent is not `granted`) are dropped;
2. `quiet_hours` (delayed): outside the journey's send window in the customer's time zone; the
   instance waits at the step until the next window start and is decided again then;
3. `priority` (dropped): per customer and channel one journey sends in a tick: the highest
   priority (then name), or whichever already sent earlier in the same tick;
4. `frequency_cap` (dropped): one of the journey's caps would be exceeded, counting outbox rows
   queued in the rolling window `(as_of - per, as_of]` that were not dropped or failed at
   delivery, this tick's earlier sends, and this batch's sends before it.
The rest are rendered into `_outbox_new`; a message that fails to render is `render_error`.
"""

from __future__ import annotations

from datetime import timedelta

from waymark.core import crash
from waymark.core.erasure import ERASURE_REASON, erased_customers_sql
from waymark.journeys.engine.advance import apply_moves, route_moves
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.render import Renderer, context_rows, error_text, payload_json
from waymark.journeys.engine.sql import Binder, local_time_sql, utc_time_sql

CONSENT = """case purpose when 'email_marketing' then c.email_marketing_consent
    when 'sms_marketing' then c.sms_marketing_consent
    when 'ads_personalisation' then c.ads_personalisation_consent end"""


def duration_text(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    for unit, size in (("d", 24 * 60), ("h", 60)):
        if minutes % size == 0:
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def _rules(ctx: TickContext) -> None:
    """`_windows` and `_caps`: each journey's send window and frequency caps as rows."""
    b, windows, caps = Binder(), [], []
    for plan in ctx.plans.values():
        journey = plan.journey
        if journey.send_window:
            w = journey.send_window
            windows.append(
                f"select {b.bind(plan.name)} as journey, "
                f"{b.bind(w.start.hour * 60 + w.start.minute)}::integer as start_min, "
                f"{b.bind(w.end.hour * 60 + w.end.minute)}::integer as end_min, "
                f"{b.bind(w.fallback_timezone)} as fallback"
            )
        for cap in journey.frequency_caps:
            label = f"{cap.scope} {cap.channel} max {cap.max} per {duration_text(cap.per)}"
            caps.append(
                f"select {b.bind(plan.name)} as journey, {b.bind(cap.channel)} as channel, "
                f"{b.bind(cap.max)}::integer as max, {b.interval(cap.per)} as per, "
                f"{b.bind(cap.scope)} as scope, {b.bind(label)} as label"
            )
    empty_window = "select null::varchar, null::integer, null::integer, null::varchar where false"
    empty_cap = (
        "select null::varchar, null::varchar, null::integer, null::interval, null::varchar, "
        "null::varchar where false"
    )
    ctx.run(
        "create or replace temp table _windows (journey varchar, start_min integer, "
        "end_min integer, fallback varchar)"
    )
    ctx.run(f"insert into _windows {' union all '.join(windows) or empty_window}", b)
    ctx.run(
        "create or replace temp table _caps (journey varchar, channel varchar, max integer, "
        "per interval, scope varchar, label varchar)"
    )
    ctx.run(f"insert into _caps {' union all '.join(caps) or empty_cap}", b)


def decide_sends(ctx: TickContext) -> bool:
    """Decide every held send; False when there were none."""
    if not ctx.held_sends:
        return False
    ctx.held_sends = 0
    _rules(ctx)
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    local = local_time_sql(as_of, "coalesce(z.name, win.fallback)")
    next_start = utc_time_sql(
        "(case when s.day_start <= s.local_now then s.day_start + interval 1 day "
        "else s.day_start end)",
        "s.zone",
    )
    longest = ctx.scalar("select max(per) from _caps") or timedelta(0)
    erased = erased_customers_sql(ctx.con, catalog=ctx.tables.catalog, among="_sends")
    ctx.run(f"create or replace temp table _erased as select customer_id from {erased} as e")
    ctx.run(
        f"""
        create or replace temp table _decided as
        with s as (
            select s.*, s.journey || ':' || s.instance_id || ':' || s.step_id as idempotency_key,
                s.customer_id in (select customer_id from _erased) as erased,
                c.customer_id is not null as known, c.email is not null as has_email,
                c.phone is not null as has_phone, {CONSENT} as consent,
                win.journey is not null as has_window, win.start_min, win.end_min,
                coalesce(z.name, win.fallback) as zone, {local} as local_now,
                date_trunc('day', {local}) + to_minutes(cast(win.start_min as bigint))
                    as day_start
            from _sends as s
            left join _customers as c on c.customer_id = s.customer_id
            left join _zones as z on z.name = c.timezone
            left join _windows as win on win.journey = s.journey
        ),
        checked as (
            select s.*,
                case
                    when s.erased then '{ERASURE_REASON}'
                    when s.idempotency_key in (select idempotency_key from {ctx.tables.outbox})
                        then 'already_sent'
                    when not s.known then 'unknown_customer'
                    when s.channel = 'email' and not s.has_email then 'no_address'
                    when s.channel = 'sms' and not s.has_phone then 'no_address'
                    when s.purpose <> 'transactional'
                        and coalesce(s.consent, 'unknown') <> 'granted'
                        then 'no_consent:' || coalesce(s.consent, 'unknown')
                end as drop_reason,
                case when not s.has_window then true
                    when s.start_min < s.end_min then
                        hour(s.local_now) * 60 + minute(s.local_now) >= s.start_min
                        and hour(s.local_now) * 60 + minute(s.local_now) < s.end_min
                    else hour(s.local_now) * 60 + minute(s.local_now) >= s.start_min
                        or hour(s.local_now) * 60 + minute(s.local_now) < s.end_min
                end as in_window,
                case when s.has_window then {next_start} end as window_opens
            from s
        ),
        taken as (
            select customer_id, channel, journey from _outbox_new group by all
        ),
        contenders as (
            select k.*,
                first_value(k.journey) over (
                    partition by k.customer_id, k.channel order by k.priority desc, k.journey
                ) as winner,
                t.taken_by
            from checked as k
            left join (
                select k2.instance_id, min(t.journey) as taken_by
                from checked as k2
                inner join taken as t on t.customer_id = k2.customer_id
                    and t.channel = k2.channel and t.journey <> k2.journey
                group by k2.instance_id
            ) as t on t.instance_id = k.instance_id
            where k.drop_reason is null and k.in_window
        ),
        winners as (
            select *, row_number() over (
                partition by customer_id, channel order by entered_at, instance_id
            ) as rank_in_tick
            from contenders where taken_by is null and winner = journey
        ),
        recent as (
            select customer_id, channel, journey, queued_at from {ctx.tables.outbox}
            where queued_at > {as_of} - {b.interval(longest)}
                and state not in ('dropped', 'failed')
                and customer_id in (select customer_id from winners)
            union all
            select customer_id, channel, journey, queued_at from _outbox_new
        ),
        capped as (
            select instance_id, min(label) as cap_label
            from (
                select w.instance_id, cap.label, cap.max, w.rank_in_tick,
                    count(r.customer_id) as used
                from winners as w
                inner join _caps as cap on cap.journey = w.journey and cap.channel = w.channel
                left join recent as r on r.customer_id = w.customer_id and r.channel = w.channel
                    and (cap.scope = 'global' or r.journey = w.journey)
                    and r.queued_at > {as_of} - cap.per
                group by all
            )
            where rank_in_tick + used > max
            group by instance_id
        )
        select k.instance_id, k.journey, k.step_id, k.customer_id, k.channel, k.destination,
            k.template, k.purpose, k.idempotency_key, k.window_opens,
            case when k.drop_reason is not null then 'dropped'
                when not k.in_window then 'delayed'
                when p.taken_by is not null or p.winner <> p.journey then 'dropped'
                when x.instance_id is not null then 'dropped'
                else 'send' end as decision,
            coalesce(k.drop_reason, case when not k.in_window then 'quiet_hours' end,
                case when p.taken_by is not null or p.winner <> p.journey then 'priority' end,
                case when x.instance_id is not null then 'frequency_cap' end) as reason,
            case when not k.in_window and k.drop_reason is null
                    then 'until ' || strftime(k.window_opens, '%Y-%m-%d %H:%M:%S')
                when p.taken_by is not null then p.taken_by
                when p.winner <> p.journey then p.winner
                else x.cap_label end as detail
        from checked as k
        left join contenders as p on p.instance_id = k.instance_id
        left join capped as x on x.instance_id = k.instance_id
        """,
        b,
    )
    _render(ctx)
    _record(ctx)
    ctx.run("delete from _sends")
    ctx.run("drop table _decided")
    ctx.run("drop table _erased")
    crash.point("tick.after_sends")
    return True


def _render(ctx: TickContext) -> None:
    renderer = Renderer(ctx)
    rows = {name: [] for name in ("key", "payload", "instance_id")}
    failed: dict[str, list] = {"instance_id": [], "error": []}
    for row in context_rows(
        ctx, "select instance_id, step_id from _decided where decision = 'send'"
    ):
        try:
            payload = payload_json(renderer.message(row))
        except Exception as error:  # one customer's bad data must not stop everyone's sends
            failed["instance_id"].append(row.instance_id)
            failed["error"].append(error_text(error))
            continue
        rows["instance_id"].append(row.instance_id)
        rows["payload"].append(payload)
    ctx.run("create or replace temp table _rendered (instance_id varchar, payload varchar)")
    ctx.insert_columns(
        "_rendered",
        {"instance_id": ("varchar", rows["instance_id"]), "payload": ("varchar", rows["payload"])},
    )
    ctx.insert_columns(
        "_render_failures",
        {"instance_id": ("varchar", failed["instance_id"]), "error": ("varchar", failed["error"])},
    )
    ctx.run(
        """
        update _decided set decision = 'dropped', reason = 'render_error', detail = f.error
        from _render_failures as f
        where _decided.instance_id = f.instance_id and _decided.decision = 'send'
        """
    )
    b = Binder()
    if ctx.count(
        f"""
        insert into _outbox_new
        select d.idempotency_key, d.customer_id, d.channel, d.destination, d.template, d.purpose,
            cast(r.payload as json), d.journey, d.instance_id, d.step_id, w.variant,
            {b.timestamp(ctx.as_of)}
        from _decided as d
        inner join _rendered as r on r.instance_id = d.instance_id
        inner join _work as w on w.instance_id = d.instance_id
        """,
        b,
    ):
        ctx.written.add("_outbox_new")
    ctx.run("drop table _rendered")


def _record(ctx: TickContext) -> None:
    """Sent and dropped sends move on at the tick's time; delayed ones wait for the window."""
    ctx.pending_moves += ctx.count(
        """
        insert into _moves (instance_id, from_step, outcome, next_due_at, action, reason,
            disposition, detail, clock)
        select instance_id, step_id, 'stay', window_opens, 'suppressed', reason, 'delayed',
            detail, window_opens
        from _decided where decision = 'delayed'
        """
    )
    groups = ctx.run(
        "select distinct journey, step_id from _decided where decision <> 'delayed' order by all"
    ).fetchall()
    for journey, step_id in groups:
        b = Binder()
        select = f"""
            select instance_id, 'next' as label, {b.timestamp(ctx.as_of)} as clock,
                null::timestamp as due,
                case decision when 'send' then 'sent' else 'suppressed' end as action,
                reason, case decision when 'send' then idempotency_key else detail end as detail,
                null::varchar as variant, null::varchar as holdout_group,
                case decision when 'dropped' then 'dropped' end as disposition,
                null::varchar as forced_exit
            from _decided
            where journey = {b.bind(journey)} and step_id = {b.bind(step_id)}
                and decision <> 'delayed'
        """
        route_moves(ctx, ctx.plans[journey], step_id, select, b)
    apply_moves(ctx)
