"""Prepare the dbt manifest the code location loads (what `make manifest` does).

Kept apart from orchestration/dbt.py, which needs the manifest to exist at import.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from waymark.home import DBT_PROJECT_DIR

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
