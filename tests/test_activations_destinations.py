"""Object and audience syncs into a real PostgreSQL and into a folder of CSV and Parquet files."""

from __future__ import annotations

import csv
import random
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from activations.delivery import RetryPolicy
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from activations.testing_postgres import PostgresScratch


@pytest.fixture
def pg():
    scratch = PostgresScratch()
    yield scratch
    scratch.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def customers_sync(mode: str, destination: str, settings: dict) -> dict:
    return {
        "type": "object",
        "model": "marts.customers",
        "destination": destination,
        "mode": mode,
        "key": "customer_id",
        "fields": {"email": "email", "stage": "lifecycle_stage", "revenue": "revenue"},
        "purpose": "transactional",
        "give_up_after_runs": 2,
        "settings": settings,
    }


def run(tmp_path: Path, warehouse: SampleWarehouse, name: str, sync: dict, connectors: dict):
    paths = write_project(tmp_path / "project", {}, connectors, {name: sync})
    project = load_project(paths)
    assert not project.issues, project.issues
    options = RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets({}),
        sleep=lambda _: None,
        rng=random.Random(1),
        policy=RetryPolicy(base_delay=0.0),
    )
    return run_sync(warehouse.path, project.valid()[name], options)


def postgres_destination(pg: PostgresScratch) -> dict:
    config = {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema}
    return {"support_db": {"kind": "postgres", "config": config}}


def test_postgres_upsert_creates_a_typed_table_and_updates_only_changes(tmp_path, warehouse, pg):
    for name in ("ann", "bob"):
        warehouse.customer(name, revenue=Decimal("12.50"))
    sync = customers_sync("upsert", "support_db", {"table": "profiles"})
    first = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert first.status == "success" and first.sent == 2
    rows = pg.query("select customer_id, email, stage, revenue from {schema}.profiles order by 1")
    assert rows == [
        ("ann", "ann@example.org", "lead", Decimal("12.50")),
        ("bob", "bob@example.org", "lead", Decimal("12.50")),
    ]
    types = dict(
        pg.query(
            "select column_name, data_type from information_schema.columns "
            "where table_schema = %s and table_name = 'profiles'",
            [pg.schema],
        )
    )
    assert types["revenue"] == "numeric" and types["stage"] == "text"

    warehouse.customer("bob", lifecycle_stage="first_time_buyer", revenue=Decimal("40.00"))
    second = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert (second.planned_updates, second.unchanged, second.sent) == (1, 1, 1)
    assert pg.query("select stage from {schema}.profiles where customer_id = 'bob'") == [
        ("first_time_buyer",)
    ]


def test_postgres_mirror_removes_rows_that_left_the_source(tmp_path, warehouse, pg):
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    sync = customers_sync("mirror", "support_db", {"table": "profiles"})
    run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    warehouse.execute("delete from marts.customers where customer_id = 'bob'")
    report = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert report.planned_removes == 1 and report.status == "success"
    assert pg.query("select customer_id from {schema}.profiles order by 1") == [("ann",), ("cat",)]


def test_postgres_refused_row_is_isolated_and_logged(tmp_path, warehouse, pg):
    pg.query(
        "create table {schema}.profiles (customer_id text primary key, "
        "email text check (email like '%%@%%'), stage text, revenue numeric, "
        "_waymark_op_id text not null, _waymark_synced_at timestamptz not null default now())"
    )
    warehouse.customer("ann")
    warehouse.customer("bad", email="not-an-address")
    warehouse.customer("cat")
    sync = customers_sync("upsert", "support_db", {"table": "profiles"})
    report = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert (report.status, report.sent, report.rejected) == ("partial", 2, 1)
    assert pg.query("select customer_id from {schema}.profiles order by 1") == [("ann",), ("cat",)]
    logged = warehouse.execute(
        "select error_code, error_message from activations.sync_changelog where record_key = 'bad'"
    )
    assert logged[0][0] == "23514" and "check constraint" in logged[0][1]


def test_postgres_update_only_rejects_missing_rows(tmp_path, warehouse, pg):
    pg.query(
        "create table {schema}.profiles (customer_id text primary key, email text, stage text, "
        "revenue numeric, _waymark_op_id text not null, "
        "_waymark_synced_at timestamptz not null default now())"
    )
    pg.query("insert into {schema}.profiles values ('ann', 'old@x.org', 'lead', 0, 'seed')")
    warehouse.customer("ann")
    warehouse.customer("zed")
    sync = customers_sync("update_only", "support_db", {"table": "profiles"})
    report = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert (report.sent, report.rejected) == (1, 1)
    assert pg.query("select email from {schema}.profiles") == [("ann@example.org",)]
    again = run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg))
    assert again.given_up == 1  # give_up_after_runs: 2
    assert run(tmp_path, warehouse, "profiles", sync, postgres_destination(pg)).requests == 0


def test_files_write_csv_and_parquet_deltas_and_snapshots(tmp_path, warehouse):
    for name in ("ann", "bob"):
        warehouse.customer(name)
    root = tmp_path / "exports"
    connectors = {
        "drop": {"kind": "files", "config": {"root": str(root), "formats": ["csv", "parquet"]}}
    }
    sync = customers_sync("mirror", "drop", {"folder": "customers"})
    first = run(tmp_path, warehouse, "customers", sync, connectors)
    warehouse.execute("delete from marts.customers where customer_id = 'ann'")
    warehouse.customer("bob", email="bob@new.example.org")
    second = run(tmp_path, warehouse, "customers", sync, connectors)
    assert (second.planned_removes, second.planned_updates) == (1, 1)
    folder = root / "customers"
    assert len(list((folder / "deltas").glob("*.csv"))) == 2
    assert len(list((folder / "deltas").glob("*.parquet"))) == 2
    latest = folder / "snapshots" / f"{second.run_id}.csv"
    with latest.open() as handle:
        snapshot = list(csv.DictReader(handle))
    assert [(row["customer_id"], row["email"]) for row in snapshot] == [
        ("bob", "bob@new.example.org")
    ]
    first_snapshot = pq.read_table(folder / "snapshots" / f"{first.run_id}.parquet").to_pylist()
    assert sorted(row["customer_id"] for row in first_snapshot) == ["ann", "bob"]
    delta = pq.read_table(next((folder / "deltas").glob(f"{second.run_id}-*.parquet")))
    rows = delta.select(["customer_id", "_operation"]).to_pylist()
    assert sorted((row["customer_id"], row["_operation"]) for row in rows) == [
        ("ann", "remove"),
        ("bob", "upsert"),
    ]
    unchanged = run(tmp_path, warehouse, "customers", sync, connectors)
    assert unchanged.requests == 0 and len(list((folder / "snapshots").iterdir())) == 4
