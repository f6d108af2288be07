"""Sync files and connector settings: typed, validated, every error at its file, line and field."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest
from test_journey_spec import position

from activations.connectors import connector_for
from activations.sync_files import SyncPaths, load_project
from waymark.cli.main import main
from waymark.core.home import PROJECT_ROOT

SHARED = """\
destinations:
  email_smtp:
    kind: smtp
    channel: email
    env: [SMTP_HOST, SMTP_PASSWORD]
    settings:
      from_address: "Shop <hello@shop.example>"
  linkedin_ads:
    kind: linkedin
    channel: ads
    env: [LINKEDIN_TOKEN]
"""

CONNECTORS = """\
destinations:
  email_smtp:
    kind: smtp
    config:
      host_env: SMTP_HOST
      password_env: SMTP_PASS
      from_address: "again@shop.example"
  support_db:
    kind: postgres
    config:
      dbname: support
      user: waymark
      colour: blue
"""

BAD_SYNC = """\
name: wrong_name
type: audience
model: audiences.members
destination: email_smtp
mode: mirror
key: customer_id
fields:
  email: customer.email
  zip: postal_code
purpose: sms_marketing
schedule: "0 3 * * *"
"""


def write(folder: Path, files: dict[str, str]) -> SyncPaths:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return SyncPaths(folder / "syncs", folder / "destinations.yml")


def test_the_committed_syncs_are_valid() -> None:
    project = load_project(SyncPaths.default())
    assert project.issues == []
    assert set(project.valid()) >= {"customers_to_support_db", "vip_lookalike_seed_export"}


def test_every_problem_is_located(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    paths = write(
        tmp_path,
        {
            "destinations.yml": SHARED,
            "syncs/_destinations.yml": CONNECTORS,
            "syncs/bad.yml": BAD_SYNC,
            "syncs/to_linkedin.yml": BAD_SYNC.replace("wrong_name", "to_linkedin").replace(
                "email_smtp", "linkedin_ads"
            ),
            "syncs/bad_cron.yml": BAD_SYNC.replace("wrong_name", "bad_cron")
            .replace("0 3 * * *", "0 25 * * *")
            .replace("type: audience", "type: audience\ncolor: red"),
        },
    )
    issues = [str(issue) for issue in load_project(paths).issues]
    assert issues == [
        "syncs/_destinations.yml:3:5: destinations.email_smtp.kind: 'email_smtp' is defined in "
        "destinations.yml; only `config` may be added here",
        "syncs/_destinations.yml:6:7: destinations.email_smtp.config.password_env: "
        "'SMTP_PASS' must be listed in the destination's `env`",
        "syncs/_destinations.yml:7:7: destinations.email_smtp.config.from_address: "
        "'from_address' is already a setting in destinations.yml",
        "syncs/_destinations.yml:13:7: destinations.support_db.config.colour: "
        "unknown field 'colour'",
        "syncs/bad.yml:1:1: name: must equal the file name, 'bad'",
        "syncs/bad.yml:5:1: mode: smtp destinations support these modes: none (journey sends only)",
        "syncs/bad.yml:9:3: fields.zip: an audience sends identifiers; smtp accepts email",
        "syncs/bad.yml:10:1: purpose: email destinations take purposes email_marketing, "
        "transactional",
        "syncs/bad_cron.yml:3:1: color: unknown field 'color'",
        "syncs/bad_cron.yml:12:1: schedule: hour field '25': '25' is outside 0-23",
        "syncs/to_linkedin.yml:4:1: destination: kind 'linkedin' has no connector "
        "(activations/destinations/)",
    ]


def test_destination_specific_settings_are_checked_in_place(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    sync = """\
        name: to_db
        type: object
        model: marts.customers
        destination: support_db
        mode: upsert
        key: customer_id
        fields: {email: email}
        purpose: transactional
        settings:
          table: Customer Profiles
        """
    connectors = CONNECTORS.replace("      colour: blue\n", "")
    paths = write(
        tmp_path,
        {
            "destinations.yml": SHARED,
            "syncs/_destinations.yml": connectors,
            "syncs/to_db.yml": sync,
        },
    )
    sync_issues = [str(i) for i in load_project(paths).issues if "to_db" in str(i.file)]
    assert sync_issues == [
        "syncs/to_db.yml:10:3: settings.table: 'Customer Profiles' is not snake_case "
        "(lowercase letters, digits, underscores)"
    ]


def test_syncs_list_and_validate_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["syncs", "validate"]) == 0
    assert main(["syncs", "list"]) == 0
    listing = capsys.readouterr().out
    row = next(line for line in listing.splitlines() if line.startswith("vip_lookalike_seed_"))
    assert row.split() == [
        "vip_lookalike_seed_export",
        "audience",
        "audiences.vip_lookalike_seed",
        "exports_files",
        "(files)",
        "mirror",
        "ads_personalisation",
        *["0", "3", "*", "*", "*"],
    ]


def test_validate_command_fails_on_errors(tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    paths = write(tmp_path, {"destinations.yml": SHARED, "syncs/bad.yml": BAD_SYNC})
    code = main(["syncs", "validate", "--syncs", str(paths.syncs)])
    printed = capsys.readouterr()
    assert code == 1 and "syncs/bad.yml:5:1: mode:" in printed.out
    assert "problem(s)" in printed.err


VIP_TO_META = """\
name: vip_to_meta
type: audience
model: audiences.vip_lookalike_seed
destination: meta_ads
mode: mirror
key: customer_id
fields:
  email: customer.email
purpose: ads_personalisation
settings:
  audience_id: "{audience}"
"""


def committed_copy(root: Path, extra: dict[str, str] | None = None) -> SyncPaths:
    """The committed syncs and destinations in `root`, with extra sync files."""
    (root / "syncs").mkdir(parents=True)
    shutil.copy(PROJECT_ROOT / "destinations.yml", root / "destinations.yml")
    for path in (PROJECT_ROOT / "syncs").glob("*.yml"):
        shutil.copy(path, root / "syncs" / path.name)
    for name, text in (extra or {}).items():
        (root / "syncs" / name).write_text(text)
    return SyncPaths(root / "syncs", root / "destinations.yml")


def test_high_value_at_risk_to_meta_writes_the_winback_audience_not_the_vip_seed() -> None:
    project = load_project(SyncPaths.default())
    targets = {loaded.spec.name: str(loaded.target) for loaded in project.syncs if loaded.spec}
    assert targets == {
        "customers_to_support_db": "table waymark_sync.customer_profiles on 127.0.0.1:5432/waymark",
        "high_value_at_risk_to_meta": "Custom Audience 23850000000000001 "
        "(waymark_winback_high_value)",
        "high_value_at_risk_to_support": "records with source 'high_value_at_risk_to_support' "
        "at the URL in $SUPPORT_WEBHOOK_URL",
        "new_leads_to_hubspot": "contacts at https://api.hubapi.com (token $HUBSPOT_ACCESS_TOKEN)",
        "vip_lookalike_seed_export": "folder .waymark/exports/vip_lookalike_seed_export",
        "vip_lookalike_seed_to_google_ads": "Customer Match list "
        "customers/1234567890/userLists/7001",
    }


def test_every_sync_destination_declares_what_a_sync_writes() -> None:
    folders = sorted(p.name for p in (PROJECT_ROOT / "activations/destinations").iterdir())
    connectors = [connector_for(kind) for kind in folders if not kind.startswith("_")]
    for connector in filter(None, connectors):
        declared = connector.target is not None
        assert declared == bool(connector.capabilities.sync_modes), connector.kind


def test_two_syncs_of_different_models_writing_one_audience_fail_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    # The mistake as it was committed: at-risk customers pushed into the VIP lookalike seed.
    at_risk = (PROJECT_ROOT / "syncs/high_value_at_risk_to_meta.yml").read_text()
    seed = VIP_TO_META.format(audience="23850000000000002")
    paths = committed_copy(tmp_path, {"vip_to_meta.yml": seed})
    (paths.syncs / "high_value_at_risk_to_meta.yml").write_text(
        at_risk.replace("23850000000000001", "23850000000000002")
    )
    issues = [str(issue) for issue in load_project(paths).issues]
    line = position(at_risk, "settings:")[0]
    assert issues == [
        f"syncs/high_value_at_risk_to_meta.yml:{line}:1: settings: writes Custom Audience "
        "23850000000000002 (waymark_vip_lookalike_seed) from audiences.high_value_at_risk, and "
        "so does 'vip_to_meta' (from audiences.vip_lookalike_seed): one audience or object holds "
        "the rows of one model",
        "syncs/vip_to_meta.yml:10:1: settings: writes Custom Audience 23850000000000002 "
        "(waymark_vip_lookalike_seed) from audiences.vip_lookalike_seed, and so does "
        "'high_value_at_risk_to_meta' (from audiences.high_value_at_risk): one audience or "
        "object holds the rows of one model",
    ]
    assert set(load_project(paths).valid()) == {
        "customers_to_support_db",
        "high_value_at_risk_to_support",
        "new_leads_to_hubspot",
        "vip_lookalike_seed_export",
        "vip_lookalike_seed_to_google_ads",
    }
    # Two syncs of one model into one audience, or of two models into two, are fine.
    (paths.syncs / "high_value_at_risk_to_meta.yml").write_text(at_risk)
    assert load_project(paths).issues == []


def test_two_syncs_writing_one_table_or_folder_fail_validation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    leads_to_db = (
        (PROJECT_ROOT / "syncs/customers_to_support_db.yml")
        .read_text()
        .replace("name: customers_to_support_db", "name: leads_to_support_db")
        .replace("model: marts.customers", "model: audiences.new_leads_no_purchase_7d")
    )
    at_risk_export = (PROJECT_ROOT / "syncs/vip_lookalike_seed_export.yml").read_text().replace(
        "name: vip_lookalike_seed_export", "name: at_risk_export"
    ).replace(
        "model: audiences.vip_lookalike_seed", "model: audiences.high_value_at_risk"
    ) + "settings:\n  folder: vip_lookalike_seed_export\n"
    paths = committed_copy(
        tmp_path, {"leads_to_support_db.yml": leads_to_db, "at_risk_export.yml": at_risk_export}
    )
    messages = {(i.file.name, i.field, i.message.split(",")[0]) for i in load_project(paths).issues}
    folder = "writes folder .waymark/exports/vip_lookalike_seed_export from"
    table = "writes table waymark_sync.customer_profiles on 127.0.0.1:5432/waymark from"
    assert messages == {
        ("at_risk_export.yml", "settings", f"{folder} audiences.high_value_at_risk"),
        ("vip_lookalike_seed_export.yml", "destination", f"{folder} audiences.vip_lookalike_seed"),
        ("customers_to_support_db.yml", "settings", f"{table} marts.customers"),
        ("leads_to_support_db.yml", "settings", f"{table} audiences.new_leads_no_purchase_7d"),
    }


def test_sync_mappings_are_checked_against_the_model_contract_with_the_nearest_name(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    at_risk = (PROJECT_ROOT / "syncs/high_value_at_risk_to_meta.yml").read_text()
    typo = (
        at_risk.replace("first_name: customer.first_name", "first_name: customer.frist_name")
        .replace("key: customer_id", "key: customerid")
        .replace("model: audiences.high_value_at_risk", "model: audiences.high_value_at_rsk")
    )
    leads = (PROJECT_ROOT / "syncs/customers_to_support_db.yml").read_text()
    paths = committed_copy(tmp_path)
    (paths.syncs / "high_value_at_risk_to_meta.yml").write_text(typo)
    (paths.syncs / "customers_to_support_db.yml").write_text(
        leads.replace("key: customer_id", "key: customerid").replace(
            "  revenue: revenue", "  revenue: revenu"
        )
    )
    assert main(["syncs", "validate", "--syncs", str(paths.syncs)]) == 1
    printed = capsys.readouterr().out.splitlines()
    assert printed == [
        f"syncs/customers_to_support_db.yml:{position(leads, 'key:')[0]}:1: key: 'customerid' is "
        "not a column of marts.customers; did you mean 'customer_id'?",
        f"syncs/customers_to_support_db.yml:{position(leads, '  revenue:')[0]}:3: fields.revenue: "
        "'revenu' is not a column of marts.customers; did you mean 'revenue'?",
        f"syncs/high_value_at_risk_to_meta.yml:{position(at_risk, 'model:')[0]}:1: model: no dbt "
        "model is built as audiences.high_value_at_rsk; did you mean "
        "'audiences.high_value_at_risk'?",
        f"syncs/high_value_at_risk_to_meta.yml:{position(at_risk, '  first_name:')[0]}:3: "
        "fields.first_name: 'customer.frist_name' is not a column of marts.customers; did you "
        "mean 'customer.first_name'?",
    ]
