"""When a push should go out, as admins type it: 明天 9:00, 周五 17:30, 2026-12-01 08:30, 今天 18:00.

Only the tail of the 推送 command can be a time, so ``split_when`` peels the time words off the end
and leaves the item words; a push with no time goes out now.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from handlers._services.dates import parse_day

NOW_WORDS = {"现在", "立即", "立刻", "马上", "now"}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEKDAY = re.compile(r"^(?:周|星期|礼拜)([一二三四五六日天])$")
_CLOCK = re.compile(r"^(上午|早上|中午|下午|晚上)?(\d{1,2})(?:[:：](\d{2})|点(?:(半)|(\d{1,2})分?)?)$")
EXAMPLES = "「明天 9:00」「周五 17:30」「2026-12-01 08:30」「今天 18:00」"


def split_when(words: list[str], *, now: datetime) -> tuple[list[str], datetime | None]:
    """(the words before the time, the time or None for now) from the command's words.

    A time is a day and a clock time (two words, or one word like ``明天9:00``), or a 现在/立即 word.

    Raises:
        ValueError: with a Chinese explanation, when the tail looks like a time but is impossible
            or already past.
    """
    if words and words[-1] in NOW_WORDS:
        return words[:-1], None
    if len(words) >= 2 and _clock(words[-1]) is not None and _looks_like_day(words[-2]):
        return words[:-2], parse_when(f"{words[-2]} {words[-1]}", now=now)
    if words:
        glued = _split_glued(words[-1])
        if glued is not None and _looks_like_day(glued[0]):
            return words[:-1], parse_when(" ".join(glued), now=now)
    return words, None


def parse_when(text: str, *, now: datetime) -> datetime:
    """The aware datetime (in ``now``'s zone) for ``<day> <clock time>``; must be in the future.

    Raises:
        ValueError: with a Chinese explanation, for anything unreadable, impossible or past.
    """
    day_word, _, clock_word = text.strip().partition(" ")
    at = _clock(clock_word.strip())
    if at is None:
        raise ValueError(f"没看懂时间「{clock_word or text}」，可以这样写：{EXAMPLES}。")
    weekday = _WEEKDAY.match(day_word)
    if weekday:
        when = _next_weekday(_WEEKDAYS[weekday.group(1)], at, now=now)
    else:
        when = datetime.combine(parse_day(day_word, today=now.date()), at, tzinfo=now.tzinfo)
    if when <= now:
        raise ValueError(f"{when:%Y-%m-%d %H:%M} 已经过去了，请写一个将来的时间，如{EXAMPLES}。")
    return when


def _next_weekday(weekday: int, at: time, *, now: datetime) -> datetime:
    """The coming ``weekday`` at ``at``: today if that time is still ahead, else within the next 7 days."""
    ahead = (weekday - now.weekday()) % 7
    when = datetime.combine(now.date() + timedelta(days=ahead), at, tzinfo=now.tzinfo)
    return when if when > now else when + timedelta(days=7)


def _clock(word: str) -> time | None:
    match = _CLOCK.match(word)
    if not match:
        return None
    period, hour, minute, half, minute_cn = match.groups()
    hour = int(hour)
    minute = 30 if half else int(minute or minute_cn or 0)
    if period in ("下午", "晚上") and hour < 12:
        hour += 12
    if period == "中午" and hour < 6:
        hour += 12
    if hour > 23 or minute > 59:
        return None
    return time(hour, minute)


def _looks_like_day(word: str) -> bool:
    if _WEEKDAY.match(word):
        return True
    try:
        parse_day(word, today=date(2000, 1, 1))
    except ValueError:
        return bool(re.match(r"^\d{4}[-/.年]\d{1,2}[-/.月]\d{1,2}日?$", word))   # an impossible date: say so
    return True


def _split_glued(word: str) -> tuple[str, str] | None:
    """``明天9:00`` → (``明天``, ``9:00``); None when no clock time ends the word."""
    for cut in range(1, len(word)):
        if _clock(word[cut:]) is not None and _looks_like_day(word[:cut]):
            return word[:cut], word[cut:]
    return None
