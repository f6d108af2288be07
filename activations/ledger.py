"""Durable bookkeeping of sync operations: in flight before sending, recorded after.

Each step is one warehouse transaction, so a run that dies leaves either nothing or a complete
step behind: operations marked in flight (replayed by the next run under the same op id) or
operations recorded with their results.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import duckdb

from activations.destination import Operation, OperationResult
from activations.tables import SCHEMA

STATE = f"{SCHEMA}.sync_state"
CHANGELOG = f"{SCHEMA}.sync_changelog"


@dataclass(frozen=True)
class InFlight:
    """An operation marked in flight, with what recording it needs."""

    op: Operation
    payload_hash: str | None
    reason: str | None
    """The drop reason when a mirror removes a record because consent was withdrawn."""


@dataclass(frozen=True)
class Outcome:
    item: InFlight
    result: OperationResult
    attempts: int
    replayed: bool
    ambiguous: bool


def mark_in_flight(
    con: duckdb.DuckDBPyConnection, sync_name: str, items: list[InFlight], now: datetime
) -> None:
    rows = [
        {
            "sync_name": sync_name,
            "record_key": item.op.record_key,
            "inflight_op_id": item.op.op_id,
            "inflight_kind": item.op.kind,
            "inflight_hash": item.payload_hash,
            "inflight_payload": json.dumps(dict(item.op.payload), sort_keys=True),
            "inflight_run_id": item.op.run_id,
            "inflight_reason": item.reason,
            "customer_id": item.op.customer_id,
        }
        for item in items
    ]
    relation, params = rows_relation(rows)
    transaction(
        con,
        [
            (
                f"""
            insert into {STATE} (sync_name, record_key, status, version, failed_runs,
                inflight_op_id, inflight_kind, inflight_hash, inflight_payload, inflight_run_id,
                inflight_reason, customer_id, updated_at)
            select sync_name, record_key, 'new', 0, 0, inflight_op_id, inflight_kind,
                inflight_hash, inflight_payload, inflight_run_id, inflight_reason,
                cast(customer_id as varchar), ?
            from {relation} as in_flight
            on conflict (sync_name, record_key) do update set
                customer_id = coalesce(excluded.customer_id, sync_state.customer_id),
                inflight_op_id = excluded.inflight_op_id,
                inflight_kind = excluded.inflight_kind,
                inflight_hash = excluded.inflight_hash,
                inflight_payload = excluded.inflight_payload,
                inflight_run_id = excluded.inflight_run_id,
                inflight_reason = excluded.inflight_reason,
                updated_at = excluded.updated_at
            """,
                [now, *params],
            )
        ],
    )


def in_flight(con: duckdb.DuckDBPyConnection, sync_name: str, purpose: str) -> list[InFlight]:
    """Operations a dead run marked in flight and never recorded, in key order."""
    rows = con.execute(
        f"""
        select record_key, inflight_op_id, inflight_kind, inflight_hash, inflight_payload,
            inflight_run_id, inflight_reason, delivered_payload, customer_id
        from {STATE} where sync_name = ? and inflight_op_id is not null order by record_key
        """,
        [sync_name],
    ).fetchall()
    # `delivered_payload` is still what the destination held before the operation in flight.
    return [
        InFlight(
            Operation(
                op_id,
                kind,
                key,
                json.loads(payload),
                run_id,
                sync_name,
                customer_id,
                purpose,
                json.loads(previous) if previous else None,
            ),
            payload_hash,
            reason,
        )
        for key, op_id, kind, payload_hash, payload, run_id, reason, previous, customer_id in rows
    ]


def record(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    run_id: str,
    outcomes: list[Outcome],
    now: datetime,
    give_up_after_runs: int,
    keep_payload: bool = False,
) -> list[str]:
    """Write every outcome to the changelog and the state; returns each changelog result.
    With `keep_payload` the state also keeps each delivered payload (`needs_previous`)."""
    previous = _previous_state(con, sync_name, [o.item.op.record_key for o in outcomes])
    state_rows, log_rows, results = [], [], []
    for outcome in outcomes:
        op, result = outcome.item.op, outcome.result
        old = previous.get(op.record_key, {})
        row = {
            "record_key": op.record_key,
            "status": old.get("status", "new"),
            "payload_hash": old.get("payload_hash"),
            "version": old.get("version", 0),
            "last_delivered_at": old.get("last_delivered_at"),
            "attempt_hash": old.get("attempt_hash"),
            "failed_runs": old.get("failed_runs", 0),
            "last_error_code": None,
            "last_error_message": None,
            "delivered_payload": old.get("delivered_payload"),
        }
        if result.ok:
            removed = op.kind == "remove"
            reason = outcome.item.reason
            kept = json.dumps(dict(op.payload), sort_keys=True) if keep_payload else None
            row.update(
                delivered_payload=None if removed else kept,
                status="dropped" if reason else "removed" if removed else "delivered",
                payload_hash=None if removed else outcome.item.payload_hash,
                version=row["version"] + 1,
                last_delivered_at=now,
                attempt_hash=outcome.item.payload_hash if reason else None,
                failed_runs=0,
                last_error_code=reason,
            )
            logged = "sent"
        elif result.transient:
            row.update(status="retrying", attempt_hash=outcome.item.payload_hash)
            logged = "retry"
        else:
            same = row["attempt_hash"] == outcome.item.payload_hash and row["status"] in (
                "rejected",
                "given_up",
            )
            failed_runs = row["failed_runs"] + 1 if same else 1
            logged = "given_up" if failed_runs >= give_up_after_runs else "rejected"
            row.update(
                status=logged, attempt_hash=outcome.item.payload_hash, failed_runs=failed_runs
            )
        if not result.ok:
            row.update(last_error_code=result.error_code, last_error_message=result.error_message)
        state_rows.append(row)
        results.append(logged)
        log_rows.append(
            _log_row(run_id, sync_name, op.record_key, op.op_id, op.kind, logged, outcome, now)
        )
    state_relation, state_params = rows_relation(state_rows)
    log_relation, log_params = rows_relation(log_rows)
    transaction(
        con,
        [
            (
                f"""
            insert into {STATE} (sync_name, record_key, status, payload_hash, version,
                last_delivered_at, attempt_hash, failed_runs, last_error_code,
                last_error_message, delivered_payload, updated_at)
            select ?, record_key, status, payload_hash, version, last_delivered_at,
                attempt_hash, failed_runs, last_error_code, last_error_message,
                delivered_payload, ?
            from {state_relation} as state_rows
            on conflict (sync_name, record_key) do update set
                status = excluded.status,
                payload_hash = excluded.payload_hash,
                version = excluded.version,
                last_delivered_at = excluded.last_delivered_at,
                attempt_hash = excluded.attempt_hash,
                failed_runs = excluded.failed_runs,
                last_error_code = excluded.last_error_code,
                last_error_message = excluded.last_error_message,
                delivered_payload = excluded.delivered_payload,
                -- A quick hash describes one delivered payload (activations.plan_sql).
                quick_hash = case when excluded.payload_hash is not distinct from
                    sync_state.payload_hash then sync_state.quick_hash end,
                inflight_op_id = null,
                inflight_kind = null,
                inflight_hash = null,
                inflight_payload = null,
                inflight_run_id = null,
                inflight_reason = null,
                updated_at = excluded.updated_at
            """,
                [sync_name, now, *state_params],
            ),
            (f"insert into {CHANGELOG} select * from {log_relation}", log_params),
        ],
    )
    return results


def record_drops(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    run_id: str,
    drops: list[tuple[str, str | None, str, str | None]],
    now: datetime,
) -> None:
    """Rows consent or suppression kept back: (record_key, payload_hash, reason, customer_id).
    Recorded so that the same drop is not logged again until the row or the reason changes."""
    if not drops:
        return
    rows = [
        {"record_key": k, "attempt_hash": h, "reason": r, "customer_id": c} for k, h, r, c in drops
    ]
    log_rows = [
        {
            "run_id": run_id,
            "sync_name": sync_name,
            "record_key": key,
            "op_id": None,
            "operation": "drop",
            "result": "dropped",
            "replayed": False,
            "ambiguous": False,
            "attempts": 0,
            "payload_hash": payload_hash,
            "error_code": reason,
            "error_message": None,
            "recorded_at": now,
        }
        for key, payload_hash, reason, _ in drops
    ]
    relation, params = rows_relation(rows)
    log_relation, log_params = rows_relation(log_rows)
    transaction(
        con,
        [
            (
                f"""
            insert into {STATE} (sync_name, record_key, status, version, failed_runs,
                attempt_hash, last_error_code, customer_id, updated_at)
            select ?, record_key, 'dropped', 0, 0, attempt_hash, reason,
                cast(customer_id as varchar), ?
            from {relation} as drops
            on conflict (sync_name, record_key) do update set
                status = 'dropped',
                customer_id = coalesce(excluded.customer_id, sync_state.customer_id),
                attempt_hash = excluded.attempt_hash,
                last_error_code = excluded.last_error_code,
                last_error_message = null,
                updated_at = excluded.updated_at
            """,
                [sync_name, now, *params],
            ),
            (f"insert into {CHANGELOG} select * from {log_relation}", log_params),
        ],
    )


def restore_undropped(con: duckdb.DuckDBPyConnection, sync_name: str, keys: list[str]) -> None:
    """Rows whose drop was lifted while the destination still holds their unchanged payload."""
    if keys:
        relation, params = keys_relation(keys)
        con.execute(
            f"update {STATE} set status = 'delivered', last_error_code = null "
            f"where sync_name = ? and record_key in (select record_key from {relation})",
            [sync_name, *params],
        )


def _log_row(run_id, sync_name, key, op_id, operation, logged, outcome: Outcome, now):
    result = outcome.result
    return {
        "run_id": run_id,
        "sync_name": sync_name,
        "record_key": key,
        "op_id": op_id,
        "operation": operation,
        "result": logged,
        "replayed": outcome.replayed,
        "ambiguous": outcome.ambiguous,
        "attempts": outcome.attempts,
        "payload_hash": outcome.item.payload_hash,
        # An accepted removal for consent, suppression or erasure carries its reason.
        "error_code": outcome.item.reason if result.ok else result.error_code,
        "error_message": None if result.ok else result.error_message,
        "recorded_at": now,
    }


def _previous_state(con, sync_name: str, keys: list[str]) -> dict[str, dict]:
    relation, params = keys_relation(keys)
    cursor = con.execute(
        f"""
        select record_key, status, payload_hash, version, last_delivered_at, attempt_hash,
            failed_runs, delivered_payload
        from {STATE}
        where sync_name = ? and record_key in (select record_key from {relation})
        """,
        [sync_name, *params],
    )
    names = [d[0] for d in cursor.description]
    return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


_SQL_TYPES = ((bool, "boolean"), (int, "bigint"), (float, "double"), (datetime, "timestamp"))


def rows_relation(rows: list[dict]) -> tuple[str, list]:
    """Rows as a subquery and its parameters: one list per column, unnested in SQL. (Arrow
    would import pandas, seconds per process, for a few hundred rows; a temporary table costs
    two more statements per use.)"""
    columns = list(rows[0]) if rows else ["record_key"]
    selects, params = [], []
    for column in columns:
        values = [row[column] for row in rows]
        selects.append(f'unnest(cast(? as {_sql_type(values)}[])) as "{column}"')
        params.append(values)
    return f"(select {', '.join(selects)})", params


def _sql_type(values: list) -> str:
    sample = next((value for value in values if value is not None), None)
    return next((name for kind, name in _SQL_TYPES if isinstance(sample, kind)), "varchar")


def keys_relation(keys: list[str]) -> tuple[str, list]:
    return rows_relation([{"record_key": key} for key in keys])


def transaction(con: duckdb.DuckDBPyConnection, statements: list[tuple[str, list]]) -> None:
    """The statements, with their parameters, committed together or not at all."""
    con.begin()
    try:
        for sql, params in statements:
            con.execute(sql, params)
    except Exception:
        con.rollback()
        raise
    con.commit()
