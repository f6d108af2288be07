"""Command-line probes: wrong invocations of every command, as a new user types them.

Each must print one line on stderr naming the problem and exit non-zero (builds run with
`--quiet`, so their progress is not taken for an error); `syncs sends` before the first
journey tick is the one documented answer with exit 0 (nothing waits yet). Verdicts: `clear`,
`vague` (one line, non-zero exit, but not naming what was wrong), `raw` (DuckDB's error text,
outside `query`, where it answers the user's own SQL), `multi-line`, `traceback`,
`silent` (exit 0 without that answer, or nothing printed).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from probes.common import Area, Run, waymark
from probes.config import JOURNEY, SYNC, project_copy

SEND = "syncs sends before the first tick"


@dataclass(frozen=True)
class Invocation:
    args: list[str]
    names: str
    """What the message must mention: the wrong value, or the name it should have been."""
    answer: bool = False
    """A documented exit-0 answer rather than an error."""
    cwd: Path | None = None
    """Where it runs (default the probes' own folder)."""
    report: bool = False
    """A validation report: one line per problem is its documented form."""


def invocations(work: Path, warehouse: Path, data: Path, bad_journeys: Path) -> list[Invocation]:
    wh = ["--warehouse", str(warehouse)]
    missing = str(work / "no-such-dir" / "warehouse.duckdb")
    a_file = str(next((data / "orders").glob("*-0.csv")))
    out = str(work / "generated-cli")
    simulate = ["journeys", "simulate", "welcome_series"]
    build = ["build", "--quiet", "--data", str(data), *wh]
    project = [
        "--journeys",
        str(bad_journeys),
        "--templates",
        str(bad_journeys.parent / "templates"),
    ]
    project += ["--destinations", str(bad_journeys.parent / "destinations.yml")]
    cases = [
        (["bild"], "build"),
        (["syncs", "lst"], "list"),
        (["journeys", "simulat"], "simulate"),
        (["sync", "new_leads_to_hubspt", "--dry-run", *wh], "new_leads_to_hubspot"),
        (["sync", "nonexistent", "--dry-run", *wh], "nonexistent"),
        (["sync"], "name"),
        (["journeys", "preview", "welcome_serie", "--customer", "x", *wh], "welcome_series"),
        (["journeys", "map", "welcom_series", "--no-counts"], "welcome_series"),
        ([*simulate, "--from", "yesterday", "--to", "2026-06-30", *wh], "yesterday"),
        ([*simulate, "--from", "2026-06-30", "--to", "2026-06-01", *wh], "--to"),
        (
            [*simulate, "--from", "2026-06-01", "--to", "2026-06-02", "--every", "0m", *wh],
            "--every",
        ),
        (
            [*simulate, "--from", "2026-06-01", "--to", "2026-06-02", "--every", "fortnight", *wh],
            "fortnight",
        ),
        (
            ["journeys", "simulate", "nope", "--from", "2026-06-01", "--to", "2026-06-02", *wh],
            "nope",
        ),
        (["generate", "--customers", "-5", "--out", out], "-5"),
        (["generate", "--customers", "abc", "--out", out], "abc"),
        (["generate", "--customers", "10", "--out", out, "--days", "0"], "--days"),
        (["generate", "--customers", "10", "--out", out, "--end-date", "2026-02-30"], "2026-02-30"),
        (["generate", "--customers", "10", "--out", a_file], a_file),
        (["generate", "--customers", "10", "--out", out, "--workers", "0"], "--workers"),
        (["syncs", "sends", "--warehouse", missing], missing),
        (["syncs", "sends", "--destination", "emial_smtp", *wh], "email_smtp"),
        (["syncs", "sends", "--give-up-after-runs", "0", *wh], "--give-up-after-runs"),
        (["syncs", "erase", "--requests-from", "nope.table", *wh], "nope.table"),
        (["syncs", "validate", "--syncs", str(work / "no-such-dir")], "no-such-dir"),
        (["forget", "--customer", "nobody-123", *wh], "nobody-123"),
        (["forget", *wh], "customer"),
        (["forget", "--email", "not-an-email", *wh], "not-an-email"),
        (["forget", "--phone", "12", *wh], "12"),
        (["forget", "--customer", "x", "--requested-at", "garbage", *wh], "garbage"),
        (["query", "select 1", "--warehouse", missing], missing),
        (["query", "select 1", "--warehouse", a_file], a_file),
        (["query", "select 1", "--warehouse", str(data)], str(data)),
        (["query", "selec 1", *wh], "selec"),
        (["query", "select * from nope", *wh], "nope"),
        (["query", "create table x (a int)", *wh], "read-only"),
        (["query", "select 1", "--format", "xml", *wh], "xml"),
        (["query", "select 1", "--max-rows", "-1", *wh], "--max-rows"),
        (["query"], "sql"),
        (["--home", "/dev/null/x", "query", "select 1"], "/dev/null/x"),
        ([*build, "--as-of", "tomorrow"], "tomorrow"),
        ([*build, "--as-of", "2026-13-45"], "2026-13-45"),
        ([*build, "--as-of", ""], "--as-of"),
        (["build", "--data", str(work / "no-such-dir")], "no-such-dir"),
        (["build", "--data", a_file], a_file),
        (["build"], "--data"),
        ([*build, "--as-of", "2026-06-30", "--select", "stg_shop__ordrs"], "stg_shop__ordrs"),
        (
            ["build", "--quiet", "--data", str(data), "--warehouse", str(work / "marts.duckdb")],
            "marts.duckdb",
        ),
        (["journeys", "tick", "--as-of", "nope", *wh], "nope"),
        (["journeys", "tick", "--as-of", "2026-06-30", "--lookback-hours", "-3", *wh], "-3"),
        (["journeys", "tick", "--as-of", "2026-06-30", *project, *wh], "welcome_series.yml"),
        (
            ["journeys", "preview", "welcome_series", "--customer", "x", *project, *wh],
            "welcome_series.yml",
        ),
        (["journeys", "preview", "welcome_series", "--customer", "unknown_id", *wh], "unknown_id"),
        (
            ["journeys", "preview", "welcome_series", "--customer", "x", "--warehouse", missing],
            missing,
        ),
        (["journeys", "validate", "--journeys", str(work / "no-such-dir")], "no-such-dir"),
        (["sync", "new_leads_to_hubspot", "--as-of", "2026-06-30T25:00", *wh], "2026-06-30T25:00"),
        (["sync", "new_leads_to_hubspot", "--sample", "-1", "--dry-run", *wh], "--sample"),
        (["demo", "--as-of", "garbage"], "garbage"),
    ]
    listed = [Invocation(args, names) for args, names in cases]
    # In a project folder of one's own, as `--help` says: "journeys folder (default journeys/)".
    project_folder = bad_journeys.parent
    return [
        Invocation(["syncs", "sends", *wh], "tick", answer=True),
        *listed,
        Invocation(["journeys", "validate"], "welcome_series.yml", cwd=project_folder, report=True),
        Invocation(
            ["syncs", "validate"], "new_leads_to_hubspot.yml", cwd=project_folder, report=True
        ),
    ]


def run_command_line(work: Path, home: Path, warehouse: Path, data: Path) -> Area:
    """Every invocation against the built warehouse `warehouse` (never ticked) and `data`."""
    area = Area(
        "command line",
        [("invocations", "invocations"), ("clear", "one-line errors, non-zero exit"),
         ("traceback", "tracebacks"), ("multi-line", "multi-line"), ("silent", "silent")],
        failing=("traceback", "silent", "raw", "hang"),
    )  # fmt: skip
    folder = work / "cli"
    folder.mkdir(exist_ok=True)
    broken = project_copy(folder / "project")
    journey = broken / JOURNEY
    journey.write_text(journey.read_text(encoding="utf-8").replace("priority: 10", "priority: ten"))
    bad_journeys = broken / "journeys"
    sync = broken / SYNC
    sync.write_text(sync.read_text(encoding="utf-8").replace("first_name", "frist_name"))
    for invocation in invocations(folder, warehouse, data, bad_journeys):
        run = waymark(invocation.args, invocation.cwd or folder, home, timeout=300)
        where = f" (in {invocation.cwd.name}/)" if invocation.cwd else ""
        shown = "waymark " + " ".join(a if a and " " not in a else repr(a) for a in invocation.args)
        area.add(shown + where, *judge(invocation, run))
    return area


def judge(invocation: Invocation, run: Run) -> tuple[str, str]:
    """The verdict on one invocation and the line it rests on."""
    errors = run.error_lines
    first = errors[0] if errors else run.first_line()
    if run.timed_out:
        return "hang", "killed after 300 s"
    if run.traceback:
        return "traceback", run.lines[-1]
    if invocation.answer:
        ok = run.returncode == 0 and len(run.lines) == 1 and invocation.names in first
        return ("clear" if ok else "vague"), f"exit {run.returncode}: {first}"
    if run.returncode == 0 or not errors:
        return "silent", f"exit {run.returncode}: {first}"
    if invocation.report:
        named = [line for line in run.lines if invocation.names in line]
        if named:
            return "clear", f"exit {run.returncode}: {named[0]}"
    elif len(errors) > 1:
        return "multi-line", f"{len(errors)} lines on stderr: {first} ... {errors[-1]}"
    if run.raw_engine_error and invocation.args[0] != "query":
        return "raw", f"DuckDB's error text: {first}"
    if invocation.names not in first:
        return "vague", f"exit {run.returncode}, does not name {invocation.names!r}: {first}"
    return "clear", f"exit {run.returncode}: {first}"
