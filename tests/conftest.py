"""Shared fixtures: built warehouses over the committed demo data and over freshly generated data.

Builds are expensive (a few seconds each), so warehouses are session-scoped and read-only in tests
that only inspect them; tests that change inputs build their own.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from waymark.core.home import DEMO_AS_OF, DEMO_DATA_DIR
from waymark.warehouse.build import BuildResult, dbt_environment, run_dbt

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GENERATED_PEOPLE = 3000
GENERATED_SEED = 7


@dataclass
class Builder:
    """Runs `dbt build` for tests, sharing one dbt target directory for fast re-parsing."""

    target: Path
    logs: Path

    def build(
        self,
        data_dir: Path,
        warehouse: Path,
        as_of: datetime = DEMO_AS_OF,
        full_refresh: bool = False,
        select: list[str] | None = None,
        exclude: list[str] | None = None,
        variables: dict[str, object] | None = None,
    ) -> BuildResult:
        args = ["build"]
        if variables:
            args += ["--vars", json.dumps(variables)]
        if full_refresh:
            args.append("--full-refresh")
        if select:
            args += ["--select", *select]
        if exclude:
            args += ["--exclude", *exclude]
        env = dbt_environment(data_dir, warehouse, as_of, self.target, self.logs)
        return run_dbt(args, env)


@pytest.fixture(scope="session")
def builder(tmp_path_factory: pytest.TempPathFactory) -> Builder:
    root = tmp_path_factory.mktemp("dbt")
    return Builder(target=root / "target", logs=root / "logs")


@pytest.fixture(scope="session")
def demo_warehouse(builder: Builder, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The committed demo data, built once as of the demo's end date."""
    warehouse = tmp_path_factory.mktemp("demo") / "warehouse.duckdb"
    builder.build(DEMO_DATA_DIR, warehouse)
    return warehouse


@pytest.fixture(scope="session")
def generated_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A few thousand generated people with ground truth in `_truth/`."""
    from waymark.generate import generate

    out = tmp_path_factory.mktemp("generated") / "data"
    generate(customers=GENERATED_PEOPLE, seed=GENERATED_SEED, out=out)
    return out


@pytest.fixture(scope="session")
def generated_warehouse(
    builder: Builder, generated_data: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    warehouse = tmp_path_factory.mktemp("generated-wh") / "warehouse.duckdb"
    builder.build(generated_data, warehouse)
    return warehouse


def query(warehouse: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def copy_data(source: Path, target: Path, keep: Callable[[Path], bool] | None = None) -> Path:
    """Copy a data directory's source files (not `_truth/`), or only those `keep` accepts."""
    for path in sorted(source.rglob("*")):
        relative = path.relative_to(source)
        if path.is_dir() or relative.parts[0] == "_truth":
            continue
        if keep is None or keep(relative):
            (target / relative.parent).mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target / relative)
    return target


@pytest.fixture
def scratch(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
