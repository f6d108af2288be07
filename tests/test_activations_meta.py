"""Meta Custom Audiences against the loopback Graph API: warehouse rows in, exact requests out."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest
from activation_vendors import VendorProject

from activations.delivery import RetryPolicy
from activations.dry_run import dry_run_sync
from activations.pii import sha256_hex
from activations.standins.base import Failure
from activations.standins.meta import MetaStandIn
from activations.testing import SAMPLE_AS_OF, SampleWarehouse
from waymark.cli.main import main
from waymark.core.instants import format_instant

TOKEN = "EAAG-meta-system-user-token-5d1f"
AUDIENCE = "23850000000000001"
# sha256 of the normalised values (Meta: email trimmed and lower-cased; phone as digits with
# the country code, the documented "(657) 777-0000" in the US being 16577770000).
ANN_EMAIL = "c9556853d9f4efa243a062fed91566563d0c1d1385a4ef117671a3ac1bfbab40"
BOB_EMAIL = "686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615"
CAT_EMAIL = "c7b7b300ba59fc670e9f7cb90a794ba8c1d6a9e3683719cc6488dc4e8361d560"
ANN_PHONE = "8d7bdaaf75196f351d22942fc0dd79304ffabc3eaf3339460ef9da0773e3aec2"


@pytest.fixture
def meta():
    server = MetaStandIn(TOKEN, [AUDIENCE])
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def make_project(
    tmp_path: Path, warehouse, meta: MetaStandIn, timeout_seconds: float = 10.0, **sync: object
) -> VendorProject:
    """A Meta audience sync against the stand-in. The timeout is generous unless a test makes
    the stand-in slow on purpose: a 10,000-user request on a busy machine can take a second."""
    spec = {
        "type": "audience",
        "model": "audiences.members",
        "destination": "meta_ads",
        "mode": "mirror",
        "key": "customer_id",
        "fields": {"email": "customer.email", "phone": "customer.phone"},
        "purpose": "ads_personalisation",
        "settings": {"audience_id": AUDIENCE},
        **sync,
    }
    return VendorProject(
        tmp_path / "project",
        warehouse,
        {"meta_ads": {"kind": "meta", "channel": "ads", "env": ["META_ACCESS_TOKEN"]}},
        {
            "meta_ads": {
                "config": {
                    "access_token_env": "META_ACCESS_TOKEN",
                    "base_url": meta.url,
                    "timeout_seconds": timeout_seconds,
                    "audiences": {"waymark_winback_high_value": AUDIENCE},
                }
            }
        },
        {"members_meta": spec},
        {"META_ACCESS_TOKEN": TOKEN},
    )


def body(request) -> tuple[dict, dict]:
    form = request.form()
    return json.loads(form["payload"][0]), json.loads(form["session"][0])


def member(**hashes: str) -> frozenset:
    return frozenset(hashes.items())


def test_golden_upload_hashes_normalised_identifiers(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann", email="  Ann.Lee@Example.ORG ", phone="(657) 777-0000")
    warehouse.customer("bob")
    warehouse.customer("cat")
    warehouse.members(["ann", "bob", "cat"])
    project = make_project(tmp_path, warehouse, meta)
    report = project.run("members_meta")
    assert (report.status, report.sent, report.planned_creates) == ("success", 3, 3)

    [request] = meta.requests
    assert (request.method, request.path) == ("POST", f"/v23.0/{AUDIENCE}/users")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert "access_token" not in request.form()  # the token travels in the header only
    payload, session = body(request)
    assert payload == {
        "schema": ["EMAIL", "PHONE"],
        "data": [[ANN_EMAIL, ANN_PHONE], [BOB_EMAIL, ""], [CAT_EMAIL, ""]],
    }
    assert session["batch_seq"] == 1 and session["last_batch_flag"] is True
    assert session["estimated_num_total"] == 3 and isinstance(session["session_id"], int)
    assert meta.audience() == {
        member(EMAIL=ANN_EMAIL, PHONE=ANN_PHONE),
        member(EMAIL=BOB_EMAIL),
        member(EMAIL=CAT_EMAIL),
    }
    assert project.run_row(report.run_id)["status"] == "success"
    assert project.changelog() == [(k, "upsert", "sent", None, None) for k in ("ann", "bob", "cat")]
    kept = warehouse.execute(
        "select delivered_payload from activations.sync_state where record_key = 'ann'"
    )
    assert json.loads(kept[0][0]) == {"email": ANN_EMAIL, "phone": ANN_PHONE}

    # Unchanged rows cost no request; the run does not even connect.
    again = project.run("members_meta")
    assert (again.requests, again.unchanged, len(meta.requests)) == (0, 3, 1)


def test_mirror_keeps_the_audience_equal_to_the_model(tmp_path, warehouse, meta) -> None:
    for name in ("ann", "bob", "cat", "dan", "eve"):
        warehouse.customer(name)
    project = make_project(tmp_path, warehouse, meta)

    def expected() -> set:
        rows = warehouse.execute(
            "select email, phone from audiences.members join marts.customers using "
            "(customer_id) where ads_personalisation_consent = 'granted'"
        )
        held = set()
        for email, phone in rows:
            hashes = {"EMAIL": sha256_hex(email.strip().lower())}
            if phone:
                hashes["PHONE"] = sha256_hex("1" + "".join(c for c in phone if c.isdigit()))
            held.add(frozenset(hashes.items()))
        return held

    steps = [
        lambda: warehouse.members(["ann", "bob", "cat"]),
        lambda: warehouse.members(["bob", "cat", "dan"]),  # ann leaves, dan joins
        lambda: warehouse.customer("bob", email="bob@new.example.org"),  # changed identifiers
        lambda: warehouse.customer("cat", phone="(657) 777-0001"),
        lambda: warehouse.customer("dan", ads_personalisation_consent="revoked"),
        lambda: warehouse.members(["bob", "cat", "dan", "eve", "ann"]),
        lambda: warehouse.customer("dan", ads_personalisation_consent="granted"),
        lambda: warehouse.members([]),
        lambda: warehouse.members(["eve"]),
    ]
    for step in steps:
        step()
        report = project.run("members_meta")
        assert report.status == "success", report.summary()
        assert meta.audience() == expected()
    deletes = [r for r in meta.requests if r.method == "DELETE"]
    assert deletes, "removals went out as DELETE /users"
    removal, _ = body(deletes[0])
    assert removal == {"schema": ["EMAIL"], "data": [[sha256_hex("ann@example.org")]]}


def test_more_than_10000_users_is_one_session_of_several_batches(tmp_path, warehouse, meta):
    warehouse.execute(
        "insert into marts.customers (customer_id, email, ads_personalisation_consent) "
        "select 'c' || i, 'c' || i || '@example.org', 'granted' from range(20001) t(i)"
    )
    warehouse.execute("insert into audiences.members select customer_id, 1 from marts.customers")
    project = make_project(tmp_path, warehouse, meta)
    report = project.run("members_meta")
    assert (report.status, report.sent) == ("success", 20001)
    sessions = [body(request)[1] for request in meta.requests]
    assert [len(body(r)[0]["data"]) for r in meta.requests] == [10000, 10000, 1]
    assert [s["batch_seq"] for s in sessions] == [1, 2, 3]
    assert [s["last_batch_flag"] for s in sessions] == [False, False, True]
    assert {s["session_id"] for s in sessions} == {sessions[0]["session_id"]}
    assert {s["estimated_num_total"] for s in sessions} == {20001}
    assert len(meta.audience()) == 20001


def test_a_refused_token_fails_the_run_without_charging_rows(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, meta)
    project.env["META_ACCESS_TOKEN"] = "EAAG-expired-token"
    report = project.run("members_meta")
    assert report.status == "failed" and report.rejected == 0
    assert "code 190" in report.error and "Invalid OAuth access token" in report.error
    assert project.run_row(report.run_id)["status"] == "failed"
    project.env["META_ACCESS_TOKEN"] = TOKEN
    retried = project.run("members_meta")  # the operation left in flight is replayed
    assert (retried.status, retried.replayed, retried.sent) == ("success", 1, 1)
    assert meta.audience() == {member(EMAIL=sha256_hex("ann@example.org"))}


def test_invalid_entries_are_rejected_per_row_with_metas_reason(tmp_path, warehouse, meta):
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    warehouse.members(["ann", "bob", "cat"])
    meta.invalid_values[BOB_EMAIL] = "the hashed email matches no policy-compliant user"
    project = make_project(tmp_path, warehouse, meta, give_up_after_runs=2)
    report = project.run("members_meta")
    assert (report.status, report.sent, report.rejected) == ("partial", 2, 1)
    assert (
        "bob",
        "upsert",
        "rejected",
        "invalid_entry",
        "Meta counted the entry invalid: the hashed email matches no policy-compliant user",
    ) in project.changelog()
    assert project.run("members_meta").given_up == 1
    assert project.state("bob")[0] == "given_up"


def test_whole_request_refusal_rejects_its_rows_with_code_and_subcode(tmp_path, warehouse, meta):
    warehouse.customer("ann")
    warehouse.members(["ann"])
    meta.fail_next(MetaStandIn.error(400, 100, "Invalid parameter", subcode=1713230))
    project = make_project(tmp_path, warehouse, meta)
    report = project.run("members_meta")
    assert (report.status, report.rejected) == ("failed", 1)
    [(key, _, result, code, message)] = project.changelog()
    assert (key, result, code) == ("ann", "rejected", "100/1713230")
    assert message.startswith("Invalid parameter [fbtrace_id ")


def test_throttling_waits_the_regain_time_then_retries(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    meta.fail_next(MetaStandIn.throttled(minutes=2))
    project = make_project(tmp_path, warehouse, meta)
    report = project.run("members_meta", RetryPolicy(base_delay=0.0, max_wait=300))
    assert (report.status, report.request_retries) == ("success", 1)
    assert project.sleeps[0] >= 120
    assert len(meta.requests) == 2 and len(meta.audience()) == 1

    # A wait longer than the run may block leaves the row for the next run.
    warehouse.customer("bob")
    warehouse.members(["ann", "bob"])
    meta.fail_next(MetaStandIn.throttled(minutes=30, code=17))
    deferred = project.run("members_meta")
    assert (deferred.status, deferred.retried) == ("failed", 1)
    assert project.changelog(deferred.run_id)[0][2:4] == ("retry", "17")
    assert project.run("members_meta").sent == 1


def test_5xx_and_timeouts_are_retried(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    meta.fail_next(
        Failure(
            500,
            {
                "error": {
                    "message": "An unknown error occurred",
                    "type": "OAuthException",
                    "code": 1,
                    "fbtrace_id": "A1",
                }
            },
        ),
        Failure(delay=1.0),
    )
    project = make_project(tmp_path, warehouse, meta, timeout_seconds=0.5)
    report = project.run("members_meta")
    assert (report.status, report.request_retries, report.ambiguous) == ("success", 2, 0)
    assert len(meta.requests) == 3 and len(meta.audience()) == 1

    warehouse.customer("bob")
    warehouse.members(["ann", "bob"])
    meta.fail_next(Failure(503, "<html>Service Unavailable</html>"))
    failed = project.run("members_meta", RetryPolicy(max_attempts=1))
    assert failed.status == "failed" and project.state("bob")[:2] == ("retrying", "http_503")
    assert project.run("members_meta").sent == 1


def test_journey_send_adds_the_customer_to_the_named_audience(tmp_path, warehouse, meta):
    warehouse.customer("ann", email="Ann.Lee@example.org", phone="(657) 777-0000")
    payload = {
        "audience": "waymark_winback_high_value",
        "email": " Ann.Lee@example.org",
        "phone": "(657) 777-0000",
        "country": "",
    }
    warehouse.outbox(
        "high_value_winback:i1:ads",
        "ann",
        "meta_ads",
        channel="ads",
        template="winback_ads_audience",
        purpose="ads_personalisation",
        payload=payload,
    )
    warehouse.outbox(
        "high_value_winback:i2:ads",
        "ann",
        "meta_ads",
        channel="ads",
        template="winback_ads_audience",
        purpose="ads_personalisation",
        payload={**payload, "audience": "unknown_audience"},
    )
    project = make_project(tmp_path, warehouse, meta)
    [report] = project.send()
    assert (report.status, report.sent, report.rejected) == ("partial", 1, 1)
    [request] = meta.requests
    assert body(request)[0] == {"schema": ["EMAIL", "PHONE"], "data": [[ANN_EMAIL, ANN_PHONE]]}
    states = dict(warehouse.execute("select idempotency_key, state from journeys.journey_outbox"))
    assert states == {"high_value_winback:i1:ads": "sent", "high_value_winback:i2:ads": "failed"}


def test_dry_run_shows_hashed_requests_and_needs_no_token(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann", email="Ann.Lee@Example.org")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, meta)
    project.env.clear()
    text = dry_run_sync(warehouse.path, project.project().valid()["members_meta"], SAMPLE_AS_OF)
    assert ANN_EMAIL in text and '"method": "POST"' in text and "Ann.Lee" not in text
    assert meta.requests == []


def test_secrets_appear_in_no_output_log_or_file(
    tmp_path, warehouse, meta, capsys, monkeypatch
) -> None:
    warehouse.customer("ann")
    warehouse.customer("bob")
    warehouse.members(["ann", "bob"])
    project = make_project(tmp_path, warehouse, meta)
    meta.fail_next(MetaStandIn.error(400, 100, f"Invalid parameter near token {TOKEN}"))
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
    monkeypatch.setenv("META_ACCESS_TOKEN", TOKEN)
    codes = [
        main(["sync", "members_meta", "--dry-run", *common]),
        main(["sync", "members_meta", *common]),
    ]
    assert codes == [0, 1]
    printed = capsys.readouterr()
    texts = [printed.out, printed.err, *(p.read_text() for p in tmp_path.rglob("*.yml"))]
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table in ("sync_state", "sync_runs", "sync_changelog"):
            texts.append(repr(con.execute(f"select * from activations.{table}").fetchall()))
    everything = "\n".join(texts)
    assert TOKEN not in everything
    assert "Invalid parameter near token [redacted]" in everything


def test_dry_run_shows_the_destination_audience(tmp_path, warehouse, meta) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, meta)
    text = dry_run_sync(warehouse.path, project.project().valid()["members_meta"], SAMPLE_AS_OF)
    assert text.splitlines()[1] == f"writes Custom Audience {AUDIENCE} (waymark_winback_high_value)"
