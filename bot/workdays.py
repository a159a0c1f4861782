"""The unit's working calendar: weekends and public holidays off, 调休 make-up days on.

The days come from the maintained ``chinese_calendar`` package, which knows each year only once the
State Council has published it. For a year it does not cover, weekdays count as workdays and a
WARNING is logged once per year; ``covers(year)`` lets admins be told to update the package.
"""
from __future__ import annotations

import functools
import logging
from datetime import date

import chinese_calendar

log = logging.getLogger(__name__)


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day for the unit.

    Args:
        day: a calendar day in the unit's time zone (a ``datetime`` counts as its date).

    Returns:
        True on ordinary weekdays and 调休 weekend workdays, False on weekends and public holidays.
        Outside the package's years: True exactly Monday to Friday.
    """
    if covers(day.year):
        return chinese_calendar.is_workday(day)
    _warn_uncovered(day.year)
    return day.weekday() < 5


def covers(year: int) -> bool:
    """Whether the installed ``chinese_calendar`` has the holidays and 调休 days of ``year``."""
    first, last = _covered_years()
    return first <= year <= last


@functools.cache
def _covered_years() -> tuple[int, int]:
    # the package checks its range the same way: the years of its holiday table
    years = [day.year for day in chinese_calendar.holidays]
    return min(years), max(years)


@functools.cache
def _warn_uncovered(year: int) -> None:
    # cached, so a process warns once per year instead of once per call
    first, last = _covered_years()
    log.warning("chinese_calendar %s has holidays for %d-%d only; treating %d as Monday-Friday workdays. "
                "Raise the chinese-calendar pin in requirements.txt once the year's holidays are published.",
                getattr(chinese_calendar, "__version__", "?"), first, last, year)
