"""Five-field cron expressions (minute hour day-of-month month day-of-week), checked by field.

Schedules run in Dagster, whose cron dialect is this one; checking here lets `waymark syncs
validate` point at the bad field without importing Dagster.
"""

from __future__ import annotations

import re

_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()  # noqa: SIM905
_WEEKDAYS = "sun mon tue wed thu fri sat".split()  # noqa: SIM905
_FIELDS = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, {name: number + 1 for number, name in enumerate(_MONTHS)}),
    ("day of week", 0, 7, {name: number for number, name in enumerate(_WEEKDAYS)}),
)
_ITEM = re.compile(r"^(\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/([0-9]+))?$")
_ALIASES = {"@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight"}


def cron_problem(expression: str) -> str | None:
    """Why `expression` is not a valid schedule, or None when it is."""
    text = expression.strip().lower()
    if text in _ALIASES:
        return None
    parts = text.split()
    if len(parts) != 5:
        return f"'{expression}' needs 5 fields (minute hour day month weekday), has {len(parts)}"
    for part, (name, low, high, names) in zip(parts, _FIELDS, strict=True):
        for item in part.split(","):
            match = _ITEM.match(item)
            if match is None:
                return f"{name} field '{part}' is not a cron field"
            if match.group(2) is not None and int(match.group(2)) == 0:
                return f"{name} field '{part}' has a step of 0"
            if match.group(1) == "*":
                continue
            for value in match.group(1).split("-"):
                number = names.get(value) if not value.isdigit() else int(value)
                if number is None or not low <= number <= high:
                    return f"{name} field '{part}': '{value}' is outside {low}-{high}"
    return None
