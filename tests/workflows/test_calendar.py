"""The procedure's calendar: Amsterdam days and hours, Dutch public holidays, working days.

The expected holidays are the published dates of the Algemene termijnenwet (art. 3) for each year; Amsterdam
times are checked against the IANA time-zone database (``zoneinfo``), which the workflow itself may not use.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflows.calendar import (
    add_working_days,
    amsterdam_date,
    amsterdam_moment,
    amsterdam_offset,
    dutch_public_holidays,
    easter_sunday,
    is_working_day,
)

AMSTERDAM = ZoneInfo("Europe/Amsterdam")

# Nieuwjaarsdag, Paasmaandag, Koningsdag, Bevrijdingsdag, Hemelvaartsdag, Pinkstermaandag, Eerste en Tweede Kerstdag.
PUBLISHED_HOLIDAYS = {
    2025: [
        "2025-01-01",
        "2025-04-21",
        "2025-04-26",
        "2025-05-05",
        "2025-05-29",
        "2025-06-09",
        "2025-12-25",
        "2025-12-26",
    ],
    2026: [
        "2026-01-01",
        "2026-04-06",
        "2026-04-27",
        "2026-05-05",
        "2026-05-14",
        "2026-05-25",
        "2026-12-25",
        "2026-12-26",
    ],
    2027: [
        "2027-01-01",
        "2027-03-29",
        "2027-04-27",
        "2027-05-05",
        "2027-05-06",
        "2027-05-17",
        "2027-12-25",
        "2027-12-26",
    ],
    2028: [
        "2028-01-01",
        "2028-04-17",
        "2028-04-27",
        "2028-05-05",
        "2028-05-25",
        "2028-06-05",
        "2028-12-25",
        "2028-12-26",
    ],
}

PUBLISHED_EASTER = ["2008-03-23", "2011-04-24", "2019-04-21", "2024-03-31", "2029-04-01", "2030-04-21", "2038-04-25"]


def d(text: str) -> date:
    return date.fromisoformat(text)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# ------------------------------------------------------------------------------------------------------ holidays


@pytest.mark.parametrize("year", sorted(PUBLISHED_HOLIDAYS))
def test_public_holidays_are_the_published_ones(year):
    assert dutch_public_holidays(year) == {d(day) for day in PUBLISHED_HOLIDAYS[year]}


@pytest.mark.parametrize("day", PUBLISHED_EASTER)
def test_easter_sunday(day):
    assert easter_sunday(d(day).year) == d(day)


@pytest.mark.parametrize("year", [2025, 2031, 2036])
def test_kings_day_on_a_sunday_is_celebrated_on_saturday_the_26th(year):
    assert date(year, 4, 27).weekday() == 6
    holidays = dutch_public_holidays(year)
    assert date(year, 4, 26) in holidays
    assert date(year, 4, 27) not in holidays


def test_good_friday_is_a_working_day_and_easter_monday_is_not():
    # The Algemene termijnenwet does not name Goede Vrijdag; Paasmaandag it does.
    assert is_working_day(d("2026-04-03"))
    assert not is_working_day(d("2026-04-06"))
    assert not is_working_day(d("2027-03-29"))


@pytest.mark.parametrize(
    ("day", "working"),
    [
        ("2026-11-20", True),  # Friday
        ("2026-11-21", False),  # Saturday
        ("2026-11-22", False),  # Sunday
        ("2027-04-27", False),  # Koningsdag, Tuesday
        ("2026-05-05", False),  # Bevrijdingsdag, Tuesday
        ("2028-05-25", False),  # Hemelvaartsdag, Thursday
        ("2028-06-05", False),  # Pinkstermaandag
        ("2026-12-24", True),  # Christmas Eve is an ordinary day
    ],
)
def test_working_days(day, working):
    assert is_working_day(d(day)) is working


# -------------------------------------------------------------------------------------------------- working days


@pytest.mark.parametrize(
    ("start", "count", "expected"),
    [
        ("2026-11-20", 1, "2026-11-23"),  # Friday + 1: over the weekend to Monday
        ("2026-11-16", 5, "2026-11-23"),  # Monday + 5: the next Monday, not Saturday
        ("2026-11-17", 10, "2026-12-01"),  # Tuesday + 10: two weekends
        ("2026-11-21", 1, "2026-11-23"),  # from a Saturday: Monday is the first working day after it
        ("2027-04-26", 1, "2027-04-28"),  # over Koningsdag (Tuesday 27 April 2027)
        ("2027-04-21", 5, "2027-04-29"),  # a week over Koningsdag: one day later than without it
        ("2027-03-26", 1, "2027-03-30"),  # Friday before Easter: over the weekend and Paasmaandag
        ("2026-04-02", 1, "2026-04-03"),  # Goede Vrijdag counts
        ("2026-05-04", 1, "2026-05-06"),  # over 5 mei
        ("2026-05-13", 1, "2026-05-15"),  # over Hemelvaartsdag
        ("2028-06-02", 1, "2028-06-06"),  # over the weekend and Pinkstermaandag
        ("2026-12-24", 1, "2026-12-28"),  # over both Kerstdagen and the weekend
        ("2026-12-31", 1, "2027-01-04"),  # over Nieuwjaarsdag (Friday) and the weekend
        ("2025-04-25", 1, "2025-04-28"),  # Koningsdag 2025 falls on Saturday: nothing extra to skip
        ("2026-11-20", 0, "2026-11-20"),
    ],
)
def test_add_working_days(start, count, expected):
    assert add_working_days(d(start), count) == d(expected)


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 11, 15)), st.integers(min_value=1, max_value=20))
def test_add_working_days_counts_exactly_the_working_days_after_the_start(start, count):
    holidays = {d(day) for days in PUBLISHED_HOLIDAYS.values() for day in days}
    result = add_working_days(start, count)
    between = [start + timedelta(days=i) for i in range(1, (result - start).days + 1)]
    working = [day for day in between if day.weekday() < 5 and day not in holidays]
    assert working[-1] == result  # the result itself is a working day ...
    assert len(working) == count  # ... and exactly the count-th after the start


# ------------------------------------------------------------------------------------------------ Amsterdam time


@pytest.mark.parametrize(
    ("moment", "hours"),
    [
        ("2026-03-29T00:59:59", 1),  # the last second of winter time
        ("2026-03-29T01:00:00", 2),  # summer time from 01:00 UTC on the last Sunday of March
        ("2026-10-25T00:59:59", 2),
        ("2026-10-25T01:00:00", 1),  # winter time from 01:00 UTC on the last Sunday of October
        ("2027-03-28T01:00:00", 2),
        ("2027-03-27T12:00:00", 1),
        ("2027-10-31T00:30:00", 2),
        ("2027-10-31T01:30:00", 1),
        ("2028-03-26T01:00:00", 2),
        ("2028-10-29T00:59:00", 2),
    ],
)
def test_amsterdam_offset_around_the_clock_changes(moment, hours):
    assert amsterdam_offset(utc(moment)) == timedelta(hours=hours)


@pytest.mark.parametrize(
    ("moment", "day"),
    [
        ("2026-03-28T23:30:00", "2026-03-29"),  # 00:30 CET
        ("2026-06-30T22:30:00", "2026-07-01"),  # 00:30 CEST
        ("2026-06-30T21:30:00", "2026-06-30"),  # 23:30 CEST
        ("2026-12-31T23:00:00", "2027-01-01"),  # midnight CET
        ("2026-12-31T22:59:59", "2026-12-31"),
        ("2026-10-24T22:00:00", "2026-10-25"),  # midnight CEST, the day the clocks go back
    ],
)
def test_amsterdam_date(moment, day):
    assert amsterdam_date(utc(moment)) == d(day)


def test_amsterdam_date_accepts_any_time_zone():
    in_new_york = datetime(2026, 7, 1, 18, 30, tzinfo=ZoneInfo("America/New_York"))  # 00:30 in Amsterdam
    assert amsterdam_date(in_new_york) == d("2026-07-02")


@pytest.mark.parametrize(
    ("day", "hour", "expected"),
    [
        ("2026-03-28", 7, "2026-03-28T06:00:00"),  # winter time
        ("2026-03-29", 7, "2026-03-29T05:00:00"),  # the first morning of summer time
        ("2026-03-29", 0, "2026-03-28T23:00:00"),  # midnight before the change
        ("2026-03-29", 3, "2026-03-29T01:00:00"),  # the first hour after the change
        ("2026-10-24", 7, "2026-10-24T05:00:00"),
        ("2026-10-25", 7, "2026-10-25T06:00:00"),  # the first morning of winter time
        ("2026-10-25", 0, "2026-10-24T22:00:00"),
        ("2026-10-25", 3, "2026-10-25T02:00:00"),
        ("2027-01-15", 23, "2027-01-15T22:00:00"),
    ],
)
def test_amsterdam_moment(day, hour, expected):
    assert amsterdam_moment(d(day), hour) == utc(expected)


@settings(max_examples=100, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_amsterdam_date_and_offset_agree_with_the_time_zone_database(moment):
    local = moment.astimezone(AMSTERDAM)
    assert amsterdam_offset(moment) == local.utcoffset()
    assert amsterdam_date(moment) == local.date()


@settings(max_examples=100, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2099, 12, 31)), st.integers(min_value=0, max_value=23))
def test_amsterdam_moment_is_that_hour_on_that_day_in_amsterdam(day, hour):
    moment = amsterdam_moment(day, hour)
    local = moment.astimezone(AMSTERDAM)
    assert moment.utcoffset() == timedelta(0)
    assert local.date() == day
    wall = datetime(day.year, day.month, day.day, hour, tzinfo=AMSTERDAM)
    if wall.astimezone(UTC).astimezone(AMSTERDAM).hour != hour:
        # 02:00 on the last Sunday of March does not exist: the term must still fall on its day, near that hour
        assert abs(local.hour - hour) <= 1
    else:
        assert local.hour == hour


def test_amsterdam_moment_and_date_round_trip_over_the_clock_changes():
    for day in (d("2026-03-29"), d("2026-10-25"), d("2027-03-28"), d("2027-10-31")):
        for hour in (0, 1, 3, 7, 12, 23):
            assert amsterdam_date(amsterdam_moment(day, hour)) == day
