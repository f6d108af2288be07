"""What a run would do, printed with exact payloads and personal data masked. Sends nothing and
writes nothing: the warehouse is opened read-only and no destination is contacted."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import duckdb

from activations.destination import Operation, SyncContext
from activations.destinations_file import ResolvedDestination
from activations.ledger import in_flight
from activations.payloads import shaped_fields
from activations.plan import plan_sync
from activations.sends import decided_outbox_rows, outbox_operation
from activations.sync_files import LoadedSync
from activations.tables import tables_exist

PERSONAL_KEYS = frozenset(
    {"email", "phone", "to", "first_name", "last_name", "name", "address", "zip", "postal_code"}
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_PHONE = re.compile(r"^\+?[0-9][0-9 ()-]{6,}$")
_EMAIL_IN_TEXT = re.compile(r"[^@\s<>\"',]+@[^@\s<>\"',]+")


def _field_name(key: str) -> str:
    """`LastName`, `Last_Name__c` and `last_name` are one field: vendors spell names their way."""
    return _CAMEL.sub("_", key.removesuffix("__c")).lower()


def mask(value: Any, key: str | None = None) -> Any:
    """Personal values hidden, shapes kept: `j***@***.org`, `+*********42`, `M***`."""
    if isinstance(value, dict):
        return {k: mask(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [mask(v, key) for v in value]
    if not isinstance(value, str):
        return value
    if _EMAIL.match(value.strip()):
        local, _, domain = value.strip().partition("@")
        return f"{local[:1]}***@***.{domain.rpartition('.')[2]}"
    if _PHONE.match(value.strip()):
        digits = re.sub(r"\D", "", value)
        return (
            ("+" if value.strip().startswith("+") else "") + "*" * (len(digits) - 2) + digits[-2:]
        )
    if key is not None and _field_name(key) in PERSONAL_KEYS:
        return f"{value[:1]}***" if value else value
    return _EMAIL_IN_TEXT.sub(lambda m: mask(m.group(0)), value)


def dry_run_sync(warehouse: Path, loaded: LoadedSync, as_of: str, sample: int = 3) -> str:
    spec, target = loaded.spec, loaded.destination
    assert spec is not None and target is not None and target.connector is not None
    with duckdb.connect(str(warehouse), read_only=True) as con:
        plan = plan_sync(con, loaded, as_of)
        replays = in_flight(con, spec.name, spec.purpose) if tables_exist(con) else []
    context = SyncContext(spec.name, spec.mode, spec.key, plan.field_types, loaded.settings)
    connector = target.connector
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
            op = Operation(
                change.op_id,
                change.operation,
                change.record_key,
                {} if kind == "remove" else shaped_fields(change.fields, connector.capabilities),
                "dry-run",
                spec.name,
                change.customer_id,
                spec.purpose,
                change.previous if connector.capabilities.needs_previous else None,
            )
            wire = target.connector.preview(op, target.config, context)
            lines.append("  " + json.dumps(mask(dict(wire)), sort_keys=True, default=str))
    return "\n".join(lines)


def dry_run_sends(
    warehouse: Path,
    destinations: dict[str, ResolvedDestination],
    as_of: str,
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
                try:
                    preview = target.connector.preview(op, target.config, None)
                except ValueError as error:
                    lines.append(f"  {row['record_key']}: would be refused: {error}")
                    continue
                lines.append("  " + json.dumps(mask(dict(preview)), sort_keys=True, default=str))
    return "\n".join(lines)
