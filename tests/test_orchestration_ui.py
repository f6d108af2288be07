"""`make ui` for real: the wrapper starts `dagster dev` on a temporary WAYMARK_HOME with a copy
of the demo warehouse, serves the code location, runs overlapping warehouse runs one at a time,
and stops with every process it started on SIGTERM.

The wrapper is started the way a script's background job is (SIGINT ignored), the case in which
a bare `dagster dev` ignores SIGTERM. The tests share one server and run in file order; the last
one stops it.
"""

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from dagster_graphql import DagsterGraphQLClient

from activations.standins.base import free_port
from waymark.core.home import DEMO_DATA_DIR, PROJECT_ROOT
from waymark.warehouse.manifest import prepare_manifest

START_TIMEOUT = 240.0
RUNS_TIMEOUT = 480.0
STOP_LIMIT = 20.0
LOCK_ERRORS = ("Could not set lock", "Conflicting lock")


@dataclass
class Ui:
    process: subprocess.Popen
    port: int
    home: Path
    log: Path

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def graphql(self, query: str) -> dict:
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}/graphql",
            data=json.dumps({"query": query}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())["data"]

    def instance(self) -> dg.DagsterInstance:
        return dg.DagsterInstance.from_config(str(self.dagster_home))

    def fail(self, message: str) -> None:
        tail = self.log.read_text()[-6000:] if self.log.exists() else ""
        pytest.fail(f"{message}\n--- ui log (tail) ---\n{tail}", pytrace=False)


def process_table() -> dict[int, tuple[int, str]]:
    """pid → (parent pid, state) for every live process, from /proc."""
    table = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
        table[int(stat.parent.name)] = (int(fields[1]), fields[0])
    return table


def descendants(pid: int) -> set[int]:
    table = process_table()
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, (parent, _) in table.items() if parent in frontier}
        found |= frontier
    return found


def still_running(pids: set[int]) -> set[int]:
    table = process_table()
    return {pid for pid in pids if pid in table and table[pid][1] != "Z"}


def ignore_sigint() -> None:
    # What `cmd &` in a non-interactive shell does to its job.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def wait_until_served(ui: Ui) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if ui.process.poll() is not None:
            ui.fail(f"make ui exited early with {ui.process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{ui.port}/server_info", timeout=5):
                pass
            entries = ui.graphql(
                "{ workspaceOrError { ... on Workspace { locationEntries { loadStatus "
                "locationOrLoadError { __typename } } } } }"
            )["workspaceOrError"]["locationEntries"]
            if entries and all(
                entry["loadStatus"] == "LOADED"
                and entry["locationOrLoadError"]["__typename"] == "RepositoryLocation"
                for entry in entries
            ):
                return
        except OSError:
            pass
        time.sleep(1.0)
    ui.fail(f"make ui did not serve the code location within {START_TIMEOUT:.0f} s")


@pytest.fixture(scope="module")
def ui(demo_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ui]:
    prepare_manifest()
    home = tmp_path_factory.mktemp("ui-home")
    # The runs below read the demo files the warehouse was built from, so they find them loaded.
    shutil.copy(demo_warehouse, home / "warehouse.duckdb")
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DAGSTER_HOME", "WAYMARK_WAREHOUSE", "DBT_TARGET_PATH"}
    }
    env.update({"WAYMARK_HOME": str(home), "WAYMARK_DATA_DIR": str(DEMO_DATA_DIR)})
    port = free_port()
    log = home / "ui.log"
    with open(log, "w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "orchestration.ui", "--port", str(port)],
            cwd=PROJECT_ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            preexec_fn=ignore_sigint,
        )
    started = time.monotonic()
    served = Ui(process, port, home, log)
    try:
        wait_until_served(served)
        print(f"make ui served the code location after {time.monotonic() - started:.1f} s")
        yield served
    finally:
        # Only if a test failed before stopping it: nothing may outlive the tests.
        if process.poll() is None:
            left = descendants(process.pid)
            process.kill()
            for pid in left:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            process.wait(timeout=30)


def test_ui_serves_the_code_location(ui: Ui) -> None:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui.port}/server_info", timeout=10) as reply:
        assert reply.status == 200
        assert json.loads(reply.read())["dagster_webserver_version"]
    repositories = ui.graphql(
        "{ repositoriesOrError { ... on RepositoryConnection { nodes { "
        "jobs { name } schedules { name } sensors { name } } } } }"
    )["repositoriesOrError"]["nodes"]
    [repository] = repositories
    assert {"warehouse_refresh", "warehouse_full_refresh"} <= {
        j["name"] for j in repository["jobs"]
    }
    assert {s["name"] for s in repository["schedules"]} >= {
        "warehouse_refresh_every_15_minutes",
        "warehouse_full_refresh_nightly",
        "sync_customers_to_support_db_schedule",  # one per sync file with a schedule
    }
    assert {s["name"] for s in repository["sensors"]} == {
        "new_landed_files",
        "alert_on_run_failure",
        "alert_on_missed_schedules",
    }


def test_overlapping_runs_write_the_warehouse_one_at_a_time(ui: Ui) -> None:
    from orchestration.jobs import warehouse_refresh_every_15_minutes
    from orchestration.sensors import LandingZone, new_landed_files

    events = [dg.AssetKey(["staging", "base_events__segment"])]
    with ui.instance() as instance:
        # What the schedule and the sensor would request, evaluated against this instance and
        # the demo files (every file is new to a sensor that has never run).
        scheduled = warehouse_refresh_every_15_minutes(
            dg.build_schedule_context(
                instance=instance,
                scheduled_execution_time=datetime(2026, 6, 30, 0, 15, tzinfo=UTC),
            )
        )
        sensed = new_landed_files(
            dg.build_sensor_context(
                instance=instance, resources={"landing": LandingZone(data_dir=str(DEMO_DATA_DIR))}
            )
        ).run_requests[0]
    # Small selections keep the test short; each run still opens the warehouse for writing
    # (dbt's on-run-start hooks create tables), so any two at once would collide.
    launches = [
        ("warehouse_refresh", {**scheduled.tags, "waymark/test": "schedule"}, events),
        (
            "warehouse_refresh",
            {**sensed.tags, "dagster/run_key": sensed.run_key, "waymark/test": "sensor"},
            events,
        ),
        # Materialize from the asset graph: no job, no job tags; the pool still applies.
        (
            "__ASSET_JOB",
            {"waymark/test": "asset"},
            [dg.AssetKey(["config", "identifier_blocklist"])],
        ),
        (
            "warehouse_full_refresh",
            {"waymark/as_of": "2026-06-30T00:00:00Z", "waymark/test": "manual"},
            [dg.AssetKey(["config", "currency_rates"])],
        ),
    ]
    client = DagsterGraphQLClient("127.0.0.1", port_number=ui.port)
    run_ids = [
        client.submit_job_execution(job, tags=tags, asset_selection=selection)
        for job, tags, selection in launches
    ]

    with ui.instance() as instance:
        deadline = time.monotonic() + RUNS_TIMEOUT
        while True:
            records = instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
            if all(record.dagster_run.is_finished for record in records):
                break
            if time.monotonic() > deadline:
                ui.fail(f"runs did not finish within {RUNS_TIMEOUT:.0f} s")
            time.sleep(1.0)
        lock_failures = [
            (record.dagster_run.run_id, entry.message)
            for record in records
            for entry in instance.all_logs(record.dagster_run.run_id)
            if any(error in (entry.message or "") for error in LOCK_ERRORS)
        ]

    statuses = {r.dagster_run.tags["waymark/test"]: r.dagster_run.status for r in records}
    assert all(r.dagster_run.status == dg.DagsterRunStatus.SUCCESS for r in records), statuses
    assert lock_failures == []
    # dbt's own logs and the runs' captured output say the same.
    for path in [*ui.home.glob("dbt/target/**/dbt.log"), *ui.dagster_home.glob("storage/**/*")]:
        if path.is_file():
            text = path.read_text(errors="replace")
            assert not any(error in text for error in LOCK_ERRORS), path

    intervals = sorted(
        (r.start_time, r.end_time, r.dagster_run.tags["waymark/test"]) for r in records
    )
    print("run intervals (s after the first start):")
    for start, end, origin in intervals:
        print(f"  {origin:<9} {start - intervals[0][0]:6.1f} → {end - intervals[0][0]:6.1f}")
    # All were waiting at once: every run was created before the first one ended.
    assert max(r.create_timestamp.timestamp() for r in records) < intervals[0][1]
    for (_, end, before), (start, _, after) in zip(intervals, intervals[1:], strict=False):
        assert start >= end, f"{after} started before {before} ended"


def command_line(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def test_sigterm_mid_run_stops_the_ui_and_every_process_it_started(ui: Ui) -> None:
    # Stop while a run's worker and its dbt process are busy: the processes most likely to be
    # left behind, holding the warehouse.
    client = DagsterGraphQLClient("127.0.0.1", port_number=ui.port)
    run_id = client.submit_job_execution(
        "warehouse_refresh", asset_selection=[dg.AssetKey(["staging", "base_events__segment"])]
    )
    deadline = time.monotonic() + 120
    while not any("dbt build" in command_line(pid) for pid in descendants(ui.process.pid)):
        if time.monotonic() > deadline:
            ui.fail("the run never started dbt")
        time.sleep(0.2)
    started = descendants(ui.process.pid)
    stopping = time.monotonic()
    ui.process.send_signal(signal.SIGTERM)
    try:
        code = ui.process.wait(timeout=STOP_LIMIT + 15)
    except subprocess.TimeoutExpired:
        ui.fail("make ui ignored SIGTERM")
    took = time.monotonic() - stopping
    print(f"make ui stopped {len(started)} processes in {took:.1f} s")
    assert code == 0
    assert took < STOP_LIMIT
    assert still_running(started) == set()
    # The interrupted run recorded its end, so it does not hold the warehouse pool.
    with ui.instance() as instance:
        assert instance.get_run_by_id(run_id).is_finished
