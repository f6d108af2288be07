"""`waymark demo`: build the committed demo data, tick every journey, then run every sync and
journey send against local stand-ins of the destinations."""

from __future__ import annotations

import argparse

from waymark.cli.args import instant
from waymark.cli.build import run_build
from waymark.cli.errors import CommandError
from waymark.core.home import DEMO_AS_OF, DEMO_DATA_DIR, WaymarkHome
from waymark.core.instants import format_instant


def register(commands: argparse._SubParsersAction) -> None:
    """Add `demo` to the `waymark` parser."""
    demo = commands.add_parser("demo", help="build the committed demo dataset and summarise it")
    demo.add_argument("--as-of", type=instant, help=f"default {format_instant(DEMO_AS_OF)}")
    demo.add_argument("--quiet", action="store_true")
    demo.add_argument(
        "--skip-activations", action="store_true", help="build only; run no sync to stand-ins"
    )
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> int:
    """Build the demo dataset into the home's warehouse, tick every journey as of the demo's
    end, then run every sync and deliver the journey outbox against local stand-ins."""
    args.data = DEMO_DATA_DIR
    args.warehouse = None
    args.as_of = args.as_of or DEMO_AS_OF
    args.full_refresh = True
    args.select = None
    built = run_build(args)
    if built != 0 or args.skip_activations:
        return built
    from activations.demo.run import format_demo_activations, run_demo_activations
    from waymark.journeys.engine import tick_warehouse
    from waymark.journeys.engine.format import format_tick
    from waymark.journeys.engine.sql import EngineError

    home = WaymarkHome.resolve(args.home)
    try:
        ticked = tick_warehouse(home.warehouse, args.as_of)
    except EngineError as error:
        raise CommandError(f"journeys: {error}") from error
    print(format_tick(ticked))
    demo = run_demo_activations(home.warehouse, home.root, args.as_of)
    print(format_demo_activations(demo))
    return 1 if demo.failed else 0
