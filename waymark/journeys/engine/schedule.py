"""When a schedule entry fires: five-field cron expressions read in a time zone.

Standard cron semantics: a time matches when minute, hour and month match and either the day of
month or the day of week matches when both are restricted (either one alone otherwise); 0 and 7
are Sunday; names (`mon`, `jan`) and the `@daily`-style aliases are accepted.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 7))
_NAMES = (
    {},
    {},
    {},
    {m: i for i, m in enumerate(_MONTHS, 1)},
    {d: i for i, d in enumerate(["sun", "mon", "tue", "wed", "thu", "fri", "sat"])},
)
# Searching back minute by minute is bounded: a year covers every five-field expression that
# can fire at all (29 February aside, which cron rarely names).
_HORIZON = timedelta(days=366)


def _field(text: str, low: int, high: int, names: dict[str, int]) -> set[int]:
    values: set[int] = set()
    for item in text.lower().split(","):
        base, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if base == "*":
            first, last = low, high
        else:
            bounds = [names[part] if part in names else int(part) for part in base.split("-")]
            first = bounds[0]
            # `5/15` runs from 5 to the end of the range; `5` alone is just 5.
            last = bounds[1] if len(bounds) > 1 else (high if step_text else first)
        values.update(range(first, last + 1, step))
    return values


class Cron:
    def __init__(self, expression: str) -> None:
        text = _ALIASES.get(expression.strip().lower(), expression)
        parts = text.split()
        if len(parts) != 5:
            raise ValueError(f"'{expression}' needs five cron fields")
        fields = [_field(p, *r, n) for p, r, n in zip(parts, _RANGES, _NAMES, strict=True)]
        self.minutes, self.hours, self.days, self.months, weekdays = fields
        self.weekdays = {0 if day == 7 else day for day in weekdays}
        self.any_day = parts[2] == "*"
        self.any_weekday = parts[4] == "*"

    def matches(self, local: datetime) -> bool:
        if local.minute not in self.minutes or local.hour not in self.hours:
            return False
        if local.month not in self.months:
            return False
        day = local.day in self.days
        weekday = (local.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return day and weekday
        return day or weekday


def latest_fire(
    expression: str, timezone: str, after: datetime, until: datetime
) -> datetime | None:
    """The latest firing in `(after, until]` (naive UTC in and out), or None."""
    cron, zone = Cron(expression), ZoneInfo(timezone)
    moment = until.replace(second=0, microsecond=0)
    stop = max(after, until - _HORIZON)
    while moment > stop:
        local = moment.replace(tzinfo=UTC).astimezone(zone)
        if cron.matches(local):
            return moment
        moment -= timedelta(minutes=1)
    return None
