"""The SQL of a sync's plan: model rows, consent, and the diff against `sync_state`.

Change detection has two hashes. `payload_hash` (MD5 of the mapping's fingerprint and the
fields as JSON) is what the state records as delivered and what op ids are made of. Computing
it, and the JSON, for every row of a large model is most of a plan's cost, so the state also
keeps a `quick_hash`: DuckDB's 64-bit `hash()` of the same fingerprint and fields, remembered for
the payload the destination holds. A row whose quick hash equals the remembered one is
unchanged and needs neither JSON nor MD5; every other row (new, changed, or without a
remembered quick hash) is compared by MD5 as before. MD5 stays the source of truth: if DuckDB
ever hashes differently, quick hashes stop matching, rows fall back to MD5, nothing is resent,
and the new quick hashes are remembered. Recording a different payload clears the quick hash
(`activations.ledger.record`), so it never describes anything but the delivered payload.
"""

from __future__ import annotations

import duckdb

from activations.consent import CUSTOMERS, customer_columns_sql, decided_sql
from activations.sync_files import SyncSpec, relation_parts
from activations.tables import SCHEMA, has_state_column, tables_exist

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
        null::varchar as last_error_code, null::varchar as delivered_payload,
        null::ubigint as quick_hash
    where false
"""


def state_relation(con: duckdb.DuckDBPyConnection) -> str:
    """`sync_state`, or what stands in for it in a warehouse without it (or, opened read-only
    for a dry run, without its newer columns)."""
    if not tables_exist(con):
        return f"({_EMPTY_STATE})"
    added = [
        f"null::{kind} as {column}"
        for column, kind in (("delivered_payload", "varchar"), ("quick_hash", "ubigint"))
        if not has_state_column(con, column)
    ]
    if not added:
        return f"{SCHEMA}.sync_state"
    return f"(select *, {', '.join(added)} from {SCHEMA}.sync_state)"


def rows_sql(spec: SyncSpec) -> str:
    """The model's rows with their mapped fields (a struct, rendered as JSON only where
    needed) and the customer's columns the consent decision reads: one join to the customers
    serves both, and none when the model is the customers themselves. Parameters: purpose,
    channel."""
    schema, name = relation_parts(spec.model)
    # A sync of marts.customers by its own key would join each customer to itself.
    itself = spec.model == CUSTOMERS and spec.customer_id == "customer_id"
    customer = "model" if itself else "customer"
    fields = ", ".join(
        f'"{field}" := '
        + (f'{customer}."{source[9:]}"' if source.startswith("customer.") else f'model."{source}"')
        for field, source in spec.fields.items()
    )
    join = (
        ""
        if itself
        else f"left join {CUSTOMERS} as customer "
        f'on customer.customer_id = cast(model."{spec.customer_id}" as varchar)'
    )
    return f"""
        select
            cast(model."{spec.key}" as varchar) as record_key,
            cast(model."{spec.customer_id}" as varchar) as customer_id,
            ? as purpose,
            cast(? as varchar) as channel,
            struct_pack({fields}) as field_values,
            {customer_columns_sql(customer)}
        from "{schema}"."{name}" as model
        {join}
    """


def plan_sql(spec: SyncSpec, state: str, erased: str) -> str:
    """`_sync_plan`: one row per change, per row whose drop was lifted, and per row whose quick
    hash is to be remembered. Parameters: fingerprint, purpose, channel, as_of, sync name,
    fingerprint, sync name."""
    create_kind = CREATE_KIND[spec.mode]
    update_kind = UPDATE_KIND.get(spec.mode, "none")
    mirror = "true" if spec.mode == "mirror" else "false"
    updates = "false" if spec.mode == "add_only" else "true"
    decided = decided_sql("source_rows", erased=erased, customers_joined=True)
    return f"""
    create or replace temp table _sync_plan as
    with source_rows as (
        select *, hash(cast(? as varchar), field_values) as quick_hash from ({rows_sql(spec)})
    ),

    decided as ({decided}),

    state as (
        select * from {state} as state where state.sync_name = ?
    ),

    joined as (
        select
            coalesce(decided.record_key, state.record_key) as record_key,
            decided.record_key is not null as in_source,
            decided.customer_id,
            decided.field_values,
            decided.quick_hash,
            decided.drop_reason,
            state.status,
            state.payload_hash as delivered_hash,
            state.attempt_hash,
            state.last_error_code,
            state.delivered_payload,
            coalesce(state.version, 0) as version,
            coalesce(
                decided.record_key is not null and state.payload_hash is not null
                    and state.quick_hash = decided.quick_hash,
                false
            ) as quick_match
        from decided
        full outer join state on state.record_key = decided.record_key
    ),

    rendered as (
        select
            * exclude (field_values),
            case when in_source and not quick_match
                then cast(to_json(field_values) as varchar) end as fields
        from joined
    ),

    hashed as (
        select
            *,
            case when quick_match then delivered_hash else md5(? || fields) end as payload_hash
        from rendered
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
        from hashed
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
    where change is not null
        or (in_source and drop_reason is null and status = 'dropped'
            and delivered_hash = payload_hash)
        or (in_source and not quick_match and delivered_hash = payload_hash)
    """
