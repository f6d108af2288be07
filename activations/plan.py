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
from typing import Any

import duckdb

from activations.consent import CUSTOMERS, decided_sql
from activations.erasure import erased_customers_sql
from activations.sync_files import LoadedSync, SyncSpec, relation_parts
from activations.tables import SCHEMA, has_delivered_payload, tables_exist

# What each change is called at the destination, per sync mode.
CREATE_KIND = {
    "upsert": "upsert",
    "mirror": "upsert",
    "update_only": "update",
    "add_only": "insert",
}
UPDATE_KIND = {"upsert": "upsert", "mirror": "upsert", "update_only": "update"}

_EMPTY_STATE = """
    select
        null::varchar as sync_name, null::varchar as record_key, null::varchar as status,
        null::varchar as payload_hash, null::integer as version, null::varchar as attempt_hash,
        null::varchar as last_error_code, null::varchar as delivered_payload
    where false
"""


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
    return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]


def plan_sync(con: duckdb.DuckDBPyConnection, loaded: LoadedSync, as_of: str) -> Plan:
    spec, destination = loaded.spec, loaded.destination
    assert spec is not None and destination is not None
    field_types = _check_columns(con, spec)
    _create_rows(con, spec, destination.channel)
    _check_keys(con, spec)
    decided = decided_sql("_sync_rows", erased=erased_customers_sql(con))
    con.execute(f"create or replace temp table _sync_decided as {decided}", [as_of])
    state = f"({_EMPTY_STATE})"
    if tables_exist(con):
        state = f"{SCHEMA}.sync_state"
        if not has_delivered_payload(con):  # an older warehouse opened read-only (dry run)
            state = f"(select *, null::varchar as delivered_payload from {SCHEMA}.sync_state)"
    con.execute(_diff_sql(spec, state), [fingerprint(loaded), spec.name, spec.name])
    source_rows, unchanged = con.execute(
        "select count(*) filter (where in_source), "
        "count(*) filter (where in_source and change is null) from _sync_plan"
    ).fetchone()
    rows = con.execute(
        "select record_key, change, operation, op_id, customer_id, fields, payload_hash, "
        "drop_reason, delivered_payload from _sync_plan where change is not null "
        "order by change, record_key"
    ).fetchall()
    changes = [
        PlannedChange(
            key,
            change,
            operation,
            op_id,
            customer,
            json.loads(fields or "{}"),
            h,
            why,
            json.loads(previous) if previous else None,
        )
        for key, change, operation, op_id, customer, fields, h, why, previous in rows
    ]
    return Plan(source_rows, unchanged, changes, field_types)


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


def _create_rows(con: duckdb.DuckDBPyConnection, spec: SyncSpec, channel: str | None) -> None:
    schema, name = relation_parts(spec.model)
    fields = ", ".join(
        f'"{field}" := '
        + (f'customer."{source[9:]}"' if source.startswith("customer.") else f'model."{source}"')
        for field, source in spec.fields.items()
    )
    join = (
        f'left join {CUSTOMERS} as customer on customer.customer_id = model."{spec.customer_id}"'
        if any(source.startswith("customer.") for source in spec.fields.values())
        else ""
    )
    con.execute(
        f"""
        create or replace temp table _sync_rows as
        select
            cast(model."{spec.key}" as varchar) as record_key,
            cast(model."{spec.customer_id}" as varchar) as customer_id,
            ? as purpose,
            cast(? as varchar) as channel,
            cast(to_json(struct_pack({fields})) as varchar) as fields
        from "{schema}"."{name}" as model
        {join}
        """,
        [spec.purpose, channel],
    )


def _check_keys(con: duckdb.DuckDBPyConnection, spec: SyncSpec) -> None:
    nulls = con.execute("select count(*) from _sync_rows where record_key is null").fetchone()
    if nulls and nulls[0]:
        raise PlanError(f"key: {nulls[0]} rows of {spec.model} have a null {spec.key}")
    duplicates = con.execute(
        "select record_key from _sync_rows group by record_key having count(*) > 1 "
        "order by record_key limit 5"
    ).fetchall()
    if duplicates:
        shown = ", ".join(str(row[0]) for row in duplicates)
        raise PlanError(f"key: {spec.key} is not unique in {spec.model} (for example {shown})")


def _diff_sql(spec: SyncSpec, state: str) -> str:
    create_kind = CREATE_KIND[spec.mode]
    update_kind = UPDATE_KIND.get(spec.mode, "none")
    mirror = "true" if spec.mode == "mirror" else "false"
    updates = "false" if spec.mode == "add_only" else "true"
    return f"""
    create or replace temp table _sync_plan as
    with decided as (
        select *, md5(? || fields) as payload_hash from _sync_decided
    ),

    state as (
        select * from {state} as state where state.sync_name = ?
    ),

    joined as (
        select
            coalesce(decided.record_key, state.record_key) as record_key,
            decided.record_key is not null as in_source,
            decided.customer_id,
            decided.fields,
            decided.payload_hash,
            decided.drop_reason,
            state.status,
            state.payload_hash as delivered_hash,
            state.attempt_hash,
            state.last_error_code,
            state.delivered_payload,
            coalesce(state.version, 0) as version
        from decided
        full outer join state on state.record_key = decided.record_key
    ),

    classified as (
        select
            *,
            case
                when in_source and drop_reason is null then case
                    when status = 'given_up' and attempt_hash = payload_hash then null
                    when delivered_hash is null then 'create'
                    when delivered_hash <> payload_hash and {updates} then 'update'
                end
                when in_source then case
                    when {mirror} and delivered_hash is not null then 'remove'
                    when status = 'dropped' and attempt_hash = payload_hash
                        and last_error_code = drop_reason then null
                    else 'drop'
                end
                when {mirror} and delivered_hash is not null then 'remove'
            end as change
        from joined
    )

    select
        *,
        case change
            when 'create' then '{create_kind}'
            when 'update' then '{update_kind}'
            else change
        end as operation,
        ? || ':' || record_key || ':' || cast(version + 1 as varchar) || ':'
            || case when change = 'remove' then 'remove' else left(payload_hash, 12) end as op_id
    from classified
    """


def undropped_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Keys of the last plan whose drop was lifted while the destination kept their payload."""
    rows = con.execute(
        "select record_key from _sync_plan where in_source and drop_reason is null "
        "and change is null and status = 'dropped' and delivered_hash = payload_hash"
    ).fetchall()
    return [row[0] for row in rows]
