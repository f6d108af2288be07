"""The dbt manifest: prepared once (`make manifest`, `dbt parse`) and read once per version.

The Dagster code location (the dbt assets, landed sources, audience models, sync and erasure
assets) and `waymark syncs validate` all read the project's models and sources from it; they call
`load_manifest`, which parses the file once and again only when it changes.
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from waymark.core.home import DBT_PROJECT_DIR

MANIFEST_PATH = DBT_PROJECT_DIR / "target" / "manifest.json"


def prepare_manifest() -> Path:
    """`dbt parse` into dbt_project/target; partial parsing makes a repeat take a few seconds."""
    env = {
        **os.environ,
        # The manifest must land where orchestration/dbt.py reads it, whatever the caller set.
        "DBT_TARGET_PATH": str(MANIFEST_PATH.parent),
        "DBT_LOG_PATH": str(DBT_PROJECT_DIR / "logs"),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    dbt = Path(sys.executable).parent / "dbt"
    subprocess.run(
        [str(dbt), "parse", "--quiet", "--profiles-dir", str(DBT_PROJECT_DIR)],
        cwd=DBT_PROJECT_DIR,
        env=env,
        check=True,
    )
    return MANIFEST_PATH


def load_manifest(path: Path = MANIFEST_PATH) -> Mapping[str, Any]:
    """The parsed manifest at `path` (read-only: every caller shares it). Parsed once per
    version of the file, told apart by its modification time and size, so a re-parse is seen."""
    stat = Path(path).stat()
    return _parsed(str(path), stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=4)
def _parsed(path: str, _modified_ns: int, _size: int) -> Mapping[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def manifest_is_current(
    manifest: Path = MANIFEST_PATH, dbt_project: Path = DBT_PROJECT_DIR
) -> bool:
    """Whether the manifest is newer than every file of the dbt project it was parsed from."""
    if not manifest.is_file():
        return False
    parsed = manifest.stat().st_mtime
    sources = [dbt_project / "dbt_project.yml"]
    for folder in ("models", "macros", "seeds", "snapshots", "tests"):
        sources += (dbt_project / folder).rglob("*")
    return all(path.stat().st_mtime <= parsed for path in sources if path.is_file())
