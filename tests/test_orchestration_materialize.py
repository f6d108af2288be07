"""The whole asset graph materialized through Dagster on the demo data, and the nightly full
refresh job, each against a temporary warehouse."""

import importlib
import json
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.as_of import AS_OF_TAG
from waymark.core.home import DEMO_AS_OF, DEMO_DATA_DIR
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import prepare_manifest


@dataclass
class Warehouse:
    data_dir: Path
    path: Path
    dbt_target: Path

    @contextmanager
    def environment(self) -> Iterator[None]:
        """What `make ui` sets for the Dagster processes; dbt reads it in its subprocess."""
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("WAYMARK_DATA_DIR", str(self.data_dir))
            patch.setenv("WAYMARK_WAREHOUSE", str(self.path))
            patch.setenv("DBT_TARGET_PATH", str(self.dbt_target))
            # Relative destination paths (the files sync's export folder) land beside the data.
            patch.chdir(self.path.parent)
            yield

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.path), read_only=True) as con:
            return con.execute(sql).fetchall()

    def dbt_results(self) -> list[dict]:
        """Every node result of every dbt invocation so far (each has its own target folder)."""
        results = []
        for path in sorted(self.dbt_target.glob("*/run_results.json")):
            results += json.loads(path.read_text())["results"]
        return results


def copy_demo(root: Path) -> Warehouse:
    data_dir = root / "data"
    shutil.copytree(DEMO_DATA_DIR, data_dir, ignore=shutil.ignore_patterns("_truth"))
    return Warehouse(data_dir, root / "warehouse.duckdb", root / "dbt")


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    prepare_manifest()
    definitions = importlib.import_module("orchestration.definitions").defs
    definitions.get_repository_def()
    return definitions


@pytest.fixture(scope="module")
def materialized(
    defs: dg.Definitions, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Warehouse, dg.ExecuteInProcessResult]:
    """Every asset of the code location, built from nothing as of the demo's end."""
    warehouse = copy_demo(tmp_path_factory.mktemp("materialized"))
    with warehouse.environment(), dg.instance_for_test() as instance:
        result = dg.materialize(
            list(defs.assets or []),
            resources=defs.resources,
            instance=instance,
            tags={AS_OF_TAG: format_instant(DEMO_AS_OF)},
            raise_on_error=False,
        )
    return warehouse, result


def test_whole_graph_materializes_what_can_run_and_its_checks_say_what_did_not(
    defs: dg.Definitions, materialized: tuple[Warehouse, dg.ExecuteInProcessResult]
) -> None:
    """No destination credentials are set here: every asset materializes and every check passes
    except the activations whose destination is not configured, which are not materialized and
    fail only `destination_configured` (WARN), leaving the run green."""
    warehouse, result = materialized
    assert result.success
    graph = defs.resolve_asset_graph()
    evaluations = result.get_asset_check_evaluations()
    unconfigured = {
        e.asset_key
        for e in evaluations
        if e.check_name == "destination_configured" and not e.passed
    }
    assert dg.AssetKey(["syncs", "customers_to_support_db"]) in unconfigured
    assert {key.path[0] for key in unconfigured} <= {"syncs", "journey_sends"}
    materialized_keys = {event.asset_key for event in result.get_asset_materialization_events()}
    assert materialized_keys == set(graph.materializable_asset_keys) - unconfigured
    assert dg.AssetKey(["syncs", "vip_lookalike_seed_export"]) in materialized_keys  # no secrets
    # A check without a run of its own is not evaluated: the rejected share of what did not run.
    not_judged = {dg.AssetCheckKey(key, "rejected_share_within_threshold") for key in unconfigured}
    assert {e.asset_check_key for e in evaluations} == set(graph.asset_check_keys) - not_judged
    failed = [e for e in evaluations if not e.passed]
    assert {(e.check_name, e.severity) for e in failed} == {
        ("destination_configured", dg.AssetCheckSeverity.WARN)
    }
    # The run's as_of reached dbt, and dbt unit tests stayed out of the run.
    assert warehouse.query("select distinct as_of from marts.customer_id_history") == [
        (datetime(2026, 6, 30),)
    ]
    ran = [result["unique_id"] for result in warehouse.dbt_results()]
    assert any(unique_id.startswith("test.") for unique_id in ran)
    assert [unique_id for unique_id in ran if unique_id.startswith("unit_test.")] == []


def test_full_refresh_rebuilds_from_the_files_and_keeps_the_id_history(
    defs: dg.Definitions,
    materialized: tuple[Warehouse, dg.ExecuteInProcessResult],
    tmp_path: Path,
) -> None:
    built, _ = materialized
    warehouse = Warehouse(tmp_path / "data", tmp_path / "warehouse.duckdb", tmp_path / "dbt")
    shutil.copytree(built.data_dir, warehouse.data_dir)
    shutil.copy(built.path, warehouse.path)
    # A landed file withdrawn: its rows leave.
    withdrawn = sorted((warehouse.data_dir / "events").iterdir())[-1]
    withdrawn.unlink()
    history_before = warehouse.query(
        "select build_id, count(*) from marts.customer_id_history group by 1 order by 1"
    )
    files_before = warehouse.query(
        "select count(distinct _source_file) from staging.base_events__segment"
    )[0][0]

    job = defs.resolve_job_def("warehouse_full_refresh")
    with warehouse.environment(), dg.instance_for_test() as instance:
        result = job.execute_in_process(
            instance=instance,
            tags={AS_OF_TAG: format_instant(DEMO_AS_OF)},
            asset_selection=[
                dg.AssetKey(["staging", "base_events__segment"]),
                dg.AssetKey(["marts", "customer_id_history"]),
            ],
        )

    assert result.success
    loaded = [
        row[0]
        for row in warehouse.query("select distinct _source_file from staging.base_events__segment")
    ]
    assert len(loaded) == files_before - 1
    assert all(Path(path).parent == Path("events") for path in loaded)
    assert f"events/{withdrawn.name}" not in loaded
    # customer_id_history is `full_refresh: false`: the earlier builds' rows survive.
    assert (
        warehouse.query(
            "select build_id, count(*) from marts.customer_id_history group by 1 order by 1"
        )
        == history_before
    )
