"""The landing zone is read exactly: every file by its own path, each tracked by its path relative
to the data directory and its content, every problem reported against its own file and line, and
every file that is not read listed with the reason."""

from __future__ import annotations

import gzip
import shutil
from pathlib import Path

import duckdb
import pytest

from tests.conftest import Builder, query
from tests.landing_support import (
    CRM_HEADER,
    crm_row,
    event_line,
    staging_build,
    write_valid_sources,
)
from waymark.warehouse.build import BuildError
from waymark.warehouse.summary import format_landing_report, read_landing_report


def test_files_named_like_glob_patterns_are_read_by_exact_path(
    builder: Builder, tmp_path: Path
) -> None:
    """`crm_contacts-2026-0[1-6]-0.csv`, read as a pattern, matches the monthly files beside it;
    read by its exact path it lands its own rows, and every other file is read once."""
    data = tmp_path / "data"
    write_valid_sources(data)
    contacts = data / "crm_contacts"
    (contacts / "crm_contacts-2026-02-0.csv").write_text(f"{CRM_HEADER}\n{crm_row('c3')}\n")
    (contacts / "crm_contacts-2026-0[1-6]-0.csv").write_text(f"{CRM_HEADER}\n{crm_row('c9')}\n")
    (contacts / "crm_contacts-*.csv").write_text(f"{CRM_HEADER}\n{crm_row('c8')}\n")
    (data / "events" / "2026-01-0?-0.jsonl").write_text(event_line("m7"))
    warehouse = staging_build(builder, data, tmp_path)
    assert dict(
        query(
            warehouse,
            "select crm_contact_id, count(*) from staging.base_crm__contacts group by 1",
        )
    ) == {"c1": 1, "c2": 1, "c3": 1, "c8": 1, "c9": 1}
    assert dict(
        query(warehouse, "select event_id, count(*) from staging.base_events__segment group by 1")
    ) == {"m1": 1, "m2": 1, "m3": 1, "m7": 1}
    assert ("crm_contacts/crm_contacts-2026-0[1-6]-0.csv",) in query(
        warehouse, "select distinct _source_file from staging.base_crm__contacts"
    )


def test_every_file_not_read_is_listed_with_its_reason(builder: Builder, tmp_path: Path) -> None:
    """A file in a source folder that the contract does not accept is a quarantine row; every
    file in the data directory that was not read is in `staging.landed_files` and the build
    summary with the reason."""
    data = tmp_path / "data"
    write_valid_sources(data)
    not_read = {
        "crm_contacts/crm_contacts-2026-02-0.CSV": f"{CRM_HEADER}\n{crm_row('c3')}\n",
        "crm_contacts/contacts.json": '{"contact_id": "c4"}\n',
        "crm_contacts/archive/crm_contacts-2025-12-0.csv": f"{CRM_HEADER}\n{crm_row('c5')}\n",
        "events/2026-01-02-0.ndjson": event_line("m8"),
        "contacts/crm_contacts-2026-03-0.csv": f"{CRM_HEADER}\n{crm_row('c6')}\n",
        "crm-contacts/crm_contacts-2026-04-0.csv": f"{CRM_HEADER}\n{crm_row('c7')}\n",
        "notes.txt": "hello\n",
        "_notes/about.txt": "kept beside the sources\n",
    }
    for relative, text in not_read.items():
        (data / relative).parent.mkdir(parents=True, exist_ok=True)
        (data / relative).write_text(text)
    warehouse = staging_build(builder, data, tmp_path)

    reasons = dict(
        query(warehouse, "select file_path, reason from staging.landed_files where not is_read")
    )
    assert set(reasons) == set(not_read)
    assert "accepts *.csv, *.csv.gz" in reasons["crm_contacts/crm_contacts-2026-02-0.CSV"]
    assert "accepts *.csv, *.csv.gz" in reasons["crm_contacts/contacts.json"]
    assert "sub-folder" in reasons["crm_contacts/archive/crm_contacts-2025-12-0.csv"]
    assert "accepts *.jsonl, *.jsonl.gz" in reasons["events/2026-01-02-0.ndjson"]
    assert reasons["contacts/crm_contacts-2026-03-0.csv"] == "no source reads the folder contacts/"
    assert reasons["crm-contacts/crm_contacts-2026-04-0.csv"] == (
        "no source reads the folder crm-contacts/ (did you mean crm_contacts/?)"
    )
    assert "not in a source folder" in reasons["notes.txt"]
    assert "a folder kept beside the sources" in reasons["_notes/about.txt"]
    read = query(warehouse, "select file_path from staging.landed_files where is_read order by 1")
    assert read == [
        ("crm_contacts/crm_contacts-2026-01-0.csv",),
        ("events/2026-01-01-0.jsonl",),
    ]

    quarantined = query(
        warehouse,
        "select source_name, source_file, reason from staging.quarantine "
        "where action = 'file_not_read' order by 2",
    )
    assert [(source, file) for source, file, _ in quarantined] == [
        ("crm.contacts", "crm_contacts/archive/crm_contacts-2025-12-0.csv"),
        ("crm.contacts", "crm_contacts/contacts.json"),
        ("crm.contacts", "crm_contacts/crm_contacts-2026-02-0.CSV"),
        ("events.segment_events", "events/2026-01-02-0.ndjson"),
    ]
    report = "\n".join(format_landing_report(read_landing_report(warehouse)))
    for relative, reason in reasons.items():
        assert f"{relative}: {reason}" in report


def test_malformed_csv_line_is_reported_once_against_its_own_file(
    builder: Builder, tmp_path: Path
) -> None:
    """One short line in the first of six files is one reject of that file, not one per later
    file or per missing column, and the source's share counts it once."""
    data = tmp_path / "data"
    (data / "crm_contacts").mkdir(parents=True)
    (data / "events").mkdir()
    (data / "events" / "2026-01-01-0.jsonl").write_text(event_line("m1"))
    for month in range(1, 7):
        rows = [crm_row(f"c{month}-{n}", day=n) for n in range(1, 10)]
        if month == 1:
            rows.insert(4, "c1-x,short@acme.io,")
        (data / "crm_contacts" / f"crm_contacts-2026-0{month}-0.csv").write_text(
            "\n".join([CRM_HEADER, *rows]) + "\n"
        )
    warehouse = staging_build(builder, data, tmp_path)
    rejects = query(
        warehouse,
        "select source_file, line_number, reason from staging.quarantine "
        "where action = 'malformed_row'",
    )
    assert len(rejects) == 1
    source_file, line_number, reason = rejects[0]
    assert (source_file, line_number) == ("crm_contacts/crm_contacts-2026-01-0.csv", 6)
    assert reason == "malformed_csv_row: expected 10 fields, found 3"
    landed, malformed, share = query(
        warehouse,
        "select rows_landed, rows_malformed, quarantined_share from staging.source_quality "
        "where source_name = 'crm.contacts'",
    )[0]
    assert (landed, malformed) == (55, 1)
    assert share == pytest.approx(1 / 55)


def _segment_events(warehouse: Path) -> list[tuple[str, str, str]]:
    return query(
        warehouse,
        "select event_id, _source_file, cast(occurred_at as varchar) "
        "from staging.stg_events__segment order by 1",
    )


def _customer_event_ids(warehouse: Path) -> list[str]:
    rows = query(
        warehouse,
        "select source_record_id from marts.customer_events where source_name = 'events' "
        "order by 1",
    )
    return [event_id for (event_id,) in rows]


def test_events_are_tracked_by_relative_path_and_content(builder: Builder, tmp_path: Path) -> None:
    """A build over a copy of the landing folder elsewhere adds nothing; a rewritten events file
    replaces its rows and a withdrawn one takes them away, down to the customer timeline."""
    first, copied = tmp_path / "landing", tmp_path / "moved" / "landing"
    write_valid_sources(first)
    (first / "events" / "2026-01-02-0.jsonl").write_text(
        event_line("m4", "2026-01-04T10:00:00Z") + "{not json\n"
    )
    warehouse = tmp_path / "warehouse.duckdb"
    lenient = {"quarantine_max_share": 0.5}  # one invalid line in five events
    builder.build(first, warehouse, variables=lenient)
    before = _segment_events(warehouse)
    quarantined = query(warehouse, "select count(*) from staging.quarantine")[0][0]
    assert quarantined == 1

    # A copy with fresh modification times, as `cp -r` makes.
    shutil.copytree(first, copied, copy_function=shutil.copy)
    builder.build(copied, warehouse, variables=lenient)
    assert query(warehouse, "select count(*) from staging.base_events__segment")[0][0] == 5
    assert query(warehouse, "select count(*) from staging.quarantine")[0][0] == quarantined
    assert _segment_events(warehouse) == before

    (copied / "events" / "2026-01-01-0.jsonl").write_text(
        event_line("m1", "2026-01-01T11:00:00Z") + event_line("m5", "2026-01-05T10:00:00Z")
    )
    (copied / "events" / "2026-01-02-0.jsonl").unlink()
    builder.build(copied, warehouse, variables=lenient)
    assert _segment_events(warehouse) == [
        ("m1", "events/2026-01-01-0.jsonl", "2026-01-01 11:00:00"),
        ("m5", "events/2026-01-01-0.jsonl", "2026-01-05 10:00:00"),
    ]
    assert query(warehouse, "select count(*) from staging.quarantine")[0][0] == 0
    assert _customer_event_ids(warehouse) == ["m1", "m5"]
    occurred = query(
        warehouse,
        "select cast(occurred_at as varchar) from marts.customer_events "
        "where source_record_id = 'm1'",
    )
    assert occurred == [("2026-01-01 11:00:00",)]


def test_file_level_problems_name_the_file_in_plain_words(builder: Builder, tmp_path: Path) -> None:
    """A Parquet, gzip or UTF-16 file saved under a CSV name is not read and says what it is; a
    duplicated header column and a header that is not UTF-8 stop the build naming the file."""
    data = tmp_path / "data"
    write_valid_sources(data)
    orders = data / "orders"
    orders.mkdir()
    parquet = orders / "orders-2026-01-0.csv"
    with duckdb.connect() as con:
        con.execute(f"copy (select 'o1' as order_id) to '{parquet}' (format parquet)")
    (orders / "orders-2026-02-0.csv").write_bytes(gzip.compress(b"order_id\no2\n"))
    (orders / "orders-2026-03-0.csv").write_text("order_id\no3\n", encoding="utf-16")
    warehouse = staging_build(builder, data, tmp_path)
    reasons = dict(
        query(
            warehouse,
            "select source_file, reason from staging.quarantine where action = 'file_not_read'",
        )
    )
    assert "is a Parquet file" in reasons["orders/orders-2026-01-0.csv"]
    assert "gzip-compressed" in reasons["orders/orders-2026-02-0.csv"]
    assert "UTF-16" in reasons["orders/orders-2026-03-0.csv"]

    contacts = data / "crm_contacts"
    (contacts / "crm_contacts-2026-02-0.csv").write_text(f"{CRM_HEADER},email\n{crm_row('c3')},x\n")
    (data / "consent").mkdir()
    (data / "consent" / "consent-2026-01-0.csv").write_bytes(
        b"consent_id,identifier_type,identifier_value,purpose,status,source,recorded_\xe0t\n"
    )
    with pytest.raises(BuildError) as failure:
        (tmp_path / "second").mkdir()
        staging_build(builder, data, tmp_path / "second")
    message = str(failure.value)
    assert (
        "crm_contacts/crm_contacts-2026-02-0.csv (crm.contacts): the header names column email "
        "twice" in message
    )
    assert "consent/consent-2026-01-0.csv (consent.consent_records): the header" in message
    assert "is not valid UTF-8" in message
    assert "Binder Error" not in message and "Invalid Input Error" not in message
