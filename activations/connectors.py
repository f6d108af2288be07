"""Finding a destination's connector by its kind: `activations/destinations/<kind>/`.

Each destination folder's `__init__.py` exposes `CONNECTOR`. Adding a destination means adding
a folder; nothing here lists kinds.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, PositiveFloat

from activations.destination import Capabilities, Destination, Operation, SyncContext, SyncTarget
from activations.secrets import Secrets
from waymark.core.text import has_line_break


def _one_line(value: str) -> str:
    if has_line_break(value):
        raise ValueError("must be one line: it becomes an email header")
    return value


HeaderValue = Annotated[str, AfterValidator(_one_line)]
"""A config value sent as an email header (From, Reply-To, List-Unsubscribe): a line break in
it would start another header."""


class ConnectorConfig(BaseModel):
    """Base of every destination's typed config. Fields ending in `_env` hold the NAMES of
    environment variables; values never appear in files."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    requests_per_second: PositiveFloat | None = None
    """Pace below the destination's published limit (a shared relay, a small receiver)."""

    def env_names(self) -> dict[str, str]:
        """Config field -> environment variable name, for every `*_env` field that is set."""
        return {
            name: value
            for name, value in self.model_dump().items()
            if name.endswith("_env") and isinstance(value, str)
        }


class NoSyncSettings(BaseModel):
    """For destinations whose syncs take no per-sync settings."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class Connector:
    """How the engine reaches one kind of destination."""

    kind: str
    capabilities: Capabilities
    config_model: type[ConnectorConfig]
    sync_settings_model: type[BaseModel]
    open: Callable[[Any, Secrets, SyncContext | None], Destination]
    """Connect with the typed config; credentials are read from `Secrets` here, not earlier."""
    preview: Callable[[Operation, Any, SyncContext | None], Mapping[str, Any]]
    """The exact payload the client would send for an operation (for dry runs; no secrets)."""
    target: Callable[[Any, Any, str], SyncTarget] | None = None
    """What a sync writes, from the typed config, the sync's settings and its name; None for
    destinations that only take journey sends."""


def connector_for(kind: str) -> Connector | None:
    """The connector in `activations/destinations/<kind>/`, or None when there is none yet."""
    module_name = f"activations.destinations.{kind}"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as error:
        if error.name == module_name:
            return None
        raise
    return module.CONNECTOR
