"""Sync declarations: `syncs/<name>.yml`, validated into `SyncSpec` with located errors.

Names starting with `_` are not syncs (`_destinations.yml` holds connector settings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, WithJsonSchema, create_model

from activations.destination import SyncMode, SyncTarget
from activations.destinations_file import ResolvedDestination, read_destinations
from waymark.core.channels import PURPOSES_BY_CHANNEL, Purpose
from waymark.core.cron import Cron
from waymark.core.errors import Issue
from waymark.core.home import PROJECT_ROOT
from waymark.core.types import Model, Name
from waymark.core.validation import validate_model
from waymark.core.yaml_source import YamlSource, read_yaml

RELATION_PATTERN = r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$"
COLUMN_PATTERN = r"^[a-z_][a-z0-9_]*$"
FIELD_SOURCE_PATTERN = r"^(customer\.)?[a-z_][a-z0-9_]*$"


def _matching(pattern: str, what: str):
    compiled = re.compile(pattern)

    def check(value: str) -> str:
        if not compiled.match(value):
            raise ValueError(f"'{value}' is not {what}")
        return value

    return check


Relation = Annotated[
    str,
    AfterValidator(_matching(RELATION_PATTERN, "a relation written schema.name")),
    WithJsonSchema({"type": "string", "pattern": RELATION_PATTERN}),
]
Column = Annotated[
    str,
    AfterValidator(_matching(COLUMN_PATTERN, "a lower-case column name")),
    WithJsonSchema({"type": "string", "pattern": COLUMN_PATTERN}),
]
FieldSource = Annotated[
    str,
    AfterValidator(_matching(FIELD_SOURCE_PATTERN, "a column, or customer.<column>")),
    WithJsonSchema({"type": "string", "pattern": FIELD_SOURCE_PATTERN}),
]


class SyncSpec(Model):
    """One sync: rows of a warehouse relation kept in step with a destination."""

    name: Name
    """Equals the file name without `.yml`."""
    description: str = ""
    type: Literal["audience", "object"]
    """audience: membership list whose fields are identifiers; object: rows with any fields."""
    model: Relation
    """The warehouse relation read, such as `audiences.vip_lookalike_seed` or `marts.customers`."""
    destination: Name
    """A destination in `destinations.yml` (or `syncs/_destinations.yml`)."""
    mode: SyncMode
    key: Column
    """A column unique per row; the record's identity at the destination."""
    customer_id: Column = "customer_id"
    """The column holding the customer, joined to `marts.customers` for consent."""
    fields: dict[Name, FieldSource] = Field(min_length=1)
    """Destination field -> model column, or `customer.<column>` of `marts.customers`."""
    purpose: Purpose
    """The consent every row needs; `transactional` needs none."""
    schedule: Cron | None = None
    """Five-field cron expression; omit for syncs run by hand."""
    give_up_after_runs: int = Field(3, ge=1)
    """Stop retrying a row the destination refused this many runs in a row (same payload)."""
    batch_size: int | None = Field(None, ge=1)
    """Fewer operations per call than the destination's maximum."""
    max_rejected_share: float | None = Field(None, ge=0, le=1)
    """The sync's Dagster check fails when a run's destination refuses more than this share of
    the operations attempted; default the orchestration's setting (5%)."""
    settings: dict[str, Any] = {}
    """Destination-specific settings, such as a PostgreSQL table (see the connector's README)."""
    on_null: dict[Name, Literal["omit", "clear"]] = {}
    """What a null value of a field means: `omit` (the default for every field) leaves the field
    out, so the destination keeps the value it holds; `clear` sends the destination's way of
    emptying it (HubSpot `""`, a JSON null, SQL NULL)."""


@dataclass(frozen=True)
class SyncPaths:
    syncs: Path
    destinations: Path

    @property
    def connector_settings(self) -> Path:
        return self.syncs / "_destinations.yml"

    @classmethod
    def default(cls, syncs: Path | str | None = None, destinations: Path | str | None = None):
        folder = Path(syncs or PROJECT_ROOT / "syncs")
        return cls(folder, Path(destinations or folder.parent / "destinations.yml"))


@dataclass
class LoadedSync:
    source: YamlSource
    spec: SyncSpec | None
    destination: ResolvedDestination | None
    settings: Any
    issues: list[Issue]
    target: SyncTarget | None = None
    """The audience, table, folder or records the sync writes (see `Connector.target`)."""


@dataclass
class SyncProject:
    syncs: list[LoadedSync]
    destinations: dict[str, ResolvedDestination]
    issues: list[Issue]

    def valid(self) -> dict[str, LoadedSync]:
        return {s.spec.name: s for s in self.syncs if s.spec is not None and not s.issues}


def sync_files(folder: Path) -> list[Path]:
    return sorted(p for p in Path(folder).glob("*.yml") if not p.name.startswith("_"))


def load_project(paths: SyncPaths) -> SyncProject:
    """Every sync file and destination, each problem located; syncs that write one audience or
    object from different models are each refused (`shared_target_issues`)."""
    destinations, issues = read_destinations(paths.destinations, paths.connector_settings)
    syncs = [read_sync(path, destinations) for path in sync_files(paths.syncs)]
    shared_target_issues(syncs)
    return SyncProject(syncs, destinations, issues + [i for s in syncs for i in s.issues])


def shared_target_issues(syncs: Iterable[LoadedSync]) -> None:
    """Add an issue to every sync that writes what a sync of another model writes too.

    Which audience or object each sync writes is `Connector.target`: two syncs filling one from
    different models are refused in both files. A mirror of one would remove the other's
    members, and together they mix two populations (at-risk customers inside a VIP lookalike
    seed).
    """
    by_target: dict[tuple[str, str, str], list[LoadedSync]] = {}
    for loaded in syncs:
        if loaded.target is not None and loaded.spec is not None and loaded.destination:
            key = (loaded.destination.kind, loaded.target.noun, loaded.target.identity)
            by_target.setdefault(key, []).append(loaded)
    for group in by_target.values():
        if len({loaded.spec.model for loaded in group if loaded.spec}) < 2:
            continue
        for loaded in group:
            assert loaded.spec is not None
            others = ", ".join(
                f"'{other.spec.name}' (from {other.spec.model})"
                for other in group
                if other is not loaded and other.spec is not None
            )
            message = (
                f"writes {loaded.target} from {loaded.spec.model}, and so does {others}: "
                "one audience or object holds the rows of one model"
            )
            where = ("settings",) if loaded.spec.settings else ("destination",)
            loaded.issues.append(loaded.source.issue(where, message))
            loaded.issues.sort(key=_position)


def read_sync(path: Path, destinations: dict[str, ResolvedDestination]) -> LoadedSync:
    source, issues = read_yaml(path)
    if issues or not isinstance(source.data, dict):
        issues = issues or [source.issue((), "a sync file holds a mapping")]
        return LoadedSync(source, None, None, None, issues)
    spec, issues = validate_model(SyncSpec, source.data, source)
    if spec is None:
        return LoadedSync(source, None, None, None, sorted(issues, key=_position))
    if spec.name != path.stem:
        issues.append(source.issue(("name",), f"must equal the file name, '{path.stem}'"))
    destination = destinations.get(spec.destination)
    settings = None
    if destination is None:
        issues.append(source.issue(("destination",), f"no destination '{spec.destination}'"))
    elif destination.connector is None:
        message = f"kind '{destination.kind}' has no connector (activations/destinations/)"
        issues.append(source.issue(("destination",), message))
    else:
        issues += _capability_issues(spec, destination, source)
        # Validated under a `settings` key so that errors point inside `settings:` in the file.
        wrapper = create_model(
            "SyncSettings", settings=(destination.connector.sync_settings_model, ...)
        )
        wrapped, more = validate_model(wrapper, {"settings": spec.settings}, source)
        settings = wrapped.settings if wrapped is not None else None
        issues += more
    connector = destination.connector if destination else None
    target = None
    if (
        connector
        and connector.target
        and destination
        and destination.config
        and settings is not None
    ):
        target = connector.target(destination.config, settings, spec.name)
    issues.sort(key=_position)
    return LoadedSync(source, spec, destination, settings, issues, target)


def _capability_issues(
    spec: SyncSpec, destination: ResolvedDestination, source: YamlSource
) -> list[Issue]:
    assert destination.connector is not None
    capabilities = destination.connector.capabilities
    issues = []
    if spec.mode not in capabilities.sync_modes:
        supported = ", ".join(sorted(capabilities.sync_modes)) or "none (journey sends only)"
        message = f"{destination.kind} destinations support these modes: {supported}"
        issues.append(source.issue(("mode",), message))
    if spec.type == "audience":
        for field in spec.fields:
            if field not in capabilities.identifiers:
                accepted = ", ".join(sorted(capabilities.identifiers))
                message = f"an audience sends identifiers; {destination.kind} accepts {accepted}"
                issues.append(source.issue(("fields", field), message))
    allowed = PURPOSES_BY_CHANNEL.get(destination.channel or "")
    if allowed is not None and spec.purpose not in allowed:
        message = f"{destination.channel} destinations take purposes {', '.join(allowed)}"
        issues.append(source.issue(("purpose",), message))
    if spec.batch_size and spec.batch_size > capabilities.max_batch_size:
        message = f"at most {capabilities.max_batch_size} for {destination.kind}"
        issues.append(source.issue(("batch_size",), message))
    if spec.key in spec.fields:
        message = f"'{spec.key}' is the key; it is sent as the record key already"
        issues.append(source.issue(("fields", spec.key), message))
    for field, meaning in spec.on_null.items():
        if field not in spec.fields:
            message = f"'{field}' is not one of the sync's fields ({', '.join(spec.fields)})"
            issues.append(source.issue(("on_null", field), message))
        elif meaning == "clear" and not capabilities.clears_fields:
            message = f"{destination.kind} destinations cannot clear a field; a null is left out"
            issues.append(source.issue(("on_null", field), message))
    return issues


def _position(issue: Issue) -> tuple[int, int]:
    return (issue.line, issue.column)


def relation_parts(relation: str) -> tuple[str, str]:
    schema, name = relation.split(".")
    return schema, name
