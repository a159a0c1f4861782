"""How an activity is shown in replies, notices and reminders: time, place or link, seats."""
from __future__ import annotations

from datetime import datetime

from bot.models.activities import Activity
from handlers._format import hours

WEEKDAYS = "一二三四五六日"


def when(activity: Activity, now: datetime) -> str:
    """The start in the unit's zone, the way people read it: 12月01日（周二）09:00."""
    start = activity.start.astimezone(now.tzinfo)
    return f"{start.month}月{start.day:02d}日（周{WEEKDAYS[start.weekday()]}）{start:%H:%M}"


def where(activity: Activity) -> str:
    if activity.online:
        return activity.link or "线上（链接待定）"
    return activity.place


def seats(activity: Activity) -> str:
    if activity.capacity is None:
        return "名额不限"
    left = activity.seats_left
    return f"剩余名额 {left}/{activity.capacity}" if left else f"名额已满（{activity.capacity} 人），可报名候补"


def describe(activity: Activity, now: datetime) -> list[str]:
    practice = "，计入本季度实践活动" if activity.counts_as_practice else ""
    return [f"【{activity.id}】{activity.title}（{activity.kind}）",
            f"时间：{when(activity, now)}", f"{'链接' if activity.online else '地点'}：{where(activity)}",
            f"{seats(activity)}；签到后计学习 {hours(activity.study_minutes)} 小时{practice}"]


def details(activity: Activity, now: datetime) -> list[str]:
    """``describe`` and what only one activity's page shows: the organiser's note, an offline detail page."""
    page = [f"详情：{activity.link}"] if activity.link and not activity.online else []
    return [*describe(activity, now), *([activity.note] if activity.note else []), *page]
