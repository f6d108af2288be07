"""Rows as the files hold them.

Delta rows: `_op_id`, `_operation` (upsert, insert, remove), `_run_id`, the key column and the
mapped fields (null for removals). Snapshot rows: the key column, the fields and `_op_id`, the
operation that last wrote the record.
"""

from __future__ import annotations

from typing import Any

from activations.destination import Operation, SyncContext


def delta_row(op: Operation, context: SyncContext) -> dict[str, Any]:
    row: dict[str, Any] = {"_op_id": op.op_id, "_operation": op.kind, "_run_id": op.run_id}
    row[context.key_field] = op.record_key
    row.update({name: op.payload.get(name) for name in context.field_types})
    return row


def snapshot_row(op: Operation, context: SyncContext) -> dict[str, Any]:
    row: dict[str, Any] = {context.key_field: op.record_key}
    row.update({name: op.payload.get(name) for name in context.field_types})
    row["_op_id"] = op.op_id
    return row


def preview(op: Operation, config: Any, context: SyncContext | None) -> dict[str, Any]:
    assert context is not None
    return delta_row(op, context)
