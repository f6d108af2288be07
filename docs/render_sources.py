"""Render docs/sources.md from the source contracts (`models/staging/*/__sources.yml`)."""

from __future__ import annotations

from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
RULES = """| rule | behaviour |
|---|---|
| a file lacks a contract column | the build stops with an error naming the file, the missing columns and the header |
| extra columns | ignored |
| a CSV line cannot be parsed (quoting, field count) | `staging.quarantine`, action `malformed_row`, with file and line number |
| missing key, unparseable timestamp or amount, invalid JSON, no identity | `staging.quarantine`, action `row_quarantined`, with the reason and the raw row |
| an identifier fails validation | the field is nulled, the row kept, `field_nulled` recorded |
| an empty file (0 bytes or header only) | contributes no rows; logged |
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
        "staging, so a bad value quarantines one row instead of failing a file.",
        "",
        RULES,
    ]
    for path in sorted((ROOT / "dbt_project/models/staging").glob("*/__sources.yml")):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source["tables"]:
                meta = table.get("meta", {})
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
