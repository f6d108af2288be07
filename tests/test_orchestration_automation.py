"""What starts warehouse runs and when they evaluate: `as_of` from tags, schedules, the
landed-files sensor, and the instance preparation `make ui` does before Dagster starts."""

import gzip
import importlib
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import ModuleType

import dagster as dg
import pytest
from dagster._core.remote_origin import (
    RegisteredCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.storage.defs_state.base import set_defs_state_storage

from orchestration.as_of import AS_OF_TAG, parse_as_of, run_as_of
from waymark.core.home import WaymarkHome
from waymark.core.instants import format_instant
from waymark.warehouse.manifest import prepare_manifest


@pytest.fixture(scope="module")
def orchestration() -> ModuleType:
    """orchestration.definitions with its manifest prepared (jobs, schedules, sensor import it)."""
    prepare_manifest()
    module = importlib.import_module("orchestration.definitions")
    # Resolve now: resolving inside a test's temporary instance would cache that instance,
    # which later tests find deleted.
    module.defs.get_repository_def()
    return module


@pytest.fixture(autouse=True)
def no_leaked_instance() -> Iterator[None]:
    """Temporary instances register their storage in a context variable that a nested instance
    can leave pointing at a deleted directory; restore it after each test so later tests (here
    and in other files) resolve definitions against a live instance or none."""
    with set_defs_state_storage(None):
        yield


def stored_run(
    instance: dg.DagsterInstance, job_name: str, status: dg.DagsterRunStatus
) -> dg.DagsterRun:
    """A run record in `status`, as the webserver or daemon would have stored it."""
    repository = RemoteRepositoryOrigin(RegisteredCodeLocationOrigin("waymark"), "__repository__")
    run = dg.DagsterRun(
        job_name=job_name,
        status=status,
        remote_job_origin=RemoteJobOrigin(repository_origin=repository, job_name=job_name),
    )
    return instance.add_run(run)


def test_as_of_accepts_iso_forms_and_means_utc() -> None:
    expected = datetime(2026, 6, 30, 0, 0, tzinfo=UTC)
    for text in ["2026-06-30", "2026-06-30 00:00:00", "2026-06-30T00:00:00Z"]:
        assert parse_as_of(text) == expected
    assert parse_as_of("2026-06-30T02:15:00+02:00") == datetime(2026, 6, 30, 0, 15, tzinfo=UTC)
    assert format_instant(
        datetime(2026, 6, 30, 2, 15, 7, 999, tzinfo=timezone(timedelta(hours=2)))
    ) == ("2026-06-30 00:15:07")
    assert format_instant(parse_as_of("2026-06-30T02:15:07+02:00")) == "2026-06-30 00:15:07"
    with pytest.raises(ValueError, match="waymark/as_of"):
        parse_as_of("yesterday")


def test_a_run_without_as_of_records_one_instant_for_all_its_assets() -> None:
    seen: dict[str, datetime] = {}

    @dg.asset
    def first(context: dg.AssetExecutionContext) -> None:
        seen["first"] = run_as_of(context)

    @dg.asset(deps=[first])
    def second(context: dg.AssetExecutionContext) -> None:
        # A later "now" must not leak in: the instant recorded by `first` wins.
        seen["second"] = run_as_of(context, now=datetime(2099, 1, 1, tzinfo=UTC))

    with dg.instance_for_test() as instance:
        result = dg.materialize([first, second], instance=instance)
        tags = instance.get_run_by_id(result.run_id).tags
    assert seen["first"] == seen["second"]
    assert abs(datetime.now(UTC) - seen["first"]) < timedelta(minutes=5)
    # Recorded on the run: visible in the UI, and copied by a re-execution.
    assert tags[AS_OF_TAG] == format_instant(seen["first"])


def test_a_tagged_run_evaluates_as_of_its_tag() -> None:
    seen: list[datetime] = []

    @dg.asset
    def rule(context: dg.AssetExecutionContext) -> None:
        seen.append(run_as_of(context))

    dg.materialize([rule], tags={AS_OF_TAG: "2026-06-30T02:00:00+02:00"})
    assert seen == [datetime(2026, 6, 30, 0, 0, tzinfo=UTC)]


def test_refresh_schedule_evaluates_as_of_the_tick(orchestration: ModuleType) -> None:
    from orchestration.jobs import warehouse_refresh_every_15_minutes

    tick = datetime(2026, 6, 30, 0, 15, tzinfo=UTC)
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
        request = warehouse_refresh_every_15_minutes(context)
    assert isinstance(request, dg.RunRequest)
    assert request.tags == {AS_OF_TAG: "2026-06-30 00:15:00"}
    assert not request.run_config  # incremental: the job's defaults


def test_refresh_schedule_skips_while_a_warehouse_run_waits(orchestration: ModuleType) -> None:
    from orchestration.jobs import warehouse_refresh_every_15_minutes

    with dg.instance_for_test() as instance:
        stored_run(instance, "warehouse_full_refresh", dg.DagsterRunStatus.QUEUED)
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 6, 30, 2, 0, tzinfo=UTC)
        )
        assert isinstance(warehouse_refresh_every_15_minutes(context), dg.SkipReason)


def test_nightly_schedule_runs_the_full_refresh_as_of_the_tick(orchestration: ModuleType) -> None:
    from orchestration.jobs import warehouse_full_refresh_nightly

    defs = orchestration.defs
    schedule = defs.resolve_schedule_def("warehouse_full_refresh_nightly")
    assert schedule.job_name == "warehouse_full_refresh"
    job = defs.resolve_job_def("warehouse_full_refresh")
    assert job.run_config["ops"]["waymark_dbt_models"]["config"] == {"full_refresh": True}
    with dg.instance_for_test() as instance:
        context = dg.build_schedule_context(
            instance=instance, scheduled_execution_time=datetime(2026, 7, 1, 2, 0, tzinfo=UTC)
        )
        request = warehouse_full_refresh_nightly(context)
    assert request.tags == {AS_OF_TAG: "2026-07-01 02:00:00"}


def land(data_dir: Path, relative: str, content: bytes = b"{}\n") -> Path:
    """Write a file the way the landing contract says: temporary name, then rename."""
    target = data_dir / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.tmp")
    temporary.write_bytes(content)
    os.replace(temporary, target)
    return target


def evaluate_sensor(data_dir: Path, cursor: str | None) -> dg.SensorResult | dg.SkipReason:
    from orchestration.sensors import LandingZone, new_landed_files

    context = dg.build_sensor_context(
        cursor=cursor, resources={"landing": LandingZone(data_dir=str(data_dir))}
    )
    return new_landed_files(context)


def test_sensor_requests_one_run_per_batch_of_new_files(
    orchestration: ModuleType, tmp_path: Path
) -> None:
    land(tmp_path, "events/2026-07-01-0.jsonl.gz", gzip.compress(b"{}\n"))
    land(tmp_path, "orders/orders-2026-07-0.csv", b"order_id\n1\n")
    land(tmp_path, "events/notes.txt")  # not a pattern dbt reads
    land(tmp_path, "_truth/people.csv")  # not a source folder

    first = evaluate_sensor(tmp_path, None)
    assert isinstance(first, dg.SensorResult)
    assert len(first.run_requests) == 1
    assert first.run_requests[0].tags["waymark/new_files"] == "2"
    assert first.run_requests[0].run_key.startswith("landed-")

    # The same files again: nothing to do.
    assert isinstance(evaluate_sensor(tmp_path, first.cursor), dg.SkipReason)
    # Had the cursor been lost, the same batch would carry the same run key, which Dagster
    # refuses to launch twice.
    assert evaluate_sensor(tmp_path, None).run_requests[0].run_key == first.run_requests[0].run_key

    # A file written long ago and renamed into place now is still new (its ctime moved).
    late = land(tmp_path, "events/2026-07-02-0.jsonl")
    an_hour_ago = time.time() - 3600
    os.utime(late, (an_hour_ago, an_hour_ago))
    second = evaluate_sensor(tmp_path, first.cursor)
    assert isinstance(second, dg.SensorResult)
    assert second.run_requests[0].tags["waymark/new_files"] == "1"
    assert second.run_requests[0].run_key != first.run_requests[0].run_key
    assert isinstance(evaluate_sensor(tmp_path, second.cursor), dg.SkipReason)


def test_sensor_watches_the_folders_the_dbt_sources_declare(orchestration: ModuleType) -> None:
    from orchestration.sensors import project_landing_folders

    folders = project_landing_folders()
    assert folders["events"] == ("*.jsonl", "*.jsonl.gz")
    assert folders["orders"] == ("*.csv", "*.csv.gz")
    assert "_truth" not in folders


def test_instance_preparation_sets_the_pool_and_fails_abandoned_runs() -> None:
    from orchestration.warehouse import (
        WAREHOUSE_POOL,
        fail_abandoned_runs,
        set_warehouse_pool_limit,
    )

    with dg.instance_for_test() as instance:
        runs = {
            status: stored_run(instance, "warehouse_refresh", status)
            for status in [
                dg.DagsterRunStatus.STARTED,
                dg.DagsterRunStatus.QUEUED,
                dg.DagsterRunStatus.SUCCESS,
            ]
        }
        set_warehouse_pool_limit(instance)
        failed = fail_abandoned_runs(instance)

        assert failed == [runs[dg.DagsterRunStatus.STARTED].run_id]
        statuses = {
            status: instance.get_run_by_id(run.run_id).status for status, run in runs.items()
        }
        assert statuses == {
            dg.DagsterRunStatus.STARTED: dg.DagsterRunStatus.FAILURE,
            dg.DagsterRunStatus.QUEUED: dg.DagsterRunStatus.QUEUED,
            dg.DagsterRunStatus.SUCCESS: dg.DagsterRunStatus.SUCCESS,
        }
        assert instance.event_log_storage.get_concurrency_info(WAREHOUSE_POOL).slot_count == 1


def test_ui_seeds_an_empty_landing_with_the_demo_and_points_dagster_at_the_home(
    tmp_path: Path,
) -> None:
    from orchestration.ui import seed_demo_landing, ui_environment

    home = WaymarkHome(tmp_path / "home").create()
    copied = seed_demo_landing(home.landing)
    assert copied > 100
    assert (home.landing / "events").is_dir()
    assert not (home.landing / "_truth").exists()
    assert seed_demo_landing(home.landing) == 0  # anything there is the user's

    env = ui_environment(home, {"PATH": "/bin"})
    assert env["DAGSTER_HOME"] == str(home.root / "dagster")
    assert env["WAYMARK_WAREHOUSE"] == str(home.warehouse)
    assert env["WAYMARK_DATA_DIR"] == str(home.landing)
    assert ui_environment(home, {"WAYMARK_DATA_DIR": "/data"})["WAYMARK_DATA_DIR"] == "/data"
