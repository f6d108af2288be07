"""The `waymark` command.

`.env` in the working directory is loaded first, as Dagster loads it (`waymark.core.environment`).
Every error is one line, `waymark <command>: <problem>`, with a non-zero exit
(`waymark.cli.errors`); `--debug` or WAYMARK_DEBUG=1 shows the traceback of an unexpected one.
Each command group is one module of this package with a `register` function.
"""

from __future__ import annotations

import argparse

from waymark.cli import build, demo, generate, journeys, query, syncs
from waymark.cli.args import WaymarkArgumentParser, label_commands
from waymark.cli.errors import run_command
from waymark.core.environment import dot_env


def parser() -> argparse.ArgumentParser:
    root = WaymarkArgumentParser(prog="waymark", description=__doc__.splitlines()[0])
    root.add_argument("--home", help="state directory (default $WAYMARK_HOME or ./.waymark)")
    root.add_argument(
        "--debug", action="store_true", help="show the traceback of an unexpected error"
    )
    commands = root.add_subparsers(dest="command", required=True)
    for group in (build, demo, generate, query, journeys, syncs):
        group.register(commands)
    label_commands(root)
    return root


def main(argv: list[str] | None = None) -> int:
    with dot_env():
        return run_command(parser(), argv)
