"""Typed settings of a Google Ads Customer Match destination and of each sync into it."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName
from waymark.core.types import Model

CUSTOMER_ID = r"^[0-9]{10}$"
URL = r"^https?://[^\s/]+(/\S*)?$"


class GoogleAdsConfig(ConnectorConfig):
    developer_token_env: EnvVarName
    """Variable holding the developer token (`developer-token` header)."""
    client_id_env: EnvVarName
    client_secret_env: EnvVarName
    refresh_token_env: EnvVarName
    """Variables holding the OAuth client and the refresh token exchanged for access tokens."""
    customer_id: str = Field(pattern=CUSTOMER_ID)
    """The Google Ads account that owns the customer lists, ten digits without dashes."""
    login_customer_id: str | None = Field(None, pattern=CUSTOMER_ID)
    """The manager account the credentials log in through (`login-customer-id` header)."""
    base_url: str = Field("https://googleads.googleapis.com", pattern=URL)
    token_url: str = Field("https://oauth2.googleapis.com/token", pattern=URL)
    api_version: str = Field("v23", pattern=r"^v[0-9]+$")
    timeout_seconds: PositiveFloat = 60.0


class GoogleAdsSyncSettings(Model):
    user_list_id: str = Field(pattern=r"^[0-9]{1,20}$")
    """The Customer Match user list (`customers/{customer_id}/userLists/{user_list_id}`)."""


def sync_target(config: GoogleAdsConfig, settings: GoogleAdsSyncSettings, sync: str) -> SyncTarget:
    """The Customer Match user list, by its resource name."""
    list_name = f"customers/{config.customer_id}/userLists/{settings.user_list_id}"
    return SyncTarget("Customer Match list", list_name)
