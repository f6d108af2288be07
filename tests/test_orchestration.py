"""The Dagster code location loads from a prepared manifest and groups assets by dbt layer."""

from __future__ import annotations

import importlib

from waymark.build import dbt_environment, run_dbt
from waymark.home import DBT_PROJECT_DIR, DEMO_DATA_DIR


def test_code_location_groups_dbt_models_by_layer(tmp_path) -> None:
    env = dbt_environment(
        DEMO_DATA_DIR,
        tmp_path / "warehouse.duckdb",
        None,
        DBT_PROJECT_DIR / "target",
        tmp_path / "logs",
    )
    run_dbt(["parse"], env)
    definitions = importlib.import_module("orchestration.definitions").defs
    graph = definitions.resolve_asset_graph()
    groups = {key.path[-1]: graph.get(key).group_name for key in graph.get_all_asset_keys()}
    assert groups["customer_identifiers"] == "marts"
    assert groups["int_identity__clusters"] == "intermediate"
    assert groups["stg_events__segment"] == "staging"
    assert groups["identifier_blocklist"] == "config"
    check_names = {key.name for key in graph.asset_check_keys}
    assert any(name.startswith("unique_") for name in check_names)
