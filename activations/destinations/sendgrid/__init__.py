"""SendGrid: journey email through the v3 Mail Send API (see README.md)."""

from activations.connectors import Connector
from activations.destinations.sendgrid.capabilities import CAPABILITIES
from activations.destinations.sendgrid.client import open_sendgrid
from activations.destinations.sendgrid.config import SendgridConfig, SendgridSyncSettings
from activations.destinations.sendgrid.mapping import preview

CONNECTOR = Connector(
    kind="sendgrid",
    capabilities=CAPABILITIES,
    config_model=SendgridConfig,
    sync_settings_model=SendgridSyncSettings,
    open=open_sendgrid,
    preview=preview,
)
