"""The dbt project as Dagster assets: one `@dbt_assets` streaming `dbt build`.

dbt tests arrive as asset checks. Groups come from the dbt layer (the first folder under
`models/`), so a model added to a layer lands in the right group without touching this file.
The manifest is prepared ahead of time (`make manifest`, or `dagster dev`, which re-parses);
nothing here runs dbt at import.
"""

import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, DbtProject, dbt_assets

from waymark.home import DBT_PROJECT_DIR

waymark_dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)
waymark_dbt_project.prepare_if_dev()


class LayerTranslator(DagsterDbtTranslator):
    """Asset group = dbt layer (staging, intermediate, marts, audiences); seeds are `config`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "config"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "dbt"


@dbt_assets(
    manifest=waymark_dbt_project.manifest_path,
    dagster_dbt_translator=LayerTranslator(),
)
def waymark_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """Sources → staging → identity → customer view → audiences, built and tested by dbt."""
    yield from dbt.cli(["build"], context=context).stream()


def dbt_resource() -> DbtCliResource:
    # The dbt beside this interpreter: a virtualenv's bin/ is often not on PATH under Dagster.
    return DbtCliResource(
        project_dir=waymark_dbt_project, dbt_executable=str(Path(sys.executable).parent / "dbt")
    )
