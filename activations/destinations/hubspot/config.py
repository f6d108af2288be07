"""Typed settings of a HubSpot destination and of each sync into it."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName
from waymark.core.types import Model, Name

URL = r"^https?://[^\s/]+(/\S*)?$"


class HubSpotConfig(ConnectorConfig):
    access_token_env: EnvVarName
    """Variable holding the private app's access token (scopes: crm.objects.contacts.read/
    write; tasks need crm.objects.contacts.write too)."""
    base_url: str = Field("https://api.hubapi.com", pattern=URL)
    timeout_seconds: PositiveFloat = 30.0
    op_id_property: Name = "waymark_op_id"
    """Single-line text property on tasks that holds each journey send's idempotency key."""
    task_owner_id: str | None = Field(None, pattern=r"^[0-9]+$")
    """HubSpot user (owner id) new tasks are assigned to; unassigned when omitted."""


class HubSpotSyncSettings(Model):
    id_property: Name = "email"
    """The unique contact property records are matched on. When it is not one of the sync's
    fields, the record key is its value (a custom unique property such as `waymark_id`)."""


def sync_target(config: HubSpotConfig, settings: HubSpotSyncSettings, sync: str) -> SyncTarget:
    """Contacts of the portal the token belongs to: every sync's records are contacts there."""
    return SyncTarget("contacts", f"at {config.base_url} (token ${config.access_token_env})")
