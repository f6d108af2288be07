"""Instants: one aware-UTC type, read from ISO 8601 text, written as the text dbt casts, and
converted to the naive UTC timestamps DuckDB columns hold."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import duckdb
import pytest

from waymark.core.instants import as_utc, format_instant, parse_instant, to_warehouse

BERLIN_SUMMER = timezone(timedelta(hours=2))


def test_text_without_an_offset_is_utc_and_offsets_are_converted() -> None:
    midnight = datetime(2026, 6, 30, tzinfo=UTC)
    for text in ["2026-06-30", "2026-06-30 00:00:00", "2026-06-30T00:00:00Z", " 2026-06-30 "]:
        assert parse_instant(text) == midnight
        assert parse_instant(text).tzinfo is UTC
    assert parse_instant("2026-06-30T02:15:00+02:00") == datetime(2026, 6, 30, 0, 15, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("yesterday", "'yesterday' is not an ISO 8601 date or time such as 2026-06-30"),
        ("0001-01-01T00:00:00+01:00", "is outside the years 1 to 9999 in UTC"),
    ],
)
def test_text_that_is_not_an_instant_is_refused(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_instant(text)


def test_the_text_dbt_casts_and_the_warehouse_form() -> None:
    instant = datetime(2026, 6, 30, 2, 15, 7, 999, tzinfo=BERLIN_SUMMER)
    assert format_instant(instant) == "2026-06-30 00:15:07"
    assert format_instant(datetime(2026, 6, 30, 0, 15, 7)) == "2026-06-30 00:15:07"
    assert to_warehouse(instant) == datetime(2026, 6, 30, 0, 15, 7, 999)
    assert as_utc(datetime(2026, 6, 30)) == datetime(2026, 6, 30, tzinfo=UTC)
    # A bound parameter compares with a `timestamp` column whatever the session's time zone.
    with duckdb.connect() as con:
        con.execute("set TimeZone = 'America/New_York'")
        same = con.execute(
            "select cast('2026-06-30 00:15:07.000999' as timestamp) = ?", [to_warehouse(instant)]
        ).fetchone()
    assert same == (True,)
