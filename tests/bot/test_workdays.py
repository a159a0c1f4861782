"""The working calendar: 2026 as the State Council published it, and the fallback for later years."""
import logging
from datetime import date, datetime

import pytest

from bot import workdays


@pytest.fixture(autouse=True)
def _fresh_warnings():
    workdays._warn_uncovered.cache_clear()     # each test sees its own once-per-year warning
    yield
    workdays._warn_uncovered.cache_clear()


def test_an_ordinary_wednesday_is_a_workday():
    assert workdays.is_workday(date(2026, 11, 25))


def test_an_ordinary_weekend_is_off():
    assert not workdays.is_workday(date(2026, 11, 28))
    assert not workdays.is_workday(date(2026, 11, 29))


@pytest.mark.parametrize("day", range(1, 8))
def test_national_day_holiday_is_off(day):
    assert not workdays.is_workday(date(2026, 10, day))


def test_the_days_around_national_day_are_workdays():
    assert workdays.is_workday(date(2026, 9, 30))
    assert workdays.is_workday(date(2026, 10, 8))


def test_make_up_weekend_workdays_are_on():
    # 2026's 调休: National Day is made up on Sunday 20 September and Saturday 10 October
    assert date(2026, 9, 20).weekday() == 6 and workdays.is_workday(date(2026, 9, 20))
    assert date(2026, 10, 10).weekday() == 5 and workdays.is_workday(date(2026, 10, 10))


def test_mid_autumn_falls_on_a_weekend_and_is_off():
    # 25-27 September: Friday is a holiday; that Sunday is not a make-up day
    assert not workdays.is_workday(date(2026, 9, 25))
    assert not workdays.is_workday(date(2026, 9, 27))


def test_spring_festival_2026():
    assert date(2026, 2, 14).weekday() == 5 and workdays.is_workday(date(2026, 2, 14))   # 调休 Saturday
    assert not any(workdays.is_workday(date(2026, 2, d)) for d in range(15, 24))         # 15-23 February off
    assert workdays.is_workday(date(2026, 2, 24))
    assert workdays.is_workday(date(2026, 2, 28))                                        # 调休 Saturday


def test_a_datetime_counts_as_its_date():
    assert not workdays.is_workday(datetime(2026, 10, 1, 16, 30))


def test_covers_the_years_the_package_has():
    assert workdays.covers(2026) and workdays.covers(2004)
    assert not workdays.covers(2027) and not workdays.covers(2003)


def test_an_uncovered_year_falls_back_to_monday_to_friday_and_warns_once(caplog):
    caplog.set_level(logging.WARNING, logger="bot.workdays")
    assert workdays.is_workday(date(2027, 1, 1))             # New Year's Day, but the package has no 2027
    assert workdays.is_workday(date(2027, 1, 4))
    assert not workdays.is_workday(date(2027, 1, 2))
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "2027" in warnings[0].getMessage() and "requirements.txt" in warnings[0].getMessage()


def test_each_uncovered_year_warns_on_its_own(caplog):
    caplog.set_level(logging.WARNING, logger="bot.workdays")
    workdays.is_workday(date(2027, 3, 1))
    workdays.is_workday(date(2028, 3, 1))
    workdays.is_workday(date(2028, 3, 2))
    assert ["2027" in r.getMessage() for r in caplog.records] == [True, False]


def test_a_covered_year_does_not_warn(caplog):
    caplog.set_level(logging.WARNING, logger="bot.workdays")
    workdays.is_workday(date(2026, 3, 2))
    assert caplog.records == []
