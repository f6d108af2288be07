"""Destinations: where journeys send and syncs write, as `destinations.yml` declares them.

One model, `Destination`, reads both files that describe destinations: `destinations.yml`
(shared by journeys and activations: kind, channel, the environment variables holding
credentials, non-secret settings) and the connector settings activations add in
`syncs/_destinations.yml` (`config`). What each file may hold differs, so the fields are
optional in the model and each file's reader checks its own: `read_destinations_file` here for
`destinations.yml`, `activations.destinations_file` for the connector settings.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, WithJsonSchema

from waymark.core.channels import Channel
from waymark.core.errors import Issue
from waymark.core.types import Model, Name
from waymark.core.validation import in_file_order, validate_model
from waymark.core.yaml_source import YamlSource, read_yaml

ENV_VAR_PATTERN = r"^[A-Z][A-Z0-9_]*$"


def _env_var_name(value: str) -> str:
    if not re.match(ENV_VAR_PATTERN, value):
        raise ValueError(f"'{value}' is not an environment variable name; never put a secret here")
    return value


EnvVarName = Annotated[
    str,
    AfterValidator(_env_var_name),
    WithJsonSchema({"type": "string", "pattern": ENV_VAR_PATTERN}),
]
"""The name of an environment variable that holds a secret; files name secrets, never hold them."""


class Destination(Model):
    """One place messages go and rows are synced to. Credentials are read from the environment
    variables named in `env`; no file ever holds a secret value."""

    kind: Name | None = None
    """The connector that delivers (`activations/destinations/<kind>/`), such as `smtp`;
    required in `destinations.yml`."""
    channel: Channel | None = None
    """What it carries; a journey's send step must use the same. Required in
    `destinations.yml`."""
    description: str = ""
    env: list[EnvVarName] = []
    """Names of the environment variables holding the connector's credentials."""
    settings: dict[str, Any] = {}
    """Non-secret connector settings, such as a sender address (`destinations.yml`)."""
    config: dict[str, Any] = {}
    """Typed connector settings (see the connector's `config.py`), in `syncs/_destinations.yml`."""


class DestinationsFile(Model):
    """A file of destinations by name."""

    destinations: dict[Name, Destination]


SHARED_REQUIRED = ("kind", "channel")
"""Fields every entry of `destinations.yml` gives."""
SHARED_FORBIDDEN = ("config",)
"""Fields `destinations.yml` does not hold (connector settings are added beside the syncs)."""


def read_destinations_file(
    path: Path,
) -> tuple[YamlSource | None, DestinationsFile | None, list[Issue]]:
    """`destinations.yml`: its source, its destinations when valid, and every problem located."""
    if not path.is_file():
        return None, None, [Issue(path, 1, 1, "", "file not found")]
    source, issues = read_yaml(path)
    if issues:
        return source, None, issues
    model, issues = validate_model(DestinationsFile, source.data, source)
    issues += entry_field_issues(source, required=SHARED_REQUIRED, forbidden=SHARED_FORBIDDEN)
    return source, model if not issues else None, in_file_order(issues)


def entry_field_issues(
    source: YamlSource, *, required: tuple[str, ...] = (), forbidden: tuple[str, ...] = ()
) -> list[Issue]:
    """A located issue for every entry of a destinations file that lacks a `required` field or
    gives a `forbidden` one, worded as the model's own errors are."""
    entries = source.data.get("destinations") if isinstance(source.data, dict) else None
    if not isinstance(entries, dict):
        return []
    issues: list[Issue] = []
    for name, entry in entries.items():
        if not isinstance(entry, dict):
            continue
        where = ("destinations", name)
        for field in required:
            if field not in entry:
                issues.append(
                    source.issue((*where, field), "required field is missing", missing=True)
                )
        for field in forbidden:
            if field in entry:
                issues.append(source.issue((*where, field), f"unknown field '{field}'"))
    return issues
