"""Writing a tick's results to the journey tables: once, at the end, in the tick's transaction.

Each write is set-based from the scratch tables. Step log rows get their `seq` here: the
instance's previous count plus their order in this tick.
"""

from __future__ import annotations

from waymark.core import crash
from waymark.journeys.engine.context import TickContext
from waymark.journeys.engine.sql import Binder
from waymark.journeys.engine.state import INSTANCE_COLUMNS
from waymark.journeys.engine.versions import write_versions

INSTANCE_NAMES = [line.split()[0] for line in INSTANCE_COLUMNS.strip().splitlines() if line.strip()]


def prepare_writes(ctx: TickContext) -> None:
    """Number the transitions and settle `_work` (scratch tables only)."""
    b = Binder()
    as_of = b.timestamp(ctx.as_of)
    ctx.run(
        """
        create or replace temp table _log_final as
        select l.*, w.journey, w.customer_id,
            w.base_transitions + row_number() over (
                partition by l.instance_id order by l.batch
            ) as seq
        from _log as l inner join _work as w on w.instance_id = l.instance_id
        """
    )
    logged = ctx.scalar("select count(*) from _log_final")
    ctx.rebuild_work(
        f"""
        select w.* replace (
            coalesce(n.last_seq, w.transitions) as transitions,
            w.dirty or n.last_seq is not null as dirty,
            case when w.dirty or n.last_seq is not null then {as_of} else w.updated_at end
                as updated_at
        )
        from _work as w
        left join (select instance_id, max(seq) as last_seq from _log_final group by 1) as n
            on n.instance_id = w.instance_id
        """,
        b,
    )
    ctx.logged = int(logged or 0)


def write_results(ctx: TickContext) -> None:
    """Every write to the journey tables, inside the caller's transaction."""
    t, b = ctx.tables, Binder()
    as_of = b.timestamp(ctx.as_of)
    logged = ctx.logged
    crash.point("tick.before_write")
    names = ", ".join(INSTANCE_NAMES)
    ctx.run(f"insert into {t.instances} ({names}) select {names} from _work where is_new")
    updates = ", ".join(f"{n} = w.{n}" for n in INSTANCE_NAMES if n != "instance_id")
    ctx.run(
        f"update {t.instances} as i set {updates} from _work as w "
        "where i.instance_id = w.instance_id and w.dirty and not w.is_new"
    )
    crash.point("tick.after_instances")
    if logged:
        ctx.run(
            f"""
            insert into {t.step_log} (journey, instance_id, seq, customer_id, step_id, action,
                reason, disposition, next_step, detail, occurred_at, tick_as_of)
            select journey, instance_id, seq, customer_id, step_id, action, reason,
                disposition, next_step, detail, occurred_at, {as_of}
            from _log_final
            """,
            b,
        )
    crash.point("tick.after_step_log")
    if "_outbox_new" in ctx.written:
        ctx.run(
            f"""
            insert into {t.outbox} (idempotency_key, customer_id, channel, destination,
                template, purpose, payload, state, journey, instance_id, step_id, variant,
                queued_at)
            select idempotency_key, customer_id, channel, destination, template, purpose,
                payload, 'pending', journey, instance_id, step_id, variant, queued_at
            from _outbox_new
            """
        )
    crash.point("tick.after_outbox")
    if "_profile_new" in ctx.written:
        ctx.run(
            f"""
            insert or replace into {t.attributes}
            select customer_id, attribute, value, journey, instance_id, step_id, {as_of}
            from _profile_new
            qualify row_number() over (
                partition by customer_id, attribute order by batch desc, instance_id desc
            ) = 1
            """,
            b,
        )
    if "_tags_new" in ctx.written:
        ctx.run(
            f"""
            insert or ignore into {t.tags}
            select customer_id, tag, journey, instance_id, step_id, {as_of}
            from _tags_new
            qualify row_number() over (
                partition by customer_id, tag order by batch, instance_id
            ) = 1
            """,
            b,
        )
    crash.point("tick.after_profiles")
    if ctx.plans:
        w = Binder()
        ctx.run(
            f"""
            insert into {t.watermarks}
            select unnest(cast({w.bind(sorted(ctx.plans))} as varchar[])),
                {w.timestamp(ctx.as_of)}, {w.timestamp(ctx.as_of)}
            on conflict (journey) do update set last_tick_as_of = excluded.last_tick_as_of
            """,
            w,
        )
    write_versions(ctx)
    crash.point("tick.after_watermarks")
