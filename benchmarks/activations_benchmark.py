"""Benchmark activations: the warehouse diff at 1,000,000 rows, and upsert throughput.

    python benchmarks/activations_benchmark.py [--rows 1000000] [--changed 0.01]
        [--throughput-rows 100000] [--skip-hubspot] [--skip-postgres] [--workdir DIR]

1. diff, twice: an object sync of `marts.customers` (`--rows` customers), and a sync of a model
   of its own (`--rows` scored members, email from `marts.customers`), each into a destination
   that records every operation it receives (idempotent and unpaced: only the engine counts).
   A first run delivers everything; then `--changed` of the rows change and a second run must
   plan and send exactly those keys. Prints the plan time of that run (target: 2 s) and checks
   that the keys received are exactly the changed keys.
2. HubSpot: an upsert sync of `--throughput-rows` contacts into the loopback HubSpot stand-in
   (`activations/standins/hubspot.py`), paced at HubSpot's published 100 requests per 10 s,
   then again with the pace lifted to show what the engine itself sustains.
3. PostgreSQL: the same rows upserted into a table of the local server (127.0.0.1:5432).

Prints one line per measurement: rows, wall time, rows per second.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import duckdb  # noqa: E402

from activations.delivery import RetryPolicy  # noqa: E402
from activations.destination import Operation, OperationResult  # noqa: E402
from activations.runner import RunOptions, run_sync  # noqa: E402
from activations.secrets import Secrets  # noqa: E402
from activations.sync_files import load_project  # noqa: E402
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project  # noqa: E402

HUBSPOT_TOKEN = "pat-na1-benchmark-0000"


class RecordingDestination:
    """Records every operation it is given; answers each one accepted."""

    def __init__(self, capabilities, received: list[Operation]) -> None:
        self.capabilities, self.received = capabilities, received

    def deliver(self, batch: Sequence[Operation]) -> list[OperationResult]:
        self.received.extend(batch)
        return [OperationResult.success(op.op_id) for op in batch]

    def finish(self, run_id: str) -> None:
        return None

    def close(self) -> None:
        return None


def customers(warehouse: SampleWarehouse, rows: int) -> None:
    warehouse.execute(
        f"""
        insert into marts.customers
        select 'c' || lpad(cast(i as varchar), 7, '0'), 'First' || cast(i % 997 as varchar),
            'c' || cast(i as varchar) || '@example.org', null,
            case i % 3 when 0 then 'lead' when 1 then 'customer' else 'vip' end,
            cast(i % 500 as decimal(18, 2)), 'granted', 'granted', 'granted'
        from range({rows}) as t(i)
        """
    )


def options() -> RunOptions:
    return RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(
            {
                "HOOK_URL": "http://127.0.0.1:9/unused",
                "HOOK_SECRET": "s" * 24,
                "HUBSPOT_TOKEN": HUBSPOT_TOKEN,
            }
        ),
        sleep=time.sleep,
        rng=random.Random(1),
        policy=RetryPolicy(base_delay=0.1),
    )


def customer_sync(destination: str, **extra: object) -> dict:
    return {
        "type": "object",
        "model": "marts.customers",
        "destination": destination,
        "mode": "upsert",
        "key": "customer_id",
        "fields": {
            "email": "email",
            "firstname": "first_name",
            "lifecyclestage": "lifecycle_stage",
        },
        "purpose": "email_marketing",
        **extra,
    }


def bench_diff(workdir: Path, rows: int, changed_share: float, shape: str) -> None:
    """shape `customers`: an object sync of marts.customers itself; `members`: a model of its
    own (an audience's members with a score) whose email comes from marts.customers."""
    warehouse = SampleWarehouse(workdir / f"diff_{shape}.duckdb")
    customers(warehouse, rows)
    if shape == "customers":
        sync = customer_sync("hook")
        change = "update marts.customers set lifecycle_stage = lifecycle_stage || '_changed'"
        changed = "select customer_id from marts.customers where lifecycle_stage like '%_changed'"
    else:
        warehouse.execute(
            "create table audiences.scored as select customer_id, "
            "cast(substr(customer_id, 2) as integer) % 100 as score from marts.customers"
        )
        sync = {
            **customer_sync("hook"),
            "model": "audiences.scored",
            "fields": {"email": "customer.email", "score": "score"},
        }
        change = "update audiences.scored set score = score + 1000"
        changed = "select customer_id from audiences.scored where score >= 1000"
    paths = write_project(
        workdir / f"diff_{shape}",
        {"hook": {"kind": "webhook", "channel": "crm", "env": ["HOOK_URL", "HOOK_SECRET"]}},
        {"hook": {"config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"}}},
        {"diff": sync},
    )
    loaded = load_project(paths).valid()["diff"]
    connector = loaded.destination.connector
    capabilities = replace(connector.capabilities, max_batch_size=10_000, rate_limit=None)
    received: list[Operation] = []
    recording = replace(
        connector,
        capabilities=capabilities,
        open=lambda config, secrets, context: RecordingDestination(capabilities, received),
    )
    loaded.destination = replace(loaded.destination, connector=recording)

    started = time.perf_counter()
    first = run_sync(warehouse.path, loaded, options())
    load_seconds = time.perf_counter() - started
    assert first.status == "success" and first.sent == rows, first.summary()
    print(
        f"[{shape}] initial load: {rows:,} rows planned and delivered in {load_seconds:.1f} s "
        f"({rows / load_seconds:,.0f} rows/s; plan {first.plan_seconds:.2f} s)"
    )

    every = round(1 / changed_share)
    warehouse.execute(f"{change} where cast(substr(customer_id, 2) as integer) % {every} = 0")
    expected = {row[0] for row in warehouse.execute(changed)}
    received.clear()
    started = time.perf_counter()
    second = run_sync(warehouse.path, loaded, options())
    run_seconds = time.perf_counter() - started
    keys = [op.record_key for op in received]
    assert second.status == "success", second.summary()
    assert len(keys) == len(set(keys)) == len(expected) and set(keys) == expected
    assert (second.planned_updates, second.planned_creates, second.unchanged) == (
        len(expected),
        0,
        rows - len(expected),
    )
    verdict = "within" if second.plan_seconds <= 2.0 else "OVER"
    print(
        f"[{shape}] diff: {rows:,} rows, {len(expected):,} changed: "
        f"plan {second.plan_seconds:.2f} s "
        f"({verdict} the 2 s target), whole run {run_seconds:.2f} s; planned "
        f"{second.planned_updates:,} updates, {second.unchanged:,} unchanged; the destination "
        f"received exactly the {len(keys):,} changed keys"
    )


def bench_hubspot(workdir: Path, rows: int, paced: bool) -> None:
    from activations.standins.hubspot import HubSpotStandIn

    hubspot = HubSpotStandIn(HUBSPOT_TOKEN)
    try:
        name = "paced" if paced else "unpaced"
        warehouse = SampleWarehouse(workdir / f"hubspot_{name}.duckdb")
        customers(warehouse, rows)
        paths = write_project(
            workdir / f"hubspot_{name}",
            {"crm": {"kind": "hubspot", "channel": "crm", "env": ["HUBSPOT_TOKEN"]}},
            {"crm": {"config": {"access_token_env": "HUBSPOT_TOKEN", "base_url": hubspot.url}}},
            {"contacts": customer_sync("crm")},
        )
        loaded = load_project(paths).valid()["contacts"]
        if not paced:
            connector = loaded.destination.connector
            unpaced = replace(connector.capabilities, rate_limit=None)
            loaded.destination = replace(
                loaded.destination, connector=replace(connector, capabilities=unpaced)
            )
        started = time.perf_counter()
        report = run_sync(warehouse.path, loaded, options())
        seconds = time.perf_counter() - started
        assert report.status == "success" and report.sent == rows, report.summary()
        assert len(hubspot.contacts) == rows
        pace = "at HubSpot's published 100 requests/10 s" if paced else "pace lifted"
        print(
            f"hubspot upsert ({pace}): {rows:,} rows in {seconds:.1f} s = "
            f"{rows / seconds:,.0f} rows/s ({report.requests:,} requests of 100; "
            f"plan {report.plan_seconds:.2f} s)"
        )
    finally:
        hubspot.close()


def bench_postgres(workdir: Path, rows: int) -> None:
    from activations.testing_postgres import PostgresScratch

    pg = PostgresScratch()
    try:
        warehouse = SampleWarehouse(workdir / "postgres.duckdb")
        customers(warehouse, rows)
        config = {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema}
        paths = write_project(
            workdir / "postgres",
            {},
            {"app_db": {"kind": "postgres", "config": config}},
            {"profiles": customer_sync("app_db", settings={"table": "profiles"})},
        )
        loaded = load_project(paths).valid()["profiles"]
        started = time.perf_counter()
        report = run_sync(warehouse.path, loaded, options())
        seconds = time.perf_counter() - started
        assert report.status == "success" and report.sent == rows, report.summary()
        assert pg.query("select count(*) from {schema}.profiles") == [(rows,)]
        print(
            f"postgres upsert: {rows:,} rows in {seconds:.1f} s = {rows / seconds:,.0f} rows/s "
            f"({report.requests:,} transactions of 1,000; plan {report.plan_seconds:.2f} s)"
        )
    finally:
        pg.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--changed", type=float, default=0.01)
    parser.add_argument("--throughput-rows", type=int, default=100_000)
    parser.add_argument("--skip-diff", action="store_true")
    parser.add_argument("--skip-hubspot", action="store_true")
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--workdir", help="keep the warehouses here (default: a temporary folder)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        workdir = Path(args.workdir or scratch)
        workdir.mkdir(parents=True, exist_ok=True)
        print(f"duckdb {duckdb.__version__}; work directory {workdir}")
        if not args.skip_diff:
            for shape in ("customers", "members"):
                bench_diff(workdir, args.rows, args.changed, shape)
        if not args.skip_hubspot:
            bench_hubspot(workdir, args.throughput_rows, paced=True)
            bench_hubspot(workdir, args.throughput_rows, paced=False)
        if not args.skip_postgres:
            bench_postgres(workdir, args.throughput_rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
