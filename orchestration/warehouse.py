"""One writer at a time: the Dagster pool every warehouse-writing asset belongs to.

DuckDB lets one process open a database file for writing; a second writer fails with "Could not
set lock on file". Every asset that writes the warehouse declares `pool=WAREHOUSE_POOL`, and the
instance (orchestration/instance/dagster.yaml) enforces pools per run (`granularity: run`) with
one slot: the run queue starts a run that holds any warehouse asset only when no other such run
is in progress, whoever launched it (schedule, sensor, a job or a bare asset materialization in
the UI). A pool, not a run tag, because ad-hoc materializations from the asset graph carry no job
tags but always contain the assets' ops.
"""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg

WAREHOUSE_POOL = "waymark_warehouse"
WAREHOUSE_POOL_LIMIT = 1

# Statuses of a run whose worker is (or was) running; QUEUED runs have no process yet.
_IN_PROGRESS = [
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]


class WarehouseResource(dg.ConfigurableResource):
    """A resource that reads or writes the warehouse file: `warehouse` when configured (tests),
    else `$WAYMARK_WAREHOUSE` of the process that runs the step (`make ui` sets it).

    Read when a run uses it rather than through a required `dg.EnvVar`: Dagster resolves an
    `EnvVar` while validating a run's config, also in a process that only launches the run
    (`dagster job launch` from a shell), which would refuse the run for a variable only the run
    needs.
    """

    warehouse: str | None = None

    def warehouse_path(self) -> Path:
        chosen = self.warehouse or os.environ.get("WAYMARK_WAREHOUSE")
        if not chosen:
            raise dg.Failure(
                description="WAYMARK_WAREHOUSE is not set where this run executes: `make ui` "
                "sets it from WAYMARK_HOME; elsewhere set it in the environment or in .env"
            )
        return Path(chosen)


def set_warehouse_pool_limit(instance: dg.DagsterInstance) -> None:
    """Store the pool's limit before the daemon first sees a queued run.

    `pools.default_limit` alone is not enough: the queue daemon reads the configured pools at
    the start of an iteration and only then creates a default-limited pool for a name it has not
    seen, so on a fresh instance the first batch of queued runs would all start together.
    """
    instance.event_log_storage.set_concurrency_slots(WAREHOUSE_POOL, WAREHOUSE_POOL_LIMIT)


def fail_abandoned_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark runs left in progress by a previous session as failed; returns their ids.

    Call only while no Dagster process serves this instance (the `make ui` wrapper holds a lock
    on DAGSTER_HOME). A run worker killed with its session never reports an end, and with
    run-level pools an in-progress run keeps the warehouse slot, so without this one unclean stop
    would block every later warehouse run.
    """
    abandoned = instance.get_runs(dg.RunsFilter(statuses=_IN_PROGRESS))
    for run in abandoned:
        instance.report_run_failed(
            run,
            "The Dagster session that ran this run stopped before it finished; "
            "marked failed at the next start so the warehouse pool is free again.",
        )
    return [run.run_id for run in abandoned]
