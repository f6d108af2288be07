"""Running one sync: replay what a dead run left in flight, plan, drop, deliver, record.

Every operation is marked in flight (one transaction) before its batch is sent and recorded
(one transaction) after, so a run killed anywhere leaves a state the next run completes: it
first replays the in-flight operations under the same op ids (idempotent destinations apply
them at most once; others may duplicate them and the log flags them ambiguous), then plans
afresh from the latest rows.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

import duckdb

from activations.delivery import Deliverer, Pacer, RetryPolicy, effective_rate
from activations.destination import (
    Capabilities,
    Destination,
    Operation,
    OperationResult,
    SyncContext,
)
from activations.ledger import (
    InFlight,
    Outcome,
    in_flight,
    mark_in_flight,
    record,
    record_drops,
    restore_undropped,
)
from activations.payloads import shaped_fields
from activations.plan import Plan, plan_sync, remember_quick_hashes, undropped_keys
from activations.runs import RunReport, Stopwatch, finish_run, new_run_id, start_run, utc_now
from activations.secrets import MESSAGE_LIMIT, Secrets
from activations.sync_files import LoadedSync
from activations.tables import ensure_tables
from waymark.core import crash


@dataclass
class RunOptions:
    """Time, pacing and randomness, injectable so runs can be replayed and tested fast."""

    as_of: datetime
    """The instant consent and suppression are decided at (aware UTC)."""
    now: Callable[[], datetime] = utc_now
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(default_factory=random.Random)
    secrets: Secrets = field(default_factory=Secrets)


class LazyDestination:
    """Connects on the first batch: a run with nothing to send makes no request at all."""

    def __init__(self, open_destination: Callable[[], Destination], capabilities) -> None:
        self._open, self._client = open_destination, None
        self.capabilities = capabilities

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        if self._client is None:
            self._client = self._open()
        return self._client.deliver(batch)

    def finish(self, run_id: str) -> None:
        if self._client is not None:
            self._client.finish(run_id)

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def run_sync(warehouse: Path, loaded: LoadedSync, options: RunOptions) -> RunReport:
    spec = loaded.spec
    assert spec is not None
    started = options.now()
    report = RunReport(
        new_run_id(started), spec.name, "sync", spec.destination, spec.mode, options.as_of, started
    )
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        start_run(con, report)
        run: RunDelivery | None = None
        try:
            watch = Stopwatch(options.clock)
            plan = plan_sync(con, loaded, options.as_of)
            report.plan_seconds = watch.seconds()
            watch = Stopwatch(options.clock)
            run = open_delivery(con, loaded, report, options, plan.field_types)
            replays = in_flight(con, spec.name, spec.purpose)
            run.deliver(replays, replayed=True)
            if replays:
                # The replays changed the state the plan was made from.
                plan = plan_sync(con, loaded, options.as_of)
            _count_plan(report, plan)
            restore_undropped(con, spec.name, undropped_keys(con))
            drops = [c for c in plan.changes if c.change == "drop"]
            record_drops(
                con,
                spec.name,
                report.run_id,
                [(c.record_key, c.payload_hash, c.drop_reason, c.customer_id) for c in drops],
                options.now(),
            )
            capabilities = run.deliverer.destination.capabilities
            operations = _operations(plan, report.run_id, spec.name, spec.purpose, capabilities)
            run.deliver(operations)
            run.deliverer.destination.finish(report.run_id)
            remember_quick_hashes(con, spec.name)
            report.deliver_seconds = watch.seconds()
        except Exception as error:  # recorded on the run; a crash (BaseException) is not caught
            report.error = run_error(options.secrets, error)
        finally:
            if run is not None:
                run.close()
        report.conclude()
        report.finished_at = options.now()
        finish_run(con, report)
    return report


def open_delivery(
    con: duckdb.DuckDBPyConnection,
    loaded: LoadedSync,
    report: RunReport,
    options: RunOptions,
    field_types: dict[str, str],
) -> RunDelivery:
    """A sync's destination (connected on its first batch), paced and retried, recording into
    `report`. Sync runs and erasure runs deliver through this one path."""
    spec, target = loaded.spec, loaded.destination
    assert spec is not None and target is not None and target.connector is not None
    connector, secrets = target.connector, options.secrets
    capabilities = connector.capabilities
    clears = frozenset(name for name, meaning in spec.on_null.items() if meaning == "clear")
    context = SyncContext(spec.name, spec.mode, spec.key, field_types, loaded.settings, clears)
    destination = LazyDestination(
        lambda: connector.open(target.config, secrets, context), capabilities
    )
    rate = effective_rate(capabilities.rate_limit, target.config.requests_per_second)
    deliverer = Deliverer(
        destination,
        options.policy,
        Pacer(rate, options.clock, options.sleep),
        options.sleep,
        options.rng,
    )
    size = min(spec.batch_size or capabilities.max_batch_size, capabilities.max_batch_size)
    return RunDelivery(
        con, spec.name, report, deliverer, secrets, spec.give_up_after_runs, options, size
    )


def _count_plan(report: RunReport, plan: Plan) -> None:
    report.source_rows = plan.source_rows
    report.unchanged = plan.unchanged
    report.planned_creates = plan.count("create")
    report.planned_updates = plan.count("update")
    report.planned_removes = plan.count("remove")
    report.dropped = plan.dropped
    for change in plan.changes:
        if change.drop_reason:
            reasons = report.drop_reasons
            reasons[change.drop_reason] = reasons.get(change.drop_reason, 0) + 1


def _operations(
    plan: Plan, run_id: str, sync_name: str, purpose: str, capabilities: Capabilities
) -> list[InFlight]:
    return [
        InFlight(
            Operation(
                change.op_id,
                change.operation,
                change.record_key,
                {} if change.change == "remove" else shaped_fields(change.fields, capabilities),
                run_id,
                sync_name,
                change.customer_id,
                purpose,
                change.previous if capabilities.needs_previous else None,
            ),
            None if change.change == "remove" else change.payload_hash,
            change.drop_reason,
        )
        for change in plan.changes
        if change.change != "drop"
    ]


@dataclass
class RunDelivery:
    """Delivers a run's operations batch by batch: in flight, send, record, count."""

    con: duckdb.DuckDBPyConnection
    sync_name: str
    report: RunReport
    deliverer: Deliverer
    secrets: Secrets
    give_up_after_runs: int
    options: RunOptions
    batch_size: int

    def deliver(
        self, items: list[InFlight], *, replayed: bool = False
    ) -> list[tuple[Outcome, str]]:
        """Each operation's outcome and the result recorded for it (sent, retry, ...)."""
        capabilities = self.deliverer.destination.capabilities
        idempotent = capabilities.idempotent
        recorded: list[tuple[Outcome, str]] = []
        for batch in _chunks(items, self.batch_size):
            mark_in_flight(self.con, self.sync_name, batch, self.options.now())
            crash.point("sync.before_send")
            answers = self.deliverer.deliver([item.op for item in batch])
            crash.point("sync.after_send")
            outcomes = []
            for item in batch:
                result, attempts = answers[item.op.op_id]
                result = redacted(result, self.secrets)
                ambiguous = not idempotent and (replayed or result.ambiguous)
                outcomes.append(Outcome(item, result, attempts, replayed, ambiguous))
            results = record(
                self.con,
                self.sync_name,
                self.report.run_id,
                outcomes,
                self.options.now(),
                self.give_up_after_runs,
                capabilities.needs_previous,
            )
            crash.point("sync.after_record")
            for outcome, result in zip(outcomes, results, strict=True):
                self.report.count(result, outcome.ambiguous)
                recorded.append((outcome, result))
            self.report.replayed += len(batch) if replayed else 0
        return recorded

    def close(self) -> None:
        """Close the destination and copy the request counts onto the report."""
        self.deliverer.destination.close()
        self.report.requests = self.deliverer.stats.requests
        self.report.request_retries = self.deliverer.stats.retries


def redacted(result: OperationResult, secrets: Secrets) -> OperationResult:
    """A destination's answer as it may be recorded: secrets redacted, then the message cut."""
    return replace(
        result,
        error_code=secrets.redact(result.error_code, MESSAGE_LIMIT),
        error_message=secrets.redact(result.error_message, MESSAGE_LIMIT),
    )


def run_error(secrets: Secrets, error: Exception) -> str:
    """Why a run failed, as it may be recorded and printed."""
    return secrets.redact(f"{type(error).__name__}: {error}", MESSAGE_LIMIT) or ""


def _chunks(items: list[InFlight], size: int) -> Iterator[list[InFlight]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
