"""Customer ids are stable and incremental builds are exact.

Rebuilding unchanged input changes nothing; a later slice of data changes ids only through
logged merges; a build after new files arrive reads only those files and ends where a full
refresh over all files ends.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Builder, copy_data, query

pytestmark = pytest.mark.slow

# Files are partitioned by their rows' dates: events by day, the other sources by month.
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)")
FIRST_SLICE_ENDS = "2026-06"  # the last month of the generated window arrives later
MARTS_REBUILT_EVERY_TIME = ["customer_identifiers", "identity_merge_log", "identity_violations"]
# Incremental relations, compared without the landed file path (the two builds land elsewhere).
HAVE_SOURCE_FILE = ["staging.stg_events__segment", "intermediate.int_customer_events_attributed"]
# Landed CSV sources, loaded by file version (size and modification time).
CSV_BASE_MODELS = [
    "staging.base_messaging__engagement",
    "staging.base_shop__orders",
    "staging.base_crm__contacts",
]


def in_first_slice(relative: Path) -> bool:
    match = _DATE_IN_NAME.search(relative.name)
    assert match, f"generated file without a date in its name: {relative}"
    return match.group(1)[:7] < FIRST_SLICE_ENDS


def identifiers(warehouse: Path) -> dict[tuple[str, str], str]:
    rows = query(
        warehouse,
        "select identifier_type, identifier_value, customer_id from marts.customer_identifiers",
    )
    return {(t, v): c for t, v, c in rows}


@dataclass
class SlicedBuild:
    before: dict[tuple[str, str], str]
    warehouse: Path
    tampered_file: Path
    completed_file: Path


@pytest.fixture(scope="module")
def sliced(
    builder: Builder, generated_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> SlicedBuild:
    """Build the first five months, then add the sixth and build again incrementally.

    Before the second build one already-loaded event file is overwritten with garbage: a build
    that re-read old files would quarantine its lines. CSV sources are loaded by file version,
    so the first build also sees an engagement file half-written (completed before the second
    build, which must reload it) and a stray orders file that is withdrawn (its rows must go).
    """
    root = tmp_path_factory.mktemp("sliced")
    data, warehouse = root / "data", root / "warehouse.duckdb"
    copy_data(generated_data, data, keep=in_first_slice)
    completed = sorted((data / "messaging_engagement").iterdir())[0]
    lines = completed.read_text().splitlines(keepends=True)
    completed.write_text("".join(lines[: len(lines) // 2]))
    orders = sorted((data / "orders").iterdir())[0]
    stray = orders.with_name("orders-stray-copy.csv")
    shutil.copy(orders, stray)
    builder.build(data, warehouse, as_of="2026-06-01 00:00:00")
    before = identifiers(warehouse)

    tampered = sorted((data / "events").iterdir())[0]
    tampered.write_text("this line is not json\n")
    shutil.copy(generated_data / "messaging_engagement" / completed.name, completed)
    stray.unlink()
    copy_data(generated_data, data, keep=lambda relative: not in_first_slice(relative))
    builder.build(data, warehouse)
    return SlicedBuild(
        before=before, warehouse=warehouse, tampered_file=tampered, completed_file=completed
    )


def test_full_rebuild_gives_identical_customer_ids(
    builder: Builder, generated_data: Path, generated_warehouse: Path, tmp_path: Path
) -> None:
    rebuilt = tmp_path / "rebuilt.duckdb"
    builder.build(generated_data, rebuilt, full_refresh=True)
    first, second = identifiers(generated_warehouse), identifiers(rebuilt)
    assert len(first) > 10_000
    assert first == second


def test_later_data_changes_ids_only_through_logged_merges(sliced: SlicedBuild) -> None:
    after = identifiers(sliced.warehouse)
    merged = {
        (t, v)
        for t, v in query(
            sliced.warehouse,
            "select identifier_type, identifier_value from marts.customer_id_history "
            "where change_type = 'merged'",
        )
    }
    changed = [key for key, customer in sliced.before.items() if after.get(key) != customer]
    unexplained = [key for key in changed if key not in merged]
    kept_share = 1 - len(unexplained) / len(sliced.before)
    print(
        f"\nstability: {len(sliced.before)} identifiers before, {len(changed)} changed customer, "
        f"{len(changed) - len(unexplained)} by logged merges; kept share {kept_share:.5f}"
    )
    assert len(after) > len(sliced.before)
    assert kept_share >= 0.999


def _lines(path: Path) -> int:
    import gzip

    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt") as handle:
        return sum(1 for line in handle if line.strip())


def test_incremental_build_reads_only_new_files(sliced: SlicedBuild, generated_data: Path) -> None:
    """Every event line is loaded exactly once, and the overwritten old file was not re-read."""
    loaded = dict(
        query(
            sliced.warehouse,
            "select _source_file, count(*) from staging.base_events__segment group by 1",
        )
    )
    expected = {
        str(path): _lines(generated_data / "events" / path.name)
        for path in sliced.tampered_file.parent.iterdir()
    }
    assert loaded == expected
    from_tampered = query(
        sliced.warehouse,
        "select count(*) from staging.quarantine where source_file = ?",
        [str(sliced.tampered_file)],
    )[0][0]
    assert from_tampered == 0


def test_incremental_build_reloads_changed_csv_files_only(sliced: SlicedBuild) -> None:
    """The completed file holds each of its lines once; the withdrawn file left no rows."""
    rows = dict(
        query(
            sliced.warehouse,
            "select _source_file, count(*) from staging.base_messaging__engagement group by 1",
        )
    )
    assert rows[str(sliced.completed_file)] == _lines(sliced.completed_file) - 1  # the header
    stray = query(
        sliced.warehouse,
        "select count(*) from staging.base_shop__orders where _source_file like '%stray%'",
    )[0][0]
    assert stray == 0


def _fingerprint_sql(relation: str) -> str:
    """Row count and an order-independent hash of the rows, ignoring where files were landed."""
    columns = "*"
    if relation in HAVE_SOURCE_FILE:
        columns = "* exclude (_source_file)"
    elif relation in CSV_BASE_MODELS:
        columns = "* exclude (_source_file, _source_file_version)"
    return f"select count(*), sum(hash(t)) from (select {columns} from {relation}) as t"


def test_incremental_build_equals_full_refresh(
    sliced: SlicedBuild, generated_warehouse: Path
) -> None:
    """The sliced warehouse (incremental) and a fresh build over all files (full) agree."""
    for relation in [
        *HAVE_SOURCE_FILE,
        *CSV_BASE_MODELS,
        "marts.customer_events",
        *[f"marts.{m}" for m in MARTS_REBUILT_EVERY_TIME],
    ]:
        incremental, full = (
            query(warehouse, _fingerprint_sql(relation))[0]
            for warehouse in (sliced.warehouse, generated_warehouse)
        )
        assert incremental == full, relation
