"""Salesforce: sObject Collections upserts by external id, OAuth refresh (see README.md)."""

from activations.connectors import Connector
from activations.destinations.salesforce.capabilities import CAPABILITIES
from activations.destinations.salesforce.client import open_salesforce
from activations.destinations.salesforce.config import (
    SalesforceConfig,
    SalesforceSyncSettings,
    sync_target,
)
from activations.destinations.salesforce.mapping import preview

CONNECTOR = Connector(
    kind="salesforce",
    capabilities=CAPABILITIES,
    config_model=SalesforceConfig,
    sync_settings_model=SalesforceSyncSettings,
    open=open_salesforce,
    preview=preview,
    target=sync_target,
)
