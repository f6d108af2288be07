"""Processing erasure requests: remove the customer where destinations can, audit every action.

For each open request (`activations.erasure`), and each processed one that now covers a customer
id it did not cover when it was last processed (identity resolution merged or moved the person
to it), for the customers it covers:

1. journey messages still `pending` (or `sending`) are dropped with `deleted:erasure_request`,
   and the rendered payload of every message of theirs is emptied;
2. for every sync whose state holds one of their records, an erasure run replays whatever an
   interrupted run left in flight, then sends a `remove` for each record the destination holds,
   through the same in-flight marking, retries, changelog and state as a sync run. Destinations
   whose capabilities declare no `removal` get the action `manual_required`;
3. one `activations.deletion_audit` row per (request, sync or send destination, record) action,
   appended: a removal that fails or must be retried is retried by the next processing and
   audited again;
4. what Waymark's own tables keep about the customer is reduced to keys and hashes: delivered
   and in-flight payloads, error messages, and message bodies are cleared.

A request is `processed` once nothing for it is left failed or retrying. A run killed anywhere
is completed by the next processing (or the next sync run): the remove in flight is replayed
under its op id, and the audit is derived from the changelog for records no longer held.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from activations.consent import ERASURE_REASON
from activations.destination import Operation
from activations.erasure import (
    REQUESTS,
    ErasureRequest,
    requests_to_process,
    resolve_pending,
    resolved_customers,
)
from activations.erasure_records import (
    TERMINAL,
    audit_row,
    audited,
    erase_journey_messages,
    insert_audit,
    minimised,
)
from activations.ledger import CHANGELOG, STATE, InFlight, in_flight, rows_relation, transaction
from activations.masking import mask_text
from activations.plan import model_field_types
from activations.runner import RunOptions, open_delivery
from activations.runs import RunReport, finish_run, new_run_id, start_run
from activations.sync_files import LoadedSync, SyncProject
from activations.tables import ensure_tables
from waymark.core import crash

RESULTS = {"sent": "removed", "retry": "retrying", "rejected": "failed", "given_up": "failed"}


@dataclass
class ErasureOutcome:
    request_id: str
    customers: list[str]
    status: str = "open"
    results: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        counts = ", ".join(f"{n} {result}" for result, n in sorted(self.results.items()))
        who = ", ".join(self.customers) or "no known customer"
        return f"request {self.request_id} ({who}): {self.status}; {counts or 'nothing held'}"


def process_erasures(
    warehouse: Path, project: SyncProject, options: RunOptions
) -> list[ErasureOutcome]:
    """Process every open request, and every request whose customers changed, oldest first."""
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        resolve_pending(con, options.now())
        return [process_request(con, project, r, options) for r in requests_to_process(con)]


def process_request(
    con: duckdb.DuckDBPyConnection,
    project: SyncProject,
    request: ErasureRequest,
    options: RunOptions,
) -> ErasureOutcome:
    outcome = ErasureOutcome(request.request_id, resolved_customers(con, request))
    rows = erase_journey_messages(con, request, outcome.customers, options.now())
    for sync_name in _syncs_holding(con, outcome.customers):
        rows += _erase_from_sync(con, project, sync_name, request, outcome.customers, options)
    outcome.results.update(row["result"] for row in rows)
    finished = all(row["result"] in TERMINAL for row in rows)
    outcome.status = "processed" if finished else "open"
    con.execute(
        f"update {REQUESTS} set status = ?, attempts = attempts + 1, processed_at = ?, "
        "covered_customers = list_distinct(list_concat(coalesce(covered_customers, []), "
        "cast(? as varchar[]))) "
        "where request_id = ?",
        [
            outcome.status,
            options.now() if finished else None,
            outcome.customers,
            request.request_id,
        ],
    )
    return outcome


def _syncs_holding(con: duckdb.DuckDBPyConnection, customers: list[str]) -> list[str]:
    if not customers:
        return []
    customer_list, params = rows_relation([{"customer_id": c} for c in customers])
    rows = con.execute(
        f"select distinct sync_name from {STATE} where {_belongs(customer_list)} order by 1",
        params + params,
    ).fetchall()
    return [row[0] for row in rows]


def _belongs(customer_list: str) -> str:
    # State written before records carried their customer: the key is the customer id.
    return (
        f"(customer_id in (select customer_id from {customer_list}) or (customer_id is null "
        f"and record_key in (select customer_id from {customer_list})))"
    )


def _records(con, sync_name: str, customers: list[str]) -> list[dict]:
    customer_list, params = rows_relation([{"customer_id": c} for c in customers])
    cursor = con.execute(
        f"select sync_name, record_key, coalesce(customer_id, record_key) as customer_id, "
        f"payload_hash, version, delivered_payload from {STATE} where sync_name = ? and "
        f"{_belongs(customer_list)} order by record_key",
        [sync_name, *params, *params],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _erase_from_sync(
    con: duckdb.DuckDBPyConnection,
    project: SyncProject,
    sync_name: str,
    request: ErasureRequest,
    customers: list[str],
    options: RunOptions,
) -> list[dict]:
    # By file name too: a sync file that no longer parses is broken, not gone.
    loaded = next((s for s in project.syncs if s.source.path.stem == sync_name), None)
    if loaded is None or loaded.issues or loaded.destination is None:
        return _unreachable(con, sync_name, request, customers, loaded, options.now())
    assert loaded.spec is not None and loaded.destination.connector is not None
    spec = loaded.spec
    capabilities = loaded.destination.connector.capabilities
    # Logged as `erasure:<sync>` so that the sync's own latest run stays its latest sync run.
    report = RunReport(
        new_run_id(options.now()),
        f"erasure:{sync_name}",
        "erasure",
        spec.destination,
        spec.mode,
        options.as_of,
        options.now(),
    )
    start_run(con, report)
    removed: dict[str, tuple[str, str | None, str | None]] = {}
    error = None
    run = None
    try:
        run = open_delivery(con, loaded, report, options, model_field_types(con, spec))
        run.deliver(in_flight(con, sync_name, spec.purpose), replayed=True)
        held = [r for r in _records(con, sync_name, customers) if r["payload_hash"] is not None]
        if capabilities.removal and held:
            keep = capabilities.needs_previous
            items = [_removal(r, request, report.run_id, spec.purpose, keep) for r in held]
            report.planned_removes = len(items)
            for outcome, result in run.deliver(items):
                removed[outcome.item.op.record_key] = (
                    RESULTS[result],
                    outcome.item.op.op_id,
                    _error(outcome.result.error_code, outcome.result.error_message),
                )
            run.deliverer.destination.finish(report.run_id)
    except Exception as failure:  # recorded on the run and in the audit
        error = options.secrets.redact(f"{type(failure).__name__}: {failure}")
        report.error = error
    finally:
        if run is not None:
            run.close()
    report.conclude()
    report.finished_at = options.now()
    finish_run(con, report)
    crash.point("erasure.after_removals")
    rows = _sync_audit(con, loaded, request, customers, removed, error, report.run_id, options)
    return rows


def _removal(
    record: dict, request: ErasureRequest, run_id: str, purpose: str, with_previous: bool
) -> InFlight:
    sync_name = record["sync_name"]
    previous = record["delivered_payload"] if with_previous else None
    op = Operation(
        f"{sync_name}:{record['record_key']}:{record['version'] + 1}:erase-{request.request_id}",
        "remove",
        record["record_key"],
        {},
        run_id,
        sync_name,
        record["customer_id"],
        purpose,
        json.loads(previous) if previous else None,
    )
    return InFlight(op, None, ERASURE_REASON)


def _error(code: str | None, message: str | None) -> str | None:
    text = ": ".join(part for part in (code, message) if part)
    return mask_text(text) if text else None


def _sync_audit(
    con: duckdb.DuckDBPyConnection,
    loaded: LoadedSync,
    request: ErasureRequest,
    customers: list[str],
    removed: dict[str, tuple[str, str | None, str | None]],
    error: str | None,
    run_id: str,
    options: RunOptions,
) -> list[dict]:
    """Audit rows for the sync's records of the customers, and their personal data cleared."""
    assert loaded.spec is not None and loaded.destination is not None
    assert loaded.destination.connector is not None
    spec, now = loaded.spec, options.now()
    can_remove = loaded.destination.connector.capabilities.removal
    done = audited(con, request.request_id, spec.name)
    records = _records(con, spec.name, customers)
    last_removals = _last_removals(con, spec.name, [r["record_key"] for r in records])
    audit = []
    for record in records:
        key = record["record_key"]
        if key in done:
            continue
        common = {
            "customer_id": record["customer_id"],
            "sync_name": spec.name,
            "destination": spec.destination,
            "record_key": key,
            "run_id": run_id,
        }
        if key in removed:
            result, op_id, failure = removed[key]
            values = {"action": "remove", "result": result, "op_id": op_id, "error": failure}
        elif record["payload_hash"] is not None and not can_remove:
            kind = loaded.destination.kind
            values = {
                "action": "none",
                "result": "manual_required",
                "error": f"{kind} destinations cannot remove records: erase it in "
                f"{spec.destination} itself",
            }
        elif record["payload_hash"] is not None:
            values = {"action": "remove", "result": "retrying", "error": error}
        elif key in last_removals and last_removals[key][1] == ERASURE_REASON:
            values = {"action": "remove", "result": "removed", "op_id": last_removals[key][0]}
        else:
            values = {"action": "none", "result": "not_held"}
        audit.append(audit_row(request, now, **common, **values))
    transaction(con, minimised(spec.name, records, can_remove) + insert_audit(audit))
    return audit


def _last_removals(con, sync_name: str, keys: list[str]) -> dict[str, tuple[str, str | None]]:
    """record_key -> (op id of the last accepted removal, the state's reason for it)."""
    relation, params = rows_relation([{"record_key": k} for k in keys])
    rows = con.execute(
        f"""
        select changelog.record_key, arg_max(changelog.op_id, changelog.recorded_at),
            any_value(state.last_error_code)
        from {CHANGELOG} as changelog
        inner join {STATE} as state
            on state.sync_name = changelog.sync_name and state.record_key = changelog.record_key
        where changelog.sync_name = ? and changelog.operation = 'remove'
            and changelog.result = 'sent'
            and changelog.record_key in (select record_key from {relation})
        group by 1
        """,
        [sync_name, *params],
    ).fetchall()
    return {key: (op_id, reason) for key, op_id, reason in rows}


def _unreachable(
    con: duckdb.DuckDBPyConnection,
    sync_name: str,
    request: ErasureRequest,
    customers: list[str],
    loaded: LoadedSync | None,
    now: datetime,
) -> list[dict]:
    """A sync whose file is gone (manual action) or invalid (failed; retried next time)."""
    done = audited(con, request.request_id, sync_name)
    destination = loaded.spec.destination if loaded is not None and loaded.spec else "(unknown)"
    audit = []
    records = _records(con, sync_name, customers)
    for record in records:
        if record["record_key"] in done or record["payload_hash"] is None:
            continue
        if loaded is None:
            result = "manual_required"
            error = f"no sync file {sync_name}.yml any more: its destination may hold the record"
        else:
            result = "failed"
            error = f"{loaded.source.path.name} is invalid (waymark syncs validate)"
        audit.append(
            audit_row(
                request,
                now,
                customer_id=record["customer_id"],
                sync_name=sync_name,
                destination=destination,
                record_key=record["record_key"],
                action="none" if loaded is None else "remove",
                result=result,
                error=error,
            )
        )
    # Payloads stay while the record may still have to be removed through a repaired sync.
    transaction(con, minimised(sync_name, records, True) + insert_audit(audit))
    return audit
