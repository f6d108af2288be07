"""A scratch PostgreSQL database for tests and benchmarks of the PostgreSQL destination: its
own database on the local server, created per use and dropped on close, with a trigger-based
audit of every row write so tests can count duplicate and missing effects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass
class PostgresScratch:
    """A database of its own in a local PostgreSQL (with one schema the syncs write), dropped
    on close, with write auditing."""

    host: str = "127.0.0.1"
    user: str = "postgres"
    admin_dbname: str = "postgres"
    dbname: str = ""
    schema: str = ""

    def __post_init__(self) -> None:
        import uuid

        import psycopg

        suffix = uuid.uuid4().hex[:12]
        self.dbname = self.dbname or f"waymark_test_{suffix}"
        self.schema = self.schema or "waymark_sync"
        with psycopg.connect(
            host=self.host, dbname=self.admin_dbname, user=self.user, autocommit=True
        ) as admin:
            admin.execute(f'create database "{self.dbname}"')
        self.connection = psycopg.connect(
            host=self.host, dbname=self.dbname, user=self.user, autocommit=True
        )
        self.connection.execute(f'create schema "{self.schema}"')

    def query(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        cursor = self.connection.execute(sql.replace("{schema}", f'"{self.schema}"'), params)
        return cursor.fetchall() if cursor.description else []

    def audited_table(self, table: str, key: str, columns: dict[str, str]) -> None:
        """Create the table a sync writes, with a trigger logging every row write by op id."""
        defined = ", ".join(f'"{name}" {kind}' for name, kind in columns.items())
        self.query(
            f'create table {{schema}}."{table}" ("{key}" text primary key, {defined}, '
            "_waymark_op_id text not null, _waymark_synced_at timestamptz not null default now())"
        )
        self.query("create table {schema}.audit (op_id text, action text, record_key text)")
        self.query(
            f"""
            create function {{schema}}.audit_write() returns trigger language plpgsql as $$
            begin
                insert into {{schema}}.audit values (
                    coalesce(new._waymark_op_id, old._waymark_op_id), tg_op,
                    coalesce(new."{key}", old."{key}"));
                return null;
            end $$
            """
        )
        self.query(
            f'create trigger audit_write after insert or update or delete on {{schema}}."{table}" '
            "for each row execute function {schema}.audit_write()"
        )

    def duplicate_effects(self) -> int:
        """Writes of an op id seen before, or of a record version already written."""
        rows = self.query(
            "select split_part(op_id, ':', 1) || ':' || split_part(op_id, ':', 2) || ':' || "
            "split_part(op_id, ':', 3), count(*) from {schema}.audit "
            "where action in ('INSERT', 'UPDATE') group by 1 having count(*) > 1"
        )
        return sum(count - 1 for _, count in rows)

    def close(self) -> None:
        import psycopg

        self.connection.close()
        with psycopg.connect(
            host=self.host, dbname=self.admin_dbname, user=self.user, autocommit=True
        ) as admin:
            admin.execute(f'drop database if exists "{self.dbname}" with (force)')
