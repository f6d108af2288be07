"""PostgreSQL table: upsert, update, insert and mirror into a table (see README.md)."""

from activations.connectors import Connector
from activations.destinations.postgres.capabilities import CAPABILITIES
from activations.destinations.postgres.client import open_postgres
from activations.destinations.postgres.config import (
    PostgresConfig,
    PostgresSyncSettings,
    sync_target,
)
from activations.destinations.postgres.mapping import preview

CONNECTOR = Connector(
    kind="postgres",
    capabilities=CAPABILITIES,
    config_model=PostgresConfig,
    sync_settings_model=PostgresSyncSettings,
    open=open_postgres,
    preview=preview,
    target=sync_target,
)
