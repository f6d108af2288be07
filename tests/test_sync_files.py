"""Sync files and connector settings: typed, validated, every error at its file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from activations.cron import cron_problem
from activations.sync_files import SyncPaths, load_project
from waymark.cli import main

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


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("*/15 * * * *", None),
        ("0 8 * * mon-fri", None),
        ("@daily", None),
        ("0 8 * *", "'0 8 * *' needs 5 fields (minute hour day month weekday), has 4"),
        ("60 * * * *", "minute field '60': '60' is outside 0-59"),
        ("0 0 * foo *", "month field 'foo': 'foo' is outside 1-12"),
        ("*/0 * * * *", "minute field '*/0' has a step of 0"),
    ],
)
def test_cron_expressions(expression: str, problem: str | None) -> None:
    assert cron_problem(expression) == problem


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
