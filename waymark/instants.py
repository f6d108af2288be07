"""Instants as Waymark reads them from people: ISO 8601, UTC unless an offset says otherwise.

Every time rule is evaluated as of an instant given on the command line (`--as-of`, `--from`),
so the parsing and its error live in one place.
"""

from __future__ import annotations

from datetime import UTC, datetime

EXAMPLES = "2026-06-30, 2026-06-30T09:00:00Z or '2026-06-30 09:00:00+02:00'"


def parse_instant(text: str | None) -> datetime:
    """An ISO 8601 instant as naive UTC; text without an offset is UTC; None is now."""
    if text is None:
        return datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"'{text}' is not an ISO 8601 date or time such as {EXAMPLES}") from None
    try:
        return parsed.astimezone(UTC).replace(tzinfo=None) if parsed.tzinfo else parsed
    except OverflowError:
        raise ValueError(f"'{text}' is outside the years 1 to 9999 in UTC") from None


def format_instant(instant: datetime) -> str:
    """`YYYY-MM-DD HH:MM:SS` in UTC: the text the dbt project casts and activations record."""
    if instant.tzinfo is not None:
        instant = instant.astimezone(UTC).replace(tzinfo=None)
    return instant.strftime("%Y-%m-%d %H:%M:%S")
