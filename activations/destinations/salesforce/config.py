"""Typed settings of a Salesforce destination and of each sync into it."""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, PositiveFloat, WithJsonSchema

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName
from waymark.core.types import Model, Name

API_NAME_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,79}$"
MINIMUM_API_VERSION = 46.0
"""sObject Collections upsert needs API version 46.0 or later."""


def _api_name(value: str) -> str:
    if not re.match(API_NAME_PATTERN, value):
        raise ValueError(f"'{value}' is not a Salesforce API name (such as Contact or Tier__c)")
    return value


ApiName = Annotated[
    str, AfterValidator(_api_name), WithJsonSchema({"type": "string", "pattern": API_NAME_PATTERN})
]
"""An sObject or field API name; it reaches a URL and a SOQL query, so it is checked here."""


def _api_version(value: str) -> str:
    try:
        number = float(value)
    except ValueError:
        number = 0.0
    if not value.endswith(".0") or number < MINIMUM_API_VERSION:
        raise ValueError(f"'{value}' is not an API version of {MINIMUM_API_VERSION} or later")
    return value


class SalesforceConfig(ConnectorConfig):
    login_url: str = "https://login.salesforce.com"
    """Where tokens are refreshed: login.salesforce.com, test.salesforce.com for sandboxes, or
    the org's My Domain. API calls go to the `instance_url` the token response names."""
    api_version: Annotated[str, AfterValidator(_api_version)] = "62.0"
    client_id_env: EnvVarName
    """Variable holding the connected app's consumer key."""
    client_secret_env: EnvVarName
    refresh_token_env: EnvVarName
    """Variable holding a refresh token of the integration user (refresh token rotation off)."""
    timeout_seconds: PositiveFloat = 30.0
    task_external_id_field: ApiName = "Waymark_Op_Id__c"
    """Unique external id text field on Task (Activity) that holds the send's idempotency key,
    so a replayed send upserts the same Task instead of creating a second one."""
    task_contact_field: ApiName | None = "Waymark_Customer_Id__c"
    """External id field on Contact holding the Waymark customer id; a journey Task is linked
    to that Contact (`Who`). None: tasks are not linked."""
    task_status: str = Field("Not Started", min_length=1)


class SalesforceSyncSettings(Model):
    sobject: ApiName
    """The object the sync writes, such as Contact, Lead or Waymark_Member__c."""
    external_id_field: ApiName
    """Unique external id field holding the sync's key; records are matched on it."""
    fields: dict[Name, ApiName] = {}
    """Sync field -> Salesforce field where the names differ (`last_name: LastName`); other
    fields keep their names (Salesforce field names are case-insensitive: `email` is Email)."""
    op_id_field: ApiName | None = None
    """Optional text field receiving the operation id of the last write, for auditing."""


def sync_target(
    config: SalesforceConfig, settings: SalesforceSyncSettings, sync: str
) -> SyncTarget:
    """The sObject of the org the connected app logs in to."""
    org = f"{config.login_url} (client ${config.client_id_env})"
    return SyncTarget("Salesforce object", f"{settings.sobject} at {org}")
