"""The argument parser every `waymark` command uses, and the argument types it checks.

Values are checked where they are parsed, so a bad one is refused with the option's name before
any work starts: `argument --customers: must be a whole number from 1 to 8,000,000, not -5`.
Every parser error is a one-line `UsageError` (exit 2) instead of argparse's usage block, and an
unknown command or choice names the nearest one.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable, Sequence
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any, NoReturn

from waymark.cli.errors import UsageError, did_you_mean
from waymark.core.instants import parse_instant


class WaymarkArgumentParser(argparse.ArgumentParser):
    """argparse with one-line errors and "did you mean" for commands, choices and options.

    Sub-command parsers are created with the parser's own class, so this covers every command.
    """

    def error(self, message: str) -> NoReturn:
        raise UsageError(message, command=self.prog)

    def _check_value(self, action: argparse.Action, value: Any) -> None:
        # argparse's own message lists the choices but does not point at the nearest one (Python
        # 3.14 adds `suggest_on_error`); the check is the same as the standard library's.
        if action.choices is None or value in action.choices:
            return
        choices = [str(choice) for choice in action.choices]
        hint = did_you_mean(str(value), choices)
        if isinstance(action, argparse._SubParsersAction):
            raise argparse.ArgumentError(
                None, f"unknown command '{value}'{hint}; commands: {', '.join(choices)}"
            )
        raise argparse.ArgumentError(action, f"unknown choice '{value}'{hint}")

    def parse_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> argparse.Namespace:
        parsed, extras = self.parse_known_args(args, namespace)
        if not extras:
            return parsed
        # Report against the command that was being parsed, with its options to suggest.
        command: argparse.ArgumentParser = getattr(parsed, "command_parser", self)
        own = [option for action in self._actions for option in action.option_strings]
        first = extras[0].split("=", 1)[0]
        if command is not self and first in own:
            command.error(f"{first} goes before the command: {self.prog} {first} ...")
        options = [option for action in command._actions for option in action.option_strings]
        hint = did_you_mean(first, options) if first.startswith("-") else ""
        command.error(f"unrecognized arguments: {' '.join(extras)}{hint}")


def label_commands(parser: argparse.ArgumentParser) -> None:
    """Record on every command its parser and full name (`waymark journeys tick`), so errors
    raised while it runs are prefixed with it, and make a missing sub-command an error that
    lists the commands (argparse would name it by its dest, "syncs_command")."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        action.required = False
        names = ", ".join(action.choices)
        parser.set_defaults(handler=partial(_missing_command, parser.prog, names))
        for command in action.choices.values():
            command.set_defaults(command_parser=command, command_prog=command.prog)
            label_commands(command)


def _missing_command(prog: str, names: str, _args: argparse.Namespace) -> int:
    raise UsageError(f"missing command: one of {names}", command=prog)


def whole_number(minimum: int, maximum: int | None = None) -> Callable[[str], int]:
    """An argparse type: an integer in [minimum, maximum]."""
    bounds = f"from {minimum:,} to {maximum:,}" if maximum is not None else f"of {minimum} or more"

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number {bounds}, not '{text}'"
            ) from None
        if value < minimum or (maximum is not None and value > maximum):
            raise argparse.ArgumentTypeError(f"must be a whole number {bounds}, not {text}")
        return value

    return parse


def non_negative_number(text: str) -> float:
    """An argparse type: a finite number, zero or more."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"must be a number of zero or more, not '{text}'")
    return value


def iso_date(text: str) -> date:
    """An argparse type: a calendar date, 2026-06-30."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a date; write it as YYYY-MM-DD, such as 2026-06-30"
        ) from None


def instant(text: str) -> datetime:
    """An argparse type: an ISO 8601 instant, aware UTC (see `waymark.core.instants`)."""
    try:
        return parse_instant(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def duration(text: str) -> Any:
    """An argparse type: a positive duration such as 30m, 1h, 7d (a `timedelta`)."""
    # Imported here: the journey types load pydantic, which `waymark --help` does not need.
    from waymark.core.types import parse_duration

    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    except OverflowError:
        raise argparse.ArgumentTypeError(f"'{text}' is longer than any calendar") from None


def existing_directory(text: str) -> Path:
    """An argparse type: a directory that exists."""
    path = Path(text)
    if not path.is_dir():
        what = "is not a directory" if path.exists() else "does not exist"
        raise argparse.ArgumentTypeError(f"{path} {what}")
    return path
