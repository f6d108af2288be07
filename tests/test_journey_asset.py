"""The `journey_tick` Dagster asset: runs a tick at the run's as_of against the configured
warehouse, reports what it did as metadata, and shows the journey maps."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.as_of import AS_OF_TAG
from waymark.warehouse.manifest import prepare_manifest


@pytest.fixture(scope="module")
def journey_asset():
    prepare_manifest()
    from orchestration.journeys import JourneyEngine, journey_tick

    return journey_tick, JourneyEngine


def test_the_asset_ticks_at_the_runs_as_of_and_reports_counts(
    journey_asset, demo_warehouse: Path, tmp_path: Path
) -> None:
    journey_tick, engine = journey_asset
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    resources = {"journey_engine": engine(warehouse=str(warehouse))}
    with dg.instance_for_test() as instance:
        result = dg.materialize(
            [journey_tick],
            resources=resources,
            instance=instance,
            tags={AS_OF_TAG: "2026-06-10 09:00:00"},
        )
        again = dg.materialize(
            [journey_tick],
            resources=resources,
            instance=instance,
            tags={AS_OF_TAG: "2026-06-10 09:00:00"},
        )
    assert result.success and again.success
    [event] = result.get_asset_materialization_events()
    metadata = {key: value.value for key, value in event.materialization.metadata.items()}
    assert metadata["as_of"] == "2026-06-10 09:00:00"
    assert metadata["entered"] > 0 and metadata["journeys"] >= 6
    for key in ("advanced", "sent_to_outbox", "suppressed", "exited", "converted"):
        assert isinstance(metadata[key], int)
    assert isinstance(metadata["suppressed_by_reason"], dict)
    assert "```mermaid" in metadata["journey_maps"] and "entered" in metadata["journey_maps"]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        instances = con.execute("select count(*) from journeys.journey_instances").fetchone()[0]
        outbox = con.execute("select count(*) from journeys.journey_outbox").fetchone()[0]
    assert instances == metadata["entered"] and outbox == metadata["sent_to_outbox"]
    # The same as_of again (a re-execution copies the tag) finds nothing new.
    [repeat] = again.get_asset_materialization_events()
    assert repeat.materialization.metadata["entered"].value == 0


def test_the_description_shows_every_journey_map(journey_asset) -> None:
    journey_tick, _ = journey_asset
    description = journey_tick.descriptions_by_key[dg.AssetKey("journey_tick")]
    for name in ("cart_abandonment", "welcome_series", "vip_ads", "repeat_caller"):
        assert f"#### {name}" in description
    assert description.count("```mermaid") >= 6
