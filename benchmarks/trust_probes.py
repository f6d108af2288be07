"""Trust probes: Waymark fed hostile input and driven as a new user would, with one figure per
area of what it did about each.

    python benchmarks/trust_probes.py [--customers 200] [--timeout 20] [--keep DIR]
        [--areas landing,config,cli,secrets] [--verbose]

Waymark is driven only through its command line (`waymark ...` in subprocesses) and files,
never by importing its modules; its private home and warehouses live in a work folder, removed
at the end unless `--keep DIR`.

1. landing zone: `waymark generate` writes a small data directory; hostile files go beside the
   generated ones (names holding glob characters, extensions and places no source reads,
   unreadable lines, a Parquet file named .csv, implausible and offset-less timestamps); one
   `waymark build`, then `waymark query` checks each input was loaded from its own path,
   quarantined with its file and line (or key), listed as not read with a reason in the build
   summary, or counted. Inputs that must stop a build (a header naming a column twice,
   lacking one, not UTF-8) each get a build of their own: the error must name the file, with
   no DuckDB error text and no traceback. Then the same warehouse is built from a copy of the
   folder with one event file withdrawn: nothing may be read twice.
2. config: one hostile template, journey or sync file at a time in a copy of the project's
   config, validated in a subprocess killed after `--timeout` seconds.
3. command line: wrong invocations of every command; each must be one line naming the
   problem, with a non-zero exit.
4. secrets: the secret-canary tests (a receiver echoing every secret back in its errors), their
   printed counts of canaries planted and found.

Prints one line per area, then every probe that was not clean. Exits 1 when any input was lost
or accepted silently, read twice or misattributed, answered with DuckDB's error text or a
traceback, when a validation hung, or when a canary was found.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from probes.canaries import run_canaries  # noqa: E402
from probes.command_line import run_command_line  # noqa: E402
from probes.common import Area  # noqa: E402
from probes.config import run_config  # noqa: E402
from probes.landing import WAREHOUSE, run_landing  # noqa: E402

AREAS = ("landing", "config", "cli", "secrets")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=200, help="people generated")
    parser.add_argument("--timeout", type=float, default=20.0, help="seconds per validation")
    parser.add_argument("--keep", type=Path, help="keep the work folder here (new or empty)")
    parser.add_argument("--areas", default=",".join(AREAS), help="comma-separated subset")
    parser.add_argument("--verbose", action="store_true", help="list every probe, clean or not")
    args = parser.parse_args(argv)
    chosen = [area.strip() for area in args.areas.split(",") if area.strip()]
    unknown = sorted(set(chosen) - set(AREAS))
    if unknown:
        parser.error(f"unknown area(s) {', '.join(unknown)}; choose from {', '.join(AREAS)}")
    if args.keep:
        if args.keep.exists() and any(args.keep.iterdir()):
            parser.error(f"--keep: {args.keep} is not empty")
        args.keep.mkdir(parents=True, exist_ok=True)
        work = args.keep.resolve()
    else:
        work = Path(tempfile.mkdtemp(prefix="waymark-trust-probes-"))
    home = work / "home"
    started = time.monotonic()
    try:
        areas = run_areas(chosen, work, home, args)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    report(areas, time.monotonic() - started, work if args.keep else None, args.verbose)
    return 1 if any(area.failed() for area in areas) else 0


def run_areas(chosen: list[str], work: Path, home: Path, args: argparse.Namespace) -> list[Area]:
    areas: list[Area] = []
    timed: dict[str, float] = {}

    def timing(name: str, since: float) -> None:
        timed[name] = time.monotonic() - since

    since = time.monotonic()
    # The command-line probes need a built warehouse and data: the landing zone's, or their own.
    if "landing" in chosen or "cli" in chosen:
        landing = run_landing(work, home, args.customers)
        if "landing" in chosen:
            areas.append(landing)
        timing("landing", since)
    if "config" in chosen:
        since = time.monotonic()
        areas.append(run_config(work, home, args.timeout))
        timing("config", since)
    if "cli" in chosen:
        since = time.monotonic()
        areas.append(run_command_line(work, home, work / WAREHOUSE, work / "data"))
        timing("cli", since)
    if "secrets" in chosen:
        since = time.monotonic()
        areas.append(run_canaries())
        timing("secrets", since)
    for area in areas:
        key = {"landing zone": "landing", "command line": "cli"}.get(area.title, area.title)
        area.extra = "; ".join(filter(None, [area.extra, f"{timed.get(key, 0):.0f} s"]))
    return areas


def report(areas: list[Area], seconds: float, kept: Path | None, verbose: bool) -> None:
    width = max(len(area.title) for area in areas)
    print(f"\n{'area':<{width}}  figures")
    for area in areas:
        print(f"{area.title:<{width}}  {area.figures()}")
    print(f"total {seconds:.0f} s" + (f"; work folder kept in {kept}" if kept else ""))
    for area in areas:
        findings = area.outcomes if verbose else area.findings()
        if findings:
            print(f"\n{area.title}: " + ("every probe" if verbose else "not clean"))
            for outcome in findings:
                print(f"  [{outcome.verdict}] {outcome.name}: {outcome.detail}")


if __name__ == "__main__":
    sys.exit(main())
