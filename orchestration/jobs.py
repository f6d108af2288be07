"""Jobs that write the warehouse and the schedules that start them.

Both jobs select the dbt project and everything downstream of it, so a Python asset that
depends on a dbt model (journeys, activations) joins them without editing this file. Each run
evaluates time rules as of its `waymark/as_of` tag (orchestration/as_of.py); a schedule sets it
to the tick's scheduled time, so a late or re-executed tick computes what it would have on time.
"""

from __future__ import annotations

import dagster as dg

from orchestration.as_of import as_of_tags
from orchestration.dbt import DbtBuildConfig, waymark_dbt_models

WAREHOUSE_ASSETS = dg.AssetSelection.assets(waymark_dbt_models).downstream()

warehouse_refresh = dg.define_asset_job(
    "warehouse_refresh",
    selection=WAREHOUSE_ASSETS,
    description=(
        "Incremental refresh: newly landed files → staging → identity → customer view → "
        "audiences, then every asset downstream of them."
    ),
)

warehouse_full_refresh = dg.define_asset_job(
    "warehouse_full_refresh",
    selection=WAREHOUSE_ASSETS,
    description=(
        "Rebuild every model from all landed files (`dbt build --full-refresh`); models marked "
        "`full_refresh: false` (customer_id_history) keep their history."
    ),
    config=dg.RunConfig(ops={waymark_dbt_models.op.name: DbtBuildConfig(full_refresh=True)}),
)

WAREHOUSE_JOBS = (warehouse_refresh.name, warehouse_full_refresh.name)


def queued_warehouse_runs(instance: dg.DagsterInstance) -> int:
    """Warehouse runs waiting in the queue (not yet started)."""
    return sum(
        instance.get_runs_count(dg.RunsFilter(job_name=name, statuses=[dg.DagsterRunStatus.QUEUED]))
        for name in WAREHOUSE_JOBS
    )


@dg.schedule(
    job=warehouse_refresh,
    cron_schedule="*/15 * * * *",
    execution_timezone="UTC",
    description="Every 15 minutes: pick up newly landed files and re-evaluate audiences.",
)
def warehouse_refresh_every_15_minutes(
    context: dg.ScheduleEvaluationContext,
) -> dg.RunRequest | dg.SkipReason:
    # Runs that write the warehouse go one at a time. A refresh still waiting in the queue will
    # read every file landed before it starts, so another one behind it adds nothing, and when
    # builds outlast the interval the queue would otherwise grow without end.
    waiting = queued_warehouse_runs(context.instance)
    if waiting:
        return dg.SkipReason(f"{waiting} warehouse run(s) already queued; they will catch up.")
    return dg.RunRequest(tags=as_of_tags(context.scheduled_execution_time))


@dg.schedule(
    job=warehouse_full_refresh,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Nightly at 02:00 UTC: rebuild everything from the landed files.",
)
def warehouse_full_refresh_nightly(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    return dg.RunRequest(tags=as_of_tags(context.scheduled_execution_time))
