"""Writes a delta file per batch and keeps `current.parquet`; a snapshot per run at the end.

Layout under `<root>/<folder>/`: `deltas/<run_id>-<digest>.<format>`, `current.parquet` (every
record the destination holds), `snapshots/<run_id>.<format>` (copies of current at the end of
each run that changed something). Every file is written to a temporary name, flushed to disk
and renamed, so a reader never sees half a file.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from activations.destination import (
    DestinationUnavailable,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.destinations.files.capabilities import CAPABILITIES
from activations.destinations.files.config import FilesConfig
from activations.destinations.files.mapping import delta_row, snapshot_row
from activations.secrets import Secrets
from waymark.core import crash


class FilesClient:
    capabilities = CAPABILITIES

    def __init__(self, config: FilesConfig, context: SyncContext | None) -> None:
        if context is None:
            raise DestinationUnavailable("files destinations take syncs, not journey sends")
        self.context, self.formats = context, config.formats
        self.folder = Path(config.root) / (context.settings.folder or context.name)
        (self.folder / "deltas").mkdir(parents=True, exist_ok=True)
        self.current_path = self.folder / "current.parquet"
        self.changed = False

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        digest = hashlib.sha256("\n".join(sorted(op.op_id for op in batch)).encode()).hexdigest()
        name = f"{batch[0].run_id}-{digest[:16]}"
        current = self._read_current()
        rows = []
        for op in batch:
            # Each op sees the record as the ops before it in the batch left it.
            held = current.get(op.record_key)
            rows.append(delta_row(op, self.context, held))
            if op.kind == "remove":
                current.pop(op.record_key, None)
            elif op.kind == "upsert" or held is None:
                current[op.record_key] = snapshot_row(op, self.context, held)
        for file_format in self.formats:
            _write(pa.Table.from_pylist(rows), self.folder / "deltas" / f"{name}.{file_format}")
        crash.point("files.after_delta")
        _write(self._table(list(current.values())), self.current_path)
        self.changed = True
        return [OperationResult.success(op.op_id) for op in batch]

    def _read_current(self) -> dict[str, dict[str, Any]]:
        if not self.current_path.exists():
            return {}
        rows = pq.read_table(self.current_path).to_pylist()
        return {str(row[self.context.key_field]): row for row in rows}

    def _table(self, rows: list[dict[str, Any]]) -> pa.Table:
        if rows:
            return pa.Table.from_pylist(rows)
        names = [self.context.key_field, *self.context.field_types, "_op_id"]
        return pa.table({name: pa.array([], pa.string()) for name in names})

    def finish(self, run_id: str) -> None:
        if not self.changed:
            return
        table = pq.read_table(self.current_path)
        for file_format in self.formats:
            _write(table, self.folder / "snapshots" / f"{run_id}.{file_format}")

    def close(self) -> None:
        return None


def _write(table: pa.Table, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    if path.suffix == ".csv":
        pa_csv.write_csv(table, temporary)
    else:
        pq.write_table(table, temporary)
    with open(temporary, "rb") as handle:
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def open_files(config: FilesConfig, secrets: Secrets, context: SyncContext | None) -> FilesClient:
    return FilesClient(config, context)
