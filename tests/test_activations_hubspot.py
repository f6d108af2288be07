"""HubSpot against the loopback CRM: contacts by batch upsert/update/archive, journey tasks."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from activation_vendors import VendorProject

from activations.standins.base import Failure
from activations.standins.hubspot import HubSpotStandIn
from activations.testing import SAMPLE_AS_OF, SampleWarehouse
from waymark.cli.main import main
from waymark.core.instants import format_instant

TOKEN = "pat-na1-hubspot-private-app-3c9a"
CONTACTS = "/crm/v3/objects/contacts/batch"
FIELDS = {
    "email": "email",
    "firstname": "first_name",
    "lifecyclestage": "lifecycle_stage",
    "total_revenue": "revenue",
}


@pytest.fixture
def hubspot():
    server = HubSpotStandIn(TOKEN)
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def make_project(tmp_path, warehouse, hubspot, **sync) -> VendorProject:
    spec = {
        "type": "object",
        "model": "marts.customers",
        "destination": "crm_hubspot",
        "mode": "upsert",
        "key": "customer_id",
        "fields": FIELDS,
        "purpose": "transactional",
        **sync,
    }
    return VendorProject(
        tmp_path / "project",
        warehouse,
        {"crm_hubspot": {"kind": "hubspot", "channel": "crm", "env": ["HUBSPOT_ACCESS_TOKEN"]}},
        {
            "crm_hubspot": {
                "config": {
                    "access_token_env": "HUBSPOT_ACCESS_TOKEN",
                    "base_url": hubspot.url,
                    "timeout_seconds": 0.5,
                }
            }
        },
        {"contacts_hubspot": spec},
        {"HUBSPOT_ACCESS_TOKEN": TOKEN},
    )


def calls(hubspot) -> list[str]:
    return [request.path for request in hubspot.requests]


def test_golden_batch_upsert_by_email(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann", revenue=Decimal("120.50"), lifecycle_stage="customer")
    warehouse.customer("bob")
    project = make_project(tmp_path, warehouse, hubspot)
    report = project.run("contacts_hubspot")
    assert (report.status, report.sent) == ("success", 2)
    [request] = hubspot.requests
    assert (request.method, request.path) == ("POST", f"{CONTACTS}/upsert")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.json() == {
        "inputs": [
            {
                "idProperty": "email",
                "id": "ann@example.org",
                "properties": {
                    "email": "ann@example.org",
                    "firstname": "Ann",
                    "lifecyclestage": "customer",
                    "total_revenue": "120.5",
                },
            },
            {
                "idProperty": "email",
                "id": "bob@example.org",
                "properties": {
                    "email": "bob@example.org",
                    "firstname": "Bob",
                    "lifecyclestage": "lead",
                    "total_revenue": "0.0",
                },
            },
        ]
    }
    assert hubspot.by_email()["ann@example.org"]["total_revenue"] == "120.5"
    assert project.run("contacts_hubspot").requests == 0  # unchanged rows cost nothing


def test_250_rows_go_out_as_batches_of_100(tmp_path, warehouse, hubspot) -> None:
    warehouse.execute(
        "insert into marts.customers (customer_id, first_name, email, lifecycle_stage, revenue) "
        "select 'c' || i, 'C', 'c' || i || '@example.org', 'lead', 1 from range(250) t(i)"
    )
    report = make_project(tmp_path, warehouse, hubspot).run("contacts_hubspot")
    assert (report.status, report.sent, report.requests) == ("success", 250, 3)
    assert [len(r.json()["inputs"]) for r in hubspot.requests] == [100, 100, 50]
    assert len(hubspot.contacts) == 250


def test_mirror_moves_a_changed_email_and_archives_leavers(tmp_path, warehouse, hubspot) -> None:
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    project = make_project(tmp_path, warehouse, hubspot, mode="mirror")
    project.run("contacts_hubspot")
    bob_id = next(i for i, p in hubspot.contacts.items() if p["email"] == "bob@example.org")
    warehouse.customer("bob", email="bob@new.example.org")
    warehouse.execute("delete from marts.customers where customer_id = 'cat'")
    report = project.run("contacts_hubspot")
    assert (report.status, report.planned_updates, report.planned_removes) == ("success", 1, 1)
    assert calls(hubspot)[1:] == [f"{CONTACTS}/read", f"{CONTACTS}/archive", f"{CONTACTS}/update"]
    read, archive, update = hubspot.requests[1:]
    assert read.json() == {
        "idProperty": "email",
        "properties": ["email"],
        "inputs": [{"id": "cat@example.org"}],
    }
    assert update.json()["inputs"][0]["id"] == "bob@example.org"  # found under the old email
    assert hubspot.contacts[bob_id]["email"] == "bob@new.example.org"  # same contact, moved
    assert set(hubspot.by_email()) == {"ann@example.org", "bob@new.example.org"}
    assert archive.json() == {"inputs": [{"id": next(iter(hubspot.archived))}]}


def test_a_refused_batch_is_redone_row_by_row(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann")
    warehouse.customer("bad", email="bad@nowhere")
    warehouse.customer("cat")
    project = make_project(tmp_path, warehouse, hubspot)
    report = project.run("contacts_hubspot")
    assert (report.status, report.sent, report.rejected) == ("partial", 2, 1)
    [row] = [r for r in project.changelog() if r[0] == "bad"]
    assert row[2:4] == ("rejected", "VALIDATION_ERROR")
    assert "Email address bad@nowhere is invalid" in row[4]
    assert set(hubspot.by_email()) == {"ann@example.org", "cat@example.org"}
    assert [len(r.json()["inputs"]) for r in hubspot.requests] == [3, 1, 1, 1]


def test_update_only_rejects_contacts_hubspot_does_not_have(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann")
    warehouse.customer("zed")
    hubspot.contacts["7"] = {"email": "ann@example.org", "firstname": "Old"}
    project = make_project(tmp_path, warehouse, hubspot, mode="update_only")
    report = project.run("contacts_hubspot")
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 1)
    assert hubspot.contacts["7"]["firstname"] == "Ann" and len(hubspot.contacts) == 1
    [row] = [r for r in project.changelog() if r[0] == "zed"]
    assert row[2:4] == ("rejected", "OBJECT_NOT_FOUND")
    assert project.run_row(report.run_id)["status"] == "partial"


def test_rate_limits_are_waited_for_or_deferred(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann")
    hubspot.fail_next(HubSpotStandIn.rate_limited())
    project = make_project(tmp_path, warehouse, hubspot)
    report = project.run("contacts_hubspot")
    assert (report.status, report.request_retries) == ("success", 1)
    assert project.sleeps[0] >= 10  # X-HubSpot-RateLimit-Interval-Milliseconds

    warehouse.customer("bob")
    hubspot.fail_next(HubSpotStandIn.rate_limited("DAILY"))
    deferred = project.run("contacts_hubspot")
    assert (deferred.status, deferred.retried) == ("failed", 1)
    assert project.state("bob")[:2] == ("retrying", "RATE_LIMIT")
    assert project.run("contacts_hubspot").sent == 1


def test_auth_failure_5xx_and_timeouts(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann")
    project = make_project(tmp_path, warehouse, hubspot)
    project.env["HUBSPOT_ACCESS_TOKEN"] = "pat-na1-revoked"
    refused = project.run("contacts_hubspot")
    assert refused.status == "failed" and refused.rejected == 0
    assert "INVALID_AUTHENTICATION" in refused.error
    project.env["HUBSPOT_ACCESS_TOKEN"] = TOKEN
    hubspot.fail_next(Failure(502, "<html>Bad Gateway</html>"), Failure(delay=1.0))
    report = project.run("contacts_hubspot")
    assert (report.status, report.request_retries, report.replayed) == ("success", 2, 1)
    assert list(hubspot.by_email()) == ["ann@example.org"]


def test_journey_sends_create_tasks_once(tmp_path, warehouse, hubspot) -> None:
    warehouse.customer("ann")
    warehouse.customer("zed")
    hubspot.contacts["42"] = {"email": "ann@example.org"}
    task = {
        "object": "task",
        "associated_contact_email": "ann@example.org",
        "subject": "Call engaged lead Ann",
        "body": "12 visits in 30 days",
        "priority": "MEDIUM",
        "waymark_journey": "lead_nurture",
    }
    warehouse.outbox(
        "lead_nurture:i1:sales_task",
        "ann",
        "crm_hubspot",
        channel="crm",
        template="lead_sales_task",
        purpose="transactional",
        payload=task,
    )
    warehouse.outbox(
        "lead_nurture:i2:sales_task",
        "zed",
        "crm_hubspot",
        channel="crm",
        template="lead_sales_task",
        purpose="transactional",
        payload={**task, "associated_contact_email": "zed@example.org"},
    )
    project = make_project(tmp_path, warehouse, hubspot)
    [report] = project.send()
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 1)
    assert calls(hubspot) == [
        "/crm/v3/objects/tasks/search",
        f"{CONTACTS}/read",
        "/crm/v3/objects/tasks/batch/create",
    ]
    search = hubspot.requests[0].json()
    assert search["filterGroups"][0]["filters"][0] == {
        "propertyName": "waymark_op_id",
        "operator": "IN",
        "values": ["lead_nurture:i1:sales_task", "lead_nurture:i2:sales_task"],
    }
    created = hubspot.requests[2].json()["inputs"][0]
    assert created["associations"] == [
        {
            "to": {"id": "42"},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 204}],
        }
    ]
    props = created["properties"]
    assert {k: v for k, v in props.items() if k != "hs_timestamp"} == {
        "hs_task_subject": "Call engaged lead Ann",
        "hs_task_body": "12 visits in 30 days",
        "hs_task_priority": "MEDIUM",
        "hs_task_status": "NOT_STARTED",
        "hs_task_type": "TODO",
        "waymark_op_id": "lead_nurture:i1:sales_task",
        "waymark_journey": "lead_nurture",
    }
    [(tid, stored)] = hubspot.tasks.items()
    assert stored["contacts"] == ["42"]
    rejected = warehouse.execute(
        "select error_code from activations.sync_changelog where record_key like '%i2%'"
    )
    assert rejected == [("contact_not_found",)]

    # A run that died after creating the task replays it: the op-id search absorbs it.
    warehouse.execute(
        "update journeys.journey_outbox set state = 'sending' "
        "where idempotency_key = 'lead_nurture:i1:sales_task'"
    )
    [replay] = project.send()
    assert (replay.status, replay.sent, replay.replayed) == ("success", 1, 1)
    assert len(hubspot.tasks) == 1


def test_secrets_appear_in_no_output_log_or_file(
    tmp_path, warehouse, hubspot, capsys, monkeypatch
) -> None:
    warehouse.customer("ann")
    project = make_project(tmp_path, warehouse, hubspot)
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", TOKEN)
    hubspot.fail_next(
        Failure(
            400,
            {
                "status": "error",
                "category": "VALIDATION_ERROR",
                "message": f"token {TOKEN} is not allowed here",
            },
        )
    )
    paths = project.paths
    common = [
        "--warehouse",
        str(warehouse.path),
        "--syncs",
        str(paths.syncs),
        "--destinations",
        str(paths.destinations),
        "--as-of",
        format_instant(SAMPLE_AS_OF),
    ]
    assert main(["sync", "contacts_hubspot", "--dry-run", *common]) == 0
    assert main(["sync", "contacts_hubspot", *common]) == 1
    printed = capsys.readouterr()
    texts = [printed.out, printed.err, *(p.read_text() for p in tmp_path.rglob("*.yml"))]
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table in ("sync_state", "sync_runs", "sync_changelog"):
            texts.append(repr(con.execute(f"select * from activations.{table}").fetchall()))
    everything = "\n".join(texts)
    assert TOKEN not in everything and "token [redacted] is not allowed here" in everything
    assert '"endpoint": "/crm/v3/objects/contacts/batch/upsert"' in printed.out
    assert "ann@example.org" not in printed.out  # the dry run masks personal data
