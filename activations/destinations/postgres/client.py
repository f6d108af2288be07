"""Writes each batch in one transaction; a refused row is isolated and reported, not the batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from activations.destination import (
    DeliveryError,
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.postgres.capabilities import CAPABILITIES
from activations.destinations.postgres.config import PostgresConfig
from activations.destinations.postgres.mapping import OP_ID_COLUMN, SYNCED_AT_COLUMN, columns
from activations.destinations.postgres.mapping import row as mapped_row
from activations.secrets import Secrets
from waymark.core import crash

# SQLSTATE classes (https://www.postgresql.org/docs/current/errcodes-appendix.html).
_TRANSIENT_CLASSES = ("08", "40", "53", "57")
_TRANSIENT_CODES = ("55P03",)  # lock_not_available
_ROW_CLASSES = ("22", "23")  # data exception, integrity constraint violation


class _RowRefused(Exception):
    """A statement over many rows failed because of one of them: redo row by row."""


class PostgresClient:
    capabilities = CAPABILITIES

    def __init__(self, config: PostgresConfig, secrets: Secrets, context: SyncContext | None):
        if context is None:
            raise DestinationUnavailable("PostgreSQL destinations take syncs, not journey sends")
        self.config, self.context = config, context
        self.password = secrets.optional(config.password_env)
        self.table = sql.Identifier(config.schema_name, context.settings.table)
        self.columns = columns(context)
        self.connection: psycopg.Connection | None = None

    def _connect(self) -> psycopg.Connection:
        if self.connection is not None and not self.connection.closed:
            return self.connection
        options: dict[str, Any] = {
            "host": self.config.host,
            "port": self.config.port,
            "dbname": self.config.dbname,
            "user": self.config.user,
            "connect_timeout": max(1, int(self.config.connect_timeout_seconds)),
        }
        if self.password:
            options["password"] = self.password
        if self.config.sslmode:
            options["sslmode"] = self.config.sslmode
        try:
            self.connection = psycopg.connect(**options)
        except psycopg.OperationalError as error:
            raise DestinationUnavailable(f"cannot connect to PostgreSQL: {error}") from error
        self._ensure_table(self.connection)
        return self.connection

    def _ensure_table(self, connection: psycopg.Connection) -> None:
        schema, table = self.config.schema_name, self.context.settings.table
        with connection.transaction():
            if self.context.settings.create_table:
                definitions = [
                    sql.SQL("{} {}").format(sql.Identifier(name), sql.SQL(kind))
                    for name, kind in self.columns.items()
                ]
                definitions += [
                    sql.SQL("{} text not null").format(sql.Identifier(OP_ID_COLUMN)),
                    sql.SQL("{} timestamptz not null default now()").format(
                        sql.Identifier(SYNCED_AT_COLUMN)
                    ),
                    sql.SQL("primary key ({})").format(sql.Identifier(self.context.key_field)),
                ]
                connection.execute(
                    sql.SQL("create schema if not exists {}").format(sql.Identifier(schema))
                )
                connection.execute(
                    sql.SQL("create table if not exists {} ({})").format(
                        self.table, sql.SQL(", ").join(definitions)
                    )
                )
            found = {
                name
                for (name,) in connection.execute(
                    "select column_name from information_schema.columns "
                    "where table_schema = %s and table_name = %s",
                    [schema, table],
                ).fetchall()
            }
        missing = [c for c in [*self.columns, OP_ID_COLUMN] if c not in found]
        if missing:
            raise DestinationUnavailable(f"table {schema}.{table} lacks columns {missing}")

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        try:
            return self._write(batch, row_by_row=False)
        except _RowRefused:
            return self._write(batch, row_by_row=True)

    def _write(self, batch: Sequence[Operation], row_by_row: bool) -> list[OperationResult]:
        connection = self._connect()
        results: dict[str, OperationResult] = {}
        try:
            with connection.transaction():
                for kind in ("upsert", "insert", "update", "remove"):
                    ops = [op for op in batch if op.kind == kind]
                    if not ops:
                        continue
                    if row_by_row or kind == "update":
                        for op in ops:
                            results[op.op_id] = self._one(connection, op)
                    else:
                        self._many(connection, kind, ops)
                crash.point("postgres.before_commit")
        except psycopg.Error as error:
            code = error.sqlstate or ""
            if not row_by_row and code[:2] in _ROW_CLASSES:
                raise _RowRefused() from error
            transient = code[:2] in _TRANSIENT_CLASSES or code in _TRANSIENT_CODES or not code
            # Without a SQLSTATE the connection broke, possibly during COMMIT.
            raise DeliveryError(
                code or "connection_lost", _message(error), transient=transient, ambiguous=not code
            ) from error
        return [results.get(op.op_id) or OperationResult.success(op.op_id) for op in batch]

    def _one(self, connection: psycopg.Connection, op: Operation) -> OperationResult:
        try:
            with connection.transaction():  # a savepoint: a refused row leaves the others
                if op.kind == "update":
                    return self._update(connection, op)
                self._many(connection, op.kind, [op])
        except psycopg.Error as error:
            if (error.sqlstate or "")[:2] not in _ROW_CLASSES:
                raise
            return OperationResult(
                op.op_id, False, error_code=error.sqlstate, error_message=_message(error)
            )
        return OperationResult.success(op.op_id)

    def _many(self, connection: psycopg.Connection, kind: str, ops: list[Operation]) -> None:
        if kind == "remove":
            key = sql.Identifier(self.context.key_field)
            connection.execute(
                sql.SQL("delete from {} where {} = any(%s)").format(self.table, key),
                [[op.record_key for op in ops]],
            )
            return
        names = [*self.columns, OP_ID_COLUMN]
        target = sql.SQL(", ").join(map(sql.Identifier, names))
        values = sql.SQL(", ").join(sql.Placeholder() * len(names))
        conflict = sql.SQL("on conflict ({}) do nothing").format(
            sql.Identifier(self.context.key_field)
        )
        if kind == "upsert":
            conflict = sql.SQL(
                "on conflict ({key}) do update set {sets}, {synced} = now() "
                "where {table}.{op} is distinct from excluded.{op}"
            ).format(
                key=sql.Identifier(self.context.key_field),
                sets=sql.SQL(", ").join(
                    self._assignment(n, sql.SQL("excluded.{}").format(sql.Identifier(n)))
                    for n in names[1:]
                ),
                synced=sql.Identifier(SYNCED_AT_COLUMN),
                table=self.table,
                op=sql.Identifier(OP_ID_COLUMN),
            )
        statement = sql.SQL("insert into {} ({}) values ({}) {}").format(
            self.table, target, values, conflict
        )
        with connection.cursor() as cursor:
            cursor.executemany(statement, [self._values(op) for op in ops])

    def _update(self, connection: psycopg.Connection, op: Operation) -> OperationResult:
        names = [*self.columns, OP_ID_COLUMN][1:]
        key, op_column = sql.Identifier(self.context.key_field), sql.Identifier(OP_ID_COLUMN)
        statement = sql.SQL(
            "update {table} set {sets}, {synced} = now() where {key} = %s "
            "and {op} is distinct from %s"
        ).format(
            table=self.table,
            sets=sql.SQL(", ").join(self._assignment(n, sql.Placeholder()) for n in names),
            synced=sql.Identifier(SYNCED_AT_COLUMN),
            key=key,
            op=op_column,
        )
        values = self._values(op)
        updated = connection.execute(statement, [*values[1:], op.record_key, op.op_id]).rowcount
        if updated:
            return OperationResult.success(op.op_id)
        exists = connection.execute(
            sql.SQL("select 1 from {} where {} = %s").format(self.table, key), [op.record_key]
        ).fetchone()
        if exists:  # this op id was applied already: a replay
            return OperationResult.success(op.op_id)
        message = f"no row with {self.context.key_field} = {op.record_key} to update"
        return OperationResult(op.op_id, False, error_code="not_found", error_message=message)

    def _assignment(self, column: str, value: sql.Composable) -> sql.Composable:
        """`column = value`; for a field whose null is left out (not declared `on_null: clear`)
        a null keeps the column's value instead (a payload without the field)."""
        name = sql.Identifier(column)
        if column in self.context.field_types and column not in self.context.clears:
            return sql.SQL("{0} = coalesce({1}, {2}.{0})").format(name, value, self.table)
        return sql.SQL("{} = {}").format(name, value)

    def _values(self, op: Operation) -> list[Any]:
        values = mapped_row(op, self.context)
        return [
            Jsonb(value) if self.columns.get(name) == "jsonb" and value is not None else value
            for name, value in values.items()
        ]

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()


def _message(error: psycopg.Error) -> str:
    diag = getattr(error, "diag", None)
    primary = diag.message_primary if diag is not None else None
    return primary or str(error).strip()


def open_postgres(
    config: PostgresConfig, secrets: Secrets, context: SyncContext | None
) -> PostgresClient:
    return PostgresClient(config, secrets, context)
