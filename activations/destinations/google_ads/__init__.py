"""Google Ads Customer Match: offline user data jobs on a customer list (see README.md)."""

from activations.connectors import Connector
from activations.destinations.google_ads.capabilities import CAPABILITIES
from activations.destinations.google_ads.client import open_google_ads
from activations.destinations.google_ads.config import (
    GoogleAdsConfig,
    GoogleAdsSyncSettings,
    sync_target,
)
from activations.destinations.google_ads.mapping import preview

CONNECTOR = Connector(
    kind="google_ads",
    capabilities=CAPABILITIES,
    config_model=GoogleAdsConfig,
    sync_settings_model=GoogleAdsSyncSettings,
    open=open_google_ads,
    preview=preview,
    target=sync_target,
)
