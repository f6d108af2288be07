"""HubSpot: contacts kept in step by batch upsert, and journey tasks (see README.md)."""

from activations.connectors import Connector
from activations.destinations.hubspot.capabilities import CAPABILITIES
from activations.destinations.hubspot.client import open_hubspot
from activations.destinations.hubspot.config import (
    HubSpotConfig,
    HubSpotSyncSettings,
    sync_target,
)
from activations.destinations.hubspot.mapping import preview

CONNECTOR = Connector(
    kind="hubspot",
    capabilities=CAPABILITIES,
    config_model=HubSpotConfig,
    sync_settings_model=HubSpotSyncSettings,
    open=open_hubspot,
    preview=preview,
    target=sync_target,
)
