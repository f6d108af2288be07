"""Google Ads Customer Match against the loopback Google Ads API: rows in, exact jobs out."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from activation_vendors import VendorProject

from activations.delivery import RetryPolicy
from activations.pii import sha256_hex
from activations.standins.base import Failure
from activations.standins.google_ads import GoogleAdsStandIn
from activations.testing import SAMPLE_AS_OF, SampleWarehouse
from waymark.cli.main import main
from waymark.core.instants import format_instant

CREDENTIALS = {
    "developer_token": "dev-token-8a1c55",
    "client_id": "4242-client.apps.googleusercontent.com",
    "client_secret": "GOCSPX-client-secret-77f0",
    "refresh_token": "1//refresh-token-0c9e",
}
ENV = {
    "GOOGLE_ADS_DEVELOPER_TOKEN": CREDENTIALS["developer_token"],
    "GOOGLE_ADS_CLIENT_ID": CREDENTIALS["client_id"],
    "GOOGLE_ADS_CLIENT_SECRET": CREDENTIALS["client_secret"],
    "GOOGLE_ADS_REFRESH_TOKEN": CREDENTIALS["refresh_token"],
}
USER_LIST = "customers/1234567890/userLists/555"
# Google: email trimmed and lower-cased, phone in E.164, then SHA-256.
ANN_EMAIL = "c9556853d9f4efa243a062fed91566563d0c1d1385a4ef117671a3ac1bfbab40"
ANN_PHONE = sha256_hex("+16577770000")
BOB_EMAIL = "686b5e4cf4f963adf8f51468a48028ef8d15bd02fa335f821279a3d1678c9615"


@pytest.fixture
def google():
    server = GoogleAdsStandIn(**CREDENTIALS, login_customer_id="9876543210")
    yield server
    server.close()


@pytest.fixture
def warehouse(tmp_path: Path) -> SampleWarehouse:
    return SampleWarehouse(tmp_path / "warehouse.duckdb")


def make_project(tmp_path, warehouse, google, **sync) -> VendorProject:
    spec = {
        "type": "audience",
        "model": "audiences.members",
        "destination": "google_ads",
        "mode": "mirror",
        "key": "customer_id",
        "fields": {"email": "customer.email", "phone": "customer.phone"},
        "purpose": "ads_personalisation",
        "settings": {"user_list_id": "555"},
        **sync,
    }
    config = {
        "developer_token_env": "GOOGLE_ADS_DEVELOPER_TOKEN",
        "client_id_env": "GOOGLE_ADS_CLIENT_ID",
        "client_secret_env": "GOOGLE_ADS_CLIENT_SECRET",
        "refresh_token_env": "GOOGLE_ADS_REFRESH_TOKEN",
        "customer_id": "1234567890",
        "login_customer_id": "9876543210",
        "base_url": google.url,
        "token_url": f"{google.url}/token",
        "timeout_seconds": 0.5,
    }
    return VendorProject(
        tmp_path / "project",
        warehouse,
        {"google_ads": {"kind": "google_ads", "channel": "ads", "env": sorted(ENV)}},
        {"google_ads": {"config": config}},
        {"members_google": spec},
        dict(ENV),
    )


def api_calls(google: GoogleAdsStandIn) -> list[tuple[str, str]]:
    return [(r.method, r.path) for r in google.requests]


def test_golden_job_create_add_run(tmp_path, warehouse, google) -> None:
    warehouse.customer("ann", email="  Ann.Lee@Example.ORG ", phone="(657) 777-0000")
    warehouse.customer("bob")
    warehouse.members(["ann", "bob"])
    project = make_project(tmp_path, warehouse, google)
    report = project.run("members_google")
    assert (report.status, report.sent) == ("success", 2)
    assert api_calls(google) == [
        ("POST", "/token"),
        ("POST", "/v23/customers/1234567890/offlineUserDataJobs:create"),
        ("POST", "/v23/customers/1234567890/offlineUserDataJobs/1000:addOperations"),
        ("POST", "/v23/customers/1234567890/offlineUserDataJobs/1000:run"),
    ]
    token, create, add, run = google.requests
    assert token.form() == {
        "grant_type": ["refresh_token"],
        "client_id": [CREDENTIALS["client_id"]],
        "client_secret": [CREDENTIALS["client_secret"]],
        "refresh_token": [CREDENTIALS["refresh_token"]],
    }
    for request in (create, add, run):
        assert request.headers["authorization"].startswith("Bearer ya29.")
        assert request.headers["developer-token"] == CREDENTIALS["developer_token"]
        assert request.headers["login-customer-id"] == "9876543210"
        assert request.headers["content-type"] == "application/json"
    assert create.json() == {
        "job": {
            "type": "CUSTOMER_MATCH_USER_LIST",
            "customerMatchUserListMetadata": {
                "userList": USER_LIST,
                "consent": {"adUserData": "GRANTED", "adPersonalization": "GRANTED"},
            },
        }
    }
    assert add.json() == {
        "enablePartialFailure": True,
        "operations": [
            {
                "create": {
                    "userIdentifiers": [
                        {"hashedEmail": ANN_EMAIL},
                        {"hashedPhoneNumber": ANN_PHONE},
                    ]
                }
            },
            {"create": {"userIdentifiers": [{"hashedEmail": BOB_EMAIL}]}},
        ],
    }
    assert run.json() == {}
    assert project.changelog() == [
        ("ann", "upsert", "sent", None, None),
        ("bob", "upsert", "sent", None, None),
    ]
    assert project.run("members_google").requests == 0  # unchanged: no request at all
    assert len(google.requests) == 4


def test_address_info_carries_hashed_names_and_clear_zip_and_country(tmp_path, warehouse, google):
    warehouse.execute("alter table marts.customers add column last_name varchar")
    warehouse.execute("alter table marts.customers add column zip varchar")
    warehouse.execute("alter table marts.customers add column country varchar")
    warehouse.customer("ann", first_name=" Mary Ann ")
    warehouse.execute(
        "update marts.customers set last_name = 'Lee', zip = '94105-1234', country = 'us'"
    )
    warehouse.members(["ann"])
    fields = {
        "email": "customer.email",
        "first_name": "customer.first_name",
        "last_name": "customer.last_name",
        "zip": "customer.zip",
        "country": "customer.country",
    }
    project = make_project(tmp_path, warehouse, google, fields=fields)
    assert project.run("members_google").status == "success"
    operation = google.requests[2].json()["operations"][0]
    assert operation == {
        "create": {
            "userIdentifiers": [
                {"hashedEmail": sha256_hex("ann@example.org")},
                {
                    "addressInfo": {
                        "hashedFirstName": sha256_hex("maryann"),
                        "hashedLastName": sha256_hex("lee"),
                        "countryCode": "US",
                        "postalCode": "94105",
                    }
                },
            ]
        }
    }


def test_mirror_keeps_the_list_equal_to_the_model(tmp_path, warehouse, google) -> None:
    for name in ("ann", "bob", "cat", "dan"):
        warehouse.customer(name)
    project = make_project(tmp_path, warehouse, google)

    def expected() -> set:
        rows = warehouse.execute(
            "select email from audiences.members join marts.customers using (customer_id) "
            "where ads_personalisation_consent = 'granted'"
        )
        return {frozenset({("hashedEmail", sha256_hex(email))}) for (email,) in rows}

    steps = [
        lambda: warehouse.members(["ann", "bob", "cat"]),
        lambda: warehouse.members(["bob", "cat", "dan"]),
        lambda: warehouse.customer("bob", email="bob@new.example.org"),
        lambda: warehouse.customer("cat", ads_personalisation_consent="denied"),
        lambda: warehouse.members(["ann", "bob", "cat", "dan"]),
        lambda: warehouse.members([]),
    ]
    for step in steps:
        step()
        report = project.run("members_google")
        assert report.status == "success", report.summary()
        assert google.members() == expected()
    changed = [r.json() for r in google.requests if r.path.endswith(":addOperations")][2]
    assert changed["operations"] == [
        {"remove": {"userIdentifiers": [{"hashedEmail": BOB_EMAIL}]}},
        {"create": {"userIdentifiers": [{"hashedEmail": sha256_hex("bob@new.example.org")}]}},
    ]


def test_partial_failure_rejects_exactly_the_refused_rows(tmp_path, warehouse, google) -> None:
    for name in ("ann", "bob", "cat"):
        warehouse.customer(name)
    warehouse.members(["ann", "bob", "cat"])
    google.invalid_hashes.add(BOB_EMAIL)
    project = make_project(tmp_path, warehouse, google)
    report = project.run("members_google")
    assert (report.status, report.sent, report.rejected) == ("partial", 2, 1)
    assert (
        "bob",
        "upsert",
        "rejected",
        "offlineUserDataJobError.INVALID_SHA256_FORMAT",
        "The SHA256 encoded value is malformed.",
    ) in project.changelog()
    assert google.members() == {
        frozenset({("hashedEmail", sha256_hex(f"{n}@example.org"))}) for n in ("ann", "cat")
    }
    assert project.run_row(report.run_id)["rejected"] == 1


def test_expired_access_token_is_refreshed_once(tmp_path, warehouse, google) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, google)
    expired = GoogleAdsStandIn.quota_exhausted(1)
    expired.status = 401
    expired.body["error"].update(status="UNAUTHENTICATED", code=401)
    expired.body["error"]["details"][0]["errors"] = [
        {
            "errorCode": {"authenticationError": "OAUTH_TOKEN_EXPIRED"},
            "message": "The access token has expired.",
        }
    ]
    google.fail_next(Failure(200, {"access_token": "ya29.old"}), expired)
    report = project.run("members_google")
    assert (report.status, report.request_retries) == ("success", 0)
    assert [path for _, path in api_calls(google)] == [
        "/token",
        "/v23/customers/1234567890/offlineUserDataJobs:create",
        "/token",
        "/v23/customers/1234567890/offlineUserDataJobs:create",
        "/v23/customers/1234567890/offlineUserDataJobs/1000:addOperations",
        "/v23/customers/1234567890/offlineUserDataJobs/1000:run",
    ]
    assert google.requests[1].headers["authorization"] == "Bearer ya29.old"
    assert google.requests[3].headers["authorization"] != "Bearer ya29.old"


def test_refused_refresh_token_or_developer_token_fails_the_run(tmp_path, warehouse, google):
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, google)
    project.env["GOOGLE_ADS_REFRESH_TOKEN"] = "1//revoked"
    report = project.run("members_google")
    assert report.status == "failed" and report.rejected == 0
    assert "invalid_grant: Token has been expired or revoked." in report.error
    project.env["GOOGLE_ADS_REFRESH_TOKEN"] = CREDENTIALS["refresh_token"]
    project.env["GOOGLE_ADS_DEVELOPER_TOKEN"] = "dev-token-wrong"
    report = project.run("members_google")
    assert "authenticationError.DEVELOPER_TOKEN_INVALID" in report.error
    assert sum(1 for _, path in api_calls(google) if path == "/token") == 2  # no refresh loop
    project.env["GOOGLE_ADS_DEVELOPER_TOKEN"] = CREDENTIALS["developer_token"]
    assert project.run("members_google").sent == 1


def test_quota_exhaustion_waits_the_retry_delay(tmp_path, warehouse, google) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, google)
    google.fail_next(Failure(200, {"access_token": "ya29.x"}), GoogleAdsStandIn.quota_exhausted(7))
    google.tokens.add("ya29.x")
    report = project.run("members_google")
    assert (report.status, report.request_retries) == ("success", 1)
    assert project.sleeps[0] >= 7


def test_5xx_timeout_and_whole_request_errors(tmp_path, warehouse, google) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, google)
    google.fail_next(
        Failure(200, {"access_token": "ya29.y"}),
        GoogleAdsStandIn.internal_error(),
        Failure(delay=1.0),
    )
    google.tokens.add("ya29.y")
    report = project.run("members_google")
    assert (report.status, report.request_retries, report.sent) == ("success", 2, 1)

    warehouse.customer("bob")
    warehouse.members(["ann", "bob"])
    google.fail_next(GoogleAdsStandIn.internal_error())  # the token request fails
    failed = project.run("members_google", RetryPolicy(max_attempts=1))
    assert failed.status == "failed" and project.state("bob")[:2] == ("retrying", "oauth_http_500")
    assert project.run("members_google").sent == 1
    assert len(google.members()) == 2


def test_secrets_appear_in_no_output_log_or_file(
    tmp_path, warehouse, google, capsys, monkeypatch
) -> None:
    warehouse.customer("ann")
    warehouse.members(["ann"])
    project = make_project(tmp_path, warehouse, google)
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    echo = GoogleAdsStandIn.internal_error()
    echo.status = 400
    echo.body["error"]["status"] = "INVALID_ARGUMENT"
    echo.body["error"]["details"][0]["errors"][0]["message"] = (
        f"bad developer token {CREDENTIALS['developer_token']} / {CREDENTIALS['client_secret']}"
    )
    google.fail_next(Failure(200, {"access_token": "ya29.secret-access-token"}), echo)
    google.tokens.add("ya29.secret-access-token")
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
    assert main(["sync", "members_google", "--dry-run", *common]) == 0
    assert main(["sync", "members_google", *common]) == 1
    printed = capsys.readouterr()
    texts = [printed.out, printed.err, *(p.read_text() for p in tmp_path.rglob("*.yml"))]
    with duckdb.connect(str(warehouse.path), read_only=True) as con:
        for table in ("sync_state", "sync_runs", "sync_changelog"):
            texts.append(repr(con.execute(f"select * from activations.{table}").fetchall()))
    everything = "\n".join(texts)
    for secret in [*CREDENTIALS.values(), "ya29.secret-access-token"]:
        assert secret not in everything
    assert "bad developer token [redacted] / [redacted]" in everything
