"""The database and role a PostgreSQL destination names, created on the local server.

Only for a server on this machine (the demo's; trust authentication): the role and database are
created when missing, by connecting as the administrator (`PGUSER`, default `postgres`) to the
`postgres` database. Nothing is created anywhere else.

Every checkout on a machine shares that server, so the demo never writes the configured database
itself: each Waymark home gets a database of its own, named from the configured one and the home
(`home_database_name`), so two checkouts never upsert into each other's tables.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import psycopg
from psycopg import sql

from activations.destinations.postgres.config import PostgresConfig

LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
DEFAULT_HOME_NAME = ".waymark"
MAX_IDENTIFIER = 63  # PostgreSQL truncates longer names (NAMEDATALEN - 1 bytes)
_NOT_NAME = re.compile(r"[^a-z0-9]+")


def home_database_name(base: str, home: Path) -> str:
    """`<base>_<home>_<hash>`: the demo's database for one Waymark home.

    Stable per home (the hash is of the resolved path, so `./.waymark` and its absolute path
    agree) and a plain lowercase identifier whatever the path holds: the readable part keeps only
    letters and digits of the folder's name (the checkout's, for the default `.waymark`). It is
    still only ever used quoted (`sql.Identifier`).
    """
    resolved = home.resolve()
    digest = hashlib.sha256(str(resolved).encode("utf-8", "surrogateescape")).hexdigest()[:10]
    folder = resolved.parent.name if resolved.name == DEFAULT_HOME_NAME else resolved.name
    prefix = _NOT_NAME.sub("_", base.lower()).strip("_") or "waymark"
    if not prefix[0].isalpha():
        prefix = f"db_{prefix}"
    label = _NOT_NAME.sub("_", folder.lower()).strip("_")
    room = MAX_IDENTIFIER - len(digest) - 2 - len(prefix)
    label = label[: max(room, 0)].rstrip("_")
    parts = [prefix[: MAX_IDENTIFIER - len(digest) - 1], *([label] if label else []), digest]
    return "_".join(parts)


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
