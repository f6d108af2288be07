"""What a build produced, read back from the warehouse for the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

# Files not read are listed one per line up to this many; the rest are counted.
MAX_FILES_LISTED = 20


@dataclass(frozen=True)
class SourceQuality:
    """One source's rows landed and set aside, and its times read as UTC for want of an offset."""

    name: str
    landed: int
    set_aside: int
    share: float
    assumed_utc: int


@dataclass
class LandingReport:
    """What became of the landed files: per source, and every file no source read (path, why)."""

    sources: list[SourceQuality] = field(default_factory=list)
    files_not_read: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class BuildSummary:
    customers: int
    identifiers: int
    merges: int
    rejected_edges: int
    quarantined_rows: int
    nulled_fields: int
    stages: dict[str, int] = field(default_factory=dict)
    audiences: dict[str, int] = field(default_factory=dict)
    landing: LandingReport = field(default_factory=LandingReport)


def _landing_report(con: duckdb.DuckDBPyConnection) -> LandingReport:
    sources = [
        SourceQuality(name, int(landed), int(set_aside), float(share), int(assumed_utc))
        for name, landed, set_aside, share, assumed_utc in con.execute(
            "select source_name, rows_landed, rows_quarantined + rows_malformed, "
            "quarantined_share, timestamps_assumed_utc from staging.source_quality order by 1"
        ).fetchall()
    ]
    files = con.execute(
        "select file_path, reason from staging.landed_files where not is_read order by 1"
    ).fetchall()
    return LandingReport(sources=sources, files_not_read=[(path, why) for path, why in files])


def read_landing_report(warehouse: Path) -> LandingReport:
    """The landing part of a build's summary (needs only the staging layer built)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return _landing_report(con)


def read_summary(warehouse: Path) -> BuildSummary:
    """Counts from the marts of a built warehouse (opened read-only)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:

        def scalar(sql: str) -> int:
            return int(con.execute(sql).fetchone()[0])

        stages = dict(
            con.execute(
                "select lifecycle_stage, count(*) from marts.customers group by 1 order by 2 desc"
            ).fetchall()
        )
        audiences = dict(
            con.execute(
                "select audience_name, count(*) filter (where exited_at is null) "
                "from marts.audience_memberships group by 1 order by 1"
            ).fetchall()
        )
        return BuildSummary(
            customers=scalar("select count(*) from marts.customers"),
            identifiers=scalar("select count(*) from marts.customer_identifiers"),
            merges=scalar("select count(*) from marts.identity_merge_log"),
            rejected_edges=scalar("select count(*) from marts.identity_violations"),
            quarantined_rows=scalar(
                "select count(*) from staging.quarantine "
                "where action in ('row_quarantined', 'malformed_row')"
            ),
            nulled_fields=scalar(
                "select count(*) from staging.quarantine where action = 'field_nulled'"
            ),
            stages=stages,
            audiences=audiences,
            landing=_landing_report(con),
        )


def format_landing_report(report: LandingReport) -> list[str]:
    """Per-source lines, then every file not read with its reason (the first MAX_FILES_LISTED)."""
    lines = ["  sources (rows landed / set aside):"]
    for source in report.sources:
        counts = f"{source.landed:>10,} {source.set_aside:>8,}  ({source.share:.2%})"
        line = f"    {source.name:<26} {counts}"
        if source.assumed_utc:
            line += f"  {source.assumed_utc:,} timestamp(s) without a UTC offset, read as UTC"
        lines.append(line)
    if report.files_not_read:
        lines.append(
            f"  files not read ({len(report.files_not_read):,}; see staging.landed_files):"
        )
        lines += [
            f"    {path}: {reason}" for path, reason in report.files_not_read[:MAX_FILES_LISTED]
        ]
        if len(report.files_not_read) > MAX_FILES_LISTED:
            lines.append(f"    ... and {len(report.files_not_read) - MAX_FILES_LISTED:,} more")
    return lines


def format_summary(summary: BuildSummary, seconds: float) -> str:
    lines = [
        f"Built in {seconds:.1f} s",
        f"  customers          {summary.customers:>10,}",
        f"  identifiers        {summary.identifiers:>10,}",
        f"  merges (edges)     {summary.merges:>10,}",
        f"  rejected edges     {summary.rejected_edges:>10,}   (see marts.identity_violations)",
        f"  quarantined rows   {summary.quarantined_rows:>10,}   (see staging.quarantine)",
        f"  nulled fields      {summary.nulled_fields:>10,}",
        "  lifecycle stages:",
        *(f"    {stage:<20} {count:>8,}" for stage, count in summary.stages.items()),
        "  audiences (current members):",
        *(f"    {name:<28} {count:>8,}" for name, count in summary.audiences.items()),
        *format_landing_report(summary.landing),
    ]
    return "\n".join(lines)
