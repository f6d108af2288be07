"""Cron schedules: five fields (minute hour day-of-month month day-of-week), read in a time zone.

Journey schedules and sync schedules share one dialect, the one Dagster runs schedules in:
whatever croniter accepts that expands to five fields, names for months and days (`jan`, `mon`),
0 and 7 for Sunday, the `@daily`-style aliases, and not a day February never has. croniter
(the library Dagster's own schedules use) decides validity and computes firings; this module adds
the message that names the field at fault, so `waymark journeys validate` and `waymark syncs
validate` point at it without importing Dagster.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from croniter import CroniterBadDateError, croniter
from pydantic import AfterValidator

from waymark.core.instants import as_utc

_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: number for number, name in enumerate(_MONTHS, start=1)}),
    ("day of week", 0, 7, {name: number for number, name in enumerate(_WEEKDAYS)}),
)
_FEBRUARY = 2


def is_valid(expression: str) -> bool:
    """Whether Dagster would run a schedule on `expression` (its `is_valid_cron_string` rule)."""
    text = expression.strip()
    if not croniter.is_valid(text):
        return False
    expanded = croniter.expand(text)[0]
    if len(expanded) != len(_FIELDS):
        return False
    days, months = expanded[2], expanded[3]
    return not (months == [_FEBRUARY] and len(days) == 1 and days[0] in (30, 31))


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a valid schedule, naming the field at fault; None when it is."""
    if is_valid(expression):
        return None
    parts = expression.strip().split()
    if len(parts) != len(_FIELDS):
        return f"'{expression}' needs 5 fields (minute hour day month weekday), has {len(parts)}"
    for index, (part, field) in enumerate(zip(parts, _FIELDS, strict=True)):
        if not _valid_alone(index, part):
            return f"{field[0]} field '{part}'{_why(part, field, index)}"
    return f"'{expression}' never fires: February has no day {parts[2]}"


def _valid_alone(index: int, part: str) -> bool:
    """Whether one field is valid with every other field `*`."""
    fields = ["*"] * len(_FIELDS)
    fields[index] = part
    return is_valid(" ".join(fields))


def _why(part: str, field: tuple[str, int, int, dict[str, int]], index: int) -> str:
    """What is wrong inside one field: a step of 0, a value out of range, or its form."""
    _, low, high, names = field
    for item in part.lower().split(","):
        if _valid_alone(index, item):
            continue
        base, _, step = item.partition("/")
        if step.isdigit() and int(step) == 0:
            return " has a step of 0"
        for value in base.split("-"):
            number = int(value) if value.isdigit() else names.get(value)
            if value != "*" and (number is None or not low <= number <= high):
                return f": '{value}' is outside {low}-{high}"
    return " is not a cron field"


def _checked(value: str) -> str:
    problem = cron_problem(value)
    if problem:
        raise ValueError(problem)
    return value


Cron = Annotated[str, AfterValidator(_checked)]
"""A cron expression in the dialect above, such as `0 9 * * mon`."""


def latest_fire(expression: str, at: datetime, timezone: str = "UTC") -> datetime | None:
    """The latest time `expression`, read in `timezone`, fires at or before `at` (UTC, aware);
    None when it never has. A naive `at` is UTC."""
    # croniter steps back strictly before its start: start one second after `at`'s whole second.
    start = as_utc(at).replace(microsecond=0) + timedelta(seconds=1)
    try:
        fired = croniter(expression, start.astimezone(ZoneInfo(timezone))).get_prev(datetime)
    except CroniterBadDateError:
        return None
    return fired.astimezone(UTC)


def next_fires(
    expression: str, after: datetime, count: int, timezone: str = "UTC"
) -> list[datetime]:
    """The next `count` times `expression`, read in `timezone`, fires after `after` (UTC, aware).
    A naive `after` is UTC."""
    schedule = croniter(expression, as_utc(after).astimezone(ZoneInfo(timezone)))
    return [schedule.get_next(datetime).astimezone(UTC) for _ in range(count)]
