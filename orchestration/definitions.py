"""The Waymark code location, assembled from one module per concern."""

import dagster as dg

from orchestration.activations import activation_definitions
from orchestration.dbt import dbt_resource, landed_source_specs, waymark_dbt_models
from orchestration.jobs import (
    warehouse_full_refresh,
    warehouse_full_refresh_nightly,
    warehouse_refresh,
    warehouse_refresh_every_15_minutes,
)
from orchestration.journeys import JourneyEngine, journey_tick
from orchestration.sensors import LandingZone, new_landed_files

defs = dg.Definitions(
    assets=[*landed_source_specs(), waymark_dbt_models, journey_tick],
    jobs=[warehouse_refresh, warehouse_full_refresh],
    schedules=[warehouse_refresh_every_15_minutes, warehouse_full_refresh_nightly],
    sensors=[new_landed_files],
    resources={
        "dbt": dbt_resource(),
        "landing": LandingZone(data_dir=dg.EnvVar("WAYMARK_DATA_DIR")),
        "journey_engine": JourneyEngine(),
    },
    # One process, one step at a time: on 2 cores the in-process executor runs dbt + Python
    # jobs about twice as fast as the multiprocess default, and DuckDB allows one writer.
    executor=dg.in_process_executor,
)

# Syncs (one asset per syncs/*.yml), journey sends and alerts, with their own resources.
defs = dg.Definitions.merge(defs, activation_definitions())
