"""`activations.sync_runs`: one row per run, written when it starts and when it ends.

A run that dies stays `running` until the next run of the same sync marks it `interrupted`.
A run is `success` only when every planned operation was accepted (drops for consent are
decisions, not failures); `partial` when some were accepted and some were not; `failed` when
none were, or the run itself failed.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

import duckdb

from activations.tables import SCHEMA
from waymark.core.instants import to_warehouse

RUNS = f"{SCHEMA}.sync_runs"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_run_id(now: datetime) -> str:
    # Sortable by start time and safe in file names (files destinations name deltas by it).
    return f"{now:%Y%m%dT%H%M%S%f}-{uuid.uuid4().hex[:8]}"


@dataclass
class RunReport:
    run_id: str
    sync_name: str
    run_kind: str
    destination: str
    mode: str | None
    as_of: datetime | None
    started_at: datetime
    status: str = "running"
    source_rows: int | None = None
    planned_creates: int = 0
    planned_updates: int = 0
    planned_removes: int = 0
    unchanged: int = 0
    dropped: int = 0
    replayed: int = 0
    sent: int = 0
    rejected: int = 0
    given_up: int = 0
    retried: int = 0
    ambiguous: int = 0
    requests: int = 0
    request_retries: int = 0
    finished_at: datetime | None = None
    plan_seconds: float | None = None
    deliver_seconds: float | None = None
    error: str | None = None
    drop_reasons: dict[str, int] = field(default_factory=dict)

    def count(self, result: str, ambiguous: bool) -> None:
        """Add one recorded operation result from the changelog."""
        name = {"sent": "sent", "rejected": "rejected", "given_up": "given_up", "retry": "retried"}
        setattr(self, name[result], getattr(self, name[result]) + 1)
        self.ambiguous += int(ambiguous)

    def conclude(self) -> None:
        failures = self.rejected + self.given_up + self.retried
        if self.error is not None:
            self.status = "failed"
        elif failures == 0:
            self.status = "success"
        else:
            self.status = "partial" if self.sent else "failed"

    def summary(self) -> str:
        parts = [
            f"{self.status}: {self.sent} sent",
            f"{self.rejected} rejected",
            f"{self.given_up} given up",
            f"{self.retried} to retry",
            f"{self.dropped} dropped (consent/suppression)",
            f"{self.unchanged} unchanged",
        ]
        if self.replayed:
            parts.append(f"{self.replayed} replayed after an interrupted run")
        if self.ambiguous:
            parts.append(f"{self.ambiguous} ambiguous (possible duplicates)")
        text = ", ".join(parts) + f"; {self.requests} requests"
        return text + (f"; error: {self.error}" if self.error else "")


# Every column of sync_runs, each an attribute of RunReport.
_COLUMNS = [f.name for f in fields(RunReport) if f.name != "drop_reasons"]


def start_run(con: duckdb.DuckDBPyConnection, report: RunReport) -> None:
    con.execute(
        f"update {RUNS} set status = 'interrupted' where sync_name = ? and status = 'running'",
        [report.sync_name],
    )
    _write(con, report)


def finish_run(con: duckdb.DuckDBPyConnection, report: RunReport) -> None:
    report.finished_at = report.finished_at or utc_now()
    con.execute(f"delete from {RUNS} where run_id = ?", [report.run_id])
    _write(con, report)


def _write(con: duckdb.DuckDBPyConnection, report: RunReport) -> None:
    values: list[Any] = [getattr(report, column) for column in _COLUMNS]
    values[_COLUMNS.index("as_of")] = report.as_of and to_warehouse(report.as_of)
    placeholders = ", ".join("?" for _ in _COLUMNS)
    con.execute(f"insert into {RUNS} ({', '.join(_COLUMNS)}) values ({placeholders})", values)


class Stopwatch:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.started = clock()

    def seconds(self) -> float:
        return round(self.clock() - self.started, 6)
