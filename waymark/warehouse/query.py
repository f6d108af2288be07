"""Read-only SQL over the warehouse (what `waymark query` runs).

The warehouse is opened read-only, so a query can never change it; a statement that would write
is refused by DuckDB. DuckDB lets one process open the file while another writes it, so while a
build or a Dagster run holds the warehouse a query fails at once with a line saying so.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb


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
