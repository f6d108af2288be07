"""Every sync of the project, and the journey outbox if there is one, delivered to local
stand-ins; one line per sync of what was planned, sent, refused and skipped unchanged.

State lives in the warehouse (`activations.sync_state`), so a second demo over the same
warehouse sends nothing new: every row already delivered counts as unchanged.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import duckdb

from activations.demo.standins import local_destinations
from activations.dry_run import mask
from activations.outcomes import RejectionReason, top_rejection_reasons, waiting_messages
from activations.runner import RunOptions, run_sync
from activations.runs import RunReport
from activations.secrets import Secrets
from activations.sends import OUTBOX, deliver_sends
from activations.sync_files import SyncPaths, load_project
from waymark.core.environment import temporary_environment
from waymark.core.instants import format_instant


@dataclass
class Line:
    """One sync, or journey sends to one destination."""

    name: str
    destination: str
    report: RunReport | None = None
    reasons: list[RejectionReason] = field(default_factory=list)
    skipped: str | None = None


@dataclass
class DemoActivations:
    as_of: datetime
    syncs: list[Line]
    sends: list[Line]
    outbox: str
    notes: list[str]
    mail_messages: int | None
    seconds: float

    @property
    def failed(self) -> list[str]:
        lines = self.syncs + self.sends
        return [line.name for line in lines if line.report and line.report.status == "failed"]


def run_demo_activations(
    warehouse: Path, home: Path, as_of: datetime, paths: SyncPaths | None = None
) -> DemoActivations:
    started = time.perf_counter()
    project = load_project(paths or SyncPaths.default())
    with duckdb.connect(str(warehouse), read_only=True) as con:
        waiting = waiting_messages(con)
    wanted = {s.spec.destination for s in project.syncs if s.spec} | set(waiting or {})
    # The stand-ins' credentials are environment variables of this process for the demo only.
    with local_destinations(project, home, wanted) as local, temporary_environment(local.env):
        options = RunOptions(as_of=as_of, secrets=Secrets())
        syncs = []
        for loaded in project.syncs:
            spec = loaded.spec
            name = spec.name if spec else loaded.source.path.stem
            line = Line(name, spec.destination if spec else "?")
            if loaded.issues or spec is None:
                line.skipped = f"invalid sync file ({len(loaded.issues)} problem(s))"
            elif spec.destination in local.unavailable:
                line.skipped = local.unavailable[spec.destination]
            else:
                line.report = run_sync(warehouse, local.sync(loaded), options)
            syncs.append(line)
        sends = []
        for name in sorted(waiting or {}):
            line = Line(f"journey sends -> {name}", name)
            if name in local.unavailable:
                line.skipped = f"{local.unavailable[name]}; messages stay pending"
            else:
                reports = deliver_sends(warehouse, local.destinations, options, only=name)
                line.report = reports[0] if reports else None
                line.skipped = None if reports else "nothing waiting"
            sends.append(line)
        mail = local.mail.count() if local.mail is not None else None
        notes = local.notes
    with duckdb.connect(str(warehouse), read_only=True) as con:
        for line in syncs + sends:
            if line.report is not None:
                line.reasons = top_rejection_reasons(con, line.report.run_id)
        still_waiting = waiting_messages(con)
    seconds = time.perf_counter() - started
    return DemoActivations(
        as_of, syncs, sends, outbox_line(waiting, still_waiting), notes, mail, seconds
    )


def outbox_line(before: dict[str, int] | None, after: dict[str, int] | None) -> str:
    """What the outbox held before delivery and what still waits in it after."""
    if before is None or after is None:
        return f"{OUTBOX} does not exist yet (the journey engine creates it): no journey sends"
    left = sum(after.values())
    where = f" ({', '.join(f'{name} {count:,}' for name, count in after.items())})" if left else ""
    return (
        f"{OUTBOX}: {sum(before.values()):,} message(s) waiting before delivery, "
        f"{left:,} still waiting after it{where}"
    )


_HEADER = (
    "sync",
    "destination",
    "planned",
    "sent",
    "rejected",
    "retry",
    "dropped",
    "unchanged",
    "result",
)
_LEGEND = (
    "  planned = creates + updates + removes; dropped = newly held back by consent or "
    "suppression;\n  unchanged = skipped, already delivered as they are (or already held back)"
)


def format_demo_activations(demo: DemoActivations) -> str:
    rows: list[tuple[str, ...]] = [_HEADER]
    details: dict[int, list[str]] = {}
    for line in demo.syncs + demo.sends:
        report = line.report
        if report is None:
            rows.append((line.name, line.destination, *["-"] * 6, "skipped"))
            details[len(rows) - 1] = [str(line.skipped)]
            continue
        planned = report.planned_creates + report.planned_updates + report.planned_removes
        if report.run_kind == "sends":  # messages taken from the outbox and not held back
            planned = report.sent + report.rejected + report.given_up + report.retried
        figures = (
            planned,
            report.sent,
            report.rejected + report.given_up,
            report.retried,
            report.dropped,
            report.unchanged,
        )
        rows.append(
            (line.name, line.destination, *(f"{value:,}" for value in figures), report.status)
        )
        notes = []
        if line.reasons:
            notes.append("top rejections: " + "; ".join(mask(str(r)) for r in line.reasons))
        if report.error:
            notes.append(f"error: {report.error}")
        details[len(rows) - 1] = notes
    widths = [max(len(row[i]) for row in rows) for i in range(len(_HEADER))]
    text = [
        "",
        f"Activations as of {format_instant(demo.as_of)}, every destination a local stand-in:",
    ]
    for index, row in enumerate(rows):
        cells = [
            cell.ljust(width) if column in (0, 1, len(row) - 1) else cell.rjust(width)
            for column, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        text.append("  " + "  ".join(cells).rstrip())
        text.extend(f"      {note}" for note in details.get(index, []))
    text.append(_LEGEND)
    text.append(f"  {demo.outbox}")
    if demo.mail_messages is not None:
        text.append(f"  mail received so far: {demo.mail_messages:,}")
    text.extend(f"  {note}" for note in demo.notes)
    text.append(f"  activations took {demo.seconds:.1f} s")
    return "\n".join(text)
