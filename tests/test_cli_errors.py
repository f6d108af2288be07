"""Every `waymark` error as a user meets it: one line on stderr that names the problem, "did you
mean" when a name is wrong, a non-zero exit, and never a traceback.

Each case runs the installed `waymark` entry point in a subprocess, from an empty working
directory, with its own WAYMARK_HOME.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from waymark.cli.main import main
from waymark.core.home import DEMO_DATA_DIR

WAYMARK = str(Path(sys.executable).parent / "waymark")
MISSING = "{tmp}/nowhere/warehouse.duckdb"
EMPTY = "{tmp}/empty.duckdb"


def run_waymark(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYMARK_", "DAGSTER_"))}
    env["WAYMARK_HOME"] = str(tmp_path / "home")
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    arguments = [arg.format(tmp=tmp_path, demo=DEMO_DATA_DIR) for arg in args]
    return subprocess.run(
        [WAYMARK, *arguments],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=300, check=False,
    )  # fmt: skip


def assert_one_line_error(result: subprocess.CompletedProcess[str], *names: str) -> str:
    """The exit is non-zero and stderr is one line, prefixed by the command, naming `names`."""
    assert result.returncode != 0, result.stdout + result.stderr
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    line = lines[0]
    assert line.startswith("waymark"), line
    for name in names:
        assert name in line, (name, line)
    return line


def test_syncs_sends_before_the_first_tick_says_nothing_is_waiting(tmp_path: Path) -> None:
    for extra in ([], ["--dry-run"]):
        result = run_waymark(tmp_path, "syncs", "sends", "--warehouse", EMPTY, *extra)
        assert result.returncode == 0, result.stderr
        assert "Traceback" not in result.stderr
        assert result.stderr.splitlines() == [
            "no journey messages waiting: journeys.journey_outbox does not exist yet "
            "(the first journey tick creates it)"
        ]


def test_generate_with_negative_customers_is_one_line(tmp_path: Path) -> None:
    result = run_waymark(tmp_path, "generate", "--customers", "-5", "--out", "{tmp}/data")
    line = assert_one_line_error(result, "waymark generate:", "--customers", "-5")
    assert "whole number from 1 to 8,000,000" in line
    assert result.returncode == 2
    assert not (tmp_path / "data").exists()


def test_simulate_from_yesterday_names_the_option_and_the_format(tmp_path: Path) -> None:
    result = run_waymark(
        tmp_path, "journeys", "simulate", "welcome_series", "--from", "yesterday", "--to",
        "2026-06-30",
    )  # fmt: skip
    line = assert_one_line_error(result, "waymark journeys simulate:", "--from", "'yesterday'")
    assert "is not an ISO 8601 date or time such as 2026-06-30" in line
    assert "isoformat" not in line


@pytest.mark.parametrize(
    ("args", "prefix", "suggestion"),
    [
        (["sycns", "list"], "waymark:", "did you mean 'syncs'?"),
        (["journeys", "tik"], "waymark journeys:", "did you mean 'tick'?"),
        (["syncs", "sendz"], "waymark syncs:", "did you mean 'sends'?"),
        (["qurey", "select 1"], "waymark:", "did you mean 'query'?"),
        (["build", "--data", "{demo}", "--ful-refresh"], "waymark build:", "'--full-refresh'"),
        (["journeys", "tick", "--as-off", "2026-06-30"], "waymark journeys tick:", "'--as-of'"),
        (["sync", "new_leads_to_hubspt"], "waymark sync:", "'new_leads_to_hubspot'"),
        (["journeys", "map", "welcome_seres"], "waymark journeys map:", "'welcome_series'"),
        (
            ["journeys", "preview", "cart_abandonmnt", "--customer", "c"],
            "waymark journeys preview:",
            "'cart_abandonment'",
        ),
        (
            ["journeys", "simulate", "vip_adds", "--from", "2026-06-01", "--to", "2026-06-02"],
            "waymark journeys simulate:",
            "'vip_ads'",
        ),
        (
            ["query", "select 1", "--format", "jsno", "--warehouse", EMPTY],
            "waymark query:",
            "'json'",
        ),
    ],
)
def test_a_wrong_name_gets_one_line_with_the_nearest_name(
    tmp_path: Path, args: list[str], prefix: str, suggestion: str
) -> None:
    line = assert_one_line_error(run_waymark(tmp_path, *args), prefix, suggestion)
    assert "did you mean" in line


def test_syncs_sends_to_an_unknown_destination_suggests_the_nearest(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "outbox.duckdb")) as con:
        con.execute("create schema journeys")
        con.execute("create table journeys.journey_outbox (destination varchar, state varchar)")
    result = run_waymark(
        tmp_path, "syncs", "sends", "--warehouse", "{tmp}/outbox.duckdb", "--destination",
        "email_smpt",
    )  # fmt: skip
    assert_one_line_error(result, "waymark syncs sends:", "email_smpt", "'email_smtp'")


def test_an_unexpected_error_is_one_line_unless_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import waymark.generate

    def broken(**_: object) -> None:
        raise RuntimeError("the generator broke\nsecond line")

    monkeypatch.setattr(waymark.generate, "generate", broken)
    monkeypatch.delenv("WAYMARK_DEBUG", raising=False)
    args = ["generate", "--customers", "5", "--out", str(tmp_path / "data")]
    assert main(args) == 70
    err = capsys.readouterr().err
    assert err.splitlines() == [
        "waymark generate: unexpected error: RuntimeError: the generator broke "
        "(run again with `waymark --debug ...` or WAYMARK_DEBUG=1 for the traceback)"
    ]
    with pytest.raises(RuntimeError, match="the generator broke"):
        main(["--debug", *args])
    monkeypatch.setenv("WAYMARK_DEBUG", "1")
    with pytest.raises(RuntimeError, match="the generator broke"):
        main(args)


# Bad invocations across every command: each must give one clear line and a non-zero exit.
BAD_INVOCATIONS = [
    [],
    ["--home"],
    ["journeys"],
    ["syncs"],
    ["build"],
    ["build", "--data", "{tmp}/nowhere"],
    ["build", "--data", "{demo}", "--as-of", "garbage"],
    ["build", "--data", "{demo}", "--warehouse", "{tmp}/no/such/folder/w.duckdb"],
    ["demo", "--as-of", "yesterday"],
    ["generate", "--customers", "lots", "--out", "{tmp}/data"],
    ["generate", "--customers", "9000000", "--out", "{tmp}/data"],
    ["generate", "--customers", "5", "--out", "{tmp}/data", "--end-date", "2026-13-01"],
    ["generate", "--customers", "5", "--out", "{tmp}/data", "--days", "0"],
    ["generate", "--customers", "5", "--out", "{tmp}/data", "--workers", "0"],
    ["generate", "--customers", "5", "--out", "{tmp}/empty.duckdb"],
    ["journeys", "schema", "--output", "{tmp}/no/such/folder/schema.json"],
    ["journeys", "preview", "welcome_series", "--customer", "nobody", "--warehouse", MISSING],
    ["journeys", "preview", "welcome_series", "--customer", "nobody", "--warehouse", EMPTY],
    ["journeys", "tick", "--as-of", "tomorrow"],
    ["journeys", "tick", "--warehouse", MISSING],
    ["journeys", "tick", "--lookback-hours", "-1"],
    ["journeys", "tick", "--lookback-hours", "nan"],
    ["journeys", "tick", "--home", "{tmp}"],
    [
        "journeys",
        "simulate",
        "welcome_series",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-30",
        "--every",
        "1 hour",
    ],  # fmt: skip
    [
        "journeys",
        "simulate",
        "welcome_series",
        "--from",
        "2026-06-01",
        "--to",
        "2026-06-30",
        "--every",
        "99999999999w",
    ],  # fmt: skip
    [
        "journeys",
        "simulate",
        "welcome_series",
        "--from",
        "2026-06-10",
        "--to",
        "2026-06-01",
        "--warehouse",
        EMPTY,
    ],  # fmt: skip
    [
        "journeys",
        "simulate",
        "welcome_series",
        "--from",
        "0001-01-01T00:00:00+01:00",
        "--to",
        "2026-06-01",
    ],  # fmt: skip
    ["syncs", "list", "--syncs", "{tmp}/no/syncs"],
    ["syncs", "sends", "--warehouse", MISSING],
    ["syncs", "sends", "--give-up-after-runs", "0"],
    ["syncs", "sends", "--sample", "-1"],
    ["syncs", "erase", "--warehouse", MISSING],
    ["syncs", "erase", "--warehouse", EMPTY, "--requests-from", "no_such.table"],
    ["sync", "new_leads_to_hubspot", "--warehouse", MISSING],
    ["sync", "new_leads_to_hubspot", "--as-of", "soon"],
    ["sync", "new_leads_to_hubspot", "--dry-run", "--warehouse", EMPTY],
    ["forget", "--warehouse", MISSING, "--customer", "c1"],
    ["forget", "--warehouse", EMPTY],
    ["forget", "--warehouse", EMPTY, "--customer", "c1", "--requested-at", "yesterday"],
    ["query"],
    ["query", "select 1", "--warehouse", MISSING],
    ["query", "selec 1", "--warehouse", EMPTY],
    ["query", "select * from marts.customers", "--warehouse", EMPTY],
    ["query", "create table t (a int)", "--warehouse", EMPTY],
    ["query", "select 1", "--max-rows", "-3", "--warehouse", EMPTY],
]


@pytest.mark.parametrize("args", BAD_INVOCATIONS, ids=lambda args: " ".join(args) or "(none)")
def test_every_bad_invocation_is_one_line_without_a_traceback(
    tmp_path: Path,
    args: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # In this process (main() is what the entry point calls): an exception escaping main()
    # fails the test, exactly as a traceback would show in a terminal.
    for name in [name for name in os.environ if name.startswith(("WAYMARK_", "DAGSTER_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("WAYMARK_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    duckdb.connect(str(tmp_path / "empty.duckdb")).close()
    code = main([arg.format(tmp=tmp_path, demo=DEMO_DATA_DIR) for arg in args])
    printed = capsys.readouterr()
    result = subprocess.CompletedProcess(args, code, printed.out, printed.err)
    assert_one_line_error(result)
