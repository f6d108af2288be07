"""Where Waymark keeps its local state.

Everything a run writes lives under one home directory so a laptop user can find it, delete it, or
point two projects at two homes: ``$WAYMARK_HOME``, or ``.waymark/`` in the working directory.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
DEMO_DATA_DIR = PROJECT_ROOT / "seeds" / "demo"
# The demo data's window ends here; the demo evaluates every time rule as of this instant.
DEMO_AS_OF = datetime(2026, 6, 30, tzinfo=UTC)


@dataclass(frozen=True)
class WaymarkHome:
    """The paths under one Waymark home directory."""

    root: Path

    @classmethod
    def resolve(cls, override: str | os.PathLike[str] | None = None) -> WaymarkHome:
        """The home named by ``override``, else ``$WAYMARK_HOME``, else ``./.waymark``."""
        chosen = override or os.environ.get("WAYMARK_HOME") or Path.cwd() / ".waymark"
        return cls(Path(chosen).resolve())

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def landing(self) -> Path:
        return self.root / "landing"

    @property
    def outputs(self) -> Path:
        return self.root / "outputs"

    @property
    def dbt_target(self) -> Path:
        return self.root / "dbt" / "target"

    @property
    def dbt_logs(self) -> Path:
        return self.root / "dbt" / "logs"

    def create(self) -> WaymarkHome:
        for path in (self.root, self.landing, self.outputs, self.dbt_target, self.dbt_logs):
            path.mkdir(parents=True, exist_ok=True)
        return self
