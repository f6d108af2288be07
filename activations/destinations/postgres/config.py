"""Typed settings of a PostgreSQL destination and of each sync into it."""

from __future__ import annotations

from pydantic import Field, PositiveFloat

from activations.connectors import ConnectorConfig
from activations.destination import SyncTarget
from waymark.core.destinations import EnvVarName
from waymark.core.types import Model, Name


class PostgresConfig(ConnectorConfig):
    host: str = "127.0.0.1"
    port: int = Field(5432, ge=1, le=65535)
    dbname: str
    user: str
    password_env: EnvVarName | None = None
    """Variable holding the password; omit for trust or peer authentication."""
    schema_name: Name = "public"
    """Schema of the tables syncs write (created when missing)."""
    sslmode: str | None = None
    connect_timeout_seconds: PositiveFloat = 10.0


class PostgresSyncSettings(Model):
    table: Name
    """Table the sync writes, in the destination's schema."""
    create_table: bool = True
    """Create the table when it does not exist, typed from the model's columns."""


def sync_target(config: PostgresConfig, settings: PostgresSyncSettings, sync: str) -> SyncTarget:
    """The table, by server, database, schema and name."""
    where = f"{config.host}:{config.port}/{config.dbname}"
    return SyncTarget("table", f"{config.schema_name}.{settings.table} on {where}")
