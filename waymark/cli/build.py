"""`waymark build`: build the warehouse from landed source files with dbt and print a summary."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from waymark.cli.args import existing_directory, instant
from waymark.cli.errors import CommandError
from waymark.core.home import WaymarkHome
from waymark.core.instants import format_instant


def register(commands: argparse._SubParsersAction) -> None:
    """Add `build` to the `waymark` parser."""
    build = commands.add_parser("build", help="build identities, customer view and audiences")
    build.add_argument(
        "--data", required=True, type=existing_directory, help="directory of landed source files"
    )
    build.add_argument("--warehouse", help="DuckDB file (default <home>/warehouse.duckdb)")
    build.add_argument(
        "--as-of", type=instant, help="evaluate time rules as of this UTC time (default now)"
    )
    build.add_argument("--full-refresh", action="store_true", help="rebuild incremental models")
    build.add_argument("--select", nargs="+", help="dbt selection (default everything)")
    build.add_argument("--quiet", action="store_true", help="no per-model progress")
    build.set_defaults(handler=run_build)


def run_build(args: argparse.Namespace) -> int:
    """Build, then print the summary; 1 when dbt reported failures (listed on stderr)."""
    from waymark.warehouse.build import BuildError, dbt_environment, print_progress, run_dbt
    from waymark.warehouse.summary import format_summary, read_summary

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
    when = format_instant(args.as_of) if args.as_of else "now"
    print(f"Building {warehouse} from {data_dir} (as of {when})", file=sys.stderr)
    try:
        result = run_dbt(dbt_args, env, on_node=None if args.quiet else print_progress)
    except BuildError as error:
        # The failing nodes, one per line, are the report of a build that ran.
        print(str(error), file=sys.stderr)
        return 1
    print(format_summary(read_summary(warehouse), result.seconds))
    return 0
