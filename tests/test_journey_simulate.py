"""`waymark journeys simulate`: a replay that sends nothing, touches nothing, and agrees with
ticking the engine over a copy of the warehouse at the same instants."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from waymark.core.home import PROJECT_ROOT
from waymark.journeys.engine import tick
from waymark.journeys.engine.simulate import simulate
from waymark.journeys.validation import validate_project

START, END = datetime(2026, 6, 1), datetime(2026, 6, 15)
EVERY = timedelta(hours=2)


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def report():
    found = validate_project()
    assert found.issues == []
    return found


def test_simulation_equals_plain_ticks_and_leaves_the_warehouse_untouched(
    demo_warehouse: Path, report, tmp_path: Path
) -> None:
    journey = next(j for j in report.journeys if j.name == "repeat_caller")
    before = digest(demo_warehouse)
    result = simulate(demo_warehouse, journey, report.project, START, END, every=EVERY)
    assert digest(demo_warehouse) == before
    with duckdb.connect(str(demo_warehouse), read_only=True) as con:
        schemas = {
            row[0] for row in con.execute("select schema_name from duckdb_schemas()").fetchall()
        }
    assert "simulation" not in schemas

    # The same journey ticked every two hours, without skipping, over a copy of the warehouse.
    copy = tmp_path / "copy.duckdb"
    shutil.copy(demo_warehouse, copy)
    with duckdb.connect(str(copy)) as con:
        moment = START
        while moment <= END:
            tick(con, [journey], report.project, moment)
            moment += EVERY
        expected = con.execute(
            "select idempotency_key, strftime(queued_at, '%Y-%m-%d %H:%M:%S'), customer_id "
            "from journeys.journey_outbox order by all"
        ).fetchall()
        entered = con.execute("select count(*) from journeys.journey_instances").fetchone()[0]
    got = sorted(
        (s["idempotency_key"], s["queued_at"], s["customer_id"]) for s in result.would_send
    )
    assert got == expected and len(got) >= 2
    assert result.entered == entered
    assert result.ticks < 12 * 14  # idle ticks were skipped
    steps = {step.step_id: step for step in result.steps}
    assert steps["senior_agent_task"].would_send == len(got)
    assert steps["second_call"].arrived == entered
    assert sum(step.waiting for step in result.steps) + sum(result.exits.values()) == entered


def test_the_command_prints_counts_and_writes_the_would_send_list(
    demo_warehouse: Path, tmp_path: Path
) -> None:
    output = tmp_path / "would_send.jsonl"
    command = [
        sys.executable, "-m", "waymark.cli", "journeys", "simulate", "welcome_series",
        "--from", "2026-06-01", "--to", "2026-06-08T00:00:00Z", "--every", "2h",
        "--warehouse", str(demo_warehouse), "--output", str(output),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "simulated welcome_series from 2026-06-01 00:00 to 2026-06-08 00:00 UTC" in out
    for step in ("next_morning", "welcome_email", "bestsellers_email", "first_order_email"):
        assert step in out
    sends = [json.loads(line) for line in output.read_text().splitlines()]
    assert sends and f"would-send list: {output} ({len(sends):,} messages)" in out
    first = sends[0]
    assert first["step_id"] == "welcome_email" and first["channel"] == "email"
    assert first["payload"]["subject"].startswith("Welcome to Waymark Shop")


def test_bad_ranges_are_refused(demo_warehouse: Path) -> None:
    command = [
        sys.executable, "-m", "waymark.cli", "journeys", "simulate", "vip_ads",
        "--from", "2026-06-10", "--to", "2026-06-01", "--warehouse", str(demo_warehouse),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=300)
    assert done.returncode == 1 and "is before --from" in done.stderr
