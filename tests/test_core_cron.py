"""Cron schedules: one dialect (Dagster's) for journeys and syncs, messages naming the field at
fault, and the firings the journey engine and the alerts read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dagster._utils.schedules import is_valid_cron_string

from waymark.core.cron import cron_problem, is_valid, latest_fire, next_fires
from waymark.core.instants import as_utc


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("*/15 * * * *", None),
        ("0 8 * * mon-fri", None),
        ("@daily", None),
        ("0 8 * *", "'0 8 * *' needs 5 fields (minute hour day month weekday), has 4"),
        ("60 * * * *", "minute field '60': '60' is outside 0-59"),
        ("0 0 * foo *", "month field 'foo': 'foo' is outside 1-12"),
        ("*/0 * * * *", "minute field '*/0' has a step of 0"),
        ("0 25 * * *", "hour field '25': '25' is outside 0-23"),
        ("0 9 * * mon,xyz", "day of week field 'mon,xyz': 'xyz' is outside 0-7"),
        ("* * * * * *", "'* * * * * *' needs 5 fields (minute hour day month weekday), has 6"),
        ("0 0 30 2 *", "'0 0 30 2 *' never fires: February has no day 30"),
    ],
)
def test_cron_expressions(expression: str, problem: str | None) -> None:
    assert cron_problem(expression) == problem


@pytest.mark.parametrize(
    "expression",
    [
        "*/15 * * * *",
        "0 9 * * MON",
        "0 9 * JAN-mar *",
        "5/15 * * * *",
        "0 0 * * 7",
        "@hourly",
        "0 0 L * *",
        "0 0 30 2 *",
        "0 0 31 2 *",
        "* * * * * *",
        "0 0 1 1 * 2026",
        "60 * * * *",
        "*/0 * * * *",
        "0 8 * *",
    ],
)
def test_the_dialect_is_dagsters(expression: str) -> None:
    assert is_valid(expression) == is_valid_cron_string(expression)


@pytest.mark.parametrize(
    ("cron", "after", "until", "expected"),
    [
        ("*/15 * * * *", datetime(2026, 6, 16, 11), datetime(2026, 6, 16, 12, 7), (12, 0)),
        ("@daily", datetime(2026, 6, 10), datetime(2026, 6, 16, 12), (0, 0)),
        ("30 8 1,15 * *", datetime(2026, 6, 1), datetime(2026, 6, 16, 12), (8, 30)),
        ("0 18 * * 1-5", datetime(2026, 6, 13), datetime(2026, 6, 15, 19), (18, 0)),
    ],
)
def test_latest_schedule_firing(cron: str, after, until, expected) -> None:
    fired = latest_fire(cron, until)
    assert fired is not None and (fired.hour, fired.minute) == expected
    assert as_utc(after) < fired <= as_utc(until)
    if cron == "0 18 * * 1-5":  # weekdays only: nothing over the weekend of the 13th
        assert fired.day == 15
        friday = latest_fire(cron, datetime(2026, 6, 14, 23))
        assert friday == datetime(2026, 6, 12, 18, tzinfo=UTC)


def test_a_firing_at_the_instant_itself_counts_and_time_zones_apply() -> None:
    assert latest_fire("0 12 * * *", datetime(2026, 6, 16, 12, tzinfo=UTC)) == datetime(
        2026, 6, 16, 12, tzinfo=UTC
    )
    assert latest_fire("0 12 * * *", datetime(2026, 6, 16, 11, 59, 59, 999999)) == datetime(
        2026, 6, 15, 12, tzinfo=UTC
    )
    # 09:00 in Berlin is 07:00 UTC in summer.
    assert latest_fire("0 9 * * *", datetime(2026, 6, 16, 8), "Europe/Berlin") == datetime(
        2026, 6, 16, 7, tzinfo=UTC
    )


def test_next_fires() -> None:
    # Monday 15 June 09:00 UTC is 11:00 in Berlin: that Monday's 09:00 has passed.
    assert next_fires("0 9 * * mon", datetime(2026, 6, 15, 9), 2, "Europe/Berlin") == [
        datetime(2026, 6, 22, 7, tzinfo=UTC),
        datetime(2026, 6, 29, 7, tzinfo=UTC),
    ]
