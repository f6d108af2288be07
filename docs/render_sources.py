"""Render docs/sources.md from the source contracts (`models/staging/*/__sources.yml`)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = """| rule | behaviour |
|---|---|
| a file at the top of the data directory, in a folder no source reads, or in a sub-folder of a source's folder | not read; listed with the reason in `staging.landed_files` and the build summary, and the dbt test `assert_every_landed_file_read` warns |
| a folder whose name starts with `_` (`_truth/` from `waymark generate`) | kept beside the sources: its files are listed as not read, without a warning |
| a file in a source's folder with a name its format does not accept (`.CSV`, `.json` in a CSV source, `.ndjson` in events) or content that is not what its name says (Parquet, ZIP or Excel, UTF-16, gzip without `.gz`) | not read; also `staging.quarantine`, action `file_not_read`, with the reason |
| a file name holding `*`, `?` or `[` | read by its exact path like any other file |
| a header that is not UTF-8 text, lacks a contract column or names a contract column twice | the build stops with an error naming the file and the problem |
| extra columns | ignored (an empty or repeated extra column name too) |
| a line that cannot be read: CSV quoting or field count, invalid UTF-8, longer than 4 MiB, the raw byte 0x01 in JSONL (other raw control characters make the line invalid JSON, below) | `staging.quarantine`, action `malformed_row`, one row per line with file, line number and reason; the rest of the file loads |
| missing key, unparseable or implausible timestamp, unparseable amount, invalid JSON, no identity | `staging.quarantine`, action `row_quarantined`, with the reason and the raw row |
| an identifier fails validation, or an optional timestamp is unparseable or implausible | the field is nulled, the row kept, `field_nulled` recorded |
| a timestamp outside `plausible_timestamps` (dbt var; default 1990-01-01 to 2100-01-01 UTC) | implausible (year 99999, a date BC, `"epoch"`): as above |
| a timestamp without a UTC offset or zone (`2026-01-05T10:00:00`) | read as UTC and counted per source: `staging.source_quality.timestamps_assumed_utc` and the build summary |
| an empty file (0 bytes or header only) | contributes no rows; logged |
| a file changes or is withdrawn | files are tracked by path relative to the data directory and a hash of their content: a changed file is read again and replaces its rows, a withdrawn file's rows leave; the same files in another folder or with new modification times are not read twice |
| quarantined share of a source above `quarantine_max_share` | `assert_quarantine_share_below_threshold` fails the build |
"""


def _cell(text: object) -> str:
    """One line of text safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|")


def render() -> str:
    lines = [
        "# Source contracts",
        "",
        "Sources arrive as files in a data directory, one folder per source. The authoritative contract",
        "is each source's YAML in `dbt_project/models/staging/<source>/__sources.yml`; this page is",
        "generated from it (`python docs/render_sources.py`). Every column is read as text and typed in",
        "staging, so a bad value quarantines one row instead of failing a file. Every build lists the",
        "files in the data directory (`staging.landed_files`) and reads each file a source accepts by",
        "its exact path; nothing in the directory goes unread without a reason in the build summary.",
        "",
        RULES,
    ]
    for path in sorted((ROOT / "dbt_project/models/staging").glob("*/__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                meta = table.get("meta", {})
                if not meta.get("folder"):
                    continue  # not a landed source (the build's own inventory of the files)
                lines += [
                    f"## `{meta.get('folder')}/` — {source['name']}.{table['name']} "
                    f"({meta.get('format', '').upper()}, key `{meta.get('key')}`)",
                    "",
                    " ".join(str(table.get("description", "")).split()),
                    "",
                    "| column | meaning |",
                    "|---|---|",
                    *(
                        f"| `{c['name']}` | {_cell(c.get('description', ''))} |"
                        for c in table.get("columns", [])
                    ),
                    "",
                ]
    return "\n".join(lines)


if __name__ == "__main__":
    (ROOT / "docs" / "sources.md").write_text(render())
