"""Rows as PostgreSQL receives them: the key column, one column per mapped field, and the op id.

Column types follow the warehouse types of the mapped columns; values arrive as JSON scalars
and PostgreSQL casts text to dates and timestamps on insert. Structs and lists become jsonb.
A field left out of the payload (a null the sync does not declare `on_null: clear`) is NULL in
a new row and keeps the column's value in an existing one; a cleared field is written NULL.
"""

from __future__ import annotations

import re
from typing import Any

from activations.destination import Operation, SyncContext

OP_ID_COLUMN = "_waymark_op_id"
SYNCED_AT_COLUMN = "_waymark_synced_at"

_TYPES = {
    "VARCHAR": "text",
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "SMALLINT": "smallint",
    "TINYINT": "smallint",
    "HUGEINT": "numeric",
    "DOUBLE": "double precision",
    "FLOAT": "real",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "TIMESTAMP WITH TIME ZONE": "timestamptz",
    "UUID": "uuid",
}
_DECIMAL = re.compile(r"^DECIMAL\((\d+),\s*(\d+)\)$")


def postgres_type(warehouse_type: str) -> str:
    upper = warehouse_type.upper()
    decimal = _DECIMAL.match(upper)
    if decimal:
        return f"numeric({decimal.group(1)}, {decimal.group(2)})"
    return _TYPES.get(upper, "jsonb")


def columns(context: SyncContext) -> dict[str, str]:
    """Column -> PostgreSQL type, key first, then the mapped fields in file order."""
    fields = {name: postgres_type(kind) for name, kind in context.field_types.items()}
    return {context.key_field: "text", **fields}


def row(op: Operation, context: SyncContext) -> dict[str, Any]:
    values = {context.key_field: op.record_key}
    values.update({name: op.payload.get(name) for name in context.field_types})
    values[OP_ID_COLUMN] = op.op_id
    return values


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    assert context is not None
    table = f"{config.schema_name}.{context.settings.table}"
    return {"table": table, "operation": op.kind, "row": row(op, context)}
