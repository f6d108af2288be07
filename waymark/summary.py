"""What a build produced, read back from the warehouse for the terminal."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb


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
    sources: list[tuple[str, int, int, float]] = field(default_factory=list)


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
        sources = [
            (name, int(landed), int(quarantined), float(share))
            for name, landed, quarantined, share in con.execute(
                "select source_name, rows_landed, rows_quarantined + rows_malformed, "
                "quarantined_share from staging.source_quality order by 1"
            ).fetchall()
        ]
        return BuildSummary(
            customers=scalar("select count(*) from marts.customers"),
            identifiers=scalar("select count(*) from marts.customer_identifiers"),
            merges=scalar("select count(*) from marts.identity_merge_log"),
            rejected_edges=scalar("select count(*) from marts.identity_violations"),
            quarantined_rows=scalar(
                "select count(*) from staging.quarantine where action <> 'field_nulled'"
            ),
            nulled_fields=scalar(
                "select count(*) from staging.quarantine where action = 'field_nulled'"
            ),
            stages=stages,
            audiences=audiences,
            sources=sources,
        )


def format_summary(summary: BuildSummary, seconds: float) -> str:
    lines = [
        f"Built in {seconds:.1f} s",
        f"  customers          {summary.customers:>10,}",
        f"  identifiers        {summary.identifiers:>10,}",
        f"  merges (edges)     {summary.merges:>10,}",
        f"  rejected edges     {summary.rejected_edges:>10,}   (see marts.identity_violations)",
        f"  quarantined rows   {summary.quarantined_rows:>10,}   (see staging.quarantine)",
        f"  nulled identifiers {summary.nulled_fields:>10,}",
        "  lifecycle stages:",
        *(f"    {stage:<20} {count:>8,}" for stage, count in summary.stages.items()),
        "  audiences (current members):",
        *(f"    {name:<28} {count:>8,}" for name, count in summary.audiences.items()),
        "  sources (rows landed / set aside):",
        *(
            f"    {name:<26} {landed:>10,} {quarantined:>8,}  ({share:.2%})"
            for name, landed, quarantined, share in summary.sources
        ),
    ]
    return "\n".join(lines)
