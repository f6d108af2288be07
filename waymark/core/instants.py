"""Instants: the one type (an aware UTC `datetime`), its parser, its text, its warehouse form.

Every time rule is evaluated as of an instant (`as_of`) given on the command line (`--as-of`,
`--from`), by a Dagster run's tag, or by a test, so reading, writing and converting one live
here. People write ISO 8601, UTC unless an offset says otherwise. The dbt project casts the text
`YYYY-MM-DD HH:MM:SS`, and DuckDB's `timestamp` columns hold naive UTC: `to_warehouse` is the
only conversion to it.
"""

from __future__ import annotations

from datetime import UTC, datetime

EXAMPLES = "2026-06-30, 2026-06-30T09:00:00Z or '2026-06-30 09:00:00+02:00'"


def parse_instant(text: str) -> datetime:
    """An ISO 8601 date or time as an aware UTC instant; text without an offset is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO 8601 date or time such as {EXAMPLES}") from None
    try:
        return as_utc(parsed)
    except OverflowError:
        raise ValueError(f"'{text}' is outside the years 1 to 9999 in UTC") from None


def now() -> datetime:
    """The current instant, to the whole second (what an `as_of` left out means)."""
    return datetime.now(UTC).replace(microsecond=0)


def as_utc(instant: datetime) -> datetime:
    """`instant` as an aware UTC datetime; a naive one is taken to be UTC already."""
    if instant.tzinfo is None:
        return instant.replace(tzinfo=UTC)
    return instant.astimezone(UTC)


def format_instant(instant: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UTC: the text the dbt project casts, run tags carry and reports
    print."""
    return as_utc(instant).strftime("%Y-%m-%d %H:%M:%S")


def to_warehouse(instant: datetime) -> datetime:
    """The naive UTC timestamp a DuckDB `timestamp` column holds."""
    return as_utc(instant).replace(tzinfo=None)
