"""Checks of sync files against the dbt project.

Whether the columns a sync maps exist: the model's columns as its YAML declares them in the dbt
manifest, `customer.<column>` against `marts.customers`, each miss with the nearest name.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activations.consent import CUSTOMERS
from activations.sync_files import LoadedSync, SyncProject
from waymark.core.errors import Issue, did_you_mean
from waymark.core.home import DBT_PROJECT_DIR
from waymark.warehouse.manifest import (
    MANIFEST_PATH,
    load_manifest,
    manifest_is_current,
    prepare_manifest,
)

CUSTOMER_PREFIX = "customer."


@dataclass(frozen=True)
class ModelColumns:
    """A dbt model as the warehouse knows it: `schema.name` and its declared columns."""

    relation: str
    columns: tuple[str, ...]
    declared_in: str | None
    """The YAML file that declares the columns, relative to the dbt project."""


def manifest_models(manifest: Mapping[str, Any]) -> dict[str, ModelColumns]:
    """Every model of the manifest by the relation it is built as."""
    models: dict[str, ModelColumns] = {}
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model":
            relation = f"{node['schema']}.{node.get('alias') or node['name']}"
            patch = node.get("patch_path")
            declared_in = patch.split("://", 1)[-1] if patch else None
            models[relation] = ModelColumns(relation, tuple(node["columns"]), declared_in)
    return models


def model_column_issues(
    syncs: Iterable[LoadedSync], models: Mapping[str, ModelColumns]
) -> list[Issue]:
    """Add an issue to every sync that reads a model or column the dbt project does not have."""
    found: list[Issue] = []
    customers = models.get(CUSTOMERS)
    for loaded in syncs:
        spec = loaded.spec
        if spec is None:
            continue
        issues: list[Issue] = []
        model = models.get(spec.model)
        if model is None:
            message = f"no dbt model is built as {spec.model}{did_you_mean(spec.model, models)}"
            issues.append(loaded.source.issue(("model",), message))
        elif not model.columns:
            message = (
                f"{spec.model} declares no columns (in {model.declared_in or 'its YAML'}), so "
                "the columns this sync maps cannot be checked; declare them"
            )
            issues.append(loaded.source.issue(("model",), message))
        else:
            for field in ("key", "customer_id"):
                column = getattr(spec, field)
                if column not in model.columns:
                    message = f"'{column}' is not a column of {spec.model}"
                    message += did_you_mean(column, model.columns)
                    absent = field not in (loaded.source.data or {})
                    issues.append(loaded.source.issue((field,), message, missing=absent))
        for name, source in spec.fields.items():
            prefix = CUSTOMER_PREFIX if source.startswith(CUSTOMER_PREFIX) else ""
            table = customers if prefix else model
            column = source.removeprefix(prefix)
            if table is not None and table.columns and column not in table.columns:
                message = f"'{source}' is not a column of {table.relation}"
                message += did_you_mean(column, table.columns, prefix)
                issues.append(loaded.source.issue(("fields", name), message))
        _add(loaded, issues)
        found += issues
    return found


def check_models(
    project: SyncProject,
    manifest: Path = MANIFEST_PATH,
    prepare: Callable[[], Path] = prepare_manifest,
    dbt_project: Path = DBT_PROJECT_DIR,
) -> None:
    """Check every sync's model and columns against the dbt manifest, preparing it (`dbt
    parse`, a few seconds) when it is missing or older than the dbt project's files."""
    if not any(loaded.spec for loaded in project.syncs):
        return
    if not manifest_is_current(manifest, dbt_project):
        try:
            manifest = prepare()
        except (OSError, subprocess.CalledProcessError) as error:
            message = f"dbt parse failed ({error}); `make manifest` shows why"
            project.issues.append(Issue(dbt_project / "dbt_project.yml", 1, 1, "", message))
            return
    models = manifest_models(load_manifest(manifest))
    project.issues += model_column_issues(project.syncs, models)
    project.issues.sort(key=lambda issue: (str(issue.file), issue.line, issue.column))


def _add(loaded: LoadedSync, issues: list[Issue]) -> None:
    loaded.issues += issues
    loaded.issues.sort(key=lambda issue: (issue.line, issue.column))
