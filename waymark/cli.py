"""The `waymark` command."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

from waymark.home import DEMO_AS_OF, DEMO_DATA_DIR, WaymarkHome


def _build(args: argparse.Namespace) -> int:
    from waymark.build import BuildError, dbt_environment, print_progress, run_dbt
    from waymark.summary import format_summary, read_summary

    home = WaymarkHome.resolve(args.home).create()
    warehouse = Path(args.warehouse) if args.warehouse else home.warehouse
    data_dir = Path(args.data)
    if not data_dir.is_dir():
        print(f"waymark build: data directory {data_dir} does not exist", file=sys.stderr)
        return 2
    env = dbt_environment(data_dir, warehouse, args.as_of, home.dbt_target, home.dbt_logs)
    dbt_args = ["build"]
    if args.full_refresh:
        dbt_args.append("--full-refresh")
    if args.select:
        dbt_args += ["--select", *args.select]
    print(f"Building {warehouse} from {data_dir} (as of {args.as_of or 'now'})", file=sys.stderr)
    try:
        result = run_dbt(dbt_args, env, on_node=None if args.quiet else print_progress)
    except BuildError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(format_summary(read_summary(warehouse), result.seconds))
    return 0


def _generate(args: argparse.Namespace) -> int:
    from waymark.generate import generate

    stats = generate(
        customers=args.customers,
        seed=args.seed,
        out=Path(args.out),
        days=args.days,
        end_date=date.fromisoformat(args.end_date),
        workers=args.workers,
        gzip_events=args.gzip_events,
    )
    print(stats.report() if hasattr(stats, "report") else stats)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Build the committed demo dataset into the home's warehouse, tick every journey as of
    the demo's end, then run every sync and deliver the journey outbox against local
    stand-ins of each destination."""
    args.data = str(DEMO_DATA_DIR)
    args.warehouse = None
    args.as_of = args.as_of or DEMO_AS_OF
    args.full_refresh = True
    args.select = None
    built = _build(args)
    if built != 0 or args.skip_activations:
        return built
    from activations.demo.run import format_demo_activations, run_demo_activations
    from waymark.journeys.cli import parse_instant
    from waymark.journeys.engine import tick_warehouse
    from waymark.journeys.engine.format import format_tick
    from waymark.journeys.engine.sql import EngineError

    home = WaymarkHome.resolve(args.home)
    try:
        ticked = tick_warehouse(home.warehouse, parse_instant(args.as_of))
    except EngineError as error:
        print(f"waymark demo: journeys: {error}", file=sys.stderr)
        return 1
    print(format_tick(ticked))
    demo = run_demo_activations(home.warehouse, home.root, args.as_of)
    print(format_demo_activations(demo))
    return 1 if demo.failed else 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="waymark", description=__doc__)
    root.add_argument("--home", help="state directory (default $WAYMARK_HOME or ./.waymark)")
    commands = root.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build identities, customer view and audiences")
    build.add_argument("--data", required=True, help="directory of landed source files")
    build.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    build.add_argument("--as-of", help="evaluate time rules as of this UTC time (default now)")
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    build.add_argument("--select", nargs="+", help="dbt selection (default everything)")
    build.add_argument("--quiet", action="store_true", help="no per-model progress")
    build.set_defaults(handler=_build)

    demo = commands.add_parser("demo", help="build the committed demo dataset and summarise it")
    demo.add_argument("--as-of", help=f"default {DEMO_AS_OF}")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument(
        "--skip-activations", action="store_true", help="build only; run no sync to stand-ins"
    )
    demo.set_defaults(handler=_demo)

    generate = commands.add_parser("generate", help="write realistic source files with truth")
    generate.add_argument("--customers", type=int, required=True, help="number of people")
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--out", required=True, help="output data directory")
    generate.add_argument("--days", type=int, default=180, help="length of the window")
    generate.add_argument("--end-date", default="2026-06-30", help="window end (exclusive)")
    generate.add_argument("--workers", type=int, default=1, help="processes")
    generate.add_argument("--gzip-events", action="store_true", help="write .jsonl.gz events")
    generate.set_defaults(handler=_generate)

    from waymark.journeys.cli import register as register_journeys

    register_journeys(commands)

    from activations.cli import register as register_activations

    register_activations(commands)
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    return int(args.handler(args))


if __name__ == "__main__":
    sys.exit(main())
