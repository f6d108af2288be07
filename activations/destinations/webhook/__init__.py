"""Webhook: signed JSON POSTs with an idempotency key (see README.md)."""

from activations.connectors import Connector
from activations.destinations.webhook.capabilities import CAPABILITIES
from activations.destinations.webhook.client import open_webhook
from activations.destinations.webhook.config import (
    WebhookConfig,
    WebhookSyncSettings,
    sync_target,
)
from activations.destinations.webhook.mapping import preview

CONNECTOR = Connector(
    kind="webhook",
    capabilities=CAPABILITIES,
    config_model=WebhookConfig,
    sync_settings_model=WebhookSyncSettings,
    open=open_webhook,
    preview=preview,
    target=sync_target,
)
