"""The database and role a PostgreSQL destination names, created on the local server.

Only for a server on this machine (the demo's; trust authentication): the role and database are
created when missing, by connecting as the administrator (`PGUSER`, default `postgres`) to the
`postgres` database. Nothing is created anywhere else.
"""

from __future__ import annotations

import os

import psycopg
from psycopg import sql

from activations.destinations.postgres.config import PostgresConfig

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


def prepare_local_database(config: PostgresConfig) -> str | None:
    """None when the destination's database accepts its role; else why it cannot be used."""
    where = f"{config.host}:{config.port}"
    if config.host not in LOCAL_HOSTS:
        return f"PostgreSQL at {where} is not on this machine; the demo only prepares a local one"
    try:
        psycopg.connect(**_options(config, config.dbname, config.user)).close()
        return None
    except psycopg.OperationalError:
        pass  # no such role or database yet, or no server: ask as the administrator
    admin = os.environ.get("PGUSER") or "postgres"
    try:
        connection = psycopg.connect(**_options(config, "postgres", admin), autocommit=True)
    except psycopg.OperationalError as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else "refused"
        return f"PostgreSQL is not running at {where} ({first_line})"
    with connection:
        role = connection.execute("select 1 from pg_roles where rolname = %s", [config.user])
        if not role.fetchone():
            connection.execute(sql.SQL("create role {} login").format(sql.Identifier(config.user)))
        if not connection.execute(
            "select 1 from pg_database where datname = %s", [config.dbname]
        ).fetchone():
            connection.execute(
                sql.SQL("create database {} owner {}").format(
                    sql.Identifier(config.dbname), sql.Identifier(config.user)
                )
            )
    return None


def _options(config: PostgresConfig, dbname: str, user: str) -> dict:
    return {
        "host": config.host,
        "port": config.port,
        "dbname": dbname,
        "user": user,
        "connect_timeout": 2,
    }
