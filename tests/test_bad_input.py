"""Bad input never shrinks a table silently: it stops the build with an error naming the file,
or lands in `staging.quarantine` with a reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import Builder, query
from tests.landing_support import CRM_HEADER, event_line, staging_build, write_valid_sources
from waymark.warehouse.build import BuildError
from waymark.warehouse.summary import format_landing_report, read_landing_report


def test_malformed_csv_row_is_quarantined_with_file_and_line(
    builder: Builder, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    broken = data / "crm_contacts" / "crm_contacts-2026-02-0.csv"
    broken.write_text(
        f"{CRM_HEADER}\n"
        "c3,cy@acme.io,+14155550103,Cy,Ng,Acme,bob,US,2026-02-01T10:00:00Z,\n"
        'c4,"dee@acme.io,+14155550104,Dee,Oh,Acme,bob,US,2026-02-02T10:00:00Z,\n'
    )
    warehouse = staging_build(builder, data, tmp_path, quarantine_max_share=0.5)
    rejects = query(
        warehouse,
        "select source_file, line_number, reason, raw_row from staging.quarantine "
        "where action = 'malformed_row'",
    )
    assert len(rejects) == 1
    source_file, line_number, reason, raw_row = rejects[0]
    assert source_file == "crm_contacts/crm_contacts-2026-02-0.csv"
    assert line_number == 3
    assert "unterminated quote" in reason.lower()
    assert raw_row.startswith('c4,"dee@acme.io')
    assert query(warehouse, "select count(*) from staging.stg_crm__contacts")[0][0] == 3


def test_missing_column_stops_the_build_naming_file_and_column(
    builder: Builder, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    short = data / "crm_contacts" / "crm_contacts-2026-02-0.csv"
    short.write_text(
        "contact_id,phone,first_name,last_name,company,owner,country,created_at,updated_at\n"
        "c3,+14155550103,Cy,Ng,Acme,bob,US,2026-02-01T10:00:00Z,\n"
    )
    with pytest.raises(BuildError) as failure:
        staging_build(builder, data, tmp_path)
    message = str(failure.value)
    assert "crm_contacts/crm_contacts-2026-02-0.csv" in message
    assert "missing column(s) email" in message


def test_empty_files_add_nothing_and_lose_nothing(builder: Builder, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    (data / "crm_contacts" / "crm_contacts-2026-03-0.csv").write_text("")
    (data / "crm_contacts" / "crm_contacts-2026-04-0.csv").write_text(CRM_HEADER + "\n")
    (data / "events" / "2026-01-02-0.jsonl").write_text("")
    warehouse = staging_build(builder, data, tmp_path)
    assert query(warehouse, "select count(*) from staging.stg_crm__contacts")[0][0] == 2
    assert query(warehouse, "select count(*) from staging.stg_events__segment")[0][0] == 3
    assert query(warehouse, "select count(*) from staging.quarantine")[0][0] == 0


def test_json_file_in_a_csv_folder_is_rejected_by_name(builder: Builder, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    wrong = data / "crm_contacts" / "contacts-2026-02.csv"
    wrong.write_text('{"contact_id": "c9", "email": "x@y.io"}\n')
    with pytest.raises(BuildError) as failure:
        staging_build(builder, data, tmp_path)
    assert "crm_contacts/contacts-2026-02.csv" in str(failure.value)
    assert "does not match its contract" in str(failure.value)


def test_csv_file_in_the_events_folder_is_quarantined_and_fails_the_share_test(
    builder: Builder, tmp_path: Path
) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    wrong = data / "events" / "2026-01-02-0.jsonl"
    wrong.write_text(f"{CRM_HEADER}\nc3,cy@acme.io,,,,,,,2026-02-01T10:00:00Z,\n")
    with pytest.raises(BuildError) as failure:
        staging_build(builder, data, tmp_path)
    assert "assert_quarantine_share_below_threshold" in str(failure.value)


def test_every_landed_row_is_usable_or_quarantined(builder: Builder, tmp_path: Path) -> None:
    data = tmp_path / "data"
    write_valid_sources(data)
    with (data / "events" / "2026-01-01-0.jsonl").open("a") as events:
        events.write(
            '{"messageId": "m8", "type": "track", "anonymousId": "a8", "event": "X", '
            '"timestamp": "last tuesday"}\n'
        )
        events.write('{"messageId": "m9", "type": "page", "timestamp": "2026-01-05T00:00:00Z"}\n')
        events.write("{not json\n")
    warehouse = staging_build(builder, data, tmp_path, quarantine_max_share=0.9)
    reasons = dict(
        query(
            warehouse,
            "select reason, count(*) from staging.quarantine "
            "where source_name = 'events.segment_events' group by 1",
        )
    )
    assert reasons == {
        "unparseable_timestamp: timestamp": 1,
        "missing_identity: anonymousId or userId": 1,
        "invalid_json": 1,
    }
    landed, usable, quarantined = query(
        warehouse,
        "select rows_landed, rows_usable, rows_quarantined from staging.source_quality "
        "where source_name = 'events.segment_events'",
    )[0]
    assert (landed, usable, quarantined) == (6, 3, 3)


def test_one_bad_line_is_quarantined_and_every_source_still_loads(
    builder: Builder, tmp_path: Path
) -> None:
    """Invalid UTF-8, a raw control byte, a line over the reader's line limit (JSONL) and invalid
    UTF-8 in a CSV line each set aside their own line with file, line number and reason."""
    data = tmp_path / "data"
    write_valid_sources(data)
    good = [event_line(f"e{i}").encode() for i in range(1, 5)]
    too_long = event_line("huge").replace('"Home"', '"' + "x" * (5 * 1024 * 1024) + '"')
    (data / "events" / "2026-01-05-0.jsonl").write_bytes(
        good[0]
        + b'{"messageId": "bad-utf8", "type": "page", "name": "Caf\xe9\xff"}\n'
        + b'{"messageId": "ctl", "type": "page", "name": "a\x01b"}\n'
        + too_long.encode()
        + b"".join(good[1:])
    )
    (data / "crm_contacts" / "crm_contacts-2026-02-0.csv").write_bytes(
        f"{CRM_HEADER}\n".encode()
        + b"c3,cy@acme.io,,Cy,Ng,Acme,bob,US,2026-02-01T10:00:00Z,\n"
        + b"c4,dee@acme.io,,D\xe9e,Oh,Acme,bob,US,2026-02-02T10:00:00Z,\n"
        + b"c5,eve@acme.io,,Eve,Ma,Acme,bob,US,2026-02-03T10:00:00Z,\n"
    )
    warehouse = staging_build(builder, data, tmp_path, quarantine_max_share=0.9)
    rejected = query(
        warehouse,
        "select source_file, line_number, reason, length(raw_row) from staging.quarantine "
        "where action = 'malformed_row' order by 1, 2",
    )
    assert [(file, line) for file, line, _, _ in rejected] == [
        ("crm_contacts/crm_contacts-2026-02-0.csv", 3),
        ("events/2026-01-05-0.jsonl", 2),
        ("events/2026-01-05-0.jsonl", 3),
        ("events/2026-01-05-0.jsonl", 4),
    ]
    reasons = [reason for _, _, reason, _ in rejected]
    assert "not valid UTF-8" in reasons[0] and "not valid UTF-8" in reasons[1]
    assert "control character" in reasons[2]
    assert "longer than" in reasons[3]
    assert rejected[3][3] < 100_000  # a preview of the long line, not all of it
    events = query(warehouse, "select event_id from staging.stg_events__segment order by 1")
    assert [e for (e,) in events] == ["e1", "e2", "e3", "e4", "m1", "m2", "m3"]
    contacts = query(warehouse, "select crm_contact_id from staging.stg_crm__contacts order by 1")
    assert [c for (c,) in contacts] == ["c1", "c2", "c3", "c5"]
    landed, malformed = query(
        warehouse,
        "select rows_landed, rows_malformed from staging.source_quality "
        "where source_name = 'events.segment_events'",
    )[0]
    assert (landed, malformed) == (10, 3)


def test_implausible_timestamps_are_quarantined_and_offsetless_ones_counted(
    builder: Builder, tmp_path: Path
) -> None:
    """Year 99999, a date BC and "epoch" are not real times: their rows are set aside. A timestamp
    without an offset is read as UTC and counted. The window is configurable."""
    data = tmp_path / "data"
    write_valid_sources(data)
    (data / "events" / "2026-01-05-0.jsonl").write_text(
        event_line("far-future", "99999-01-01T00:00:00Z")
        + event_line("before-christ", "1001-01-01 (BC)")
        + event_line("epoch", "epoch")
        + event_line("naive", "2026-01-05T10:00:00")
        + event_line("early", "2026-01-01T09:00:00Z")
    )
    (data / "crm_contacts" / "crm_contacts-2026-02-0.csv").write_text(
        f"{CRM_HEADER}\n"
        "c3,cy@acme.io,,Cy,Ng,Acme,bob,US,0001-01-01T00:00:00Z,\n"
        "c4,dee@acme.io,,Dee,Oh,Acme,bob,US,2026-02-02T10:00:00Z,99999-01-01T00:00:00Z\n"
    )
    window = {"earliest": "2026-01-01T10:00:00Z", "latest": "2100-01-01T00:00:00Z"}
    warehouse = staging_build(
        builder, data, tmp_path, quarantine_max_share=0.9, plausible_timestamps=window
    )
    problems = query(
        warehouse,
        "select record_key, action, reason from staging.quarantine order by 1",
    )
    assert problems == [
        ("before-christ", "row_quarantined", "implausible_timestamp: timestamp"),
        ("c3", "row_quarantined", "implausible_timestamp: created_at"),
        ("c4", "field_nulled", "implausible_timestamp: updated_at"),
        ("early", "row_quarantined", "implausible_timestamp: timestamp"),
        ("epoch", "row_quarantined", "implausible_timestamp: timestamp"),
        ("far-future", "row_quarantined", "implausible_timestamp: timestamp"),
    ]
    assumed_utc = dict(
        query(warehouse, "select source_name, timestamps_assumed_utc from staging.source_quality")
    )
    assert assumed_utc["events.segment_events"] == 1
    assert assumed_utc["crm.contacts"] == 0
    naive = query(
        warehouse,
        "select cast(occurred_at as varchar) from staging.stg_events__segment "
        "where event_id = 'naive'",
    )
    assert naive == [("2026-01-05 10:00:00",)]
    report = "\n".join(format_landing_report(read_landing_report(warehouse)))
    assert "1 timestamp(s) without a UTC offset, read as UTC" in report
