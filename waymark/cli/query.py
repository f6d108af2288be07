"""`waymark query "SQL"`: read-only SQL over the warehouse, printed as a table, CSV or JSON.

Everything Waymark decides is a table, and a newcomer should not need a DuckDB command line to
read one. The query itself runs in `waymark.warehouse.query`; this module prints its rows.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from waymark.cli.args import whole_number
from waymark.cli.errors import CommandError, require_warehouse
from waymark.core.home import WaymarkHome
from waymark.warehouse.query import QueryResult

# Rows `waymark query` prints as a table unless told otherwise; CSV and JSON write every row.
QUERY_TABLE_ROWS = 100
QUERY_FORMATS = ("table", "csv", "json")
NUMBERS = (int, float, Decimal)


def register(commands: argparse._SubParsersAction) -> None:
    """Add `query` to the `waymark` parser."""
    query = commands.add_parser("query", help="run read-only SQL on the warehouse; print a table")
    query.add_argument("sql", help='such as "select * from marts.customers limit 5"')
    query.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    query.add_argument("--format", choices=QUERY_FORMATS, default="table", help="default table")
    query.add_argument(
        "--max-rows",
        type=whole_number(0),
        help=f"rows printed (default {QUERY_TABLE_ROWS} for a table, every row for csv and "
        "json; 0 for every row)",
    )
    query.set_defaults(handler=_query)


def _query(args: argparse.Namespace) -> int:
    from waymark.warehouse.query import run_query

    warehouse = Path(args.warehouse) if args.warehouse else WaymarkHome.resolve(args.home).warehouse
    require_warehouse(warehouse)
    limit = args.max_rows if args.max_rows is not None else (
        QUERY_TABLE_ROWS if args.format == "table" else 0
    )  # fmt: skip
    result = run_query(warehouse, args.sql, limit or None)
    WRITERS[args.format](result, sys.stdout)
    sys.stdout.flush()  # the rows, then what was left out of them
    if result.more:
        print(
            f"first {limit:,} rows shown: --max-rows 0 shows every row, --format csv or json "
            "writes them all",
            file=sys.stderr,
        )
    return 0


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
