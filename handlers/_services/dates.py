"""Dates, months and periods as people type them: 今天, 明天, 11-20, 2026-11-20, 本月, 上月, 2026-10, 本周, 今年."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from handlers._services.goals import Month, quarter_start

_RELATIVE = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "昨天": -1, "前天": -2}
_FULL = re.compile(r"^(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?$")
_SHORT = re.compile(r"^(\d{1,2})[-/.月](\d{1,2})日?$")
_MONTH = re.compile(r"^(?:(\d{4})[-/.年])?(\d{1,2})月?$")


def parse_day(text: str, *, today: date) -> date:
    """A day; a month-day without a year is this year's.

    Raises:
        ValueError: with a Chinese explanation, for anything unreadable or impossible.
    """
    text = text.strip()
    if text in _RELATIVE:
        return today + timedelta(days=_RELATIVE[text])
    match = _FULL.match(text)
    year, month, day = (match.groups() if match else (today.year, *(_SHORT.match(text) or _no_day(text)).groups()))
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        raise ValueError(f"「{text}」不是一个有效的日期。") from None


def parse_month(text: str | None, *, today: date) -> Month:
    """本月 (default), 上月, 2026-10, 2026年10月 or 10月 (this year).

    Raises:
        ValueError: with a Chinese explanation.
    """
    text = (text or "本月").strip()
    if text in ("本月", "这个月", "当月"):
        return Month.of(today)
    if text in ("上月", "上个月"):
        return Month.of(today).previous()
    match = _MONTH.match(text)
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"看不懂月份「{text}」，可以写「本月」「上月」或「2026-10」。")
    return Month.of(date(int(match.group(1) or today.year), int(match.group(2)), 1))


def _no_day(text: str):
    raise ValueError(f"看不懂日期「{text}」，可以写「今天」「明天」「11-20」「11月20日」或「2026-11-20」。")


@dataclass(frozen=True)
class Period:
    """A span of local calendar days, with how it is shown (2026 年 11 月, 本周（11-23 起）, 2026 年)."""

    first: date
    last: date
    label: str


# what people call a period → its kind
PERIOD_WORDS = {"本月": "month", "这个月": "month", "当月": "month", "上月": "last_month", "上个月": "last_month",
                "本周": "week", "这周": "week", "这个星期": "week", "本星期": "week",
                "本季度": "quarter", "这个季度": "quarter",
                "今年": "year", "本年": "year", "本年度": "year", "去年": "last_year"}


def period_named(word: str | None, *, today: date, default: str = "本月") -> Period:
    """The period a word names (``default`` when none); a week runs Monday to Sunday.

    Raises:
        KeyError: the word names no period (callers check ``PERIOD_WORDS`` first).
    """
    kind = PERIOD_WORDS[word or default]
    if kind == "week":
        monday = today - timedelta(days=today.weekday())
        return Period(monday, monday + timedelta(days=6), f"本周（{monday:%m-%d} 起）")
    if kind in ("year", "last_year"):
        year = today.year if kind == "year" else today.year - 1
        return Period(date(year, 1, 1), date(year, 12, 31), f"{year} 年")
    if kind == "quarter":
        first = quarter_start(today)
        return Period(first, Month.of(first.replace(month=first.month + 2)).last,
                      f"{today.year} 年第 {(first.month + 2) // 3} 季度")
    month = Month.of(today) if kind == "month" else Month.of(today).previous()
    return Period(month.first, month.last, month.label)
