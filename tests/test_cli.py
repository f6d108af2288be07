"""The `waymark` command as a user runs it: build the demo data and read the summary."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import query
from waymark.core.home import DEMO_DATA_DIR

pytestmark = pytest.mark.slow


def test_build_prints_a_summary_that_matches_the_warehouse(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waymark.cli", "--home", str(tmp_path / "home"), "build",
         "--data", str(DEMO_DATA_DIR), "--as-of", "2026-06-30 00:00:00", "--quiet"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    warehouse = tmp_path / "home" / "warehouse.duckdb"
    customers = query(warehouse, "select count(*) from marts.customers")[0][0]
    rejected = query(warehouse, "select count(*) from marts.identity_violations")[0][0]
    assert f"customers          {customers:>10,}" in result.stdout
    assert f"rejected edges     {rejected:>10,}" in result.stdout
    for section in ("lifecycle stages:", "audiences (current members):", "cart_abandoners"):
        assert section in result.stdout


def test_build_names_a_missing_data_directory(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "waymark.cli", "--home", str(tmp_path), "build",
         "--data", str(tmp_path / "nowhere")],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "nowhere" in result.stderr
