"""Destinations as activations see them: `destinations.yml` plus connector settings.

`destinations.yml` (shared with journeys) names each destination's kind, channel, the
environment variables holding its credentials and non-secret settings. Connectors need a few
more typed settings (which variable is the password, STARTTLS, a table's schema), kept in
`syncs/_destinations.yml` until `destinations.yml` carries them: there a destination already in
`destinations.yml` may only add `config`; a destination that is not (PostgreSQL, files) is
declared whole. Every `*_env` name a config uses must be among the destination's `env`, so
`destinations.yml` stays the one list of secrets to provision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from activations.connectors import Connector, ConnectorConfig, connector_for
from waymark.journeys.errors import JourneyIssue
from waymark.journeys.loading import validate_model
from waymark.journeys.project import DestinationsFile, EnvVarName
from waymark.journeys.steps import Channel
from waymark.journeys.types import Model, Name
from waymark.journeys.yaml_source import YamlSource, read_yaml


class ActivationDestination(Model):
    """A destination entry in `syncs/_destinations.yml`."""

    kind: Name | None = None
    """Only for destinations not in `destinations.yml`: the connector folder name."""
    channel: Channel | None = None
    description: str = ""
    env: list[EnvVarName] = []
    config: dict[str, Any] = {}
    """Typed connector settings (see the connector's `config.py`)."""


class ActivationDestinationsFile(Model):
    destinations: dict[Name, ActivationDestination]


@dataclass(frozen=True)
class ResolvedDestination:
    """A destination with its connector and validated config, ready to open."""

    name: str
    kind: str
    channel: str | None
    env: tuple[str, ...]
    connector: Connector | None
    config: ConnectorConfig | None


def read_destinations(
    shared: Path, extra: Path
) -> tuple[dict[str, ResolvedDestination], list[JourneyIssue]]:
    """Merge the shared destinations file with the activations file, every problem located."""
    issues: list[JourneyIssue] = []
    shared_source, shared_model = _read(DestinationsFile, shared, issues, required=True)
    extra_source, extra_model = _read(ActivationDestinationsFile, extra, issues, required=False)
    # When the connector settings file could not be read, its own problems say why; checking
    # each connector without its settings would add a "required field is missing" for each.
    unreadable = extra.is_file() and extra_model is None
    base = dict(shared_model.destinations) if shared_model else {}
    additions = dict(extra_model.destinations) if extra_model else {}
    resolved: dict[str, ResolvedDestination] = {}
    for name in sorted(set(base) | set(additions)):
        entry, addition = base.get(name), additions.get(name)
        where = ("destinations", name)
        if entry is not None and addition is not None:
            for field in ("kind", "channel", "env"):
                if getattr(addition, field):
                    issues.append(
                        extra_source.issue(
                            (*where, field),
                            f"'{name}' is defined in {shared.name}; only "
                            "`config` may be added here",
                        )
                    )
        if entry is None and addition is not None and addition.kind is None:
            issues.append(
                extra_source.issue((*where, "kind"), "required field is missing", missing=True)
            )
            continue
        kind = entry.kind if entry else addition.kind
        channel = entry.channel if entry else addition.channel
        env = tuple(entry.env if entry else addition.env)
        settings = dict(entry.settings) if entry else {}
        added = dict(addition.config) if addition else {}
        for key in sorted(set(settings) & set(added)):
            issues.append(
                extra_source.issue(
                    (*where, "config", key), f"'{key}' is already a setting in {shared.name}"
                )
            )
        connector = connector_for(kind)
        config = None
        if connector is not None and not unreadable:
            located = _Located(shared_source, extra_source, name, settings, added)
            config = _config(connector, {**settings, **added}, env, located, issues)
        resolved[name] = ResolvedDestination(name, kind, channel, env, connector, config)
    return resolved, sorted(issues, key=lambda i: (str(i.file), i.line, i.column))


@dataclass(frozen=True)
class _Located:
    """Maps a config key to the file and field it came from, for error positions."""

    shared: YamlSource | None
    extra: YamlSource | None
    name: str
    settings: dict[str, Any]
    added: dict[str, Any]

    def issue(
        self, loc: tuple[str | int, ...], message: str, *, missing: bool = False
    ) -> JourneyIssue:
        key = loc[0] if loc else None
        if key in self.settings and self.shared is not None:
            return self.shared.issue(("destinations", self.name, "settings", *loc), message)
        if self.extra is not None and (key in self.added or missing):
            where = ("destinations", self.name, "config", *loc)
            return self.extra.issue(where, message, missing=missing)
        source = self.shared or self.extra
        assert source is not None
        return source.issue(("destinations", self.name), f"{'.'.join(map(str, loc))}: {message}")


def _config(
    connector: Connector,
    values: dict[str, Any],
    env: tuple[str, ...],
    located: _Located,
    issues: list[JourneyIssue],
) -> ConnectorConfig | None:
    from pydantic import ValidationError

    try:
        config = connector.config_model.model_validate(values)
    except ValidationError as error:
        for detail in error.errors():
            loc = tuple(detail["loc"])
            if detail["type"] == "missing":
                issues.append(located.issue(loc, "required field is missing", missing=True))
            elif detail["type"] == "extra_forbidden":
                issues.append(located.issue(loc, f"unknown field '{loc[-1]}'"))
            else:
                issues.append(located.issue(loc, str(detail["msg"]).removeprefix("Value error, ")))
        return None
    for field, variable in config.env_names().items():
        if variable not in env:
            issues.append(
                located.issue((field,), f"'{variable}' must be listed in the destination's `env`")
            )
    return config


def _read(
    model: type[BaseModel], path: Path, issues: list[JourneyIssue], *, required: bool
) -> tuple[YamlSource | None, Any]:
    if not path.is_file():
        if required:
            issues.append(JourneyIssue(path, 1, 1, "", "file not found"))
        return None, None
    source, problems = read_yaml(path)
    if problems:
        issues += problems
        return source, None
    value, problems = validate_model(model, source.data, source)
    issues += problems
    return source, value
