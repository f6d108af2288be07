"""Configuration a newcomer writes once: `.env` read by `waymark` exactly as Dagster reads it, and
the documented `dagster job launch` working as written, without WAYMARK_WAREHOUSE."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import pytest
from dagster._core.secrets.env_file import get_env_var_dict

from tests.test_cli_errors import run_waymark
from waymark.cli.main import main
from waymark.core.environment import dot_env_values
from waymark.core.home import PROJECT_ROOT
from waymark.warehouse.manifest import prepare_manifest

DOT_ENV = """\
# comments and blank lines are ignored

WAYMARK_HOME=from_dot_env
export WAYMARK_TEST_EXPORTED=exported
WAYMARK_TEST_QUOTED="a value # with a hash"
WAYMARK_TEST_SINGLE='single ${NOT_EXPANDED}'
WAYMARK_TEST_EMPTY=
WAYMARK_TEST_NO_VALUE
WAYMARK_TEST_EXPANDED=${WAYMARK_TEST_EXPORTED}-too
"""


def test_the_cli_reads_dot_env_as_dagster_does(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOT_ENV)
    values = dot_env_values(tmp_path)
    assert values == get_env_var_dict(str(tmp_path))
    assert values["WAYMARK_HOME"] == "from_dot_env"
    assert values["WAYMARK_TEST_QUOTED"] == "a value # with a hash"
    assert "WAYMARK_TEST_NO_VALUE" not in values
    assert dot_env_values(tmp_path / "elsewhere") == {}


def test_the_cli_loads_dot_env_from_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(DOT_ENV)
    home = tmp_path / "from_dot_env"
    home.mkdir()
    with duckdb.connect(str(home / "warehouse.duckdb")) as con:
        con.execute("create table t as select 'read through .env' as what")
    # The shell names another home; `.env` wins, as it does for Dagster's commands.
    result = run_waymark(tmp_path, "query", "select what from t", "--format", "csv")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["what", "read through .env"]


def test_dot_env_applies_for_the_command_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / ".env").write_text("WAYMARK_TEST_ONLY_HERE=yes\nWAYMARK_HOME=from_dot_env\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("WAYMARK_HOME", str(tmp_path / "shell_home"))
    monkeypatch.delenv("WAYMARK_TEST_ONLY_HERE", raising=False)
    assert main(["query", "select 1"]) == 1
    assert f"no warehouse at {tmp_path / 'from_dot_env' / 'warehouse.duckdb'}" in (
        capsys.readouterr().err
    )
    assert "WAYMARK_TEST_ONLY_HERE" not in os.environ
    assert os.environ["WAYMARK_HOME"] == str(tmp_path / "shell_home")


def documented_launch() -> list[str]:
    """The `dagster job launch` command of docs/orchestration.md, as arguments."""
    text = " ".join((PROJECT_ROOT / "docs" / "orchestration.md").read_text().split())
    found = re.search(
        r"`DAGSTER_HOME=\$PWD/\.waymark/dagster (\.venv/bin/dagster job launch [^`]+)`", text
    )
    assert found, "docs/orchestration.md shows the launch command"
    command = found.group(1)
    tags = re.search(r"--tags '([^']+)'", command)
    assert tags is not None
    words = command[: tags.start()].split()
    return [str(PROJECT_ROOT / words[0]), *words[1:], "--tags", tags.group(1)]


def test_the_documented_dagster_job_launch_works_without_waymark_warehouse(tmp_path: Path) -> None:
    prepare_manifest()
    dagster_home = tmp_path / "dagster"
    dagster_home.mkdir()
    shutil.copyfile(
        PROJECT_ROOT / "orchestration/instance/dagster.yaml", dagster_home / "dagster.yaml"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WAYMARK_", "DAGSTER_"))}
    env["DAGSTER_HOME"] = str(dagster_home)
    command = documented_launch()
    assert Path(command[0]).is_file() and Path(command[0]).parent == Path(sys.executable).parent
    launched = subprocess.run(
        command, capture_output=True, text=True, cwd=PROJECT_ROOT, env=env, timeout=600
    )
    assert launched.returncode == 0, launched.stderr[-3000:]
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        [run] = instance.get_runs()
    assert run.job_name == "warehouse_refresh"
    assert run.status == dg.DagsterRunStatus.QUEUED  # the daemon of `make ui` starts it
    assert run.tags["waymark/as_of"] == json.loads(command[-1])["waymark/as_of"]
