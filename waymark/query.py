"""`waymark query "SQL"`: read-only SQL over the warehouse, printed as a table, CSV or JSON.

Everything Waymark decides is a table, and a newcomer should not need a DuckDB command line to
read one. The warehouse is opened read-only, so a query can never change it; a statement that
would write is refused by DuckDB. DuckDB lets one process open the file while another writes it,
so while a build or a Dagster run holds the warehouse a query fails at once with a line saying so.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

import duckdb

from waymark.cli_errors import CommandError

NUMBERS = (int, float, Decimal)


@dataclass(frozen=True)
class QueryResult:
    """The columns and rows of the last statement; `more` when rows past the limit exist."""

    columns: list[str]
    rows: list[tuple[Any, ...]]
    more: bool = False


def run_query(warehouse: Path, sql: str, max_rows: int | None = None) -> QueryResult:
    """Run `sql` on a read-only connection; at most `max_rows` rows (None: all)."""
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute(sql)
        if con.description is None:  # a statement without a result, such as `pragma ...`
            return QueryResult([], [])
        columns = [column[0] for column in con.description]
        if max_rows is None:
            return QueryResult(columns, con.fetchall())
        rows = con.fetchmany(max_rows + 1)
    return QueryResult(columns, rows[:max_rows], more=len(rows) > max_rows)


def write_table(result: QueryResult, out: IO[str]) -> None:
    """A boxed table; numbers right-aligned, NULL spelt out. Full width when not a terminal."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    table = Table(show_lines=False)
    for index, name in enumerate(result.columns):
        values = [row[index] for row in result.rows if row[index] is not None]
        numeric = bool(values) and all(
            isinstance(value, NUMBERS) and not isinstance(value, bool) for value in values
        )
        table.add_column(Text(name), justify="right" if numeric else "left")
    for row in result.rows:
        # Text, not str: values are data, never rich markup.
        table.add_row(*(_cell(value) for value in row))
    terminal = out.isatty()
    console = Console(
        file=out,
        width=None if terminal else 1_000_000,  # piped: never wrap cells to a guessed width
        color_system="auto" if terminal else None,
        highlight=False,
    )
    console.print(table)


def _cell(value: Any) -> Any:
    from rich.text import Text

    if value is None:
        return Text("NULL", style="dim")
    return Text(str(value))


def write_csv(result: QueryResult, out: IO[str]) -> None:
    """RFC 4180 CSV with a header row; NULL is an empty field."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(result.columns)
    writer.writerows(result.rows)


def write_json(result: QueryResult, out: IO[str]) -> None:
    """A JSON array of objects, one per row on its own line."""
    repeated = sorted({name for name in result.columns if result.columns.count(name) > 1})
    if repeated:
        raise CommandError(
            f"column names repeat ({', '.join(repeated)}): give each column an alias for JSON"
        )
    out.write("[")
    for index, row in enumerate(result.rows):
        record = dict(zip(result.columns, row, strict=True))
        separator = "," if index else ""
        out.write(f"{separator}\n{json.dumps(record, default=_json_value, ensure_ascii=False)}")
    out.write("\n]\n" if result.rows else "]\n")


def _json_value(value: Any) -> Any:
    if isinstance(value, Decimal):  # a whole-number decimal stays whole; money keeps its point
        exponent = value.as_tuple().exponent
        return int(value) if isinstance(exponent, int) and exponent >= 0 else float(value)
    if isinstance(value, date | datetime | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


WRITERS = {"table": write_table, "csv": write_csv, "json": write_json}
