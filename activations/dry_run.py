"""What a run would do, printed with exact payloads and personal data masked. Sends nothing and
writes nothing: the warehouse is opened read-only and no destination is contacted.

Masking goes by what each value means (`activations.masking`): a sync's personal fields by the
column each is mapped from and the name it has at the destination, a message's by its recipient
and the customer's personal columns; our own settings (From, Reply-To) stay in clear.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import duckdb

from activations.destination import Operation, SyncContext
from activations.destinations_file import ResolvedDestination
from activations.ledger import in_flight
from activations.masking import (
    PERSONAL_COLUMNS,
    mask_text,
    mask_values,
    personal_fields,
    personal_values,
)
from activations.payloads import sent_in_clear, shaped_fields
from activations.plan import plan_sync
from activations.sends import decided_outbox_rows, outbox_operation
from activations.sync_files import LoadedSync
from activations.tables import tables_exist

mask = mask_text
"""Free text of unknown meaning (a vendor's error message) masked; kept under this name for
the callers that print run notes."""


def dry_run_sync(warehouse: Path, loaded: LoadedSync, as_of: datetime, sample: int = 3) -> str:
    spec, target = loaded.spec, loaded.destination
    assert spec is not None and target is not None and target.connector is not None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        plan = plan_sync(con, loaded, as_of)
        replays = in_flight(con, spec.name, spec.purpose) if tables_exist(con) else []
    context = SyncContext(spec.name, spec.mode, spec.key, plan.field_types, loaded.settings)
    connector = target.connector
    personal = personal_fields(spec.fields)
    lines = [
        f"sync {spec.name}: {spec.model} -> {spec.destination} ({target.kind}), mode {spec.mode}, "
        f"purpose {spec.purpose}. DRY RUN: nothing is sent or recorded.",
        f"writes {loaded.target}",
        f"source rows {plan.source_rows}, unchanged {plan.unchanged}, "
        f"creates {plan.count('create')}, updates {plan.count('update')}, "
        f"removes {plan.count('remove')}, dropped {plan.dropped}",
    ]
    if replays:
        lines.append(
            f"{len(replays)} operations in flight from an interrupted run will be replayed"
        )
    reasons: dict[str, int] = {}
    for change in plan.changes:
        if change.drop_reason:
            reasons[change.drop_reason] = reasons.get(change.drop_reason, 0) + 1
    for reason, count in sorted(reasons.items()):
        lines.append(f"  dropped {count}: {reason}")
    for kind in ("create", "update", "remove"):
        chosen = [c for c in plan.changes if c.change == kind][:sample]
        if chosen:
            lines.append(f"{kind} (first {len(chosen)} of {plan.count(kind)}):")
        for change in chosen:
            shaped = shaped_fields(change.fields, connector.capabilities)
            op = Operation(
                change.op_id,
                change.operation,
                change.record_key,
                {} if kind == "remove" else shaped,
                "dry-run",
                spec.name,
                change.customer_id,
                spec.purpose,
                change.previous if connector.capabilities.needs_previous else None,
            )
            wire = target.connector.preview(op, target.config, context)
            clear = {name for name in personal if sent_in_clear(name, connector.capabilities)}
            # Hashed identifiers are shown as sent; what leaves in clear is masked.
            values = personal_values(change.fields, fields=personal)
            values |= personal_values(shaped, change.previous, fields=clear)
            lines.append("  " + _printed(mask_values(dict(wire), values)))
    return "\n".join(lines)


def dry_run_sends(
    warehouse: Path,
    destinations: dict[str, ResolvedDestination],
    as_of: datetime,
    sample: int = 3,
) -> str:
    lines = ["journey sends. DRY RUN: nothing is sent or recorded."]
    with duckdb.connect(str(warehouse), read_only=True) as con:
        names = [
            row[0]
            for row in con.execute(
                "select distinct destination from journeys.journey_outbox "
                "where state in ('pending', 'sending') order by 1"
            ).fetchall()
        ]
        for name in names:
            rows = decided_outbox_rows(con, name, as_of)
            target = destinations.get(name)
            sendable = [row for row in rows if row["drop_reason"] is None]
            lines.append(f"{name}: {len(sendable)} to send, {len(rows) - len(sendable)} dropped")
            reasons: dict[str, int] = {}
            for row in rows:
                if row["drop_reason"]:
                    reasons[row["drop_reason"]] = reasons.get(row["drop_reason"], 0) + 1
            lines += [f"  dropped {count}: {why}" for why, count in sorted(reasons.items())]
            if target is None or target.connector is None or target.config is None:
                lines.append(f"  no usable connector for '{name}'")
                continue
            for row in sendable[:sample]:
                op = outbox_operation(row, "dry-run")
                values = _customer_values(con, row["customer_id"]) | personal_values(
                    row, fields=["recipient"]
                )
                try:
                    preview = target.connector.preview(op, target.config, None)
                except ValueError as error:
                    reason = mask_values(str(error), values)
                    lines.append(f"  {row['record_key']}: would be refused: {reason}")
                    continue
                lines.append("  " + _printed(mask_values(dict(preview), values)))
    return "\n".join(lines)


def _printed(document: object) -> str:
    return json.dumps(document, sort_keys=True, default=str)


def _customer_values(con: duckdb.DuckDBPyConnection, customer_id: str | None) -> set[str]:
    """The customer's personal columns in `marts.customers`, which templates may quote."""
    columns = [
        row[0]
        for row in con.execute(
            "select column_name from duckdb_columns() where schema_name = 'marts' "
            "and table_name = 'customers'"
        ).fetchall()
        if row[0] in PERSONAL_COLUMNS
    ]
    if not columns or customer_id is None:
        return set()
    cursor = con.execute(
        f"select {', '.join(columns)} from marts.customers where customer_id = ?", [customer_id]
    )
    found = cursor.fetchone()
    return personal_values(dict(zip(columns, found or (), strict=False)), fields=columns)
