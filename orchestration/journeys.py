"""Journey evaluation as a Dagster asset: one engine tick per warehouse refresh.

`journey_tick` depends on the dbt models the engine reads (the customer view, the event timeline,
audience memberships and every audience model, whose builds write the membership history the
view shows), so it runs after dbt in both warehouse jobs, at the run's `as_of`. It writes the
warehouse, so it is in the one-writer pool. The logic is `waymark.journeys.engine.tick`; this
module only wires it up and reports what the tick did.
"""

import dagster as dg
import duckdb
from dagster_dbt import get_asset_key_for_model

from orchestration.as_of import run_as_of
from orchestration.dbt import waymark_dbt_models
from orchestration.warehouse import WAREHOUSE_POOL, WarehouseResource
from waymark.core.home import PROJECT_ROOT
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import load_manifest

READ_MODELS = ("customers", "customer_events", "audience_memberships")


def audience_models() -> list[str]:
    """The audience models (the `audiences` layer) from the prepared manifest."""
    manifest = load_manifest()
    return sorted(
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["fqn"][1:2] == ["audiences"]
    )


class JourneyEngine(WarehouseResource):
    """Where the engine reads journeys from and which warehouse it ticks."""

    journeys: str = str(PROJECT_ROOT / "journeys")


def journey_maps_markdown(journeys: list, counts: dict | None = None) -> str:
    """One Mermaid block per journey, with live counts when given."""
    from waymark.journeys.engine.journey_map import mermaid

    blocks = []
    for journey in journeys:
        text = mermaid(journey, counts.get(journey.name) if counts else None)
        blocks.append(f"#### {journey.name}\n\n```mermaid\n{text}```")
    return "\n\n".join(blocks)


def _description() -> str:
    summary = (
        "One tick of the journey engine as of the run's `as_of`: enrols entrants, advances due "
        "instances, applies exits and goals, and writes sends to `journeys.journey_outbox` "
        "(state in `journeys.journey_instances` and `journeys.journey_step_log`)."
    )
    from waymark.core.errors import ConfigError
    from waymark.journeys.loading import load_journeys

    try:
        journeys = load_journeys(PROJECT_ROOT / "journeys")
    except ConfigError as error:
        return f"{summary}\n\nThe journey files have problems:\n\n```\n{error}\n```"
    return f"{summary}\n\n### Journey maps\n\n{journey_maps_markdown(journeys)}"


@dg.asset(
    deps=[
        get_asset_key_for_model([waymark_dbt_models], name)
        for name in (*READ_MODELS, *audience_models())
    ],
    group_name="journeys",
    pool=WAREHOUSE_POOL,  # it writes the warehouse
    kinds={"python", "duckdb"},
    description=_description(),
)
def journey_tick(
    context: dg.AssetExecutionContext, journey_engine: JourneyEngine
) -> dg.MaterializeResult:
    """Every journey advanced to the run's as_of; metadata counts what this tick did."""
    from waymark.journeys.engine import open_project, tick
    from waymark.journeys.engine.journey_map import read_counts
    from waymark.journeys.engine.state import Tables
    from waymark.journeys.project import ProjectPaths

    as_of = run_as_of(context)
    report = open_project(ProjectPaths.for_journeys(journey_engine.journeys))
    with duckdb.connect(str(journey_engine.warehouse_path())) as con:
        result = tick(con, report.journeys, report.project, as_of)
        counts = {j.name: read_counts(con, j.name, Tables()) for j in report.journeys}
    context.log.info(f"journeys tick as of {format_instant(as_of)}: {result.summary()}")
    return dg.MaterializeResult(
        metadata={
            "as_of": format_instant(as_of),
            "journeys": result.journeys,
            "entered": result.entered,
            "advanced": result.advanced,
            "sent_to_outbox": result.sent,
            "suppressed": sum(result.suppressed.values()),
            "suppressed_by_reason": dg.MetadataValue.json(dict(result.suppressed)),
            "delayed": result.delayed,
            "exited": sum(result.exited.values()),
            "exited_by_reason": dg.MetadataValue.json(dict(result.exited)),
            "converted": result.converted,
            "instances_looked_at": result.looked_at,
            "deployed": dg.MetadataValue.json(dict(sorted(result.deployed.items()))),
            "journey_maps": dg.MetadataValue.md(journey_maps_markdown(report.journeys, counts)),
        }
    )
