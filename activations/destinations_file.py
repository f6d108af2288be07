"""Destinations as activations see them: `destinations.yml` plus connector settings.

`destinations.yml` (shared with journeys) names each destination's kind, channel, the
environment variables holding its credentials and non-secret settings. Connectors need a few
more typed settings (which variable is the password, STARTTLS, a table's schema), kept in
`syncs/_destinations.yml` until `destinations.yml` carries them. Both files are read into the
one `waymark.core.destinations.Destination` model: in the connector settings a destination
already in `destinations.yml` may only add `config`; a destination that is not (PostgreSQL,
files) is declared whole. Every `*_env` name a config uses must be among the destination's
`env`, so `destinations.yml` stays the one list of secrets to provision.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from activations.connectors import Connector, ConnectorConfig, connector_for
from waymark.core.destinations import (
    DestinationsFile,
    entry_field_issues,
    read_destinations_file,
)
from waymark.core.errors import Issue
from waymark.core.validation import validate_model
from waymark.core.yaml_source import YamlSource, read_yaml


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
) -> tuple[dict[str, ResolvedDestination], list[Issue]]:
    """Merge the shared destinations file with the activations file, every problem located."""
    shared_source, shared_model, issues = read_destinations_file(shared)
    extra_source, extra_model = _read_connector_settings(extra, issues)
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
        assert kind is not None  # required in destinations.yml, checked above for additions
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

    def issue(self, loc: tuple[str | int, ...], message: str, *, missing: bool = False) -> Issue:
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
    issues: list[Issue],
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


def _read_connector_settings(
    path: Path, issues: list[Issue]
) -> tuple[YamlSource | None, DestinationsFile | None]:
    """The connector settings file, when there is one: destinations that add `config`, in the
    same model as `destinations.yml` but without its `settings`."""
    if not path.is_file():
        return None, None
    source, problems = read_yaml(path)
    if problems:
        issues += problems
        return source, None
    value, problems = validate_model(DestinationsFile, source.data, source)
    problems += entry_field_issues(source, forbidden=("settings",))
    issues += problems
    return source, value if not problems else None
