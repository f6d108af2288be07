"""The `waymark` command.

`.env` in the working directory is loaded first, as Dagster loads it (`waymark.environment`).
Every error is one line, `waymark <command>: <problem>`, with a non-zero exit
(`waymark.cli_errors`); `--debug` or WAYMARK_DEBUG=1 shows the traceback of an unexpected one.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from waymark.cli_args import (
    WaymarkArgumentParser,
    existing_directory,
    instant_text,
    iso_date,
    label_commands,
    whole_number,
)
from waymark.cli_errors import CommandError, require_warehouse, run_command
from waymark.environment import dot_env
from waymark.home import DEMO_AS_OF, DEMO_DATA_DIR, WaymarkHome

# Rows `waymark query` prints as a table unless told otherwise; CSV and JSON write every row.
QUERY_TABLE_ROWS = 100
QUERY_FORMATS = ("table", "csv", "json")


def _build(args: argparse.Namespace) -> int:
    from waymark.build import BuildError, dbt_environment, print_progress, run_dbt
    from waymark.summary import format_summary, read_summary

    home = WaymarkHome.resolve(args.home).create()
    warehouse = Path(args.warehouse) if args.warehouse else home.warehouse
    if not warehouse.parent.is_dir():
        raise CommandError(f"--warehouse {warehouse}: the folder {warehouse.parent} does not exist")
    data_dir = Path(args.data)
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
        # The failing nodes, one per line, are the report of a build that ran.
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
        end_date=args.end_date,
        workers=args.workers,
        gzip_events=args.gzip_events,
    )
    print(stats.report() if hasattr(stats, "report") else stats)
    return 0


def _demo(args: argparse.Namespace) -> int:
    """Build the committed demo dataset into the home's warehouse, tick every journey as of
    the demo's end, then run every sync and deliver the journey outbox against local
    stand-ins of each destination."""
    args.data = DEMO_DATA_DIR
    args.warehouse = None
    args.as_of = args.as_of or DEMO_AS_OF
    args.full_refresh = True
    args.select = None
    built = _build(args)
    if built != 0 or args.skip_activations:
        return built
    from activations.demo.run import format_demo_activations, run_demo_activations
    from waymark.instants import parse_instant
    from waymark.journeys.engine import tick_warehouse
    from waymark.journeys.engine.format import format_tick
    from waymark.journeys.engine.sql import EngineError

    home = WaymarkHome.resolve(args.home)
    try:
        ticked = tick_warehouse(home.warehouse, parse_instant(args.as_of))
    except EngineError as error:
        raise CommandError(f"journeys: {error}") from error
    print(format_tick(ticked))
    demo = run_demo_activations(home.warehouse, home.root, args.as_of)
    print(format_demo_activations(demo))
    return 1 if demo.failed else 0


def _query(args: argparse.Namespace) -> int:
    from waymark.query import WRITERS, run_query

    warehouse = Path(args.warehouse) if args.warehouse else WaymarkHome.resolve(args.home).warehouse
    require_warehouse(warehouse)
    limit = args.max_rows if args.max_rows is not None else (
        QUERY_TABLE_ROWS if args.format == "table" else 0
    )  # fmt: skip
    result = run_query(warehouse, args.sql, limit or None)
    WRITERS[args.format](result, sys.stdout)
    sys.stdout.flush()  # the rows, then what was left out of them
    if result.more:
        print(
            f"first {limit:,} rows shown: --max-rows 0 shows every row, --format csv or json "
            "writes them all",
            file=sys.stderr,
        )
    return 0


def _customers(text: str) -> int:
    # Imported here: the generator package takes a third of a second to import.
    from waymark.generate.ids import MAX_PEOPLE

    return whole_number(1, MAX_PEOPLE)(text)


def parser() -> argparse.ArgumentParser:
    root = WaymarkArgumentParser(prog="waymark", description=__doc__.splitlines()[0])
    root.add_argument("--home", help="state directory (default $WAYMARK_HOME or ./.waymark)")
    root.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    commands = root.add_subparsers(dest="command", required=True)

    build = commands.add_parser("build", help="build identities, customer view and audiences")
    build.add_argument(
        "--data", required=True, type=existing_directory, help="directory of landed source files"
    )
    build.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    build.add_argument(
        "--as-of", type=instant_text, help="evaluate time rules as of this UTC time (default now)"
    )
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    build.add_argument("--select", nargs="+", help="dbt selection (default everything)")
    build.add_argument("--quiet", action="store_true", help="no per-model progress")
    build.set_defaults(handler=_build)

    demo = commands.add_parser("demo", help="build the committed demo dataset and summarise it")
    demo.add_argument("--as-of", type=instant_text, help=f"default {DEMO_AS_OF}")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument(
        "--skip-activations", action="store_true", help="build only; run no sync to stand-ins"
    )
    demo.set_defaults(handler=_demo)

    generate = commands.add_parser("generate", help="write realistic source files with truth")
    generate.add_argument("--customers", type=_customers, required=True, help="number of people")
    generate.add_argument("--seed", type=int, default=1)
    generate.add_argument("--out", required=True, help="output data directory")
    generate.add_argument("--days", type=whole_number(1), default=180, help="length of the window")
    generate.add_argument(
        "--end-date", type=iso_date, default="2026-06-30", help="window end (exclusive)"
    )
    generate.add_argument("--workers", type=whole_number(1), default=1, help="processes")
    generate.add_argument("--gzip-events", action="store_true", help="write .jsonl.gz events")
    generate.set_defaults(handler=_generate)

    query = commands.add_parser("query", help="run read-only SQL on the warehouse; print a table")
    query.add_argument("sql", help='such as "select * from marts.customers limit 5"')
    query.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    query.add_argument("--format", choices=QUERY_FORMATS, default="table", help="default table")
    query.add_argument(
        "--max-rows",
        type=whole_number(0),
        help=f"rows printed (default {QUERY_TABLE_ROWS} for a table, every row for csv and "
        "json; 0 for every row)",
    )
    query.set_defaults(handler=_query)

    from waymark.journeys.cli import register as register_journeys

    register_journeys(commands)

    from activations.cli import register as register_activations

    register_activations(commands)
    label_commands(root)
    return root


def main(argv: list[str] | None = None) -> int:
    with dot_env():
        return run_command(parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
