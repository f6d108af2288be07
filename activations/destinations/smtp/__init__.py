"""SMTP email: journey messages through a relay (see README.md)."""

from activations.connectors import Connector
from activations.destinations.smtp.capabilities import CAPABILITIES
from activations.destinations.smtp.client import open_smtp
from activations.destinations.smtp.config import SmtpConfig, SmtpSyncSettings
from activations.destinations.smtp.mapping import preview

CONNECTOR = Connector(
    kind="smtp",
    capabilities=CAPABILITIES,
    config_model=SmtpConfig,
    sync_settings_model=SmtpSyncSettings,
    open=open_smtp,
    preview=preview,
)
