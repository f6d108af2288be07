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

from activations import crash
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
from activations.plan import Plan, plan_sync, undropped_keys
from activations.runs import RunReport, Stopwatch, finish_run, new_run_id, start_run, utc_now
from activations.secrets import Secrets
from activations.sync_files import LoadedSync
from activations.tables import ensure_tables


@dataclass
class RunOptions:
    """Time, pacing and randomness, injectable so runs can be replayed and tested fast."""

    as_of: str
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
    spec, target = loaded.spec, loaded.destination
    assert spec is not None and target is not None and target.connector is not None
    connector = target.connector
    started = options.now()
    report = RunReport(
        new_run_id(started), spec.name, "sync", spec.destination, spec.mode, options.as_of, started
    )
    context = SyncContext(spec.name, spec.mode, spec.key, {}, loaded.settings)
    with duckdb.connect(str(warehouse)) as con:
        ensure_tables(con)
        start_run(con, report)
        destination: LazyDestination | None = None
        deliverer: Deliverer | None = None
        try:
            secrets = options.secrets
            capabilities = connector.capabilities
            size = min(spec.batch_size or capabilities.max_batch_size, capabilities.max_batch_size)
            watch = Stopwatch(options.clock)
            plan = plan_sync(con, loaded, options.as_of)
            report.plan_seconds = watch.seconds()
            context = replace(context, field_types=plan.field_types)
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
            watch = Stopwatch(options.clock)
            run = _Run(con, spec.name, report, deliverer, secrets, spec.give_up_after_runs, options)
            replays = in_flight(con, spec.name, spec.purpose)
            run.deliver(replays, size, replayed=True)
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
                [(c.record_key, c.payload_hash, c.drop_reason) for c in drops],
                options.now(),
            )
            operations = _operations(plan, report.run_id, spec.name, spec.purpose, capabilities)
            run.deliver(operations, size)
            destination.finish(report.run_id)
            report.deliver_seconds = watch.seconds()
        except Exception as error:  # recorded on the run; a crash (BaseException) is not caught
            report.error = options.secrets.redact(f"{type(error).__name__}: {error}")
        finally:
            if destination is not None:
                destination.close()
        if deliverer is not None:
            report.requests = deliverer.stats.requests
            report.request_retries = deliverer.stats.retries
        report.conclude()
        report.finished_at = options.now()
        finish_run(con, report)
    return report


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
class _Run:
    con: duckdb.DuckDBPyConnection
    sync_name: str
    report: RunReport
    deliverer: Deliverer
    secrets: Secrets
    give_up_after_runs: int
    options: RunOptions

    def deliver(self, items: list[InFlight], size: int, *, replayed: bool = False) -> None:
        capabilities = self.deliverer.destination.capabilities
        idempotent = capabilities.idempotent
        for batch in _chunks(items, size):
            mark_in_flight(self.con, self.sync_name, batch, self.options.now())
            crash.point("sync.before_send")
            answers = self.deliverer.deliver([item.op for item in batch])
            crash.point("sync.after_send")
            outcomes = []
            for item in batch:
                result, attempts = answers[item.op.op_id]
                result = replace(
                    result,
                    error_code=self.secrets.redact(result.error_code),
                    error_message=self.secrets.redact(result.error_message),
                )
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
            self.report.replayed += len(batch) if replayed else 0


def _chunks(items: list[InFlight], size: int) -> Iterator[list[InFlight]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
