"""Customer ids are stable and incremental builds are exact.

Rebuilding unchanged input changes nothing; a later slice of data changes ids only through
logged merges; a build after new files arrive reads only those files and ends where a full
refresh over all files, landed in another folder, ends.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import Builder, copy_data, query
from waymark.core.instants import parse_instant

pytestmark = pytest.mark.slow

# Files are partitioned by their rows' dates: events by day, the other sources by month.
_DATE_IN_NAME = re.compile(r"(\d{4}-\d{2}(?:-\d{2})?)")
FIRST_SLICE_ENDS = "2026-06"  # the last month of the generated window arrives later
MARTS_REBUILT_EVERY_TIME = ["customer_identifiers", "identity_merge_log", "identity_violations"]
# Incremental relations, compared whole: files are named relative to the data directory and
# versioned by content, so builds over two landing folders agree row for row.
INCREMENTAL_RELATIONS = [
    "staging.base_events__segment",
    "staging.stg_events__segment",
    "intermediate.int_customer_events_attributed",
    "staging.base_messaging__engagement",
    "staging.base_shop__orders",
    "staging.base_crm__contacts",
]
COMPILED_EVENT_READER = "compiled/waymark/models/staging/events/base/base_events__segment.sql"


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
    touched_file: Path
    completed_file: Path
    events_read_by_second_build: set[str]


@pytest.fixture(scope="module")
def sliced(
    builder: Builder, generated_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> SlicedBuild:
    """Build the first five months, then add the sixth and build again incrementally.

    Before the second build one already-loaded event file is touched (same bytes, a new
    modification time): files are versioned by content, so it must not be read again. The first
    build also sees an engagement file half-written (completed before the second build, which
    must reload it) and a stray orders file that is withdrawn (its rows must go).
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
    builder.build(data, warehouse, as_of=parse_instant("2026-06-01 00:00:00"))
    before = identifiers(warehouse)

    touched = sorted((data / "events").iterdir())[0]
    os.utime(touched, (touched.stat().st_atime + 3600, touched.stat().st_mtime + 3600))
    shutil.copy(generated_data / "messaging_engagement" / completed.name, completed)
    stray.unlink()
    copy_data(generated_data, data, keep=lambda relative: not in_first_slice(relative))
    builder.build(data, warehouse)
    compiled = (builder.target / COMPILED_EVENT_READER).read_text()
    return SlicedBuild(
        before=before,
        warehouse=warehouse,
        touched_file=touched,
        completed_file=completed,
        events_read_by_second_build=set(re.findall(r"/(events/[^/']+\.jsonl(?:\.gz)?)'", compiled)),
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
    """Every event line is loaded exactly once, and the second build read the new event files
    and no other: not the touched one, whose content did not change."""
    loaded = dict(
        query(
            sliced.warehouse,
            "select _source_file, count(*) from staging.base_events__segment group by 1",
        )
    )
    events = sorted(sliced.touched_file.parent.iterdir())
    expected = {
        f"events/{path.name}": _lines(generated_data / "events" / path.name) for path in events
    }
    assert loaded == expected
    new_files = {f"events/{path.name}" for path in events if not in_first_slice(Path(path.name))}
    assert new_files and sliced.events_read_by_second_build == new_files


def test_incremental_build_reloads_changed_csv_files_only(sliced: SlicedBuild) -> None:
    """The completed file holds each of its lines once; the withdrawn file left no rows."""
    rows = dict(
        query(
            sliced.warehouse,
            "select _source_file, count(*) from staging.base_messaging__engagement group by 1",
        )
    )
    completed = f"messaging_engagement/{sliced.completed_file.name}"
    assert rows[completed] == _lines(sliced.completed_file) - 1  # the header
    stray = query(
        sliced.warehouse,
        "select count(*) from staging.base_shop__orders where _source_file like '%stray%'",
    )[0][0]
    assert stray == 0


def _fingerprint_sql(relation: str) -> str:
    """Row count and an order-independent hash of the rows."""
    return f"select count(*), sum(hash(t)) from (select * from {relation}) as t"


def test_incremental_build_equals_full_refresh(
    sliced: SlicedBuild, generated_warehouse: Path
) -> None:
    """The sliced warehouse (incremental) and a fresh build over all files (full) agree."""
    for relation in [
        *INCREMENTAL_RELATIONS,
        "marts.customer_events",
        *[f"marts.{m}" for m in MARTS_REBUILT_EVERY_TIME],
    ]:
        incremental, full = (
            query(warehouse, _fingerprint_sql(relation))[0]
            for warehouse in (sliced.warehouse, generated_warehouse)
        )
        assert incremental == full, relation
