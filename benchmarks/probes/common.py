"""Running the `waymark` command as a user would, and judging what it printed."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
if not (BIN / "waymark").exists():
    BIN = ROOT / ".venv" / "bin"  # run by another Python: use the project's environment
WAYMARK, PYTHON = BIN / "waymark", BIN / "python"

TRACEBACK = "Traceback (most recent call last)"
RAW_ENGINE_ERROR = re.compile(
    r"\b(Binder|Invalid Input|Conversion|Parser|Catalog|IO|INTERNAL|Out of Memory|"
    r"Not implemented|Constraint|Serialization|Dependency) Error\b"
)
"""DuckDB's own error classes: text a user should never have to decode."""
ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Run:
    """One `waymark` invocation: what it returned and printed, and whether it ran out of time."""

    args: list[str]
    returncode: int | None
    out: str
    err: str
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def text(self) -> str:
        return ANSI.sub("", self.out + self.err)

    @property
    def lines(self) -> list[str]:
        return [line for line in self.text.splitlines() if line.strip()]

    @property
    def error_lines(self) -> list[str]:
        """The error on stderr: from its first `waymark <command>: ...` line on (a build's
        `Building ...` line before it is progress), or all of stderr when there is none."""
        lines = [line for line in ANSI.sub("", self.err).splitlines() if line.strip()]
        starts = [n for n, line in enumerate(lines) if line.startswith("waymark")]
        return lines[starts[0] :] if starts else lines

    @property
    def traceback(self) -> bool:
        return TRACEBACK in self.text

    @property
    def raw_engine_error(self) -> bool:
        return bool(RAW_ENGINE_ERROR.search(self.text))

    def first_line(self) -> str:
        return self.lines[0] if self.lines else "(nothing printed)"


def environment(home: Path) -> dict[str, str]:
    """The caller's environment with a private Waymark home and warehouse, and no debug
    tracebacks (an error must be readable as a user sees it)."""
    hidden = {"WAYMARK_HOME", "WAYMARK_WAREHOUSE", "WAYMARK_DEBUG"}
    env = {k: v for k, v in os.environ.items() if k not in hidden}
    env["WAYMARK_HOME"] = str(home)
    env["NO_COLOR"] = "1"
    return env


def waymark(args: list[str], cwd: Path, home: Path, timeout: float = 600) -> Run:
    """Run `waymark ARGS` in `cwd`; a run past `timeout` seconds is killed and has no code."""
    started = time.monotonic()
    try:
        done = subprocess.run(
            [str(WAYMARK), *args],
            cwd=cwd,
            env=environment(home),
            capture_output=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as expired:
        return Run(args, None, _text(expired.stdout), _text(expired.stderr), timeout)
    elapsed = time.monotonic() - started
    return Run(args, done.returncode, _text(done.stdout), _text(done.stderr), elapsed)


def query(warehouse: Path, sql: str, cwd: Path, home: Path) -> list[dict]:
    """Rows of `waymark query SQL --format json` on the warehouse."""
    args = ["query", sql, "--warehouse", str(warehouse), "--format", "json"]
    run = waymark(args, cwd, home, timeout=120)
    if run.returncode != 0:
        raise RuntimeError(f"waymark query failed: {run.first_line()}\n  {sql}")
    return json.loads(run.out) if run.out.strip() else []


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", "replace")


@dataclass
class Outcome:
    """What one probe found: its verdict (a column of the table) and the detail behind it."""

    name: str
    verdict: str
    detail: str = ""


@dataclass
class Area:
    """One line of the table: the outcomes of an area's probes, counted by verdict."""

    title: str
    columns: list[tuple[str, str]]
    """(verdict, label) in print order; the first column counts every probe tried."""
    outcomes: list[Outcome] = field(default_factory=list)
    failing: tuple[str, ...] = ()
    """Verdicts that make the script exit non-zero."""
    extra: str = ""

    def add(self, name: str, verdict: str, detail: str = "") -> None:
        self.outcomes.append(Outcome(name, verdict, detail))

    def count(self, verdict: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.verdict == verdict)

    def figures(self) -> str:
        parts = [f"{len(self.outcomes)} {self.columns[0][1]}"]
        parts += [f"{self.count(verdict)} {label}" for verdict, label in self.columns[1:]]
        known = {verdict for verdict, _ in self.columns}
        parts += [
            f"{self.count(verdict)} {verdict}"
            for verdict in sorted({o.verdict for o in self.outcomes} - known)
        ]
        return " / ".join(parts) + (f"; {self.extra}" if self.extra else "")

    def findings(self) -> list[Outcome]:
        clear = self.columns[1][0]
        return [outcome for outcome in self.outcomes if outcome.verdict != clear]

    def failed(self) -> bool:
        return any(self.count(verdict) for verdict in self.failing)
