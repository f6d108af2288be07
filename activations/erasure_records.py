"""What erasure writes besides removals: audit rows, dropped journey messages, cleared data.

Each function returns or runs statements in one transaction with the audit rows they justify,
so a crash leaves either the action and its audit, or neither.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime

import duckdb

from activations.consent import ERASURE_REASON
from activations.erasure import AUDIT, ErasureRequest
from activations.ledger import CHANGELOG, STATE, rows_relation, transaction

OUTBOX = "journeys.journey_outbox"
TERMINAL = frozenset({"removed", "not_held", "dropped", "manual_required"})
"""Results that end a request's work on a record; others (failed, retrying) are retried."""
INTERRUPTED = "in flight when a run was interrupted: it may have been sent"


def audit_row(request: ErasureRequest, now: datetime, **values: object) -> dict:
    row = {
        "request_id": request.request_id,
        "customer_id": None,
        "requested_at": request.requested_at,
        "processed_at": now,
        "run_id": None,
        "sync_name": None,
        "destination": None,
        "record_key": None,
        "action": None,
        "result": None,
        "op_id": None,
        "error": None,
    }
    row.update(values)
    return row


def insert_audit(rows: list[dict]) -> list[tuple[str, list]]:
    if not rows:
        return []
    relation, params = rows_relation(rows)
    return [(f"insert into {AUDIT} select * from {relation}", params)]


def audited(con: duckdb.DuckDBPyConnection, request_id: str, sync_name: str) -> set[str]:
    """Records of a sync already audited with a final result for this request."""
    rows = con.execute(
        f"select record_key from {AUDIT} where request_id = ? and sync_name = ? "
        f"and result in ({', '.join(repr(r) for r in sorted(TERMINAL))})",
        [request_id, sync_name],
    ).fetchall()
    return {row[0] for row in rows}


def erase_journey_messages(
    con: duckdb.DuckDBPyConnection, request: ErasureRequest, customers: list[str], now: datetime
) -> list[dict]:
    """Drop the customers' waiting messages; note where delivered ones went; empty bodies."""
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = 'journeys' "
        "and table_name = 'journey_outbox'"
    ).fetchone()
    if not customers or not (found and found[0]):
        return []
    customer_list, params = rows_relation([{"customer_id": c} for c in customers])
    messages = con.execute(
        f"select idempotency_key, customer_id, destination, state from {OUTBOX} "
        f"where customer_id in (select customer_id from {customer_list}) order by 1",
        params,
    ).fetchall()
    waiting = [m for m in messages if m[3] in ("pending", "sending")]
    audit, log_rows = [], []
    for key, customer, destination, state in waiting:
        audit.append(
            audit_row(
                request,
                now,
                customer_id=customer,
                sync_name=f"sends:{destination}",
                destination=destination,
                record_key=key,
                action="drop_message",
                result="dropped",
                op_id=key,
                error=INTERRUPTED if state == "sending" else None,
            )
        )
        log_rows.append(
            {
                "run_id": request.request_id,
                "sync_name": f"sends:{destination}",
                "record_key": key,
                "op_id": key,
                "operation": "drop",
                "result": "dropped",
                "replayed": False,
                "ambiguous": state == "sending",
                "attempts": 0,
                "payload_hash": None,
                "error_code": ERASURE_REASON,
                "error_message": None,
                "recorded_at": now,
            }
        )
    delivered = Counter((m[2], m[1]) for m in messages if m[3] == "sent")
    for (destination, customer), count in sorted(delivered.items()):
        if customer in audited(con, request.request_id, f"sends:{destination}"):
            continue
        audit.append(
            audit_row(
                request,
                now,
                customer_id=customer,
                sync_name=f"sends:{destination}",
                destination=destination,
                record_key=customer,
                action="none",
                result="manual_required",
                error=f"{count} journey message(s) were delivered here; a delivered message "
                "cannot be recalled and sends keep no record to remove: erase the customer in "
                f"{destination} itself",
            )
        )
    statements = []
    if waiting:
        keys, key_params = rows_relation([{"record_key": m[0]} for m in waiting])
        statements.append(
            (
                f"update {OUTBOX} set state = 'dropped' "
                f"where idempotency_key in (select record_key from {keys})",
                key_params,
            )
        )
        changelog, changelog_params = rows_relation(log_rows)
        statements.append((f"insert into {CHANGELOG} select * from {changelog}", changelog_params))
    statements.append(
        (
            f"update {OUTBOX} set payload = '{{}}' "
            f"where customer_id in (select customer_id from {customer_list})",
            params,
        )
    )
    transaction(con, statements + insert_audit(audit))
    return audit


def minimised(sync_name: str, records: list[dict], can_remove: bool) -> list[tuple[str, list]]:
    """Statements clearing personal data kept about the records: delivered payloads (kept only
    while a removal is still to be retried, a destination may need them to find the record)
    and the destination's error messages, which can quote the values refused."""
    if not records:
        return []
    keys, params = rows_relation([{"record_key": r["record_key"]} for r in records])
    return [
        (
            f"update {STATE} set delivered_payload = case when payload_hash is null "
            f"or not ? then null else delivered_payload end, last_error_message = null "
            f"where sync_name = ? and record_key in (select record_key from {keys})",
            [can_remove, sync_name, *params],
        ),
        (
            f"update {CHANGELOG} set error_message = null where sync_name = ? "
            f"and record_key in (select record_key from {keys})",
            [sync_name, *params],
        ),
    ]
