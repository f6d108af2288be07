"""Syncs and journey Tasks into a Salesforce stand-in on loopback: exact requests out, every
per-record error logged with Salesforce's code, token refresh, and consent."""

from __future__ import annotations

import http.client
import json
import random
from pathlib import Path
from urllib.parse import parse_qs, urlencode

import pytest

from activations.delivery import RetryPolicy
from activations.destinations.salesforce.config import SalesforceSyncSettings
from activations.destinations.salesforce.mapping import (
    MAX_QUERY_URI,
    lookup_query,
    query_chunks,
    wire_value,
)
from activations.dry_run import dry_run_sync
from activations.runner import RunOptions, run_sync
from activations.secrets import Secrets
from activations.sends import deliver_sends
from activations.standins.base import Failure
from activations.standins.salesforce import SalesforceStandIn
from activations.sync_files import load_project
from activations.testing import SAMPLE_AS_OF, SampleWarehouse, write_project
from waymark.core import crash
from waymark.core.instants import format_instant

CLIENT_ID, CLIENT_SECRET = "3MVG9-test-consumer-key-71", "consumer-secret-5d2f9a"
REFRESH_TOKEN = "5Aep-refresh-token-c81e"
API = "/services/data/v62.0"
CONTACTS = f"{API}/composite/sobjects/Contact/Waymark_Customer_Id__c"
EXTERNAL_ID = "Waymark_Customer_Id__c"
AUDIENCE_SETTINGS = {
    "sobject": "Contact",
    "external_id_field": EXTERNAL_ID,
    "fields": {"last_name": "LastName"},
}


@pytest.fixture
def org():
    server = SalesforceStandIn(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN
    )
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def project(tmp_path: Path, org: SalesforceStandIn, mode: str = "upsert", **spec):
    sync = {
        "type": "object",
        "model": "marts.customers",
        "destination": "crm_sf",
        "mode": mode,
        "key": "customer_id",
        "fields": {"email": "email", "last_name": "first_name", "stage": "lifecycle_stage"},
        "purpose": "transactional",
        "settings": {
            "sobject": "Contact",
            "external_id_field": EXTERNAL_ID,
            "fields": {"last_name": "LastName", "stage": "Waymark_Stage__c"},
            "op_id_field": "Waymark_Op_Id__c",
        },
        **spec,
    }
    config = {
        "login_url": org.url,
        "client_id_env": "SF_CLIENT_ID",
        "client_secret_env": "SF_CLIENT_SECRET",
        "refresh_token_env": "SF_REFRESH_TOKEN",
        "timeout_seconds": 0.5,
    }
    env = ["SF_CLIENT_ID", "SF_CLIENT_SECRET", "SF_REFRESH_TOKEN"]
    paths = write_project(
        tmp_path / "project",
        {"crm_sf": {"kind": "salesforce", "channel": "crm", "env": env}},
        {"crm_sf": {"config": config}},
        {"contacts": sync},
    )
    loaded = load_project(paths)
    assert not loaded.issues, loaded.issues
    return loaded


ENV = {
    "SF_CLIENT_ID": CLIENT_ID,
    "SF_CLIENT_SECRET": CLIENT_SECRET,
    "SF_REFRESH_TOKEN": REFRESH_TOKEN,
}


def options(sleeps: list | None = None, attempts: int = 3) -> RunOptions:
    return RunOptions(
        as_of=SAMPLE_AS_OF,
        secrets=Secrets(ENV),
        sleep=(sleeps.append if sleeps is not None else lambda _: None),
        rng=random.Random(5),
        policy=RetryPolicy(max_attempts=attempts, base_delay=0.0),
    )


def sync(warehouse, loaded, **kwargs):
    return run_sync(warehouse.path, loaded.valid()["contacts"], options(**kwargs))


def changelog(warehouse) -> list[tuple]:
    return warehouse.execute(
        "select record_key, operation, result, error_code, error_message from "
        "activations.sync_changelog order by recorded_at, record_key"
    )


def op_ids(warehouse) -> dict[str, str]:
    return dict(warehouse.execute("select record_key, op_id from activations.sync_changelog"))


def api_calls(org) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in org.requests]


def test_upsert_sends_one_collection_request_after_a_token_refresh(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("bob", lifecycle_stage="customer")
    loaded = project(tmp_path, org)
    report = sync(warehouse, loaded)
    assert (report.status, report.sent, report.requests) == ("success", 2, 1)
    token, upsert = org.requests
    assert (token.method, token.path) == ("POST", "/services/oauth2/token")
    assert token.headers["content-type"] == "application/x-www-form-urlencoded"
    assert parse_qs(token.body.decode()) == {
        "grant_type": ["refresh_token"],
        "client_id": [CLIENT_ID],
        "client_secret": [CLIENT_SECRET],
        "refresh_token": [REFRESH_TOKEN],
    }
    assert (upsert.method, upsert.path) == ("PATCH", CONTACTS)
    assert upsert.headers["authorization"] == "Bearer 00Dstandin!AQ00000001"
    assert upsert.headers["content-type"] == "application/json"
    ids = op_ids(warehouse)
    assert upsert.json() == {
        "allOrNone": False,
        "records": [
            {
                "attributes": {"type": "Contact"},
                EXTERNAL_ID: key,
                "email": f"{key}@example.org",
                "LastName": key.title(),
                "Waymark_Stage__c": stage,
                "Waymark_Op_Id__c": ids[key],
            }
            for key, stage in (("ann", "lead"), ("bob", "customer"))
        ],
    }
    held = org.by_external_id("Contact", EXTERNAL_ID)
    assert held["bob"]["Email"] == "bob@example.org" and held["bob"]["LastName"] == "Bob"

    again = sync(warehouse, loaded)
    assert (again.requests, again.unchanged, len(org.requests)) == (0, 2, 2)  # not even a token
    warehouse.customer("bob", lifecycle_stage="vip")
    changed = sync(warehouse, loaded)
    assert changed.sent == 1 and org.requests[-1].json()["records"][0][EXTERNAL_ID] == "bob"
    assert org.by_external_id("Contact", EXTERNAL_ID)["bob"]["Waymark_Stage__c"] == "vip"
    state = warehouse.execute("select status, count(*) from activations.sync_state group by 1")
    assert state == [("delivered", 2)]


def test_per_record_errors_are_logged_with_salesforce_codes(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("bad", email="not-an-address")
    warehouse.customer("nameless", first_name=None)
    warehouse.customer("vetoed")
    rule = ("FIELD_CUSTOM_VALIDATION_EXCEPTION", "Stage must be approved", ["Waymark_Stage__c"])
    org.org.reject[("Contact", "vetoed")] = rule
    report = sync(warehouse, project(tmp_path, org, give_up_after_runs=2))
    assert (report.status, report.sent, report.rejected, report.requests) == ("partial", 1, 3, 1)
    assert [r for r in changelog(warehouse) if r[2] == "rejected"] == [
        ("bad", "upsert", "rejected", "INVALID_EMAIL_ADDRESS",
         "Email: invalid email address: not-an-address (fields: Email)"),
        ("nameless", "upsert", "rejected", "REQUIRED_FIELD_MISSING",
         "Required fields are missing: [LastName] (fields: LastName)"),
        ("vetoed", "upsert", "rejected", "FIELD_CUSTOM_VALIDATION_EXCEPTION",
         "Stage must be approved (fields: Waymark_Stage__c)"),
    ]  # fmt: skip
    assert set(org.by_external_id("Contact", EXTERNAL_ID)) == {"ann"}
    runs = warehouse.execute("select status, sent, rejected from activations.sync_runs")
    assert runs == [("partial", 1, 3)]


def test_an_expired_session_is_refreshed_once_mid_run(tmp_path, warehouse, org):
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    loaded = project(tmp_path, org, batch_size=1)
    expired = []

    def expire_after_first_write(point: str) -> None:
        if point == "salesforce.after_request" and not expired:
            expired.append(point)
            org.expire_sessions()

    with crash.installed(expire_after_first_write):
        report = sync(warehouse, loaded)
    assert (report.status, report.sent) == ("success", 3)
    assert api_calls(org) == [
        ("POST", "/services/oauth2/token"),
        ("PATCH", CONTACTS),
        ("PATCH", CONTACTS),  # 401 INVALID_SESSION_ID
        ("POST", "/services/oauth2/token"),
        ("PATCH", CONTACTS),
        ("PATCH", CONTACTS),
    ]
    assert org.requests[3].headers.get("authorization") is None
    assert org.requests[4].headers["authorization"] == "Bearer 00Dstandin!AQ00000002"
    assert org.token_requests == 2 and len(org.by_external_id("Contact", EXTERNAL_ID)) == 3


def test_a_refused_refresh_fails_the_run_without_charging_rows(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("bob")
    loaded = project(tmp_path, org)
    org.refresh_refused = True
    report = sync(warehouse, loaded)
    assert report.status == "failed" and report.rejected == report.retried == 0
    assert "invalid_grant: expired access/refresh token" in report.error
    assert changelog(warehouse) == []
    inflight = warehouse.execute(
        "select count(*) from activations.sync_state where inflight_op_id is not null"
    )
    assert inflight == [(2,)] and api_calls(org) == [("POST", "/services/oauth2/token")]

    org.refresh_refused = False
    healed = sync(warehouse, loaded)
    assert (healed.status, healed.replayed, healed.sent) == ("success", 2, 2)
    assert set(org.by_external_id("Contact", EXTERNAL_ID)) == {"ann", "bob"}


def test_429_with_retry_after_then_success(tmp_path, warehouse, org):
    warehouse.customer("ann")
    loaded = project(tmp_path, org)
    busy = [{"message": "Too many concurrent requests", "errorCode": "TOO_MANY_REQUESTS"}]
    org.fail_next(Failure(429, busy, {"Retry-After": "7"}))
    sleeps: list[float] = []
    report = sync(warehouse, loaded, sleeps=sleeps)
    assert (report.status, report.request_retries) == ("success", 1) and sleeps[0] >= 7
    assert warehouse.execute("select attempts from activations.sync_changelog") == [(2,)]


def test_5xx_and_daily_limit_leave_rows_for_the_next_run(tmp_path, warehouse, org):
    warehouse.customer("ann")
    loaded = project(tmp_path, org)
    down = [{"message": "Server unavailable", "errorCode": "SERVER_UNAVAILABLE"}]
    org.fail_next(Failure(503, down))
    first = sync(warehouse, loaded, attempts=1)
    assert (first.status, first.retried) == ("failed", 1)
    assert changelog(warehouse)[0][2:] == (
        "retry",
        "SERVER_UNAVAILABLE",
        "HTTP 503: Server unavailable",
    )

    org.api_request_limit = org.api_requests  # the org's 24-hour allocation is spent
    second = sync(warehouse, loaded)
    assert (second.status, second.retried, second.request_retries) == ("failed", 1, 0)
    assert changelog(warehouse)[-1][2:4] == ("retry", "REQUEST_LIMIT_EXCEEDED")

    org.api_request_limit = None
    assert sync(warehouse, loaded).sent == 1


def test_a_timeout_after_the_upsert_took_effect_is_replayed_without_a_duplicate(
    tmp_path, warehouse, org
):
    warehouse.customer("ann")
    warehouse.customer("bob")
    loaded = project(tmp_path, org)
    # Salesforce applies the upsert, but its answer never arrives within the 0.5 s timeout.
    org.fail_next(Failure(504, delay=0.8, applied=True))
    report = sync(warehouse, loaded)
    assert (report.status, report.sent, report.request_retries) == ("success", 2, 1)
    contacts = org.of_type("Contact")
    assert sorted(c[EXTERNAL_ID] for c in contacts) == ["ann", "bob"]
    actions = [action for action, _, _ in org.org.history]
    assert actions == ["created", "created", "unchanged", "unchanged"]


def test_a_locked_row_is_retried_while_its_batch_mates_are_done(tmp_path, warehouse, org):
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    org.org.lock_once.add(("Contact", "bob"))
    report = sync(warehouse, project(tmp_path, org))
    assert (report.status, report.sent, report.request_retries) == ("success", 3, 1)
    second_try = org.requests[-1].json()["records"]
    assert [record[EXTERNAL_ID] for record in second_try] == ["bob"]
    attempts = dict(
        warehouse.execute("select record_key, attempts from activations.sync_changelog")
    )
    assert attempts == {"ann": 1, "bob": 2, "cat": 1}


def test_mirror_removes_by_id_after_a_lookup(tmp_path, warehouse, org):
    for name in ("ann", "bob", "o'hara"):
        warehouse.customer(name)
    warehouse.members(["ann", "bob", "o'hara"])
    spec = {
        "type": "audience",
        "model": "audiences.members",
        "fields": {"email": "customer.email", "last_name": "customer.first_name"},
        "purpose": "email_marketing",
        "settings": AUDIENCE_SETTINGS,
    }
    loaded = project(tmp_path, org, mode="mirror", **spec)
    assert sync(warehouse, loaded).sent == 3
    held = org.by_external_id("Contact", EXTERNAL_ID)
    warehouse.members(["ann"])
    org.requests.clear()
    report = sync(warehouse, loaded)
    assert (report.status, report.planned_removes, report.requests) == ("success", 2, 1)
    token, lookup, delete = org.requests
    assert (lookup.method, lookup.path) == ("GET", f"{API}/query")
    assert lookup.query["q"] == [
        f"SELECT Id, {EXTERNAL_ID} FROM Contact WHERE {EXTERNAL_ID} IN ('bob', 'o\\'hara')"
    ]
    assert (delete.method, delete.path) == ("DELETE", f"{API}/composite/sobjects")
    removed = ",".join(held[key]["Id"] for key in ("bob", "o'hara"))
    assert delete.query == {"ids": [removed], "allOrNone": ["false"]}
    assert set(org.by_external_id("Contact", EXTERNAL_ID)) == {"ann"}
    # A record already deleted at Salesforce (by hand) counts as removed.
    warehouse.members([])
    org.org.delete([org.by_external_id("Contact", EXTERNAL_ID)["ann"]["Id"]])
    assert sync(warehouse, loaded).status == "success"


def test_update_only_looks_up_ids_and_refuses_missing_records(tmp_path, warehouse, org):
    warehouse.customer("ann")
    assert sync(warehouse, project(tmp_path / "seed", org)).sent == 1
    ann_id = org.by_external_id("Contact", EXTERNAL_ID)["ann"]["Id"]
    warehouse.execute("delete from activations.sync_state")
    warehouse.customer("ann", lifecycle_stage="customer")
    warehouse.customer("zed")
    org.requests.clear()
    report = sync(warehouse, project(tmp_path / "update", org, mode="update_only"))
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 1)
    update = org.requests[-1]
    assert (update.method, update.path) == ("PATCH", f"{API}/composite/sobjects")
    [record] = update.json()["records"]
    assert record["Id"] == ann_id and EXTERNAL_ID not in record
    assert changelog(warehouse)[-1][1:] == (
        "update", "rejected", "not_found", f"no Contact has {EXTERNAL_ID} 'zed'"
    )  # fmt: skip
    assert set(org.by_external_id("Contact", EXTERNAL_ID)) == {"ann"}


def test_add_only_creates_and_leaves_existing_records_alone(tmp_path, warehouse, org):
    warehouse.customer("ann")
    assert sync(warehouse, project(tmp_path / "seed", org)).sent == 1
    warehouse.execute("delete from activations.sync_state")
    warehouse.customer("ann", lifecycle_stage="customer")
    warehouse.customer("bob")
    report = sync(warehouse, project(tmp_path / "add", org, mode="add_only"))
    assert (report.status, report.sent) == ("success", 2)
    assert org.requests[-1].method == "POST"
    held = org.by_external_id("Contact", EXTERNAL_ID)
    assert held["ann"]["Waymark_Stage__c"] == "lead" and "bob" in held


def test_consent_drops_never_reach_salesforce(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("denied", email_marketing_consent="denied")
    warehouse.customer("bounced")
    warehouse.engagement("email", "bounced@example.org", "bounced", "hard")
    loaded = project(tmp_path, org, purpose="email_marketing")
    report = sync(warehouse, loaded)
    assert (report.status, report.sent, report.dropped) == ("success", 1, 2)
    assert set(org.by_external_id("Contact", EXTERNAL_ID)) == {"ann"}
    everything = b" ".join(request.body + request.path.encode() for request in org.requests)
    assert b"denied" not in everything and b"bounced" not in everything


def test_journey_tasks_upsert_by_idempotency_key(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("zed")
    loaded = project(tmp_path, org)
    sync(warehouse, loaded)  # ann and zed become Contacts
    org.org.delete([org.by_external_id("Contact", EXTERNAL_ID)["zed"]["Id"]])
    task = {
        "object": "task",
        "associated_contact_email": "ann@example.org",
        "subject": "Call engaged lead Ann",
        "body": "5 visits in 30 days, no order yet.",
        "priority": "MEDIUM",
        "waymark_journey": "lead_nurture",
    }
    crm = {"channel": "crm", "purpose": "transactional"}
    for key, customer in (
        ("lead_nurture:i1:sales_task", "ann"),
        ("lead_nurture:i2:sales_task", "zed"),
    ):
        payload = {**task, "subject": f"Call {customer}"}
        warehouse.outbox(
            key, customer, "crm_sf", template="lead_sales_task", payload=payload, **crm
        )
    deal = {"object": "deal"}
    warehouse.outbox(
        "csat:i3:escalate", "ann", "crm_sf", template="escalation", payload=deal, **crm
    )
    [report] = deliver_sends(warehouse.path, loaded.destinations, options())
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 2)
    request = org.requests[-1]
    assert (request.method, request.path) == (
        "PATCH", f"{API}/composite/sobjects/Task/Waymark_Op_Id__c"
    )  # fmt: skip
    who = {"attributes": {"type": "Contact"}, EXTERNAL_ID: "ann"}
    assert request.json()["records"][0] == {
        "attributes": {"type": "Task"},
        "Waymark_Op_Id__c": "lead_nurture:i1:sales_task",
        "Subject": "Call ann",
        "Description": "5 visits in 30 days, no order yet.",
        "Priority": "Normal",
        "Status": "Not Started",
        "Who": who,
    }
    [held] = org.of_type("Task")
    assert held["WhoId"] == org.by_external_id("Contact", EXTERNAL_ID)["ann"]["Id"]
    logged = dict(
        (row[0], row[3:])
        for row in warehouse.execute(
            "select record_key, operation, result, error_code, error_message "
            "from activations.sync_changelog where sync_name = 'sends:crm_sf'"
        )
    )
    assert logged["lead_nurture:i2:sales_task"] == (
        "INVALID_FIELD",
        f"Foreign key external ID: zed not found for field {EXTERNAL_ID} in entity Contact",
    )
    assert logged["csat:i3:escalate"] == (
        "invalid_task",
        "Salesforce takes Task payloads, not 'deal'",
    )
    outbox = dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))
    assert sorted(outbox.values()) == ["failed", "failed", "sent"]


def test_secrets_and_tokens_stay_out_of_the_logs(tmp_path, warehouse, org):
    warehouse.customer("ann")
    warehouse.customer("bob")
    echo = ("INSUFFICIENT_ACCESS", f"token 00Dstandin!AQ00000001 and {CLIENT_SECRET} refused", [])
    org.org.reject[("Contact", "bob")] = echo
    loaded = project(tmp_path, org)
    sync(warehouse, loaded)
    tables = ("sync_state", "sync_runs", "sync_changelog")
    rows = [warehouse.execute(f"select * from activations.{table}") for table in tables]
    dump = json.dumps(rows, default=str)
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, "00Dstandin!AQ00000001"):
        assert secret not in dump
    assert "token [redacted] and [redacted] refused" in dump


def test_a_rename_of_a_field_the_sync_lacks_fails_before_sending(tmp_path, warehouse, org):
    warehouse.customer("ann")
    settings = {**AUDIENCE_SETTINGS, "fields": {"last_name": "LastName", "tier": "Tier__c"}}
    report = sync(warehouse, project(tmp_path, org, settings=settings))
    assert report.status == "failed" and org.requests == []
    assert "settings.fields renames tier, which the sync does not send" in report.error


def test_dry_run_shows_the_requests_and_sends_nothing(tmp_path, warehouse, org):
    warehouse.customer("ann")
    text = dry_run_sync(warehouse.path, project(tmp_path, org).valid()["contacts"], SAMPLE_AS_OF)
    assert org.requests == []
    assert f'"path": "{CONTACTS}"' in text and '"LastName": "A***"' in text and "Ann" not in text
    assert '"email": "a***@***.org"' in text and "ann@example.org" not in text


def test_query_results_are_followed_across_pages(tmp_path, warehouse):
    org = SalesforceStandIn(
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN,
        query_page_size=1,
    )  # fmt: skip
    try:
        for name in ("ann", "bob", "cat"):
            warehouse.customer(name)
        warehouse.members(["ann", "bob", "cat"])
        fields = {"email": "customer.email", "last_name": "customer.first_name"}
        spec = {"type": "audience", "model": "audiences.members", "fields": fields,
                "settings": AUDIENCE_SETTINGS}  # fmt: skip
        loaded = project(tmp_path, org, mode="mirror", **spec)
        sync(warehouse, loaded)
        warehouse.members([])
        report = sync(warehouse, loaded)
        assert (report.status, report.planned_removes) == ("success", 3)
        pages = [r.path for r in org.requests if r.path.startswith(f"{API}/query/")]
        assert len(pages) == 2 and org.of_type("Contact") == []
    finally:
        org.close()


def test_cli_output_names_variables_never_values(tmp_path, warehouse, org, monkeypatch, capsys):
    from waymark.cli.main import main

    warehouse.customer("ann")
    project(tmp_path, org)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    common = ["--warehouse", str(warehouse.path), "--as-of", format_instant(SAMPLE_AS_OF)]
    common += ["--syncs", str(tmp_path / "project" / "syncs")]
    common += ["--destinations", str(tmp_path / "project" / "destinations.yml")]
    org.refresh_refused = True
    codes = [main(["sync", "contacts", "--dry-run", *common]), main(["sync", "contacts", *common])]
    org.refresh_refused = False
    codes.append(main(["sync", "contacts", *common]))
    assert codes == [0, 1, 0]
    printed = capsys.readouterr()
    text = printed.out + printed.err
    assert "invalid_grant" in text and "1 replayed" in text
    for secret in (CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, "00Dstandin!AQ"):
        assert secret not in text


def test_timestamps_become_iso_8601_utc_and_long_lookups_are_split():
    assert wire_value("2026-06-01 10:00:00", "TIMESTAMP") == "2026-06-01T10:00:00.000Z"
    assert wire_value("2026-06-01 12:00:00+02", "TIMESTAMP WITH TIME ZONE") == (
        "2026-06-01T10:00:00.000Z"
    )
    assert wire_value("2026-06-01", "DATE") == "2026-06-01" and wire_value(3, "INTEGER") == 3
    settings = SalesforceSyncSettings(sobject="Contact", external_id_field=EXTERNAL_ID)
    keys = [f"customer-{n:04d}-{'x' * 80}" for n in range(200)]
    chunks = query_chunks(settings, keys)
    assert len(chunks) > 1 and [key for chunk in chunks for key in chunk] == keys
    assert all(len(urlencode({"q": lookup_query(settings, c)})) <= MAX_QUERY_URI for c in chunks)


def call(org, method: str, path: str, body=None, token: str | None = None, form=None):
    """One raw request to the stand-in: (status, parsed JSON)."""
    connection = http.client.HTTPConnection("127.0.0.1", org.server.server_address[1], timeout=5)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if form is not None:
        data = urlencode(form).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=data, headers=headers)
    response = connection.getresponse()
    payload = response.read()
    connection.close()
    return response.status, json.loads(payload) if payload else None


def test_the_org_enforces_the_collection_contract(org):
    form = {"grant_type": "refresh_token", "client_id": CLIENT_ID, "client_secret": "wrong",
            "refresh_token": REFRESH_TOKEN}  # fmt: skip
    assert call(org, "POST", "/services/oauth2/token", form=form) == (
        400, {"error": "invalid_client", "error_description": "invalid client credentials"}
    )  # fmt: skip
    _, issued = call(
        org, "POST", "/services/oauth2/token", form={**form, "client_secret": CLIENT_SECRET}
    )
    token = issued["access_token"]
    assert issued["instance_url"] == org.url
    contact = {"attributes": {"type": "Contact"}, EXTERNAL_ID: "ann", "LastName": "Lee"}
    bad = {"attributes": {"type": "Contact"}, EXTERNAL_ID: "bob"}  # no LastName
    status, results = call(
        org, "PATCH", CONTACTS, {"allOrNone": True, "records": [contact, bad]}, token
    )
    assert status == 200 and [r["errors"][0]["statusCode"] for r in results] == [
        "ALL_OR_NONE_OPERATION_ROLLED_BACK", "REQUIRED_FIELD_MISSING"
    ]  # fmt: skip
    assert org.of_type("Contact") == []  # rolled back
    too_many = {"allOrNone": False, "records": [contact] * 201}
    assert call(org, "PATCH", CONTACTS, too_many, token)[1][0]["errorCode"] == "EXCEEDED_ID_LIMIT"
    unknown = {"allOrNone": False, "records": [{**contact, "Shoe_Size__c": 9}]}
    status, errors = call(org, "PATCH", CONTACTS, unknown, token)
    assert (status, errors[0]["errorCode"]) == (400, "INVALID_FIELD")
    assert call(org, "PATCH", CONTACTS.replace("v62.0", "v41.0"), too_many, token)[0] == 404
    not_external = f"{API}/composite/sobjects/Contact/Email"
    assert call(org, "PATCH", not_external, unknown, token)[1][0]["errorCode"] == "INVALID_FIELD"
    assert call(org, "PATCH", CONTACTS, {"records": [contact]}, "stale-token")[0] == 401
