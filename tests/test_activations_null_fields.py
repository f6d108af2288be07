"""What a null means at each destination: left out by default, cleared only when declared.

A customer's phone is delivered, then turns null in the warehouse (a blank in a source export),
then the sync declares `on_null: {phone: clear}`. By default the field is absent from what is
sent (neither `""` nor null), so the destination keeps the number a person typed there; once
declared, the destination's own way of clearing it is sent. Ad audiences cannot clear a field:
declaring it is a located error, and a null identifier is simply not uploaded.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from activations.delivery import RetryPolicy
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.standins.hubspot import HubSpotStandIn
from activations.standins.meta import MetaStandIn
from activations.standins.salesforce import SalesforceStandIn
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, WebhookReceiver, write_project
from activations.testing_postgres import PostgresScratch

PHONE = "+14155550102"
SYNC = {
    "type": "object",
    "model": "marts.customers",
    "mode": "upsert",
    "key": "customer_id",
    "purpose": "transactional",
}
CLEAR = {"on_null": {"phone": "clear"}}


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    warehouse = SampleWarehouse(tmp_path / "warehouse.duckdb")
    warehouse.customer("ann", phone="+14155550101")
    warehouse.customer("bob", phone=PHONE)
    return warehouse


def sync_runs(
    tmp_path: Path,
    warehouse: SampleWarehouse,
    destination: dict[str, Any],
    sync: dict[str, Any],
    env: dict[str, str],
    observe: Callable[[], Any],
    expected: list[Any],
) -> None:
    """Runs the sync three times, comparing `observe()` with `expected` after each: the first
    delivery, bob's phone turning null, and the sync declaring `on_null: {phone: clear}`."""
    for step, wanted in zip(("first", "null", "declared"), expected, strict=True):
        if step == "null":
            warehouse.execute("update marts.customers set phone = null where customer_id = 'bob'")
        spec = {**SYNC, **sync, "destination": "dest", **(CLEAR if step == "declared" else {})}
        listed, connector = {}, destination
        if env:  # variables are listed in destinations.yml, beside the kind
            listed = {"dest": {"kind": destination["kind"], "channel": "crm", "env": sorted(env)}}
            connector = {"config": destination["config"]}
        paths = write_project(tmp_path / "project", listed, {"dest": connector}, {"people": spec})
        project = load_project(paths)
        assert not project.issues, project.issues
        options = RunOptions(
            as_of=SAMPLE_AS_OF,
            secrets=Secrets(env),
            sleep=lambda _: None,
            rng=random.Random(1),
            policy=RetryPolicy(base_delay=0.0),
        )
        report = run_sync(warehouse.path, project.valid()["people"], options)
        assert report.status == "success", report.error
        assert observe() == wanted, step


def test_hubspot_leaves_a_null_phone_out_unless_declared_clear(tmp_path, warehouse) -> None:
    hubspot = HubSpotStandIn("pat-null-fields-1")
    try:

        def observe() -> tuple[Any, Any]:
            inputs = [i for r in hubspot.requests for i in (r.json() or {}).get("inputs", [])]
            bob = [i["properties"] for i in inputs if i["id"] == "bob@example.org"]
            return bob[-1], hubspot.by_email()["bob@example.org"].get("phone")

        destination = {
            "kind": "hubspot",
            "config": {"access_token_env": "HUBSPOT_TOKEN", "base_url": hubspot.url},
        }
        sync = {"fields": {"email": "email", "firstname": "first_name", "phone": "phone"}}
        bob = {"email": "bob@example.org", "firstname": "Bob"}
        expected = [
            ({**bob, "phone": PHONE}, PHONE),
            (bob, PHONE),  # no "phone": "" that would wipe it
            ({**bob, "phone": ""}, ""),  # declared: "" clears the property
        ]
        env = {"HUBSPOT_TOKEN": "pat-null-fields-1"}
        sync_runs(tmp_path, warehouse, destination, sync, env, observe, expected)
    finally:
        hubspot.close()


def test_salesforce_leaves_a_null_phone_out_unless_declared_clear(tmp_path, warehouse) -> None:
    org = SalesforceStandIn(client_id="sf-id-1", client_secret="sf-secret-1", refresh_token="sf-r")
    try:

        def observe() -> tuple[Any, Any]:
            records = [
                record
                for request in org.requests
                if request.method == "PATCH"
                for record in (request.json() or {}).get("records", [])
                if record.get("Waymark_Customer_Id__c") == "bob"
            ]
            held = org.org.by_external_id("Contact", "Waymark_Customer_Id__c")["bob"]
            sent = {k: v for k, v in records[-1].items() if k in ("email", "phone")}
            return sent, held.get("Phone")

        destination = {
            "kind": "salesforce",
            "config": {
                "login_url": org.url,
                "client_id_env": "SF_ID",
                "client_secret_env": "SF_SECRET",
                "refresh_token_env": "SF_REFRESH",
            },
        }
        sync = {
            "fields": {"email": "email", "last_name": "first_name", "phone": "phone"},
            "settings": {
                "sobject": "Contact",
                "external_id_field": "Waymark_Customer_Id__c",
                "fields": {"last_name": "LastName"},
            },
        }
        env = {"SF_ID": "sf-id-1", "SF_SECRET": "sf-secret-1", "SF_REFRESH": "sf-r"}
        expected = [
            ({"email": "bob@example.org", "phone": PHONE}, PHONE),
            ({"email": "bob@example.org"}, PHONE),  # no null that would empty it
            ({"email": "bob@example.org", "phone": None}, None),  # declared: null empties it
        ]
        sync_runs(tmp_path, warehouse, destination, sync, env, observe, expected)
    finally:
        org.close()


def test_webhook_leaves_a_null_phone_out_unless_declared_clear(tmp_path, warehouse) -> None:
    receiver = WebhookReceiver("hook-secret-null-1")
    try:

        def observe() -> dict[str, Any]:
            [*_, event] = [e for e in receiver.applied if e["key"] == "bob"]
            return event["data"]

        destination = {
            "kind": "webhook",
            "config": {"url_env": "HOOK_URL", "signing_secret_env": "HOOK_SECRET"},
        }
        env = {"HOOK_URL": receiver.url, "HOOK_SECRET": "hook-secret-null-1"}
        sync = {"fields": {"email": "email", "phone": "phone"}}
        expected = [
            {"email": "bob@example.org", "phone": PHONE},
            {"email": "bob@example.org"},  # no null: the receiver keeps the number
            {"email": "bob@example.org", "phone": None},  # declared: null clears it
        ]
        sync_runs(tmp_path, warehouse, destination, sync, env, observe, expected)
    finally:
        receiver.close()


def test_postgres_keeps_a_column_on_null_unless_declared_clear(tmp_path, warehouse) -> None:
    pg = PostgresScratch()
    try:

        def observe() -> list[tuple]:
            return pg.query("select email, phone from {schema}.people where customer_id = 'bob'")

        warehouse.customer("cat", phone=None)  # a new row with a null is NULL either way
        destination = {
            "kind": "postgres",
            "config": {"dbname": pg.dbname, "user": "postgres", "schema_name": pg.schema},
        }
        sync = {"fields": {"email": "email", "phone": "phone"}, "settings": {"table": "people"}}
        bob = "bob@example.org"
        expected = [[(bob, PHONE)], [(bob, PHONE)], [(bob, None)]]
        sync_runs(tmp_path, warehouse, destination, sync, {}, observe, expected)
        assert pg.query("select phone from {schema}.people where customer_id = 'cat'") == [(None,)]
    finally:
        pg.close()


def test_files_keep_a_field_on_null_unless_declared_clear(tmp_path, warehouse) -> None:
    root = tmp_path / "exports"
    folder = root / "people"

    def observe() -> tuple[Any, Any]:
        deltas = sorted((folder / "deltas").glob("*.parquet"), key=lambda p: p.stat().st_mtime)
        [sent] = [r for r in pq.read_table(deltas[-1]).to_pylist() if r["customer_id"] == "bob"]
        current = pq.read_table(folder / "current.parquet").to_pylist()
        [held] = [row for row in current if row["customer_id"] == "bob"]
        return sent["phone"], held["phone"]

    destination = {"kind": "files", "config": {"root": str(root), "formats": ["parquet"]}}
    sync = {"fields": {"email": "email", "phone": "phone"}, "settings": {"folder": "people"}}
    # The delta row of a field left out carries the value the record keeps.
    expected = [(PHONE, PHONE), (PHONE, PHONE), (None, None)]
    sync_runs(tmp_path, warehouse, destination, sync, {}, observe, expected)


@pytest.mark.parametrize("kind", ["meta", "google_ads"])
def test_ad_audiences_cannot_declare_clear_and_upload_no_null(tmp_path, kind) -> None:
    settings = {"meta": {"audience_id": "23850000000000001"}, "google_ads": {"user_list_id": "5"}}
    spec = {
        **SYNC,
        "type": "audience",
        "destination": "ads",
        "purpose": "ads_personalisation",
        "fields": {"email": "email", "phone": "phone"},
        "settings": settings[kind],
        **CLEAR,
    }
    paths = write_project(tmp_path / "project", {}, {"ads": {"kind": kind}}, {"people": spec})
    issues = [str(i) for i in load_project(paths).issues if i.field.startswith("on_null")]
    assert len(issues) == 1 and f"{kind} destinations cannot clear a field" in issues[0]
    assert "people.yml:" in issues[0]


def test_meta_uploads_no_identifier_for_a_null_phone(tmp_path, warehouse) -> None:
    meta = MetaStandIn("meta-token-null-1", ["23850000000000001"])
    warehouse.execute("update marts.customers set phone = null where customer_id = 'bob'")
    spec = {
        **SYNC,
        "type": "audience",
        "destination": "ads",
        "purpose": "ads_personalisation",
        "fields": {"email": "email", "phone": "phone"},
        "settings": {"audience_id": "23850000000000001"},
        "batch_size": 1,
    }
    try:
        config = {"access_token_env": "META_TOKEN", "base_url": meta.url}
        paths = write_project(
            tmp_path / "project", {}, {"ads": {"kind": "meta", "config": config}}, {"people": spec}
        )
        options = RunOptions(
            as_of=SAMPLE_AS_OF,
            secrets=Secrets({"META_TOKEN": "meta-token-null-1"}),
            sleep=lambda _: None,
        )
        report = run_sync(warehouse.path, load_project(paths).valid()["people"], options)
        uploads = [json.loads(request.form()["payload"][0]) for request in meta.requests]
    finally:
        meta.close()
    assert report.status == "success" and report.sent == 2
    # bob (keys sort ann first): his row carries only the email, no blank or hashed-empty phone.
    assert [upload["schema"] for upload in uploads] == [["EMAIL", "PHONE"], ["EMAIL"]]
    assert len(uploads[1]["data"][0]) == 1


def test_on_null_names_a_mapped_field(tmp_path) -> None:
    spec = {
        **SYNC,
        "destination": "hook",
        "fields": {"email": "email"},
        "on_null": {"phon": "clear"},
    }
    hook = {"kind": "webhook", "config": {"url_env": "U", "signing_secret_env": "S"}}
    paths = write_project(tmp_path / "project", {}, {"hook": hook}, {"people": spec})
    issues = [str(i) for i in load_project(paths).issues if i.field.startswith("on_null")]
    assert len(issues) == 1 and "'phon' is not one of the sync's fields (email)" in issues[0]
