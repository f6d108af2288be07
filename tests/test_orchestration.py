"""The Dagster code location: loads from a prepared manifest, groups assets by dbt layer, keeps
every warehouse asset in the one-writer pool, and matches the committed asset graph snapshot.

Regenerate the snapshot after an intended graph change with
    WAYMARK_UPDATE_SNAPSHOT=1 .venv/bin/pytest tests/test_orchestration.py
and review its diff like code.
"""

from __future__ import annotations

import difflib
import importlib
import json
import os
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from waymark.warehouse.manifest import load_manifest, prepare_manifest

SNAPSHOT_PATH = Path(__file__).parent / "snapshots" / "asset_graph.json"
UPDATE_SNAPSHOT_ENV = "WAYMARK_UPDATE_SNAPSHOT"


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    prepare_manifest()
    return importlib.import_module("orchestration.definitions").defs


def describe_definitions(defs: dg.Definitions) -> dict[str, Any]:
    """What a reviewer should see change: assets with group, deps, checks, pools and jobs;
    jobs, schedules and sensors with what starts them."""
    graph = defs.resolve_asset_graph()
    jobs = [job for job in defs.resolve_all_job_defs() if not job.name.startswith("__")]
    keys_by_job = {job.name: set(job.asset_layer.executable_asset_keys) for job in jobs}
    checks: dict[dg.AssetKey, list[str]] = {}
    for check_key in graph.asset_check_keys:
        checks.setdefault(check_key.asset_key, []).append(check_key.name)
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "group": node.group_name,
            "materializable": node.is_materializable,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "checks": sorted(checks.get(key, [])),
            "pools": sorted(node.pools or []),
            "jobs": sorted(name for name, keys in keys_by_job.items() if key in keys),
        }
    schedules = {
        schedule.name: {
            "cron": schedule.cron_schedule,
            "timezone": schedule.execution_timezone,
            "job": schedule.job_name,
            "default_status": schedule.default_status.value,
        }
        for schedule in defs.schedules or []
    }
    sensors = {}
    for unresolved in defs.sensors or []:
        sensor = defs.resolve_sensor_def(unresolved.name)
        sensors[sensor.name] = {
            # Alert sensors watch runs and schedules and start no job.
            "job": sensor.job_name if sensor.has_jobs else None,
            "minimum_interval_seconds": sensor.minimum_interval_seconds,
            "default_status": sensor.default_status.value,
            "resources": sorted(sensor.required_resource_keys),
        }
    return {
        "assets": assets,
        "jobs": {
            job.name: {
                "assets": len(keys_by_job[job.name]),
                "op_config": {
                    op: values.get("config")
                    for op, values in (job.run_config or {}).get("ops", {}).items()
                },
                "tags": dict(job.run_tags),
            }
            for job in jobs
        },
        "schedules": schedules,
        "sensors": sensors,
    }


def test_code_location_groups_dbt_models_by_layer(defs: dg.Definitions) -> None:
    graph = defs.resolve_asset_graph()
    groups = {key.path[-1]: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["customer_identifiers"] == "marts"
    assert groups["int_identity__clusters"] == "intermediate"
    assert groups["stg_events__segment"] == "staging"
    assert groups["cart_abandoners"] == "audiences"
    assert groups["identifier_blocklist"] == "config"
    assert groups["orders"] == "sources"
    check_names = {key.name for key in graph.asset_check_keys}
    assert any(name.startswith("unique_") for name in check_names)


def test_every_asset_the_jobs_write_holds_the_warehouse_pool(defs: dg.Definitions) -> None:
    from orchestration.warehouse import WAREHOUSE_POOL

    graph = defs.resolve_asset_graph()
    refresh = set(defs.resolve_job_def("warehouse_refresh").asset_layer.executable_asset_keys)
    full = set(defs.resolve_job_def("warehouse_full_refresh").asset_layer.executable_asset_keys)
    assert refresh == full == set(graph.materializable_asset_keys)
    # A Python asset added downstream (journeys, activations) that forgets `pool=` fails here:
    # it would write the DuckDB file while a dbt build holds it.
    without_pool = sorted(
        key.to_user_string() for key in refresh if graph.get(key).pools != {WAREHOUSE_POOL}
    )
    assert without_pool == []


def test_dbt_build_excludes_unit_tests_and_passes_as_of() -> None:
    from orchestration.dbt import dbt_build_args

    args = dbt_build_args("2026-06-30 00:15:00", full_refresh=False)
    assert args[:3] == ["build", "--exclude-resource-type", "unit_test"]
    assert json.loads(args[args.index("--vars") + 1]) == {"as_of": "2026-06-30 00:15:00"}
    assert "--full-refresh" not in args
    assert dbt_build_args("2026-06-30 02:00:00", full_refresh=True)[-1] == "--full-refresh"


# Singular dbt tests that read several models, and the model each protects.
PROTECTED_BY_SINGULAR_TESTS = {
    "assert_identity_components_converged": "int_identity__components",
    "assert_customer_events_nothing_lost": "customer_events",
    "assert_customers_golden_contact_is_own_identifier": "customers",
    "assert_lifecycle_one_current_stage_per_customer": "lifecycle_stage_history",
    "assert_audience_history_transitions": "audience_memberships",
}


def test_singular_dbt_tests_are_asset_checks_on_the_model_they_protect(
    defs: dg.Definitions,
) -> None:
    """Not observations: every singular test of the project is a check on one model."""
    graph = defs.resolve_asset_graph()
    attached = {key.name: key.asset_key.path[-1] for key in graph.asset_check_keys}
    found = {name: attached.get(name) for name in PROTECTED_BY_SINGULAR_TESTS}
    assert found == PROTECTED_BY_SINGULAR_TESTS
    manifest = load_manifest(prepare_manifest())
    singular = {
        node["name"]
        for node in manifest["nodes"].values()
        if node["resource_type"] == "test" and not node.get("attached_node")
    }
    assert len(singular) >= 10
    assert sorted(name for name in singular if name not in attached) == []


def test_asset_graph_matches_snapshot(defs: dg.Definitions) -> None:
    current = json.dumps(describe_definitions(defs), indent=2, sort_keys=True) + "\n"
    if os.environ.get(UPDATE_SNAPSHOT_ENV):
        SNAPSHOT_PATH.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT_PATH.write_text(current)
        return
    committed = SNAPSHOT_PATH.read_text() if SNAPSHOT_PATH.exists() else ""
    if current != committed:
        diff = "".join(
            difflib.unified_diff(
                committed.splitlines(keepends=True),
                current.splitlines(keepends=True),
                fromfile=f"{SNAPSHOT_PATH.name} (committed)",
                tofile=f"{SNAPSHOT_PATH.name} (current definitions)",
            )
        )
        pytest.fail(
            f"The asset graph changed. If intended, regenerate with {UPDATE_SNAPSHOT_ENV}=1 "
            f"and commit tests/snapshots/{SNAPSHOT_PATH.name}.\n{diff}",
            pytrace=False,
        )
