"""Build the warehouse: one `dbt build` over the landed source files, then a summary.

dbt runs in-process (dbtRunner) so progress can be reported per model and the summary read from
the warehouse just built. Settings reach dbt through environment variables that
``dbt_project/profiles.yml`` and ``dbt_project.yml`` read, so a plain `dbt build` in the dbt
project behaves the same way.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from waymark.core.environment import temporary_environment
from waymark.core.home import DBT_PROJECT_DIR
from waymark.core.instants import format_instant


class BuildError(RuntimeError):
    """dbt reported failures; the message lists each failing node and its error."""


@dataclass
class NodeResult:
    name: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""


@dataclass
class BuildResult:
    seconds: float
    nodes: list[NodeResult] = field(default_factory=list)

    @property
    def failures(self) -> list[NodeResult]:
        return [n for n in self.nodes if n.status not in {"success", "pass", "skipped", "warn"}]


def dbt_environment(
    data_dir: Path, warehouse: Path, as_of: datetime | None, target_path: Path, log_path: Path
) -> dict[str, str]:
    """The environment variables the dbt project reads; without `as_of` the project's own
    default (now) applies."""
    env = {
        "WAYMARK_DATA_DIR": str(Path(data_dir).resolve()),
        "WAYMARK_WAREHOUSE": str(Path(warehouse).resolve()),
        "DBT_TARGET_PATH": str(target_path),
        "DBT_LOG_PATH": str(log_path),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }
    if as_of:
        env["WAYMARK_AS_OF"] = format_instant(as_of)
    return env


def run_dbt(
    args: list[str],
    env: dict[str, str],
    on_node: Callable[[NodeResult, int, int], None] | None = None,
) -> BuildResult:
    """Run one dbt command in-process against the Waymark dbt project."""
    from dbt.cli.main import dbtRunner

    nodes: list[NodeResult] = []

    def callback(event: Any) -> None:
        if event.info.name != "NodeFinished":
            return
        info = event.data.node_info
        result = event.data.run_result
        node = NodeResult(
            name=info.node_name,
            resource_type=info.resource_type,
            status=str(result.status).lower(),
            seconds=float(result.execution_time or 0.0),
            message=result.message or "",
        )
        nodes.append(node)
        if on_node:
            on_node(node, len(nodes), 0)

    started = time.perf_counter()
    with temporary_environment(env):
        runner = dbtRunner(callbacks=[callback])
        try:
            outcome = runner.invoke(
                [
                    *args,
                    "--project-dir",
                    str(DBT_PROJECT_DIR),
                    "--profiles-dir",
                    str(DBT_PROJECT_DIR),
                    "--quiet",
                ]
            )
        finally:
            _release_warehouse()
    result = BuildResult(seconds=time.perf_counter() - started, nodes=nodes)
    if outcome.exception is not None:
        raise BuildError(f"dbt could not run: {outcome.exception}")
    if not outcome.success:
        details = "\n".join(
            f"  {n.resource_type} {n.name}: {n.message.strip()}" for n in result.failures
        )
        raise BuildError(f"dbt build failed:\n{details or '  (see dbt logs)'}")
    return result


def _release_warehouse() -> None:
    """Close the DuckDB database dbt-duckdb keeps open after a run.

    DuckDB allows one writer per file, and dbt-duckdb caches its database handle at class level
    for the life of the process; without this, the summary (or any reader) in the same process
    could not open the warehouse after a build.
    """
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    environment = DuckDBConnectionManager._ENV
    if environment is not None:
        environment.close()
        DuckDBConnectionManager.close_all_connections()


def print_progress(node: NodeResult, index: int, _total: int) -> None:
    marker = {"success": "ok", "pass": "ok"}.get(node.status, node.status)
    line = f"  [{index:>3}] {node.resource_type:<10} {node.name:<48} {marker:<6}"
    sys.stderr.write(f"{line} {node.seconds:6.2f}s\n")
