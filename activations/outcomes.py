"""What a run of a sync or of journey sends means to the people watching it.

Read from the warehouse logs (`activations.sync_runs`, `activations.sync_changelog`), so the
Dagster asset checks, the demo summary and a user's SQL all see the same figures:

- the **rejected share** of a run: operations the destination refused (rejected now or given up)
  over the operations attempted (sent, refused or left for a retry). Drops for consent are
  decisions, not failures, and unchanged rows were never attempted;
- the **top rejection reasons** of a run: the destination's error codes, most frequent first,
  each with one of its messages;
- whether a destination is **configured** in an environment: every variable its config names
  (`*_env`) is set;
- which destinations have journey messages **waiting** in the outbox.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import duckdb

from activations.destinations_file import ResolvedDestination
from activations.ledger import CHANGELOG
from activations.runs import RUNS
from activations.sends import OUTBOX, outbox_exists
from activations.tables import tables_exist

DEFAULT_MAX_REJECTED_SHARE = 0.05
"""A run fails its check when more than this share of its attempted operations was refused."""


@dataclass(frozen=True)
class RejectionReason:
    code: str
    count: int
    example: str | None
    """One of the destination's messages for this code (messages often name the record)."""

    def __str__(self) -> str:
        text = f"{self.code} ×{self.count}"
        return f"{text} ({self.example})" if self.example else text


@dataclass(frozen=True)
class RunCounts:
    """One row of `activations.sync_runs`, the columns a verdict needs."""

    run_id: str
    sync_name: str
    destination: str
    status: str
    started_at: datetime
    sent: int
    rejected: int
    given_up: int
    retried: int
    dropped: int
    unchanged: int
    error: str | None

    @property
    def refused(self) -> int:
        return self.rejected + self.given_up

    @property
    def attempted(self) -> int:
        return self.sent + self.refused + self.retried

    @property
    def rejected_share(self) -> float:
        return self.refused / self.attempted if self.attempted else 0.0


@dataclass(frozen=True)
class RejectionVerdict:
    passed: bool
    threshold: float
    run: RunCounts | None
    description: str


_COUNT_COLUMNS = (
    "run_id, sync_name, destination, status, started_at, sent, rejected, given_up, retried, "
    "dropped, unchanged, error"
)


def runs_by_id(con: duckdb.DuckDBPyConnection, run_ids: list[str]) -> dict[str, RunCounts]:
    """The named runs (of syncs, or of journey sends to one destination), by run id."""
    if not run_ids or not tables_exist(con):
        return {}
    rows = con.execute(
        f"select {_COUNT_COLUMNS} from {RUNS} where run_id in (select unnest(?))", [run_ids]
    ).fetchall()
    return {row[0]: RunCounts(*row) for row in rows}


def top_rejection_reasons(
    con: duckdb.DuckDBPyConnection, run_id: str, limit: int = 3
) -> list[RejectionReason]:
    """The most frequent error codes among the run's refused operations."""
    rows = con.execute(
        f"select coalesce(error_code, 'unknown'), count(*), min(error_message) from {CHANGELOG} "
        "where run_id = ? and result in ('rejected', 'given_up') "
        "group by 1 order by 2 desc, 1 limit ?",
        [run_id, limit],
    ).fetchall()
    return [RejectionReason(code, int(count), example) for code, count, example in rows]


def judge_rejections(run: RunCounts | None, threshold: float) -> RejectionVerdict:
    """Passes unless the run's rejected share is above `threshold`."""
    if run is None:
        return RejectionVerdict(True, threshold, None, "No run recorded yet.")
    share = run.rejected_share
    figures = (
        f"{run.refused} of {run.attempted} attempted operations refused ({share:.1%}; "
        f"threshold {threshold:.1%}) in run {run.run_id} ({run.status})"
    )
    if run.attempted == 0:
        return RejectionVerdict(True, threshold, run, f"Nothing to send in run {run.run_id}.")
    if share > threshold:
        return RejectionVerdict(False, threshold, run, f"Too many rejections: {figures}.")
    return RejectionVerdict(True, threshold, run, f"Within the threshold: {figures}.")


def missing_environment(destination: ResolvedDestination, environ: Mapping[str, str]) -> list[str]:
    """The variables the destination's config names that are not set (names, never values)."""
    if destination.config is None:
        return []
    return sorted(name for name in destination.config.env_names().values() if not environ.get(name))


def not_ready(target: ResolvedDestination | None, environ: Mapping[str, str]) -> str | None:
    """Why this environment cannot deliver journey sends to a destination yet, or None.

    An unknown destination is not "not ready": its send run records it as a failure.
    """
    if target is None:
        return None
    if target.connector is None:
        return f"kind '{target.kind}' has no connector here; messages stay pending"
    missing = missing_environment(target, environ)
    if missing:
        return f"needs {', '.join(missing)} (not set); messages stay pending"
    return None


def waiting_messages(con: duckdb.DuckDBPyConnection) -> dict[str, int] | None:
    """Journey messages pending or in flight per destination; None when there is no outbox."""
    if not outbox_exists(con):
        return None
    rows = con.execute(
        f"select destination, count(*) from {OUTBOX} where state in ('pending', 'sending') "
        "group by 1 order by 1"
    ).fetchall()
    return dict(rows)
