"""Delivering journey messages from `journeys.journey_outbox`, exactly once where possible.

The journey engine writes one outbox row per message (`idempotency_key` =
journey:instance_id:step) in state `pending`. Here each row moves `pending -> sending ->
sent | failed | dropped`, every move committed before the next step:

- consent and suppression are checked in SQL for every row about to go; a dropped row is
  marked `dropped` and its reason logged;
- a batch is marked `sending` before it is sent, so a run that dies leaves the rows it may have
  sent in `sending`; the next run sends them again under the same idempotency key. Destinations
  that honour the key apply them once; SMTP cannot, so its batch size is one message and a
  replayed message is flagged ambiguous in the changelog (at most one duplicate per crash);
- a transient failure returns the row to `pending` for the next run, up to
  `give_up_after_runs` runs; a permanent one marks it `failed` with the destination's reason;
- a message that cannot be built (a payload that is not a JSON object here, a header value the
  destination refuses there) fails alone, for good, with its reason: it never stops the run,
  and never stays `sending` to stop every later run.

The recipient is the customer's current golden email or phone from `marts.customers`, the same
address suppression is checked against.
"""

from __future__ import annotations

import json
from datetime import datetime
from functools import partial
from pathlib import Path

import duckdb

from activations.consent import decided_sql
from activations.delivery import Deliverer, Pacer, effective_rate
from activations.destination import (
    DestinationUnavailable,
    InvalidMessage,
    Operation,
    OperationResult,
)
from activations.destinations_file import ResolvedDestination
from activations.ledger import CHANGELOG, keys_relation, rows_relation, transaction
from activations.runner import LazyDestination, RunOptions, redacted, run_error
from activations.runs import RunReport, finish_run, new_run_id, start_run
from activations.tables import ensure_tables
from waymark.core import crash
from waymark.core.erasure import erased_customers_sql
from waymark.core.instants import to_warehouse

OUTBOX = "journeys.journey_outbox"


def deliver_sends(
    warehouse: Path,
    destinations: dict[str, ResolvedDestination],
    options: RunOptions,
    *,
    only: str | None = None,
    give_up_after_runs: int = 5,
) -> list[RunReport]:
    """One run per destination with messages waiting; none before the first journey tick."""
    with duckdb.connect(str(warehouse)) as con:
        if not outbox_exists(con):
            return []
        ensure_tables(con)
        names = [
            row[0]
            for row in con.execute(
                f"select distinct destination from {OUTBOX} "
                "where state in ('pending', 'sending') and (? is null or destination = ?) "
                "order by 1",
                [only, only],
            ).fetchall()
        ]
        return [
            _send_to(con, name, destinations.get(name), options, give_up_after_runs)
            for name in names
        ]


def outbox_exists(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the journey engine has created the outbox (its first tick does)."""
    schema, table = OUTBOX.split(".")
    found = con.execute(
        "select count(*) from duckdb_tables() where schema_name = ? and table_name = ?",
        [schema, table],
    ).fetchone()
    return bool(found and found[0])


def _send_to(
    con: duckdb.DuckDBPyConnection,
    name: str,
    target: ResolvedDestination | None,
    options: RunOptions,
    give_up_after_runs: int,
) -> RunReport:
    sync_name = f"sends:{name}"
    report = RunReport(
        new_run_id(options.now()), sync_name, "sends", name, None, options.as_of, options.now()
    )
    start_run(con, report)
    problem = _unusable(name, target)
    if problem:
        report.error = problem
        report.conclude()
        finish_run(con, report)
        return report
    assert target is not None and target.connector is not None and target.config is not None
    connector, config = target.connector, target.config
    capabilities = connector.capabilities
    destination = LazyDestination(
        lambda: connector.open(config, options.secrets, None), capabilities
    )
    rate = effective_rate(capabilities.rate_limit, config.requests_per_second)
    pacer = Pacer(rate, options.clock, options.sleep)
    deliverer = Deliverer(destination, options.policy, pacer, options.sleep, options.rng)
    give_up, idempotent = give_up_after_runs, capabilities.idempotent
    try:
        rows = decided_outbox_rows(con, name, options.as_of)
        # Read once per run: each message is recorded at most once by it.
        retries = _previous_retries(con, sync_name, [row["record_key"] for row in rows])
        record = partial(_record, con, report, options, give_up, idempotent, retries)
        drops = [row for row in rows if row["drop_reason"] is not None]
        record([(row, None, 0, False) for row in drops])
        report.dropped = len(drops)
        sendable = [row for row in rows if row["drop_reason"] is None]
        size = capabilities.max_batch_size
        batches = [sendable[start : start + size] for start in range(0, len(sendable), size)]
        if batches:
            _set_state(con, [row["record_key"] for row in batches[0]], "sending")
        for number, batch in enumerate(batches):
            crash.point("send.before_send")
            operations, answers = _operations(batch, report.run_id)
            try:
                answers.update(deliverer.deliver(operations) if operations else {})
            except DestinationUnavailable:
                # Raised before anything was sent: rows this run took are pending again, not
                # ambiguous; rows an earlier run left in flight stay in flight.
                _set_state(
                    con, [r["record_key"] for r in batch if r["state"] == "pending"], "pending"
                )
                raise
            crash.point("send.after_send")
            outcomes = [
                (row, *answers[row["record_key"]], row["state"] == "sending") for row in batch
            ]
            # The next batch is marked in flight in the same commit as this one's outcomes:
            # one commit per batch instead of two, with the same state at every crash point.
            following = batches[number + 1] if number + 1 < len(batches) else []
            record(outcomes, then_sending=[row["record_key"] for row in following])
        destination.finish(report.run_id)
    except Exception as error:  # recorded on the run; a crash (BaseException) is not caught
        report.error = run_error(options.secrets, error)
    finally:
        destination.close()
    report.requests, report.request_retries = deliverer.stats.requests, deliverer.stats.retries
    report.conclude()
    report.finished_at = options.now()
    finish_run(con, report)
    return report


def _unusable(name: str, target: ResolvedDestination | None) -> str | None:
    if target is None:
        return f"no destination '{name}' in destinations.yml"
    if target.connector is None:
        return f"kind '{target.kind}' has no connector yet; messages stay pending"
    if target.config is None:
        return f"destination '{name}' has an invalid config (waymark syncs validate)"
    if not target.connector.capabilities.journey_sends:
        return f"{target.kind} destinations do not take journey sends; messages stay pending"
    return None


def decided_outbox_rows(con: duckdb.DuckDBPyConnection, name: str, as_of: datetime) -> list[dict]:
    con.execute(
        f"""
        create or replace temp table _outbox_rows as
        select idempotency_key as record_key, customer_id, purpose, channel, template,
            cast(payload as varchar) as payload, state
        from {OUTBOX} where destination = ? and state in ('pending', 'sending')
        """,
        [name],
    )
    decided = decided_sql("_outbox_rows", require_recipient=True, erased=erased_customers_sql(con))
    cursor = con.execute(
        f"select * from ({decided}) order by state desc, record_key", [to_warehouse(as_of)]
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _operations(
    rows: list[dict], run_id: str
) -> tuple[list[Operation], dict[str, tuple[OperationResult, int]]]:
    """The batch's operations, and the refusal (after no attempt) of each row that cannot be
    made into one."""
    operations, refused = [], {}
    for row in rows:
        try:
            operations.append(outbox_operation(row, run_id))
        except Exception as error:  # whatever the cause, it is this message's alone
            refused[row["record_key"]] = (OperationResult.unbuildable(row["record_key"], error), 0)
    return operations, refused


def outbox_operation(row: dict, run_id: str) -> Operation:
    document = json.loads(row["payload"] or "{}")
    if not isinstance(document, dict):
        kind = "an array" if isinstance(document, list) else "a single value"
        raise InvalidMessage(f"the outbox payload is {kind}, not a JSON object")
    payload = {**document, "template": row["template"]}
    if row["recipient"] is not None:
        payload["to"] = row["recipient"]
    return Operation(
        row["record_key"],
        "send",
        row["record_key"],
        payload,
        run_id,
        "journey",
        row["customer_id"],
        row["purpose"],
    )


def _record(
    con: duckdb.DuckDBPyConnection,
    report: RunReport,
    options: RunOptions,
    give_up_after_runs: int,
    idempotent: bool,
    retries: dict[str, int],
    outcomes: list[tuple],
    then_sending: list[str] | None = None,
) -> None:
    """Outbox states and changelog rows for (row, result | None, attempts, replayed), committed
    together with marking `then_sending` in flight. `retries`: earlier runs that left each
    message for a retry."""
    if not outcomes:
        return
    now = options.now()
    states, log_rows = [], []
    for row, result, attempts, replayed in outcomes:
        key = row["record_key"]
        if result is None:
            state, logged, code, message = "dropped", "dropped", row["drop_reason"], None
        else:
            result = redacted(result, options.secrets)
            code, message = result.error_code, result.error_message
            if result.ok:
                state, logged = "sent", "sent"
            elif result.transient and retries.get(key, 0) + 1 < give_up_after_runs:
                state, logged = "pending", "retry"
            else:
                state, logged = "failed", "given_up" if result.transient else "rejected"
        ambiguous = result is not None and not idempotent and (replayed or result.ambiguous)
        if result is not None:
            report.count(logged, ambiguous)
            report.replayed += int(replayed)
        states.append({"record_key": key, "state": state})
        log_rows.append(
            {
                "run_id": report.run_id,
                "sync_name": report.sync_name,
                "record_key": key,
                "op_id": key,
                "operation": "drop" if result is None else "send",
                "result": logged,
                "replayed": replayed,
                "ambiguous": ambiguous,
                "attempts": attempts,
                "payload_hash": None,
                "error_code": code,
                "error_message": message,
                "recorded_at": now,
            }
        )
    log_relation, log_params = rows_relation(log_rows)
    statements = [
        _state_update(states),
        (f"insert into {CHANGELOG} select * from {log_relation}", log_params),
    ]
    if then_sending:
        statements.append(
            _state_update([{"record_key": k, "state": "sending"} for k in then_sending])
        )
    transaction(con, statements)


def _state_update(states: list[dict]) -> tuple[str, list]:
    # One message per batch is the rule for destinations without idempotency keys: an equality
    # predicate is answered from the primary key index, several times cheaper than a join.
    if len(states) == 1:
        (only,) = states
        return (
            f"update {OUTBOX} set state = ? where idempotency_key = ?",
            [only["state"], only["record_key"]],
        )
    relation, params = rows_relation(states)
    return (
        f"update {OUTBOX} as outbox set state = states.state from {relation} "
        "as states where outbox.idempotency_key = states.record_key",
        params,
    )


def _previous_retries(
    con: duckdb.DuckDBPyConnection, sync_name: str, keys: list[str]
) -> dict[str, int]:
    """Runs that already left each message for a retry."""
    relation, params = keys_relation(keys)
    rows = con.execute(
        f"select record_key, count(*) from {CHANGELOG} where sync_name = ? and result = 'retry' "
        f"and record_key in (select record_key from {relation}) group by 1",
        [sync_name, *params],
    ).fetchall()
    return dict(rows)


def _set_state(con: duckdb.DuckDBPyConnection, keys: list[str], state: str) -> None:
    transaction(con, [_state_update([{"record_key": key, "state": state} for key in keys])])
