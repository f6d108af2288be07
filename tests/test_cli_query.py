"""`waymark query` as a newcomer uses it: read-only SQL over the warehouse, as a table, CSV or
JSON, and one clear line when the warehouse is missing, busy, or the SQL is wrong."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb

from tests.test_cli_errors import assert_one_line_error, run_waymark
from waymark.core.home import PROJECT_ROOT

ROWS = [
    ("c1", "Ann", "12.50", "2026-06-01 09:30:00", True),
    ("c2", None, "3.00", "2026-06-02 10:00:00", False),
    ("c3", "[bold]Bob[/bold]", None, None, None),
]


def sample_warehouse(path: Path, extra_rows: int = 0) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema marts")
        con.execute(
            "create table marts.customers (customer_id varchar, first_name varchar, "
            "lifetime_value decimal(10, 2), first_seen_at timestamp, is_vip boolean)"
        )
        con.executemany("insert into marts.customers values (?, ?, ?, ?, ?)", ROWS)
        con.execute(
            "insert into marts.customers select 'x' || lpad(i::varchar, 4, '0'), null, i, null, "
            "false from range(?) t(i)",
            [extra_rows],
        )
    return path


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_waymark_query_prints_a_table_and_never_writes(tmp_path: Path) -> None:
    warehouse = sample_warehouse(tmp_path / "w.duckdb")
    before = digest(warehouse)
    result = run_waymark(
        tmp_path, "query", "select * from marts.customers order by 1", "--warehouse", str(warehouse)
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    header = next(line for line in lines if "customer_id" in line)
    for column in ("first_name", "lifetime_value", "first_seen_at", "is_vip"):
        assert column in header
    ann = next(line for line in lines if " c1 " in line)
    assert "Ann" in ann and "12.50" in ann and "2026-06-01 09:30:00" in ann and "True" in ann
    assert "NULL" in next(line for line in lines if " c2 " in line)
    # Values are data, never markup.
    assert "[bold]Bob[/bold]" in result.stdout
    assert digest(warehouse) == before


def test_waymark_query_writes_csv_and_json(tmp_path: Path) -> None:
    warehouse = str(sample_warehouse(tmp_path / "w.duckdb"))
    sql = "select customer_id, first_name, lifetime_value, is_vip from marts.customers order by 1"
    as_csv = run_waymark(tmp_path, "query", sql, "--format", "csv", "--warehouse", warehouse)
    assert as_csv.returncode == 0, as_csv.stderr
    assert list(csv.reader(io.StringIO(as_csv.stdout))) == [
        ["customer_id", "first_name", "lifetime_value", "is_vip"],
        ["c1", "Ann", "12.50", "True"],
        ["c2", "", "3.00", "False"],
        ["c3", "[bold]Bob[/bold]", "", ""],
    ]
    as_json = run_waymark(tmp_path, "query", sql, "--format", "json", "--warehouse", warehouse)
    assert as_json.returncode == 0, as_json.stderr
    assert json.loads(as_json.stdout) == [
        {"customer_id": "c1", "first_name": "Ann", "lifetime_value": 12.5, "is_vip": True},
        {"customer_id": "c2", "first_name": None, "lifetime_value": 3, "is_vip": False},
        {"customer_id": "c3", "first_name": "[bold]Bob[/bold]", "lifetime_value": None,
         "is_vip": None},
    ]  # fmt: skip
    repeated = run_waymark(
        tmp_path, "query", "select 1 as a, 2 as a", "--format", "json", "--warehouse", warehouse
    )
    assert_one_line_error(repeated, "waymark query:", "column names repeat (a)")


def test_waymark_query_limits_a_table_and_says_so(tmp_path: Path) -> None:
    warehouse = str(sample_warehouse(tmp_path / "w.duckdb", extra_rows=150))
    sql = "select customer_id from marts.customers order by 1"
    table = run_waymark(tmp_path, "query", sql, "--warehouse", warehouse)
    assert table.returncode == 0, table.stderr
    shown = re.findall(r"\b(c\d|x\d{4})\b", table.stdout)
    assert len(shown) == 100 and shown[0] == "c1"
    assert table.stderr.splitlines() == [
        "first 100 rows shown: --max-rows 0 shows every row, --format csv or json writes them all"
    ]
    everything = run_waymark(tmp_path, "query", sql, "--max-rows", "0", "--warehouse", warehouse)
    assert len(re.findall(r"\b(c\d|x\d{4})\b", everything.stdout)) == 153
    assert everything.stderr == ""
    as_csv = run_waymark(tmp_path, "query", sql, "--format", "csv", "--warehouse", warehouse)
    assert len(as_csv.stdout.splitlines()) == 1 + 153


def test_waymark_query_refuses_to_write(tmp_path: Path) -> None:
    warehouse = sample_warehouse(tmp_path / "w.duckdb")
    before = digest(warehouse)
    for sql in ("delete from marts.customers", "create table marts.t (a int)"):
        result = run_waymark(tmp_path, "query", sql, "--warehouse", str(warehouse))
        assert_one_line_error(result, "waymark query:", "read-only mode")
    assert digest(warehouse) == before


def test_waymark_query_sql_errors_are_one_line(tmp_path: Path) -> None:
    warehouse = str(sample_warehouse(tmp_path / "w.duckdb"))
    typo = run_waymark(tmp_path, "query", "select * from marts.customer", "--warehouse", warehouse)
    assert_one_line_error(
        typo, "Catalog Error", "customer does not exist", 'Did you mean "customers"?'
    )
    syntax = run_waymark(tmp_path, "query", "selec 1", "--warehouse", warehouse)
    assert_one_line_error(syntax, "Parser Error", '"selec"')


def test_waymark_query_without_a_warehouse_says_how_to_build_one(tmp_path: Path) -> None:
    result = run_waymark(tmp_path, "query", "select 1")
    assert_one_line_error(
        result, f"no warehouse at {tmp_path / 'home' / 'warehouse.duckdb'}", "waymark build"
    )


HOLDER = """
import sys, duckdb
con = duckdb.connect(sys.argv[1])
print("holding", flush=True)
sys.stdin.read()
"""


def test_waymark_query_on_a_warehouse_in_use_is_one_line(tmp_path: Path) -> None:
    warehouse = sample_warehouse(tmp_path / "w.duckdb")
    # A writer such as a running build holds the file open for writing.
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(warehouse)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "holding\n"
        result = run_waymark(tmp_path, "query", "select 1", "--warehouse", str(warehouse))
    finally:
        holder.communicate("", timeout=60)
    assert_one_line_error(
        result,
        f"waymark query: the warehouse {warehouse} is in use by another process (PID "
        f"{holder.pid}), such as a running build or Dagster run; try again when it finishes",
    )


def test_the_readme_query_runs_on_the_demo_warehouse(demo_warehouse: Path, tmp_path: Path) -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    commands = re.findall(r'`waymark query "([^"`]+)"`', readme)
    assert commands, "the README shows a waymark query"
    home = tmp_path / "home"
    home.mkdir()
    (home / "warehouse.duckdb").symlink_to(demo_warehouse)
    for sql in commands:
        result = run_waymark(tmp_path, "query", sql)
        assert result.returncode == 0, (sql, result.stderr)
        assert "customer_id" in result.stdout
