"""The dbt project as Dagster assets: one `@dbt_assets` streaming `dbt build`.

dbt tests arrive as asset checks. Groups come from the dbt layer (the first folder under
`models/`), so a model added to a layer lands in the right group without touching this file.
The manifest is prepared ahead of time (`make manifest`; tests parse before importing); nothing
here runs dbt at import.
"""

import json
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from orchestration.as_of import run_as_of
from orchestration.warehouse import WAREHOUSE_POOL
from waymark.core.home import DBT_PROJECT_DIR
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import load_manifest

waymark_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)

# dbt unit tests are for CI: a unit test on an incremental model reads `this`, which does not
# exist in a new warehouse, and they check logic, not the data a run just built.
EXCLUDE_UNIT_TESTS = ["--exclude-resource-type", "unit_test"]


class LayerTranslator(DagsterDbtTranslator):
    """Asset group = dbt layer (staging, intermediate, marts, audiences); seeds are `config`,
    landed source files are `sources`. Tests on a source (the landing zone's inventory) are
    checks of that source's asset, so every dbt test a build runs is an asset check."""

    def __init__(self) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_source_tests_as_checks=True))

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "seed":
            return "config"
        if resource_type == "source":
            return "sources"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


class DbtBuildConfig(dg.Config):
    """Options of one warehouse build; its time (`as_of`) comes from the run's tag."""

    full_refresh: bool = False


def dbt_build_args(as_of: str, full_refresh: bool) -> list[str]:
    """`dbt build` arguments: the run's `as_of` overrides the project var of the same name."""
    args = ["build", *EXCLUDE_UNIT_TESTS, "--vars", json.dumps({"as_of": as_of})]
    if full_refresh:
        # Models configured `full_refresh: false` (customer_id_history) keep their rows.
        args.append("--full-refresh")
    return args


@dbt_assets(
    manifest=load_manifest(),
    dagster_dbt_translator=LayerTranslator(),
    pool=WAREHOUSE_POOL,
)
def waymark_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, config: DbtBuildConfig
) -> Iterator[Any]:
    """Sources → staging → identity → customer view → audiences, built and tested by dbt."""
    as_of = format_instant(run_as_of(context))
    context.log.info(f"dbt build as of {as_of} (full refresh: {config.full_refresh})")
    yield from dbt.cli(dbt_build_args(as_of, config.full_refresh), context=context).stream()


def landed_source_specs() -> list[dg.AssetSpec]:
    """The landed source files the models read, as external assets in the `sources` group.

    Without them Dagster shows the models' source dependencies as bare stubs in `default`. Only
    sources some model declares are listed: the event files are read by folder, not `source()`.
    """
    translator = LayerTranslator()
    manifest = load_manifest()
    wanted = {dep.asset_key for spec in waymark_dbt_models.specs for dep in spec.deps}
    specs = []
    for unique_id, source in sorted(manifest["sources"].items()):
        spec = translator.get_asset_spec(manifest, unique_id, None)
        if spec.key not in wanted:
            continue
        specs.append(
            dg.AssetSpec(
                key=spec.key,
                group_name=spec.group_name,
                description=spec.description,
                kinds={"file"},
                metadata={
                    "folder": source["meta"].get("folder", ""),
                    "format": source["meta"].get("format", ""),
                },
            )
        )
    return specs


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter: a virtualenv's bin/ is often not on PATH under Dagster.
    return DbtCliResource(
        project_dir=waymark_dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
