"""What journeys may refer to: audiences, events, profile traits, templates and destinations.

Everything is read from files in the repository, so validation needs no warehouse:
- audiences: models under `dbt_project/models/audiences/` whose YAML declares `meta.audience`;
- traits: the enforced contract of `marts.customers` (`customers.yml`);
- events: the catalogue `journeys/_events.yml`. A declared catalogue, not names scraped from the
  demo generator, because production events come from a company's own tracking plan; a test keeps
  the catalogue honest against the demo warehouse;
- destinations: `destinations.yml`; templates: `templates/`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml

from waymark.core.destinations import Destination, read_destinations_file
from waymark.core.errors import Issue
from waymark.core.home import DBT_PROJECT_DIR, PROJECT_ROOT
from waymark.core.types import Model, Name
from waymark.core.validation import validate_model
from waymark.core.yaml_source import read_yaml

PropertyType = Literal["string", "number", "integer", "boolean"]


class EventMatch(Model):
    """Which rows of `marts.customer_events` are this event."""

    event_type: str
    event_name: str | None = None
    """Also match this `event_name` (for `track` events, the Segment event name)."""


class EventDefinition(Model):
    description: str
    match: EventMatch
    properties: dict[str, PropertyType] = {}
    """Keys of the row's `properties` JSON that journeys may filter on and templates may read."""


class EventCatalogue(Model):
    """`journeys/_events.yml`: the events journeys may name."""

    events: dict[Name, EventDefinition]


@dataclass(frozen=True)
class TraitColumn:
    name: str
    data_type: str
    nullable: bool
    accepted_values: tuple[Any, ...] | None


@dataclass(frozen=True)
class ProjectPaths:
    """Where the project's files are."""

    journeys: Path
    templates: Path
    destinations: Path
    events: Path
    dbt_project: Path

    @classmethod
    def for_journeys(
        cls,
        journeys: Path | str = PROJECT_ROOT / "journeys",
        *,
        templates: Path | str | None = None,
        destinations: Path | str | None = None,
        events: Path | str | None = None,
        dbt_project: Path | str = DBT_PROJECT_DIR,
    ) -> ProjectPaths:
        """The repository layout around a journeys folder: `templates/` and
        `destinations.yml` beside it, `_events.yml` in it. A test can so build a whole
        project in a temporary directory and still read the real dbt project."""
        folder = Path(journeys)
        return cls(
            journeys=folder,
            templates=Path(templates or folder.parent / "templates"),
            destinations=Path(destinations or folder.parent / "destinations.yml"),
            events=Path(events or folder / "_events.yml"),
            dbt_project=Path(dbt_project),
        )


@dataclass
class Catalogue:
    """Everything a journey may name, with the problems found reading it."""

    audiences: set[str] = field(default_factory=set)
    traits: dict[str, TraitColumn] = field(default_factory=dict)
    events: dict[str, EventDefinition] = field(default_factory=dict)
    destinations: dict[str, Destination] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def read_catalogue(paths: ProjectPaths) -> Catalogue:
    catalogue = Catalogue()
    catalogue.audiences = audience_names(paths.dbt_project)
    catalogue.traits = customer_traits(paths.dbt_project)
    events, issues = _read_model(EventCatalogue, paths.events)
    catalogue.events = dict(events.events) if events else {}
    _, destinations, more = read_destinations_file(paths.destinations)
    catalogue.destinations = dict(destinations.destinations) if destinations else {}
    catalogue.issues = issues + more
    return catalogue


def _read_model(model: type[Any], path: Path) -> tuple[Any, list[Issue]]:
    if not path.is_file():
        return None, [Issue(path, 1, 1, "", "file not found")]
    source, issues = read_yaml(path)
    if issues:
        return None, issues
    return validate_model(model, source.data, source)


def audience_names(dbt_project: Path) -> set[str]:
    """Audiences declared with `meta.audience` in a model YAML beside its `.sql` file."""
    names: set[str] = set()
    for path in sorted((dbt_project / "models" / "audiences").rglob("*.yml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for model in document.get("models", []):
            meta = (model.get("config") or {}).get("meta") or model.get("meta") or {}
            audience = meta.get("audience")
            if audience is not None and (path.parent / f"{model['name']}.sql").is_file():
                named = audience.get("name") if isinstance(audience, dict) else None
                names.add(named or model["name"])
    return names


def customer_traits(dbt_project: Path) -> dict[str, TraitColumn]:
    """The columns of `marts.customers` from its enforced contract."""
    path = dbt_project / "models" / "marts" / "customers" / "customers.yml"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    model = next(m for m in document["models"] if m["name"] == "customers")
    traits: dict[str, TraitColumn] = {}
    for column in model["columns"]:
        constraints = {c.get("type") for c in column.get("constraints", [])}
        tests = column.get("data_tests", [])
        accepted = next(
            (t["accepted_values"]["arguments"]["values"] for t in tests if _accepted(t)), None
        )
        traits[column["name"]] = TraitColumn(
            name=column["name"],
            data_type=column["data_type"].lower(),
            nullable="not_null" not in constraints and "not_null" not in tests,
            accepted_values=tuple(accepted) if accepted is not None else None,
        )
    return traits


def _accepted(test: Any) -> bool:
    return isinstance(test, dict) and "accepted_values" in test
