"""Dates as the procedure counts them: Amsterdam days, working days, Dutch public holidays.

Pure and deterministic (no time-zone database, no clock), so the workflow can use it: the Temporal sandbox does not
allow ``zoneinfo``, and a rule that must replay identically for years should not depend on an outside table. The
Dutch rules are simple enough to state here: Central European Time, summer time from the last Sunday of March to the
last Sunday of October (01:00 UTC both), and the days that the Algemene termijnenwet (art. 3) puts on a par with a
Sunday, which is the legal basis for counting terms.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache


def _last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return day - timedelta(days=(day.weekday() + 1) % 7)


def amsterdam_offset(moment: datetime) -> timedelta:
    """UTC offset of Amsterdam at ``moment`` (an aware datetime)."""
    utc = moment.astimezone(UTC)
    start = datetime.combine(_last_sunday(utc.year, 3), time(1, 0), tzinfo=UTC)
    end = datetime.combine(_last_sunday(utc.year, 10), time(1, 0), tzinfo=UTC)
    return timedelta(hours=2) if start <= utc < end else timedelta(hours=1)


def amsterdam_date(moment: datetime) -> date:
    """The calendar day in Amsterdam at ``moment``."""
    return (moment.astimezone(UTC) + amsterdam_offset(moment)).date()


def amsterdam_moment(day: date, hour: int) -> datetime:
    """The UTC moment of ``hour``:00 Amsterdam time on ``day``."""
    naive_utc_guess = datetime.combine(day, time(hour, 0), tzinfo=UTC)
    return naive_utc_guess - amsterdam_offset(naive_utc_guess - timedelta(hours=1))


def easter_sunday(year: int) -> date:
    """Gregorian Easter (the anonymous Gregorian algorithm)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return date(year, month, day + 1)


@lru_cache(maxsize=64)
def dutch_public_holidays(year: int) -> frozenset[date]:
    """The holidays of the Algemene termijnenwet: Nieuwjaarsdag, Paasmaandag, Koningsdag, 5 mei, Hemelvaartsdag,
    Pinkstermaandag and both Kerstdagen (Easter and Whit Sunday are Sundays anyway)."""
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:  # on a Sunday it moves to Saturday the 26th
        kings_day = date(year, 4, 26)
    days = {
        date(year, 1, 1),
        easter + timedelta(days=1),  # Paasmaandag
        kings_day,
        easter + timedelta(days=39),  # Hemelvaartsdag
        easter + timedelta(days=50),  # Pinkstermaandag
        date(year, 12, 25),
        date(year, 12, 26),
        date(year, 5, 5),  # Bevrijdingsdag
    }
    return frozenset(days)


def is_working_day(day: date) -> bool:
    return day.weekday() < 5 and day not in dutch_public_holidays(day.year)


def add_working_days(day: date, count: int) -> date:
    """The working day that lies ``count`` working days after ``day``."""
    while count > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def in_holiday(day: date, holidays: Iterable[tuple[date, date]]) -> bool:
    """Whether ``day`` falls in one of the (first, last) periods."""
    return any(first <= day <= last for first, last in holidays)


def is_school_day(day: date, holidays: Iterable[tuple[date, date]]) -> bool:
    """A working day outside the school holidays."""
    return is_working_day(day) and not in_holiday(day, holidays)


def next_school_day(day: date, holidays: Iterable[tuple[date, date]]) -> date:
    """``day`` itself when the schools are open, else the first school day after it."""
    periods = tuple(holidays)
    for _ in range(400):  # a year of holidays at most; the policy is checked to hold fewer
        if is_school_day(day, periods):
            return day
        day += timedelta(days=1)
    return day


@lru_cache(maxsize=256)
def leerplicht_begins(geboortedatum: date, holidays: tuple[tuple[date, date], ...]) -> date:
    """The first school day of the month after the fifth birthday (Leerplichtwet 1969, art. 3)."""
    year = geboortedatum.year + 5
    month = geboortedatum.month + 1
    if month > 12:
        year, month = year + 1, 1
    return next_school_day(date(year, month, 1), holidays)


def next_meeting(after: date, first: date, interval_days: int) -> date:
    """The first meeting on or after ``after`` of a series that meets every ``interval_days`` from ``first``."""
    if after <= first:
        return first
    steps = -(-(after - first).days // interval_days)
    return first + timedelta(days=steps * interval_days)
