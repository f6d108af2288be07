"""Typed settings of a Meta Custom Audiences destination and of each sync into it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, PositiveFloat

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName
from waymark.core.types import Model, Name

AUDIENCE_ID = r"^[0-9]{1,20}$"
URL = r"^https?://[^\s/]+(/\S*)?$"


class MetaConfig(ConnectorConfig):
    access_token_env: EnvVarName
    """Variable holding a system-user access token with `ads_management` on the ad account."""
    base_url: str = Field("https://graph.facebook.com", pattern=URL)
    """The Graph API host; tests and the demo point it at the local stand-in."""
    api_version: str = Field("v23.0", pattern=r"^v[0-9]+\.[0-9]+$")
    """Graph API version in every path (`/v23.0/{audience_id}/users`)."""
    timeout_seconds: PositiveFloat = 60.0
    audiences: dict[Name, Annotated[str, Field(pattern=AUDIENCE_ID)]] = {}
    """Journey sends: the `audience` a template names -> Custom Audience id."""


class MetaSyncSettings(Model):
    audience_id: str = Field(pattern=AUDIENCE_ID)
    """The Custom Audience (customer file) the sync keeps in step."""


def sync_target(config: MetaConfig, settings: MetaSyncSettings, sync: str) -> SyncTarget:
    """The Custom Audience, with the name `audiences` gives its id (ids are unique at Meta)."""
    names = [
        name for name, audience in config.audiences.items() if audience == settings.audience_id
    ]
    return SyncTarget("Custom Audience", settings.audience_id, ", ".join(names) or None)
