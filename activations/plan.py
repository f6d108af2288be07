"""What a sync run must do, computed in the warehouse: new, changed, removed and dropped keys.

The model's rows are mapped to their fields as JSON, hashed with a fingerprint of the mapping
(so changing a sync's fields resends everything), checked for consent and suppression, and
compared with `activations.sync_state`, which holds the hash of what each destination holds.
Unchanged rows never leave the warehouse.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb

from activations.consent import CUSTOMERS
from activations.plan_sql import plan_sql, state_relation
from activations.sync_files import LoadedSync, SyncSpec, relation_parts
from activations.tables import SCHEMA
from waymark.core.erasure import erased_customers_sql
from waymark.core.instants import to_warehouse


class PlanError(ValueError):
    """The sync cannot be planned: missing columns, duplicate or null keys."""


@dataclass(frozen=True)
class PlannedChange:
    record_key: str
    change: str
    """create | update | remove | drop"""
    operation: str
    """upsert | update | insert | remove | drop"""
    op_id: str
    customer_id: str | None
    fields: dict[str, Any]
    """What the destination receives: nulls left out unless the sync clears them (`on_null`)."""
    payload_hash: str | None
    drop_reason: str | None
    previous: dict[str, Any] | None = None
    """The payload last delivered, where the sync state keeps it (`needs_previous`)."""


@dataclass(frozen=True)
class Plan:
    source_rows: int
    unchanged: int
    changes: list[PlannedChange]
    field_types: dict[str, str]

    def count(self, change: str) -> int:
        return sum(1 for c in self.changes if c.change == change)

    @property
    def dropped(self) -> int:
        return sum(1 for c in self.changes if c.drop_reason is not None)


def fingerprint(loaded: LoadedSync) -> str:
    """Changes whenever what a destination would receive for the same row could change."""
    spec = loaded.spec
    assert spec is not None and loaded.destination is not None
    described = {
        "kind": loaded.destination.kind,
        "type": spec.type,
        "key": spec.key,
        "fields": spec.fields,
        "settings": spec.settings,
    }
    if spec.on_null:  # only when declared, so syncs that declare nothing keep their hashes
        described["on_null"] = spec.on_null
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def plan_sync(con: duckdb.DuckDBPyConnection, loaded: LoadedSync, as_of: datetime) -> Plan:
    spec, destination = loaded.spec, loaded.destination
    assert spec is not None and destination is not None
    field_types = _check_columns(con, spec)
    source_rows = _check_keys(con, spec)
    # One statement from the model to the changes; only changed rows (and rows whose drop was
    # lifted or whose quick hash is to be remembered) are written out.
    con.execute(
        plan_sql(spec, state_relation(con), erased_customers_sql(con)),
        [fingerprint(loaded), spec.purpose, destination.channel, to_warehouse(as_of), spec.name]
        + [fingerprint(loaded), spec.name],
    )
    rows = con.execute(
        "select record_key, change, operation, op_id, customer_id, fields, payload_hash, "
        "drop_reason, delivered_payload, in_source from _sync_plan where change is not null "
        "order by change, record_key"
    ).fetchall()
    changes = [
        PlannedChange(
            key,
            change,
            operation,
            op_id,
            customer,
            sent_fields(json.loads(fields or "{}"), spec),
            h,
            why,
            json.loads(previous) if previous else None,
        )
        for key, change, operation, op_id, customer, fields, h, why, previous, _ in rows
    ]
    changed_in_source = sum(1 for row in rows if row[-1])
    return Plan(source_rows, source_rows - changed_in_source, changes, field_types)


def sent_fields(fields: dict[str, Any], spec: SyncSpec) -> dict[str, Any]:
    """The fields a destination receives: a null is left out unless the sync declares that it
    clears the field (`on_null: clear`), so a blank in the warehouse never wipes a value the
    destination holds (a phone number a sales team typed into the CRM)."""
    return {
        name: value
        for name, value in fields.items()
        if value is not None or spec.on_null.get(name) == "clear"
    }


def model_field_types(con: duckdb.DuckDBPyConnection, spec: SyncSpec) -> dict[str, str]:
    """Mapped field -> warehouse type; PlanError when the model or a column is missing."""
    return _check_columns(con, spec)


def _check_columns(con: duckdb.DuckDBPyConnection, spec: SyncSpec) -> dict[str, str]:
    model = _columns(con, spec.model)
    if model is None:
        raise PlanError(f"model: relation {spec.model} does not exist in the warehouse")
    customers = _columns(con, CUSTOMERS) or {}
    missing = [c for c in (spec.key, spec.customer_id) if c not in model]
    types: dict[str, str] = {}
    for name, source in spec.fields.items():
        table, column = (
            (customers, source[9:]) if source.startswith("customer.") else (model, source)
        )
        if column not in table:
            missing.append(source)
        else:
            types[name] = table[column]
    if missing:
        raise PlanError(f"{spec.model}: no column {', '.join(missing)}")
    return types


def _columns(con: duckdb.DuckDBPyConnection, relation: str) -> dict[str, str] | None:
    schema, name = relation_parts(relation)
    rows = con.execute(
        "select column_name, data_type from duckdb_columns() "
        "where schema_name = ? and table_name = ? order by column_index",
        [schema, name],
    ).fetchall()
    return dict(rows) if rows else None


def _check_keys(con: duckdb.DuckDBPyConnection, spec: SyncSpec) -> int:
    """The model's row count; PlanError when a key is null or not unique."""
    schema, name = relation_parts(spec.model)
    total, nulls, duplicates = con.execute(
        f"""
        select
            coalesce(sum(rows), 0),
            coalesce(sum(rows) filter (where key is null), 0),
            list(cast(key as varchar) order by cast(key as varchar))
                filter (where rows > 1 and key is not null)
        from (select "{spec.key}" as key, count(*) as rows from "{schema}"."{name}" group by 1)
        """
    ).fetchone()
    duplicates = (duplicates or [])[:5]
    if nulls:
        raise PlanError(f"key: {nulls} rows of {spec.model} have a null {spec.key}")
    if duplicates:
        shown = ", ".join(str(key) for key in duplicates)
        raise PlanError(f"key: {spec.key} is not unique in {spec.model} (for example {shown})")
    return total


def undropped_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Keys of the last plan whose drop was lifted while the destination kept their payload."""
    rows = con.execute(
        "select record_key from _sync_plan where in_source and drop_reason is null "
        "and change is null and status = 'dropped' and delivered_hash = payload_hash"
    ).fetchall()
    return [row[0] for row in rows]


def remember_quick_hashes(con: duckdb.DuckDBPyConnection, sync_name: str) -> None:
    """After a run: the quick hash of every row of the last plan whose payload the destination
    now holds, so that the next plan recognises it unchanged without its MD5 (see
    `activations.plan_sql`). A run that dies first only leaves the next plan slower."""
    con.execute(
        f"""
        update {SCHEMA}.sync_state as state set quick_hash = plan.quick_hash
        from _sync_plan as plan
        where state.sync_name = ? and state.record_key = plan.record_key
            and state.payload_hash = plan.payload_hash and plan.quick_hash is not null
            and state.quick_hash is distinct from plan.quick_hash
        """,
        [sync_name],
    )
