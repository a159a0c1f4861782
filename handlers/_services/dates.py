"""Dates and months as people type them: 今天, 明天, 11-20, 11月20日, 2026-11-20, 本月, 上月, 2026-10."""
from __future__ import annotations

import re
from datetime import date, timedelta

from handlers._services.goals import Month

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
