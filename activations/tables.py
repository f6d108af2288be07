"""The warehouse tables activations keep: what each destination holds, every run, every row.

- `activations.sync_state`: one row per (sync_name, record_key): the hash of the payload the
  destination holds, when it was delivered, the record's status, and the operation in flight if
  a run died between sending and recording.
- `activations.sync_runs`: one row per run of a sync or of journey sends to one destination.
- `activations.sync_changelog`: one row per operation outcome, with the destination's error code
  and message for every rejection and the reason for every consent or suppression drop.
- `activations.deletion_requests`: one row per right-to-erasure request (`activations.erasure`).
- `activations.deletion_identifiers`: the identifiers each request's customers held when it was
  recorded, hashed (`waymark.core.erasure` matches on them).
- `activations.deletion_audit`: one row per action taken for a request, per sync and record.
"""

from __future__ import annotations

import duckdb

SCHEMA = "activations"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""
    create table if not exists {SCHEMA}.sync_state (
        sync_name varchar not null,
        record_key varchar not null,
        status varchar not null,  -- new delivered removed rejected retrying given_up dropped
        payload_hash varchar,               -- what the destination holds; null when absent there
        version integer not null,           -- operations applied so far; part of each op id
        last_delivered_at timestamp,
        attempt_hash varchar,               -- payload of the last failed attempt or drop
        failed_runs integer not null,       -- consecutive runs that rejected attempt_hash
        last_error_code varchar,
        last_error_message varchar,
        inflight_op_id varchar,             -- set before sending, cleared when recorded
        inflight_kind varchar,
        inflight_hash varchar,
        inflight_payload varchar,
        inflight_run_id varchar,
        inflight_reason varchar,
        updated_at timestamp not null,
        delivered_payload varchar,          -- what was delivered (needs_previous destinations)
        customer_id varchar,                -- whose record it is (erasure finds records by it)
        quick_hash ubigint,                 -- fast hash of the delivered payload (plan_sql.py)
        primary key (sync_name, record_key)
    )
    """,
    f"""
    create table if not exists {SCHEMA}.sync_runs (
        run_id varchar primary key,
        sync_name varchar not null,         -- a sync, or sends:<destination> for journey sends
        run_kind varchar not null,          -- sync | sends
        destination varchar not null,
        mode varchar,
        as_of timestamp,
        status varchar not null,            -- running success partial failed interrupted
        source_rows bigint,
        planned_creates bigint not null default 0,
        planned_updates bigint not null default 0,
        planned_removes bigint not null default 0,
        unchanged bigint not null default 0,
        dropped bigint not null default 0,  -- consent or suppression
        replayed bigint not null default 0, -- in flight when an earlier run died
        sent bigint not null default 0,
        rejected bigint not null default 0, -- refused by the destination; retried up to N runs
        given_up bigint not null default 0,
        retried bigint not null default 0,  -- transient failures left for the next run
        ambiguous bigint not null default 0,
        requests bigint not null default 0,
        request_retries bigint not null default 0,
        started_at timestamp not null,
        finished_at timestamp,
        plan_seconds double,
        deliver_seconds double,
        error varchar
    )
    """,
    f"""
    create table if not exists {SCHEMA}.sync_changelog (
        run_id varchar not null,
        sync_name varchar not null,
        record_key varchar not null,
        op_id varchar,
        operation varchar not null,         -- upsert update insert remove send drop
        result varchar not null,            -- sent rejected given_up retry dropped
        replayed boolean not null,
        ambiguous boolean not null,         -- may have taken effect twice (no idempotency)
        attempts integer not null,
        payload_hash varchar,
        error_code varchar,                 -- the destination's code, or the drop reason
        error_message varchar,
        recorded_at timestamp not null
    )
    """,
)

ERASURE_DDL = (
    f"""
    create table if not exists {SCHEMA}.deletion_requests (
        request_id varchar primary key,
        customer_id varchar,                -- the customer named by the request
        email_sha256 varchar,               -- sha256 of the normalised address, never the address
        phone_sha256 varchar,
        email_quick ubigint,                -- DuckDB hash() of the same, to find candidates
        phone_quick ubigint,
        quick_canary ubigint,               -- hash() of a constant when they were computed
        requested_at timestamp not null,    -- when the person asked
        received_at timestamp not null,     -- when Waymark recorded it
        source varchar not null,            -- cli, or the relation it was imported from
        external_ref varchar,               -- the request's id in the tool it came from
        status varchar not null,            -- open | processed
        attempts integer not null default 0,
        processed_at timestamp,
        resolved_at timestamp,              -- when its identifiers were taken; null: not yet
        covered_customers varchar[]         -- the customer ids its last processing covered
    )
    """,
    f"""
    create table if not exists {SCHEMA}.deletion_identifiers (
        request_id varchar not null,
        identifier_type varchar not null,   -- as in marts.customer_identifiers
        identifier_sha256 varchar not null, -- sha256 of the normalised value, never the value
        identifier_quick ubigint not null,  -- DuckDB hash() of the same, to find candidates
        quick_canary ubigint not null,      -- hash() of a constant when it was computed
        primary key (request_id, identifier_type, identifier_sha256)
    )
    """,
    f"""
    create table if not exists {SCHEMA}.deletion_audit (
        request_id varchar not null,
        customer_id varchar,
        requested_at timestamp not null,
        processed_at timestamp not null,
        run_id varchar,
        sync_name varchar not null,         -- a sync, or sends:<destination>
        destination varchar not null,
        record_key varchar not null,
        action varchar not null,            -- remove | drop_message | none
        result varchar not null,            -- removed failed retrying not_held dropped
                                            -- manual_required
        op_id varchar,
        error varchar
    )
    """,
)


# Columns added after a table was first released: (table, column, type).
ADDED_COLUMNS = (
    ("sync_state", "delivered_payload", "varchar"),
    ("sync_state", "customer_id", "varchar"),
    ("sync_state", "quick_hash", "ubigint"),
    ("deletion_requests", "email_quick", "ubigint"),
    ("deletion_requests", "phone_quick", "ubigint"),
    ("deletion_requests", "quick_canary", "ubigint"),
    ("deletion_requests", "resolved_at", "timestamp"),
    ("deletion_requests", "covered_customers", "varchar[]"),
)


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    if not tables_exist(con):
        for statement in DDL:
            con.execute(statement)
    if not erasure_tables_exist(con):
        for statement in ERASURE_DDL:
            con.execute(statement)
    present = set(
        con.execute(
            "select table_name, column_name from duckdb_columns() where schema_name = ?",
            [SCHEMA],
        ).fetchall()
    )
    for table, column, kind in ADDED_COLUMNS:
        if (table, column) not in present:
            con.execute(f"alter table {SCHEMA}.{table} add column {column} {kind}")


def has_state_column(con: duckdb.DuckDBPyConnection, column: str) -> bool:
    found = con.execute(
        "select count(*) from duckdb_columns() where schema_name = ? and "
        "table_name = 'sync_state' and column_name = ?",
        [SCHEMA, column],
    ).fetchone()
    return bool(found and found[0])


def has_delivered_payload(con: duckdb.DuckDBPyConnection) -> bool:
    return has_state_column(con, "delivered_payload")


def tables_exist(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and "
        "table_name in ('sync_state', 'sync_runs', 'sync_changelog')",
        [SCHEMA],
    ).fetchone()
    return bool(found and found[0] == 3)


def erasure_tables_exist(con: duckdb.DuckDBPyConnection) -> bool:
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and "
        "table_name in ('deletion_requests', 'deletion_audit', 'deletion_identifiers')",
        [SCHEMA],
    ).fetchone()
    return bool(found and found[0] == 3)
