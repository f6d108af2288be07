"""Meta Custom Audiences: hashed users added to and removed from an audience (see README.md)."""

from activations.connectors import Connector
from activations.destinations.meta.capabilities import CAPABILITIES
from activations.destinations.meta.client import open_meta
from activations.destinations.meta.config import (
    MetaConfig,
    MetaSyncSettings,
    sync_target,
)
from activations.destinations.meta.mapping import preview

CONNECTOR = Connector(
    kind="meta",
    capabilities=CAPABILITIES,
    config_model=MetaConfig,
    sync_settings_model=MetaSyncSettings,
    open=open_meta,
    preview=preview,
    target=sync_target,
)
