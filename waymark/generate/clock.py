"""Time arithmetic for the generator: integer epoch milliseconds in, ISO-8601 text out.

The generator formats tens of millions of timestamps, so it avoids datetime objects in the hot
path: days are formatted once and cached, and time-zone offsets are looked up once per
(zone, UTC hour), which is exact because every zone used here changes offset on a UTC hour.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

MS_PER_SECOND = 1_000
MS_PER_MINUTE = 60_000
MS_PER_HOUR = 3_600_000
MS_PER_DAY = 86_400_000

# Every "HH:MM:SS" of a day and every ".mmm", formatted once: timestamp formatting is the
# generator's hottest path after JSON encoding.
_HMS = tuple(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
_MILLIS = tuple(f".{m:03d}" for m in range(1_000))


class Clock:
    """The generation window [start, end) and fast formatting of instants inside it."""

    def __init__(self, end_date: date, days: int) -> None:
        self.end_date = end_date
        self.start_date = end_date - timedelta(days=days)
        self.days = days
        epoch = datetime(1970, 1, 1, tzinfo=UTC)
        start = datetime(self.start_date.year, self.start_date.month, self.start_date.day)
        self.start_ms = int((start.replace(tzinfo=UTC) - epoch).total_seconds()) * MS_PER_SECOND
        self.end_ms = self.start_ms + days * MS_PER_DAY
        self._days: dict[int, str] = {}
        self._offsets: dict[tuple[str, int], tuple[int, str]] = {}
        self._zones: dict[str, ZoneInfo] = {}

    def contains(self, ms: int) -> bool:
        """True when the instant lies inside the generation window."""
        return self.start_ms <= ms < self.end_ms

    def day(self, ms: int) -> str:
        """UTC calendar day, ``YYYY-MM-DD``: the events partition key."""
        index = ms // MS_PER_DAY
        text = self._days.get(index)
        if text is None:
            text = (date(1970, 1, 1) + timedelta(days=index)).isoformat()
            self._days[index] = text
        return text

    def month(self, ms: int) -> str:
        """UTC calendar month, ``YYYY-MM``: the CSV partition key."""
        return self.day(ms)[:7]

    def utc(self, ms: int) -> str:
        """``2026-03-04T10:15:00Z`` (seconds precision), the CSV timestamp format."""
        rem = ms % MS_PER_DAY
        return self.day(ms) + "T" + _HMS[rem // MS_PER_SECOND] + "Z"

    def utc_ms(self, ms: int) -> str:
        """``2026-03-04T10:15:00.123Z``, Segment's ``timestamp`` format."""
        rem = ms % MS_PER_DAY
        return self.day(ms) + "T" + _HMS[rem // MS_PER_SECOND] + _MILLIS[rem % MS_PER_SECOND] + "Z"

    def offset(self, tz: str, ms: int) -> tuple[int, str]:
        """UTC offset of zone ``tz`` at an instant, as milliseconds and as ``+HH:MM``."""
        key = (tz, ms // MS_PER_HOUR)
        hit = self._offsets.get(key)
        if hit is None:
            zone = self._zones.get(tz)
            if zone is None:
                zone = self._zones[tz] = ZoneInfo(tz)
            instant = datetime.fromtimestamp(key[1] * 3600, tz=UTC).astimezone(zone)
            delta = instant.utcoffset() or timedelta(0)
            minutes = int(delta.total_seconds()) // 60
            sign = "+" if minutes >= 0 else "-"
            text = f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
            hit = self._offsets[key] = (minutes * MS_PER_MINUTE, text)
        return hit

    def local_ms(self, ms: int, tz: str) -> str:
        """Device-clock time with its offset, ``2026-03-04T05:15:00.123-05:00``."""
        offset_ms, text = self.offset(tz, ms)
        local = ms + offset_ms
        rem = local % MS_PER_DAY
        return (
            self.day(local) + "T" + _HMS[rem // MS_PER_SECOND] + _MILLIS[rem % MS_PER_SECOND] + text
        )

    def at_local_hour(self, day_index: int, hour: float, tz: str) -> int:
        """Epoch ms of a local wall-clock hour on window day ``day_index`` in zone ``tz``."""
        approx = self.start_ms + day_index * MS_PER_DAY + int(hour * MS_PER_HOUR)
        offset_ms, _ = self.offset(tz, approx)
        return approx - offset_ms
