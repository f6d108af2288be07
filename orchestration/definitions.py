"""The Waymark code location, assembled from one module per concern."""

import dagster as dg

from orchestration.dbt import dbt_resource, waymark_dbt_models

defs = dg.Definitions(
    assets=[waymark_dbt_models],
    resources={"dbt": dbt_resource()},
    # One process, one step at a time: on 2 cores the in-process executor runs dbt + Python
    # jobs about twice as fast as the multiprocess default, and DuckDB allows one writer.
    executor=dg.in_process_executor,
)
