"""Bad input never shrinks a table silently: it stops the build with an error naming the file,
or lands in `staging.quarantine` with a reason."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Builder, query
from waymark.build import BuildError

CRM_HEADER = (
    "contact_id,email,phone,first_name,last_name,company,owner,country,created_at,updated_at"
)
STAGING = ["+path:models/staging"]


def write_valid_sources(data: Path) -> None:
    """Two CRM contacts and three events: the smallest data every test below starts from."""
    (data / "crm_contacts").mkdir(parents=True)
    (data / "crm_contacts" / "crm_contacts-2026-01-0.csv").write_text(
        f"{CRM_HEADER}\n"
        "c1,ann@acme.io,+14155550101,Ann,Lee,Acme,bob,US,2026-01-01T10:00:00Z,\n"
        "c2,bo@acme.io,+14155550102,Bo,Kim,Acme,bob,US,2026-01-02T10:00:00Z,\n"
    )
    (data / "events").mkdir()
    events = [
        {
            "messageId": f"m{i}",
            "type": "page",
            "anonymousId": f"a{i}",
            "name": "Home",
            "timestamp": f"2026-01-0{i}T10:00:00Z",
        }
        for i in range(1, 4)
    ]
    (data / "events" / "2026-01-01-0.jsonl").write_text(
        "".join(json.dumps(event) + "\n" for event in events)
    )


def staging_build(builder: Builder, data: Path, tmp_path: Path, **variables: object) -> Path:
    warehouse = tmp_path / "warehouse.duckdb"
    builder.build(data, warehouse, select=STAGING, variables=variables or None)
    return warehouse


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
    assert source_file == str(broken)
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
    assert str(short) in message
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
    assert str(wrong) in str(failure.value)
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
