"""Validation errors that point at a file, a line, a column and a field."""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

Loc = tuple[str | int, ...]


@dataclass(frozen=True)
class Problem:
    """A problem found in a parsed value, located by field path before it is mapped to a line."""

    loc: Loc
    message: str


@dataclass(frozen=True)
class Issue:
    """One located problem: `file:line:column: field: message`."""

    file: Path
    line: int
    column: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{_shown(self.file)}:{self.line}:{self.column}"
        return (
            f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        )


class ConfigError(ValueError):
    """Every problem found in one or more files, one per line of the message."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


def display_path(parts: Iterable[str | int]) -> str:
    """`('steps', 2, 'send', 'template')` -> `steps[2].send.template`."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def closest(name: str, choices: Iterable[str]) -> str | None:
    """The one of `choices` a typo of `name` most likely meant, or None when none is close."""
    close = difflib.get_close_matches(name, list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, choices: Iterable[str], prefix: str = "") -> str:
    """`; did you mean 'first_name'?` for the closest of `choices`, or nothing when none is
    close; `prefix` is put before the suggestion (`customer.`)."""
    close = closest(name, choices)
    return f"; did you mean '{prefix}{close}'?" if close else ""


def _shown(path: Path) -> str:
    """Paths under the working directory print relative to it, as an editor expects."""
    try:
        return (
            os.path.relpath(path) if Path(path).resolve().is_relative_to(Path.cwd()) else str(path)
        )
    except ValueError:
        return str(path)
