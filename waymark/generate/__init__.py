"""Synthetic, realistic source data for Waymark: seven source kinds for N people, with truth.

``generate`` writes events (Segment JSONL, one file per UTC day), CRM contacts, orders and order
items, support tickets and calls, email/SMS engagement, consent and ad clicks (CSV, one file per
month) under ``out``, plus ``_truth/identity.csv`` and ``_truth/people.csv`` that say which
identifiers really belong to whom. The output is deterministic for a seed: every person draws
from an RNG seeded by (seed, person index), so the rows do not depend on how many workers split
the population, and the same arguments give byte-identical files.
"""

from __future__ import annotations

import multiprocessing
import shutil
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from waymark.generate.contracts import (
    CSV_COLUMNS,
    EVENTS,
    IDENTITY_COLUMNS,
    PEOPLE_COLUMNS,
    SOURCES,
    TRUTH_DIR,
)
from waymark.generate.ids import MAX_PEOPLE
from waymark.generate.worker import ShardJob, run_shard

__all__ = ["GenerateStats", "generate"]

DEFAULT_MALFORMED_RATE = 0.003


@dataclass(frozen=True)
class GenerateStats:
    """What a generation run produced and how fast (rows of all sources per wall second)."""

    customers: int
    seed: int
    workers: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    rows_per_second: float = 0.0
    bytes_written: int = 0

    @property
    def total_rows(self) -> int:
        """Rows (events lines and CSV data rows) across every source."""
        return sum(self.rows.values())

    def report(self) -> str:
        """A short human-readable summary for the command line."""
        lines = [f"Generated {self.customers:,} people (seed {self.seed}, {self.workers} workers)"]
        lines += [f"  {source:<22}{count:>12,}" for source, count in self.rows.items()]
        lines.append(f"  {'total rows':<22}{self.total_rows:>12,}")
        lines.append(
            f"  {self.seconds:,.1f} s, {self.rows_per_second:,.0f} rows/s, "
            f"{self.bytes_written / 1e6:,.1f} MB written"
        )
        return "\n".join(lines)


def generate(
    customers: int,
    seed: int,
    out: Path,
    days: int = 180,
    end_date: date = date(2026, 6, 30),
    workers: int = 1,
    gzip_events: bool = False,
    malformed_rate: float = DEFAULT_MALFORMED_RATE,
) -> GenerateStats:
    """Write every source for ``customers`` people over ``[end_date - days, end_date)``.

    Source folders already under ``out`` are replaced, so a directory always holds exactly one
    run. ``workers`` processes each write their own shard files (``...-<shard>``); the truth
    files are merged in person order. ``malformed_rate`` (0 disables) sets how many rows are
    deliberately broken for the quarantine.
    """
    if not 0 < customers <= MAX_PEOPLE:
        raise ValueError(f"customers must be between 1 and {MAX_PEOPLE:,}")
    if days < 1 or workers < 1 or not 0 <= malformed_rate < 1:
        raise ValueError("days and workers must be positive, malformed_rate in [0, 1)")
    started = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for folder in (*SOURCES, TRUTH_DIR):
        shutil.rmtree(out / folder, ignore_errors=True)
    workers = min(workers, customers)
    jobs = [
        ShardJob(
            shard=shard,
            first=customers * shard // workers,
            stop=customers * (shard + 1) // workers,
            customers=customers,
            seed=seed,
            out=str(out),
            days=days,
            end_date=end_date,
            gzip_events=gzip_events,
            malformed_rate=malformed_rate,
        )
        for shard in range(workers)
    ]
    if workers == 1:
        results = [run_shard(jobs[0])]
    else:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            results = list(pool.map(run_shard, jobs))
    _merge_truth(out / TRUTH_DIR, workers)
    rows = {source: sum(r[source] for r in results) for source in (EVENTS, *CSV_COLUMNS)}
    seconds = time.perf_counter() - started
    total = sum(rows.values())
    size = sum(
        p.stat().st_size
        for folder in (*SOURCES, TRUTH_DIR)
        for p in (out / folder).rglob("*")
        if p.is_file()
    )
    return GenerateStats(
        customers=customers,
        seed=seed,
        workers=workers,
        rows=rows,
        seconds=round(seconds, 3),
        rows_per_second=round(total / seconds, 1) if seconds else 0.0,
        bytes_written=size,
    )


def _merge_truth(truth_dir: Path, workers: int) -> None:
    """Concatenate the shards' truth parts, in shard (= person) order, under one header."""
    for name, columns in (("identity", IDENTITY_COLUMNS), ("people", PEOPLE_COLUMNS)):
        with (truth_dir / f"{name}.csv").open("wb") as merged:
            merged.write((",".join(columns) + "\n").encode("utf-8"))
            for shard in range(workers):
                part = truth_dir / f"{name}-{shard}.part"
                with part.open("rb") as handle:
                    shutil.copyfileobj(handle, merged)
                part.unlink()
