"""Hostile files planted beside generated source files, each with what must become of it.

Every probe row (event, order, contact) has a key starting `probe-`, so the checks find it in
the warehouse without knowing anything else about the generated data.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from probes.common import PYTHON

LONG_LINE_BYTES = 5 * 1024 * 1024
"""Longer than the longest line the readers accept (4 MiB in docs/sources.md)."""


@dataclass(frozen=True)
class Expect:
    """One hostile input and how it must be accounted for.

    kind: `loaded` (its row is usable, read from its own path once), `refused` (file not read:
    a reason in staging.landed_files and the build summary, and a `file_not_read` quarantine
    row), `not_read` (reason in landed_files and the summary), `bad_line` (a `malformed_row`
    quarantine row with its file and line), `quarantined` (a `row_quarantined` row with its file
    and key, or `marker` in its raw text), `nulled` (a `field_nulled` row for its key),
    `assumed_utc` (usable and counted as read as UTC), `own_file` (the bad lines of `path` are
    reported against it alone: `line` of them, none against other files of the source).
    """

    name: str
    path: str
    kind: str
    key: str | None = None
    line: int | None = None
    table: str | None = None
    mention: str | None = None
    """A word the not-read reason must contain (a did-you-mean)."""


def event(message_id: str, timestamp: str = "2026-06-15T10:00:00Z", **extra: object) -> str:
    body = {
        "messageId": message_id,
        "type": "track",
        "event": "Product Viewed",
        "anonymousId": "probe-anon-1",
        "timestamp": timestamp,
        "properties": {"product_id": "SKU-1001"},
        **extra,
    }
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False)


def csv_text(header: list[str], rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=header, lineterminator="\n")
    writer.writeheader()
    writer.writerows({column: row.get(column, "") for column in header} for row in rows)
    return buffer.getvalue()


def order(order_id: str, **values: str) -> dict[str, str]:
    base = {"order_id": order_id, "email": "probe.buyer@example.com", "status": "paid"}
    base |= {"currency": "EUR", "total": "10.00", "created_at": "2026-06-15T10:00:00Z"}
    return base | values


def contact(contact_id: str, first_name: str = "Ada") -> dict[str, str]:
    return {
        "contact_id": contact_id,
        "email": f"{contact_id}@example.com",
        "first_name": first_name,
        "created_at": "2026-06-01T10:00:00Z",
    }


def header_of(folder: Path) -> list[str]:
    """The header of the first generated CSV file of a source folder."""
    first = sorted(folder.glob("*.csv"))[0]
    return first.read_text(encoding="utf-8").splitlines()[0].split(",")


def plant(data: Path) -> list[Expect]:
    """Write every hostile file into `data`; return what must become of each input."""
    orders_header = header_of(data / "orders")
    crm_header = header_of(data / "crm_contacts")
    expects: list[Expect] = []

    def write(path: str, content: str | bytes) -> Path:
        target = data / path
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            content = content.encode("utf-8")
        target.write_bytes(content)
        return target

    # Names that read as glob patterns match the generated files beside them.
    for path, key in (
        ("orders/orders-2026-0[1-6]-0.csv", "probe-glob-bracket"),
        ("orders/orders-*.csv", "probe-glob-star"),
    ):
        write(path, csv_text(orders_header, [order(key)]))
        expects.append(Expect(f"glob name {path}", path, "loaded", key, table="orders"))
    path = "events/2026-06-0?-0.jsonl"
    write(path, event("probe-glob-question") + "\n")
    expects.append(
        Expect(f"glob name {path}", path, "loaded", "probe-glob-question", None, "events")
    )

    # Names and places no source reads.
    for path, content in (
        ("orders/orders-2026-06-1.CSV", csv_text(orders_header, [order("probe-upper-csv")])),
        ("crm_contacts/crm_contacts-2026-06-1.json", json.dumps(contact("probe-json")) + "\n"),
        ("events/2026-06-30-1.ndjson", event("probe-ndjson") + "\n"),
    ):
        write(path, content)
        expects.append(Expect(f"extension not accepted: {path}", path, "refused"))
    for path, why, mention in (
        ("events/2026/06/2026-06-15-1.jsonl", "file in a sub-folder", None),
        ("returns/returns-2026-06-0.csv", "unknown source folder", None),
        ("evnets/2026-06-15-1.jsonl", "folder a typo away from events/", "events"),
        ("notes.csv", "file at the top of the data directory", None),
    ):
        write(path, event(f"probe-{why.split()[0]}") + "\n")
        expects.append(Expect(f"{why}: {path}", path, "not_read", mention=mention))

    # Lines that cannot be read, among good ones.
    path = "events/2026-06-15-2.jsonl"
    lines = [
        event("probe-lines-1").encode(),
        event("probe-lines-2", name="caf\udce9").encode("utf-8", "surrogateescape"),
        event("probe-lines-3", name="a\u0001b").replace("\\u0001", "\x01").encode(),
        event("probe-lines-4", name="a\u0007b").replace("\\u0007", "\x07").encode(),
        event("probe-lines-5", padding="x" * LONG_LINE_BYTES).encode(),
        event("probe-lines-6").encode(),
    ]
    write(path, b"\n".join(lines) + b"\n")
    expects += [
        Expect(f"invalid UTF-8 in a JSONL line ({path}:2)", path, "bad_line", line=2),
        Expect(f"raw 0x01 byte in a JSONL line ({path}:3)", path, "bad_line", line=3),
        Expect(
            f"raw 0x07 byte in a JSONL line ({path}:4)",
            path,
            "quarantined",
            "probe-lines-4",
            table="events",
        ),
        Expect(f"JSONL line of 5 MiB ({path}:5)", path, "bad_line", line=5),
        Expect(
            f"good lines around them load ({path})",
            path,
            "loaded",
            "probe-lines-1,probe-lines-6",
            table="events",
        ),
    ]
    path = "crm_contacts/crm_contacts-2026-06-1.csv"
    text = csv_text(
        crm_header,
        [contact("probe-crm-2"), contact("probe-crm-3", "Z\udcffe"), contact("probe-crm-4")],
    )
    write(path, text.encode("utf-8", "surrogateescape"))
    expects += [
        Expect(f"invalid UTF-8 in a CSV row ({path}:3)", path, "bad_line", line=3),
        Expect(
            f"good rows around it load ({path})",
            path,
            "loaded",
            "probe-crm-2,probe-crm-4",
            table="crm",
        ),
    ]

    # A short and a long line in one orders file of several.
    path = "orders/orders-2026-06-2.csv"
    good = csv_text(orders_header, [order("probe-mal-2"), order("probe-mal-4")]).splitlines()
    width = len(orders_header)
    short, long = "probe-mal-3,only,three", ",".join(["probe-mal-5"] + ["x"] * width)
    write(path, "\n".join([good[0], good[1], short, good[2], long]) + "\n")
    expects += [
        Expect(f"short CSV line ({path}:3)", path, "bad_line", line=3),
        Expect(f"long CSV line ({path}:5)", path, "bad_line", line=5),
        Expect(
            f"good rows around them load ({path})",
            path,
            "loaded",
            "probe-mal-2,probe-mal-4",
            table="orders",
        ),
        Expect("bad lines reported against their own file only", path, "own_file", line=2),
    ]

    # Content that is not what the name says.
    write("support_tickets/support_tickets-2026-06-1.csv", parquet_bytes())
    write("events/2026-06-15-3.jsonl", gzip.compress((event("probe-gzip") + "\n").encode()))
    write(
        "consent/consent-2026-06-1.csv",
        "consent_id,identifier_type\nprobe-utf16,email\n".encode("utf-16"),
    )
    for path, what in (
        ("support_tickets/support_tickets-2026-06-1.csv", "Parquet file named .csv"),
        ("events/2026-06-15-3.jsonl", "gzip file named .jsonl"),
        ("consent/consent-2026-06-1.csv", "UTF-16 CSV"),
    ):
        expects.append(Expect(f"{what}: {path}", path, "refused"))

    # Implausible times, and times without a UTC offset.
    path = "events/2026-06-15-4.jsonl"
    stamps = {
        "probe-ts-99999": "99999-01-01T00:00:00Z",
        "probe-ts-bc-iso": "-1000-01-01T00:00:00Z",
        "probe-ts-bc": "1001-01-01 (BC) 00:00:00",
        "probe-ts-epoch": "epoch",
        "probe-ts-infinity": "infinity",
        "probe-ts-naive-1": "2026-06-15T10:00:00",
        "probe-ts-naive-2": "2026-06-15 11:30",
    }
    write(path, "".join(event(key, stamp) + "\n" for key, stamp in stamps.items()))
    for key, stamp in stamps.items():
        kind = "assumed_utc" if "naive" in key else "quarantined"
        expects.append(Expect(f"event timestamp {stamp!r}", path, kind, key, table="events"))
    path = "orders/orders-2026-06-3.csv"
    rows = [
        order("probe-order-99999", created_at="99999-01-01T00:00:00Z"),
        order("probe-order-epoch", delivered_at="epoch"),
        order("probe-order-naive", created_at="2026-06-15 10:00:00"),
    ]
    write(path, csv_text(orders_header, rows))
    expects += [
        Expect(
            "order created_at in year 99999",
            path,
            "quarantined",
            "probe-order-99999",
            table="orders",
        ),
        Expect("order delivered_at 'epoch'", path, "nulled", "probe-order-epoch", table="orders"),
        Expect(
            "order created_at without offset",
            path,
            "assumed_utc",
            "probe-order-naive",
            table="orders",
        ),
    ]
    return expects


def parquet_bytes() -> bytes:
    """A real Parquet file of one ticket, written by DuckDB (a library, not Waymark) in the
    project's environment."""
    with tempfile.TemporaryDirectory() as folder:
        target = Path(folder) / "tickets.parquet"
        code = (
            "import duckdb, sys; duckdb.sql(\"copy (select 'probe-parquet' as ticket_id, "
            "'email' as channel) to '\" + sys.argv[1] + \"' (format parquet)\")"
        )
        subprocess.run([str(PYTHON), "-c", code, str(target)], check=True)
        return target.read_bytes()


def error_inputs(
    root: Path, orders_header: list[str], crm_header: list[str]
) -> list[tuple[str, Path, str, str]]:
    """Data folders that must each stop a build with an error naming the file and the problem:
    (what, data directory, the file's path relative to it, a word the error must hold)."""
    cases = []
    row = order("probe-error")
    for name, folder, header, rows, encoding, word in (
        (
            "duplicated CSV header column",
            "orders",
            ["order_id", *orders_header],
            [row],
            None,
            "twice",
        ),
        (
            "header missing a contract column",
            "orders",
            [c for c in orders_header if c != "total"],
            [row],
            None,
            "total",
        ),
        (
            "non-UTF-8 CSV header",
            "crm_contacts",
            [*crm_header, "not\udcffes"],
            [contact("probe-error")],
            "surrogateescape",
            "UTF-8",
        ),
    ):
        data = root / name.replace(" ", "_").replace("-", "_")
        relative = f"{folder}/{folder}-2026-06-0.csv"
        target = data / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        text = (
            ",".join(header)
            + "\n"
            + "".join(",".join(r.get(c, "") for c in header) + "\n" for r in rows)
        )
        target.write_bytes(text.encode("utf-8", encoding or "strict"))
        cases.append((name, data, relative, word))
    return cases
