"""Small landed data sets for the tests of reading source files (bad input, the landing zone)."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import Builder

CRM_HEADER = (
    "contact_id,email,phone,first_name,last_name,company,owner,country,created_at,updated_at"
)
STAGING = ["+path:models/staging"]


def crm_row(contact_id: str, day: int = 1) -> str:
    """One valid CRM contact line (no newline)."""
    return f"{contact_id},{contact_id}@acme.io,,Ann,Lee,Acme,bob,US,2026-01-{day:02d}T10:00:00Z,"


def event_line(message_id: str, timestamp: str = "2026-01-01T10:00:00Z") -> str:
    """One valid Segment page call as a JSONL line (with its newline)."""
    event = {
        "messageId": message_id,
        "type": "page",
        "anonymousId": f"a-{message_id}",
        "name": "Home",
        "timestamp": timestamp,
    }
    return json.dumps(event) + "\n"


def write_valid_sources(data: Path) -> None:
    """Two CRM contacts and three events: the smallest data every test starts from."""
    (data / "crm_contacts").mkdir(parents=True)
    (data / "crm_contacts" / "crm_contacts-2026-01-0.csv").write_text(
        f"{CRM_HEADER}\n"
        "c1,ann@acme.io,+14155550101,Ann,Lee,Acme,bob,US,2026-01-01T10:00:00Z,\n"
        "c2,bo@acme.io,+14155550102,Bo,Kim,Acme,bob,US,2026-01-02T10:00:00Z,\n"
    )
    (data / "events").mkdir()
    (data / "events" / "2026-01-01-0.jsonl").write_text(
        "".join(event_line(f"m{i}", f"2026-01-0{i}T10:00:00Z") for i in range(1, 4))
    )


def staging_build(builder: Builder, data: Path, tmp_path: Path, **variables: object) -> Path:
    """Build the staging layer only (the models that read files) into a fresh warehouse."""
    warehouse = tmp_path / "warehouse.duckdb"
    builder.build(data, warehouse, select=STAGING, variables=variables or None)
    return warehouse
