"""Rows as the files hold them.

Delta rows: `_op_id`, `_operation` (upsert, insert, remove), `_run_id`, the key column and the
mapped fields (null for removals). Snapshot rows: the key column, the fields and `_op_id`, the
operation that last wrote the record. A field left out of the payload (a null the sync does not
declare `on_null: clear`) keeps the value the snapshot holds, in the snapshot and in the delta
row, so a delta applied as it stands never empties it; a cleared field is null.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from activations.destination import Operation, SyncContext


def delta_row(
    op: Operation, context: SyncContext, held: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """`held`: the snapshot's row for the record, if it has one."""
    row: dict[str, Any] = {"_op_id": op.op_id, "_operation": op.kind, "_run_id": op.run_id}
    row[context.key_field] = op.record_key
    row.update(_fields(op, context, held))
    return row


def snapshot_row(
    op: Operation, context: SyncContext, held: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    row: dict[str, Any] = {context.key_field: op.record_key}
    row.update(_fields(op, context, held))
    row["_op_id"] = op.op_id
    return row


def _fields(op: Operation, context: SyncContext, held: Mapping[str, Any] | None) -> dict[str, Any]:
    kept = held if held is not None and op.kind != "remove" else {}
    return {
        name: op.payload[name] if name in op.payload else kept.get(name)
        for name in context.field_types
    }


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    assert context is not None
    return delta_row(op, context)
