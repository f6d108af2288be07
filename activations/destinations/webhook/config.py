"""Typed settings of a webhook destination."""

from __future__ import annotations

from pydantic import PositiveFloat

from activations.connectors import ConnectorConfig, NoSyncSettings
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName


class WebhookConfig(ConnectorConfig):
    url_env: EnvVarName
    """Variable holding the endpoint URL (treated as a secret: URLs often embed tokens)."""
    signing_secret_env: EnvVarName
    """Variable holding the shared secret that signs every request (HMAC-SHA256)."""
    bearer_token_env: EnvVarName | None = None
    """Variable holding a token sent as `Authorization: Bearer`, when the receiver wants one."""
    timeout_seconds: PositiveFloat = 10.0


WebhookSyncSettings = NoSyncSettings


def sync_target(config: WebhookConfig, settings: WebhookSyncSettings, sync: str) -> SyncTarget:
    """Records the receiver tells apart by their `source`, the sync's name: two syncs into one
    endpoint never write the same records."""
    return SyncTarget("records", f"with source '{sync}' at the URL in ${config.url_env}")
