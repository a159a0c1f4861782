"""Activity details as admins and members type them: 编号, kind, time, capacity, link.

Every parser raises ValueError with a Chinese explanation, which the flow or command shows as is.
"""
from __future__ import annotations

import re
from datetime import datetime, time

from sqlalchemy.orm import Session

from bot.cohorts import CohortRules
from handlers._services import push_audience
from handlers._services.activities import OFFLINE_KINDS, ONLINE_KINDS
from handlers._services.dates import parse_day
from handlers._services.study_parse import parse_study

KINDS = ONLINE_KINDS + OFFLINE_KINDS
# everyday names of practice (实践体验) and other activities → the kind they are
KIND_WORDS = {"防汛演练": "实践体验", "大坝岁修": "实践体验", "库区清淤": "实践体验", "演练": "实践体验",
              "参观": "实地参观", "沙龙": "主题沙龙", "研讨": "网络研讨", "网络研讨会": "网络研讨",
              "线上直播": "直播", "展览": "虚拟展览", "分享": "专题分享", "讲座": "专题分享"}
_NUMBER = re.compile(r"^(?:第|#|No\.?)?\s*(\d{1,6})\s*(?:号|个|场|期)?(?:活动)?$", re.IGNORECASE)
_CLOCK = re.compile(r"^(上午|早上|中午|下午|晚上)?\s*(\d{1,2})(?:[:：](\d{2})|点(?:(\d{1,2})分?|(半))?)$")
_LINK = re.compile(r"^https?://\S+$", re.IGNORECASE)
_NO_LIMIT = ("不限", "不限制", "无", "没有", "无限制", "不限人数", "0")
TIME_EXAMPLES = "例如「12-01 09:00」「明天 下午3点」「2026-12-05 14:30」"


def parse_number(text: str | None) -> int:
    """An activity's 编号: 3, 3号, 第3个, #3."""
    match = _NUMBER.match((text or "").strip())
    if not match:
        raise ValueError(f"活动编号应是数字，如「3」，没看懂「{(text or '').strip()[:20]}」。")
    return int(match.group(1))


def parse_kind(text: str) -> str:
    """One of KINDS, by name, by an everyday word (防汛演练 → 实践体验) or by its number in the list."""
    word = text.strip()
    if word.isdigit() and 1 <= int(word) <= len(KINDS):
        return KINDS[int(word) - 1]
    if word in KINDS:
        return word
    if word in KIND_WORDS:
        return KIND_WORDS[word]
    raise ValueError(f"没看懂活动类型「{word[:20]}」。")


def is_online(kind: str) -> bool:
    return kind in ONLINE_KINDS


def parse_time(text: str, *, now: datetime) -> datetime:
    """A day and a time of day in the unit's zone ("12-01 09:00", "明天 下午3点"), later than ``now``."""
    parts = text.strip().replace("号", "日").split()
    if len(parts) != 2:
        raise ValueError(f"请写日期和时间，中间空一格，{TIME_EXAMPLES}。")
    day = parse_day(parts[0], today=now.date())
    moment = datetime.combine(day, _clock(parts[1]), tzinfo=now.tzinfo)
    if moment <= now:
        raise ValueError(f"{moment:%Y-%m-%d %H:%M} 已经过去了，请写一个将来的时间。")
    return moment


def _clock(text: str) -> time:
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"没看懂时间「{text}」，{TIME_EXAMPLES}。")
    part, hour, minute = match.group(1), int(match.group(2)), int(match.group(3) or match.group(4) or 0)
    minute = 30 if match.group(5) else minute
    if part in ("下午", "晚上") and hour < 12:
        hour += 12
    if hour > 23 or minute > 59:
        raise ValueError(f"「{text}」不是一个有效的时间。")
    return time(hour, minute)


def parse_link(text: str) -> str:
    link = text.strip()
    if not _LINK.match(link) or len(link) > 500:
        raise ValueError("链接应以 http:// 或 https:// 开头，请发完整的链接。")
    return link


def parse_place(text: str) -> str:
    place = text.strip()
    if not 2 <= len(place) <= 200:
        raise ValueError("地点请写 2–200 个字，如「大坝管理房二楼会议室」。")
    return place


def parse_place_and_link(text: str) -> tuple[str, str]:
    """An offline activity's place, optionally followed by its detail page: "大坝管理房 https://…"."""
    head, _, last = text.strip().rpartition(" ")
    if head and _LINK.match(last):
        return parse_place(head), parse_link(last)
    return parse_place(text), ""


def resolve_audience(session: Session, words: list[str], *, rules: CohortRules) -> tuple[list[str], str]:
    """The audience labels stored on the activity and how they are shown, from names an admin wrote
    (全体, cohorts, departments, teams); 全体 among them means everyone."""
    if not words:
        raise ValueError("请写面向的人群或部门。")
    try:
        chosen = list(dict.fromkeys(push_audience.resolve(session, word, rules=rules) for word in words))
    except push_audience.AudienceError as exc:
        raise ValueError(str(exc)) from None
    if any(a.kind == push_audience.EVERYONE for a in chosen):
        chosen = [push_audience.Audience(push_audience.EVERYONE, push_audience.EVERYONE)]
    return [a.label for a in chosen], "、".join(a.shown for a in chosen)


def parse_capacity(text: str) -> int | None:
    """A number of seats, or None for no limit (不限)."""
    word = text.strip().removesuffix("人").removesuffix("名").removesuffix("个").strip()
    if word in _NO_LIMIT:
        return None
    if not word.isdigit() or not 1 <= int(word) <= 1000:
        raise ValueError("名额请写 1–1000 之间的人数，不限名额请回「不限」。")
    return int(word)


def parse_minutes(text: str) -> int:
    """Study minutes credited on attendance: 1小时, 90分钟, 半小时 (the 学习 command's phrasings)."""
    parsed = parse_study(text.strip())
    if parsed is None or parsed.topic or not 5 <= parsed.minutes <= 480:
        raise ValueError("学时请写 5 分钟到 8 小时之间，如「1小时」「90分钟」「半小时」。")
    return parsed.minutes
