"""`waymark generate`: write realistic source files for N people, with the truth beside them."""

from __future__ import annotations

import argparse
from pathlib import Path

from waymark.cli.args import iso_date, whole_number


def register(commands: argparse._SubParsersAction) -> None:
    """Add `generate` to the `waymark` parser."""
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


def _customers(text: str) -> int:
    # Imported here: the generator package takes a third of a second to import.
    from waymark.generate.ids import MAX_PEOPLE

    return whole_number(1, MAX_PEOPLE)(text)


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
