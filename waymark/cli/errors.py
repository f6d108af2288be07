"""How every `waymark` command reports a problem: one line on stderr and a non-zero exit.

A problem the user can fix (a bad argument, a name that does not exist, a missing or busy
warehouse) is raised as a `CommandError` and printed as `waymark <command>: <problem>`, with
"did you mean" when a name is close to a known one. The errors of libraries whose messages
already name the problem (DuckDB, the file system) are printed the same way. Anything else is a
bug in Waymark: one line naming the exception and how to see its traceback (`waymark --debug
...` or `WAYMARK_DEBUG=1`), and exit status 70, so scripts can tell the two apart.

Exit status: 1 a problem with the input or the warehouse (or the command's work failed), 2 the
command line itself is wrong, 70 an unexpected internal error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path

from waymark.core.errors import closest

EXIT_PROBLEM = 1
EXIT_USAGE = 2
EXIT_INTERNAL = 70  # sysexits.h EX_SOFTWARE
EXIT_INTERRUPTED = 130
DEBUG_HINT = "run again with `waymark --debug ...` or WAYMARK_DEBUG=1 for the traceback"

# DuckDB: 'IO Error: Could not set lock on file "<path>": Conflicting lock is held in <exe>
# (PID <n>)...' when another process has the database file open.
_LOCK = re.compile(r'Could not set lock on file "(?P<path>[^"]+)".*?\(PID (?P<pid>\d+)\)', re.S)


class CommandError(Exception):
    """A problem the user can fix, said in one line that names it.

    `command` overrides the `waymark <command>` prefix (argparse errors know their parser).
    """

    def __init__(
        self, problem: str, *, exit_code: int = EXIT_PROBLEM, command: str | None = None
    ) -> None:
        super().__init__(one_line(problem))
        self.exit_code = exit_code
        self.command = command


class UsageError(CommandError):
    """The command line is wrong: an unknown command or option, a value that cannot be right."""

    def __init__(self, problem: str, *, command: str | None = None) -> None:
        super().__init__(problem, exit_code=EXIT_USAGE, command=command)


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """` (did you mean 'x'?)` for the nearest of `choices`, or nothing when none is close."""
    close = closest(name, choices)
    return f" (did you mean '{close}'?)" if close else ""


def unknown_name(
    kind: str, name: str, choices: Iterable[str], where: object = None
) -> CommandError:
    """`no <kind> named '<name>' [in <where>] (did you mean ...?)`."""
    place = f" in {where}" if where is not None else ""
    return CommandError(f"no {kind} named '{name}'{place}{did_you_mean(name, choices)}")


def problems_error(problems: Sequence[object], lister: str) -> CommandError:
    """The first of located problems (`file:line:column: field: message`), and how many more
    the command `lister` lists."""
    more = len(problems) - 1
    hint = f" (and {more} more; `{lister}` lists them)" if more > 0 else ""
    return CommandError(f"{problems[0]}{hint}")


def one_line(text: str) -> str:
    """The first non-empty line of a message, with a DuckDB "Did you mean" line kept beside it."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return "(no message)"
    hints = [line for line in lines[1:] if line.lower().startswith("did you mean")]
    return " ".join([lines[0], *hints[:1]])


def describe_known(error: BaseException) -> str | None:
    """One line for errors whose message already names the problem; None for anything else."""
    import duckdb

    if isinstance(error, duckdb.Error):
        locked = _LOCK.search(str(error))
        if locked:
            return (
                f"the warehouse {locked['path']} is in use by another process (PID "
                f"{locked['pid']}), such as a running build or Dagster run; try again when it "
                "finishes"
            )
        return one_line(str(error))
    if isinstance(error, OSError) and error.strerror:
        where = f": {error.filename}" if error.filename else ""
        return f"{error.strerror}{where}"
    return None


def require_warehouse(path: Path) -> Path:
    """`path` when the warehouse file exists; otherwise a `CommandError` saying how to build it."""
    if path.is_file():
        return path
    raise CommandError(
        f"no warehouse at {path}; build one with `waymark build --data DIR` or `waymark demo`"
    )


def debug_requested(args: argparse.Namespace | None = None) -> bool:
    """`waymark --debug ...` or WAYMARK_DEBUG set to anything but empty, 0, false or no."""
    flag = os.environ.get("WAYMARK_DEBUG", "").strip().lower()
    return bool(getattr(args, "debug", False)) or flag not in ("", "0", "false", "no")


def run_command(root: argparse.ArgumentParser, argv: Sequence[str] | None = None) -> int:
    """Parse `argv`, run the command's handler, and turn every error into one line on stderr."""
    command, args = root.prog, None
    try:
        args = root.parse_args(argv)
        command = getattr(args, "command_prog", command)
        return int(args.handler(args))
    except CommandError as error:
        _say(error.command or command, str(error))
        return error.exit_code
    except KeyboardInterrupt:
        _say(command, "interrupted")
        return EXIT_INTERRUPTED
    except Exception as error:
        if debug_requested(args):
            raise
        known = describe_known(error)
        if known is not None:
            _say(command, known)
            return EXIT_PROBLEM
        problem = f"{type(error).__name__}: {one_line(str(error))}"
        _say(command, f"unexpected error: {problem} ({DEBUG_HINT})")
        return EXIT_INTERNAL


def _say(command: str, problem: str) -> None:
    sys.stdout.flush()  # what the command printed so far comes before its error
    print(f"{command}: {problem}", file=sys.stderr)
