"""`make demo`'s activations on the built demo warehouse: every committed sync delivered to its
local stand-in (the real local PostgreSQL, in databases of this test's own), journey sends to a
Maildir over SMTP, and a second run that sends nothing because everything is unchanged."""

from __future__ import annotations

import json
import mailbox
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb
import psycopg
import pytest
import yaml
from psycopg import sql

from activations.demo.postgres import home_database_name
from activations.demo.run import format_demo_activations, run_demo_activations
from activations.demo.standins import demo_value
from activations.standins.base import free_port
from activations.sync_files import SyncPaths
from waymark.core.home import DEMO_AS_OF, PROJECT_ROOT

OUTBOX_DDL = """
create schema if not exists journeys;
create table journeys.journey_outbox (
    idempotency_key varchar primary key, customer_id varchar, channel varchar,
    destination varchar, template varchar, purpose varchar, payload json, state varchar
);
"""


def postgres_running() -> bool:
    try:
        psycopg.connect(host="127.0.0.1", dbname="postgres", user="postgres").close()
    except psycopg.OperationalError:
        return False
    return True


needs_postgres = pytest.mark.skipif(not postgres_running(), reason="no PostgreSQL on 5432")


@pytest.fixture
def scratch_postgres() -> Iterator[tuple[str, str]]:
    """A base database name and a role of this test's own; every database whose name starts
    with the base, and the role, are dropped afterwards."""
    base, role = f"wmt_{uuid.uuid4().hex[:8]}", f"waymark_demo_{uuid.uuid4().hex[:10]}"
    yield base, role
    with psycopg.connect(
        host="127.0.0.1", dbname="postgres", user="postgres", autocommit=True
    ) as admin:
        names = admin.execute(
            "select datname from pg_database where left(datname, %s) = %s", [len(base), base]
        ).fetchall()
        for (name,) in names:
            admin.execute(
                sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            )
        admin.execute(f'drop role if exists "{role}"')


def project_copy(root: Path, postgres: dict, only: list[str] | None = None) -> SyncPaths:
    """The committed sync project, its PostgreSQL destination pointed elsewhere."""
    syncs = root / "syncs"
    shutil.copytree(PROJECT_ROOT / "syncs", syncs)
    shutil.copy(PROJECT_ROOT / "destinations.yml", root / "destinations.yml")
    settings = yaml.safe_load((syncs / "_destinations.yml").read_text())
    settings["destinations"]["analytics_postgres"]["config"].update(postgres)
    (syncs / "_destinations.yml").write_text(yaml.safe_dump(settings))
    for path in syncs.glob("*.yml"):
        if only is not None and not path.name.startswith("_") and path.stem not in only:
            path.unlink()
    return SyncPaths(syncs, root / "destinations.yml")


def query(warehouse: Path, statement: str) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(statement).fetchall()


@needs_postgres
def test_every_sync_reaches_its_stand_in_and_a_second_run_sends_nothing(
    demo_warehouse: Path, tmp_path: Path, scratch_postgres: tuple[str, str]
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    base, role = scratch_postgres
    paths = project_copy(tmp_path / "project", {"dbname": base, "user": role})
    # Two journey emails for customers who may receive marketing mail, and one SMS.
    consenting = [
        row[0]
        for row in query(
            warehouse,
            "select customer_id from marts.customers where email_marketing_consent = 'granted' "
            "and email is not null and not is_email_suppressed order by customer_id limit 2",
        )
    ]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(OUTBOX_DDL)
        for index, customer in enumerate([*consenting, consenting[0]]):
            destination = "sms_twilio" if index == 2 else "email_smtp"
            con.execute(
                "insert into journeys.journey_outbox values (?, ?, ?, ?, 'welcome', "
                "'email_marketing', ?, 'pending')",
                [
                    f"welcome:{customer}:{index}",
                    customer,
                    "sms" if index == 2 else "email",
                    destination,
                    json.dumps({"subject": "Welcome back", "text": "Hello again"}),
                ],
            )
    home = tmp_path / "home"

    first = run_demo_activations(warehouse, home, DEMO_AS_OF, paths)
    printed = format_demo_activations(first)

    lines = {line.name: line for line in first.syncs}
    assert set(lines) == {path.stem for path in paths.syncs.glob("[!_]*.yml")}
    for line in first.syncs:
        report = line.report
        assert report is not None and report.status == "success", (line.name, report)
        planned = report.planned_creates + report.planned_updates + report.planned_removes
        assert planned == report.sent > 0
        assert report.sent + report.dropped == report.source_rows
    customers = query(warehouse, "select count(*) from marts.customers")[0][0]
    assert lines["customers_to_support_db"].report.sent == customers
    database = home_database_name(base, home)
    with psycopg.connect(host="127.0.0.1", dbname=database, user=role) as pg:
        rows = pg.execute("select count(*) from waymark_sync.customer_profiles").fetchone()[0]
    assert rows == customers
    exports = home / "exports" / "vip_lookalike_seed_export"
    assert (exports / "current.parquet").is_file() and list((exports / "deltas").iterdir())

    (email, sms) = first.sends
    assert (email.destination, email.report.sent, email.report.status) == (
        "email_smtp",
        2,
        "success",
    )
    # The SMS reaches the Twilio stand-in or is dropped with a reason (it asks for email
    # consent on the SMS channel): either way it is accounted for, not skipped.
    assert sms.skipped is None and sms.report is not None
    assert sms.report.sent + sms.report.dropped == 1
    messages = list(mailbox.Maildir(home / "demo" / "mail", create=False))
    assert first.mail_messages == len(messages) == 2
    recipients = {
        row[0]
        for row in query(
            warehouse,
            "select email from marts.customers where customer_id in "
            f"('{consenting[0]}', '{consenting[1]}')",
        )
    }
    assert {message["To"] for message in messages} == recipients
    assert all(message["Message-ID"] for message in messages)

    assert "customers_to_support_db" in printed and "unchanged" in printed
    sends_row = next(text for text in printed.splitlines() if "journey sends -> email_smtp" in text)
    assert sends_row.split()[5:] == ["2", "2", "0", "0", "0", "0", "success"]
    assert "sms_twilio -> Messages API stand-in" in printed
    for secret in (demo_value("crm_hubspot", "HUBSPOT_ACCESS_TOKEN"), "demo-meta_ads"):
        assert secret not in printed

    second = run_demo_activations(warehouse, home, DEMO_AS_OF, paths)
    for line in second.syncs:
        report = line.report
        assert (report.status, report.sent, report.requests) == ("success", 0, 0), line.name
        assert report.unchanged == report.source_rows
    # Every message was sent or dropped the first time: nothing waits.
    assert second.sends == []
    assert second.mail_messages is None  # no relay needed: no email waiting
    assert len(mailbox.Maildir(home / "demo" / "mail", create=False)) == 2
    table = format_demo_activations(second)
    row = next(text for text in table.splitlines() if "customers_to_support_db" in text)
    assert row.split()[2:] == ["0", "0", "0", "0", "0", f"{customers:,}", "success"]


def test_a_postgresql_that_is_not_running_is_skipped_with_a_clear_line(
    demo_warehouse: Path, tmp_path: Path
) -> None:
    port = free_port()  # nothing listens on it
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    only = ["customers_to_support_db", "vip_lookalike_seed_export"]
    paths = project_copy(tmp_path / "project", {"port": port}, only=only)

    demo = run_demo_activations(warehouse, tmp_path / "home", DEMO_AS_OF, paths)

    lines = {line.name: line for line in demo.syncs}
    assert lines["customers_to_support_db"].report is None
    assert lines["customers_to_support_db"].skipped.startswith(
        f"PostgreSQL is not running at 127.0.0.1:{port}"
    )
    assert lines["vip_lookalike_seed_export"].report.status == "success"
    assert not demo.failed
    printed = format_demo_activations(demo)
    assert f"PostgreSQL is not running at 127.0.0.1:{port}" in printed
    # Nothing was planned or marked in flight for the skipped sync.
    assert query(
        warehouse,
        "select count(*) from activations.sync_state where sync_name = 'customers_to_support_db'",
    ) == [(0,)]


def test_demo_summary_counts_messages_still_waiting_after_delivery(
    demo_warehouse: Path, tmp_path: Path
) -> None:
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    paths = project_copy(tmp_path / "project", {}, only=["vip_lookalike_seed_export"])
    customer = query(
        warehouse,
        "select customer_id from marts.customers where email_marketing_consent = 'granted' "
        "and email is not null and not is_email_suppressed order by customer_id limit 1",
    )[0][0]
    with duckdb.connect(str(warehouse)) as con:
        con.execute(OUTBOX_DDL)
        # One message the SMTP stand-in delivers, one for a destination with no stand-in.
        for key, destination in (("welcome:1:mail", "email_smtp"), ("welcome:1:x", "nowhere")):
            con.execute(
                "insert into journeys.journey_outbox values (?, ?, 'email', ?, 'welcome', "
                "'email_marketing', ?, 'pending')",
                [key, customer, destination, json.dumps({"subject": "Hi", "text": "Hello"})],
            )

    first = format_demo_activations(
        run_demo_activations(warehouse, tmp_path / "home", DEMO_AS_OF, paths)
    )
    assert (
        "journeys.journey_outbox: 2 message(s) waiting before delivery, 1 still waiting after "
        "it (nowhere 1)"
    ) in first
    again = format_demo_activations(
        run_demo_activations(warehouse, tmp_path / "home", DEMO_AS_OF, paths)
    )
    assert (
        "journeys.journey_outbox: 1 message(s) waiting before delivery, 1 still waiting after "
        "it (nowhere 1)"
    ) in again


@needs_postgres
def test_each_waymark_home_gets_its_own_demo_postgres_database(
    demo_warehouse: Path, tmp_path: Path, scratch_postgres: tuple[str, str]
) -> None:
    """Two checkouts on one machine (two homes, one of them with a hostile name) run the demo
    against the same PostgreSQL server: each writes a database of its own, named from its home,
    and neither sees the other's rows."""
    base, role = scratch_postgres
    paths = project_copy(
        tmp_path / "project", {"dbname": base, "user": role}, only=["customers_to_support_db"]
    )
    homes = {
        "plain": tmp_path / "checkout" / ".waymark",
        "hostile": tmp_path / 'we"ird; drop database postgres;--\u00e9' / ".waymark",
    }
    databases, expected = {}, {}
    for label, home in homes.items():
        warehouse = tmp_path / f"{label}.duckdb"
        shutil.copy(demo_warehouse, warehouse)
        if label == "hostile":  # a smaller customer table than the other checkout's
            with duckdb.connect(str(warehouse)) as con:
                con.execute("delete from marts.customers where hash(customer_id) % 2 = 0")
        expected[label] = query(warehouse, "select count(*) from marts.customers")[0][0]
        demo = run_demo_activations(warehouse, home, DEMO_AS_OF, paths)
        (line,) = demo.syncs
        assert line.report is not None and line.report.status == "success", line
        assert line.report.sent == expected[label]
        note = next(n for n in demo.notes if n.startswith("analytics_postgres -> PostgreSQL"))
        databases[label] = note.rsplit("/", 1)[1]
    assert databases["plain"] != databases["hostile"]
    for label, name in databases.items():
        assert re.fullmatch(r"[a-z][a-z0-9_]{0,62}", name), name
        assert name.startswith(f"{base}_")
        with psycopg.connect(host="127.0.0.1", dbname=name, user=role) as pg:
            rows = pg.execute("select count(*) from waymark_sync.customer_profiles").fetchone()[0]
        assert rows == expected[label], label
    # Stable per home: the same home (named another way) gets the same database again.
    again = run_demo_activations(
        tmp_path / "plain.duckdb", homes["plain"] / ".." / ".waymark", DEMO_AS_OF, paths
    )
    assert f"/{databases['plain']}" in " ".join(again.notes)
    assert again.syncs[0].report.sent == 0
