"""Twilio: journey SMS through the Programmable Messaging REST API (see README.md)."""

from activations.connectors import Connector
from activations.destinations.twilio.capabilities import CAPABILITIES
from activations.destinations.twilio.client import open_twilio
from activations.destinations.twilio.config import TwilioConfig, TwilioSyncSettings
from activations.destinations.twilio.mapping import preview

CONNECTOR = Connector(
    kind="twilio",
    capabilities=CAPABILITIES,
    config_model=TwilioConfig,
    sync_settings_model=TwilioSyncSettings,
    open=open_twilio,
    preview=preview,
)
