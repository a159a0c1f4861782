"""The closed loop's feedback: the mid-month nudge, and the month-end summaries, unit reports and escalations.

Everything here goes one-to-one as app messages (never into a group), and every push id names the
month, so the delivery ledger lets a rerun, a retried job or a caught-up tick send nothing twice.
"""
from __future__ import annotations

import logging
import math
from collections import defaultdict
from datetime import date, datetime, timedelta

from flask import current_app
from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from bot import clock, cohorts, db, org, workdays
from bot.ledger import Ledger
from bot.models import CheckIn, Leave, Member, OrgUnit, RoleGrant
from bot.models.core import MemberStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.roles import ADMIN, LEADER
from bot.tasks import app_job
from handlers._format import hours, percent
from handlers._services import progress, study
from handlers._services.awareness import Rate, all_topics, overall, rates
from handlers._services.dates import Period
from handlers._services.goals import Month, get_goals
from handlers._services.goals import workdays as workdays_in
from handlers._services.progress import Progress

log = logging.getLogger(__name__)

DEFAULT_NUDGE_DAY = 15

NUDGE = ("【学习进度提醒】{name}，您好！这个月您已学习 {done} 小时，离本月 {goal} 小时的目标还差 {left} 小时。"
         "本月还有 {days} 个工作日，每个工作日抽出约 {per_day}，就能稳稳完成。\n"
         "学完发一句就能记上，比如：学习 1小时 防汛政策\n"
         "发送「进度」可以随时查看。工作辛苦了，我们一起加油！")

SUMMARY_HEAD = "【{month}学习小结】{name}，您好！上个月的学习情况如下："
SUMMARY_HOURS = "学习时长：{done} / {goal} 小时（自报 {self_reported}，系统记录 {vouched}）"
SUMMARY_LEAVE = "（当月请假 {days} 天，目标已按出勤折算）"
SUMMARY_CHECKINS = "打卡：当月 {count} 次"
SUMMARY_ACTIVITIES = "实践活动：本季度至今 {done} / {goal} 次"
SUMMARY_ACTIVITIES_NO_GOAL = "实践活动：本季度至今 {done} 次"
SUMMARY_REACHED = "学习目标：已完成 ✓"
SUMMARY_MISSED = "学习目标：还差 {left} 小时没有完成"
CHEER_REACHED = "感谢您这个月的坚持！把学到的用在岗位上，就是最好的收获。新的一个月继续保持！"
CHEER_CLOSE = "每一点积累都算数。新的一个月，每个工作日学上二三十分钟，目标就稳了，我们一起加油！"
CHEER_START = "新的一个月是新的开始，不妨从今天的半小时开始，比如发送：学习 半小时 防汛政策"

REPORT_HEAD = "【{month}学习情况 · {unit}】"
REPORT_RATE = "达标率：{reached}/{people} 人（{rate}），{change}"
REPORT_AVERAGE = "人均学习：{average} 小时，{change}"
RATE_CHANGE = "较上月（{before}）{arrow} {diff} 个百分点"
AVERAGE_CHANGE = "较上月（{before} 小时）{arrow} {diff} 小时"
SAME_AS_BEFORE = "与上月（{before}）持平"
UP, DOWN = "↑ 上升", "↓ 下降"
REPORT_AWARENESS = "政策知晓率（{year} 年至今）：平均 {overall}，目标 {goal}%；最低的主题：{lowest}"
REPORT_AWARENESS_LOWEST = "{topic} {share}"
REPORT_AWARENESS_REACHED = "政策知晓率（{year} 年至今）：各主题均已达到 {goal}% ✓"
AWARENESS_LOWEST_LISTED = 3
REPORT_BEHIND = "未达标 {count} 人："
REPORT_BEHIND_LINE = "· {name}：{done} / {goal} 小时（差 {left} 小时）"
REPORT_ALL_REACHED = "全员达标，大家辛苦了！"
REPORT_RANKING = "班组排名（按人均完成度）："
REPORT_RANK_LINE = "{place}. {team} {completion}（达标 {reached}/{people} 人）"
REPORT_FOOT = "发送「部门进度」可随时查看本月的实时进度。"

ESCALATION_HEAD = "【连续两个月未达标 · {unit}】"
ESCALATION_INTRO = ("以下同志 {before}、{ended}连续两个月学习时长没有达到目标。请抽空了解一下情况，"
                    "帮助解决实际困难，一起把学习安排好：")
ESCALATION_LINE = "· {name}（{place}）：{ended} {done} / {goal} 小时，{before} {done_before} / {goal_before} 小时"


# -- the mid-month nudge ---------------------------------------------------------------------------

@app_job
def nudge_members_behind(*, due: str) -> int:
    """On the nudge day, tell each active member behind pace what is left and how many workdays remain.

    The nudge day is the first workday on or after ``MIDMONTH_NUDGE_DAY`` (default 15). Members on
    leave that day are skipped; a run whose day is over is dropped. Safe to run twice: the push id
    names the month (``nudge-2026-11``).

    Args:
        due: the ISO minute the schedule entry fired for; its date is the day of the nudge.

    Returns:
        How many members were newly queued for a nudge.
    """
    now = clock.now()
    day = _local_day(due, now)
    if day != now.date():
        log.info("mid-month nudge for %s skipped: that day is over", day)
        return 0
    if day != nudge_day(Month.of(day), configured_nudge_day()):
        return 0
    session = db.get_session()
    push_id = f"nudge-{day:%Y-%m}"
    members = _not_yet_sent(session, push_id, _present_active_members(session, day))
    behind = [p for p in _measure(session, members, day) if p.behind_minutes > 0]
    month = Month.of(day)
    leaves = study.leave_days(session, [p.member.userid for p in behind], month.first, month.last)
    for item in behind:
        days_left = _workdays_left(month, day, leaves[item.member.userid])
        enqueue_to_members(push_id, [item.member.userid], Text(nudge_text(item, days_left)))
    return len(behind)


def configured_nudge_day() -> int:
    """``MIDMONTH_NUDGE_DAY`` (default 15).

    Raises:
        ValueError: the setting is not a day between 1 and 28 (every month must have it).
    """
    value = current_app.config.get("MIDMONTH_NUDGE_DAY", DEFAULT_NUDGE_DAY)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 28:
        raise ValueError(f"MIDMONTH_NUDGE_DAY must be a day between 1 and 28, got {value!r}")
    return value


def nudge_day(month: Month, from_day: int) -> date | None:
    """The first workday of ``month`` on or after day ``from_day``; None if the month has none left."""
    return next((d for d in month.days() if d.day >= from_day and workdays.is_workday(d)), None)


def nudge_text(item: Progress, days_left: int) -> str:
    """The nudge for one member: hours left to the goal, workdays left, and what a day's share is."""
    left = item.goal_minutes - item.done_minutes
    per_day = math.ceil(left / max(days_left, 1))
    return NUDGE.format(name=item.member.name, done=hours(item.done_minutes), goal=hours(item.goal_minutes),
                        left=hours(left), days=days_left,
                        per_day=f"{per_day} 分钟" if per_day < 60 else f"{hours(per_day)} 小时")


def _present_active_members(session: Session, day: date) -> list[Member]:
    on_leave = exists().where(Leave.userid == Member.userid, Leave.start_day <= day, Leave.end_day >= day)
    query = select(Member).where(Member.status == MemberStatus.ACTIVE.value, ~on_leave).order_by(Member.userid)
    return list(session.scalars(query))


def _workdays_left(month: Month, day: date, leave: set[date]) -> int:
    """Workdays from ``day`` (included: the nudge comes in the morning) to the month's end, off leave."""
    return workdays_in(month, excluding=leave) - workdays_in(month, until=day - timedelta(days=1), excluding=leave)


# -- the month-end run -----------------------------------------------------------------------------

@app_job
def send_month_end_reports(*, due: str) -> dict[str, int]:
    """On the first of a month, feed back the month that ended: to members, leaders and the level above.

    Each member gets a personal summary (``month-summary-2026-11``); the leaders of each department
    or team get their own unit's evaluation (``unit-report-2026-11-<unit id>``); members below goal
    in both this month and the one before are escalated one level up (``escalation-2026-11-<unit
    id>``, the unit whose leaders or admins receive it). Safe to run twice, also on a later day.

    Args:
        due: the ISO minute the schedule entry fired for; the month before its date is reported.

    Returns:
        How many messages were queued, by kind (``summaries``, ``unit_reports``, ``escalations``).
    """
    month = Month.of(_local_day(due, clock.now())).previous()
    session = db.get_session()
    members = progress.members_under(session, org.root_units(session))
    ended = _measure(session, members, month.last)
    before = {p.member.userid: p for p in _measure(session, members, month.previous().last)}
    return {"summaries": _send_summaries(session, month, ended),
            "unit_reports": _send_unit_reports(session, month, ended, before),
            "escalations": _send_escalations(session, month, ended, before)}


def _send_summaries(session: Session, month: Month, ended: list[Progress]) -> int:
    push_id = f"month-summary-{month.first:%Y-%m}"
    unsent = set(_not_yet_sent_ids(session, push_id, [p.member.userid for p in ended]))
    checkins = _checkins_in(session, month)
    for item in ended:
        if item.member.userid in unsent:
            text = summary_text(item, month, checkins.get(item.member.userid, 0))
            enqueue_to_members(push_id, [item.member.userid], Text(text))
    return len(unsent)


def summary_text(item: Progress, month: Month, checkins: int) -> str:
    """A member's month in a few lines and one encouraging sentence."""
    lines = [SUMMARY_HEAD.format(month=month.label, name=item.member.name),
             SUMMARY_HOURS.format(done=hours(item.done_minutes), goal=hours(item.goal_minutes),
                                  self_reported=hours(item.totals.self_minutes),
                                  vouched=hours(item.totals.vouched_minutes))]
    if item.leave_days:
        lines.append(SUMMARY_LEAVE.format(days=item.leave_days))
    lines.append(SUMMARY_CHECKINS.format(count=checkins))
    goal = item.goal.practice_activities_per_quarter
    lines.append((SUMMARY_ACTIVITIES if goal else SUMMARY_ACTIVITIES_NO_GOAL).format(done=item.activities, goal=goal))
    if item.reached:
        lines += [SUMMARY_REACHED, CHEER_REACHED]
    else:
        lines.append(SUMMARY_MISSED.format(left=hours(item.goal_minutes - item.done_minutes)))
        lines.append(CHEER_CLOSE if item.done_minutes else CHEER_START)
    return "\n".join(lines)


def _send_unit_reports(session: Session, month: Month, ended: list[Progress],
                       before: dict[str, Progress]) -> int:
    count = 0
    for unit_id, leaders in sorted(_leaders_by_unit(session).items()):
        unit = session.get(OrgUnit, unit_id)
        items = _within(session, unit_id, ended)
        push_id = f"unit-report-{month.first:%Y-%m}-{unit_id}"
        recipients = _not_yet_sent_ids(session, push_id, leaders)
        if unit is None or not items or not recipients:
            continue
        previous = [before[p.member.userid] for p in items]
        text = unit_report_text(unit, month, items, previous, awareness=_awareness_in(session, unit_id, month))
        enqueue_to_members(push_id, recipients, Text(text))
        count += len(recipients)
    return count


def unit_report_text(unit: OrgUnit, month: Month, items: list[Progress], previous: list[Progress], *,
                     awareness: list[Rate]) -> str:
    """One unit's month: completion rate and average against the month before, awareness, who fell short, teams."""
    now, then = progress.summarise(unit.name, items), progress.summarise(unit.name, previous)
    lines = [REPORT_HEAD.format(month=month.label, unit=org.unit_path(unit)),
             REPORT_RATE.format(reached=now.reached, people=now.people, rate=percent(now.reached / now.people),
                                change=_rate_change(now.reached / now.people, then.reached / then.people)),
             REPORT_AVERAGE.format(average=hours(now.average_minutes),
                                   change=_average_change(now.average_minutes, then.average_minutes))]
    lines += _awareness_lines(awareness, month)
    short = sorted((p for p in items if not p.reached), key=lambda p: (p.completion, p.member.userid))
    if short:
        lines.append(REPORT_BEHIND.format(count=len(short)))
        lines += [REPORT_BEHIND_LINE.format(name=p.member.name, done=hours(p.done_minutes),
                                            goal=hours(p.goal_minutes), left=hours(p.goal_minutes - p.done_minutes))
                  for p in short]
    else:
        lines.append(REPORT_ALL_REACHED)
    lines += _team_ranking(items)
    lines.append(REPORT_FOOT)
    return "\n".join(lines)


def _awareness_in(session: Session, unit_id: int, month: Month) -> list[Rate]:
    """The unit's awareness per topic from 1 January to the end of the month reported (the goal is yearly)."""
    period = Period(date(month.first.year, 1, 1), month.last, f"{month.first.year} 年")
    return rates(session, all_topics(), org.active_userids_within(session, {unit_id}), period)


def _awareness_lines(found: list[Rate], month: Month) -> list[str]:
    if not found or not found[0].people:
        return []
    goal = get_goals().defaults.awareness_percent
    below = sorted((r for r in found if r.share * 100 < goal), key=lambda r: (r.share, r.topic))
    if not below:
        return [REPORT_AWARENESS_REACHED.format(year=month.first.year, goal=goal)]
    lowest = "、".join(REPORT_AWARENESS_LOWEST.format(topic=r.topic, share=percent(r.share))
                       for r in below[:AWARENESS_LOWEST_LISTED])
    return [REPORT_AWARENESS.format(year=month.first.year, overall=percent(overall(found)), goal=goal, lowest=lowest)]


def _team_ranking(items: list[Progress]) -> list[str]:
    teams = progress.by_unit([p for p in items if p.member.team_id], key=lambda m: m.team.name)
    if len(teams) < 2:
        return []
    ranked = sorted((progress.summarise(name, rows) for name, rows in teams.items()),
                    key=lambda s: (-s.average_completion, s.name))
    return [REPORT_RANKING] + [REPORT_RANK_LINE.format(place=i, team=s.name, completion=percent(s.average_completion),
                                                       reached=s.reached, people=s.people)
                               for i, s in enumerate(ranked, 1)]


def _rate_change(now: float, then: float) -> str:
    diff = round(now * 100) - round(then * 100)
    if diff == 0:
        return SAME_AS_BEFORE.format(before=percent(then))
    return RATE_CHANGE.format(before=percent(then), arrow=UP if diff > 0 else DOWN, diff=abs(diff))


def _average_change(now: float, then: float) -> str:
    # the difference of the hours as shown, so the numbers in one line add up
    diff = round(float(hours(now)) - float(hours(then)), 1)
    if diff == 0:
        return SAME_AS_BEFORE.format(before=f"{hours(then)} 小时")
    return AVERAGE_CHANGE.format(before=hours(then), arrow=UP if diff > 0 else DOWN, diff=f"{abs(diff):g}")


# -- escalation ------------------------------------------------------------------------------------

def _send_escalations(session: Session, month: Month, ended: list[Progress],
                      before: dict[str, Progress]) -> int:
    twice = [(p, before[p.member.userid]) for p in ended
             if p.member.status == MemberStatus.ACTIVE.value and not p.reached and not before[p.member.userid].reached]
    leaders, count = _leaders_by_unit(session), 0
    for unit_id, rows in sorted(_by_level_above(twice).items()):
        unit = session.get(OrgUnit, unit_id)
        push_id = f"escalation-{month.first:%Y-%m}-{unit_id}"
        recipients = _not_yet_sent_ids(session, push_id, _escalation_recipients(session, unit, leaders))
        if recipients:
            enqueue_to_members(push_id, recipients, Text(escalation_text(unit, month, rows)))
            count += len(recipients)
    return count


def _by_level_above(rows: list[tuple[Progress, Progress]]) -> dict[int, list[tuple[Progress, Progress]]]:
    """A team member's shortfall goes to his department; a department member's to the unit above it."""
    found: dict[int, list[tuple[Progress, Progress]]] = defaultdict(list)
    for ended, before in rows:
        member = ended.member
        above = member.department_id if member.team_id else member.department.parent_id
        found[above or member.department_id].append((ended, before))
    return found


def _escalation_recipients(session: Session, unit: OrgUnit, leaders: dict[int, list[str]]) -> list[str]:
    """The department's leaders; the admins for the unit itself, or for a department without a leader."""
    if unit.parent_id is None:
        return _admins(session)
    if unit.id not in leaders:
        log.warning("no leader for %s: its escalation goes to the admins", unit.name)
    return leaders.get(unit.id) or _admins(session)


def escalation_text(unit: OrgUnit, month: Month, rows: list[tuple[Progress, Progress]]) -> str:
    """Who in ``unit``'s care fell short in ``month`` and the month before, with both months' hours."""
    earlier = month.previous()
    ended_label, before_label = f"{month.first.month} 月", f"{earlier.first.month} 月"
    lines = [ESCALATION_HEAD.format(unit=org.unit_path(unit)),
             ESCALATION_INTRO.format(before=before_label, ended=ended_label)]
    lines += [ESCALATION_LINE.format(name=e.member.name, place=org.org_path(e.member), ended=ended_label,
                                     done=hours(e.done_minutes), goal=hours(e.goal_minutes), before=before_label,
                                     done_before=hours(b.done_minutes), goal_before=hours(b.goal_minutes))
              for e, b in rows]
    return "\n".join(lines)


# -- shared ----------------------------------------------------------------------------------------

def _local_day(due: str, now: datetime) -> date:
    due_at = datetime.fromisoformat(due)
    return (due_at.astimezone(now.tzinfo) if due_at.tzinfo else due_at).date()


def _measure(session: Session, members: list[Member], day: date) -> list[Progress]:
    return progress.measure(session, members, day=day, goals=get_goals(), rules=cohorts.get_rules())


def _within(session: Session, unit_id: int, items: list[Progress]) -> list[Progress]:
    scope = org.units_under(session, unit_id)
    return [p for p in items if p.member.department_id in scope or p.member.team_id in scope]


def _checkins_in(session: Session, month: Month) -> dict[str, int]:
    query = (select(CheckIn.userid, func.count()).where(CheckIn.day >= month.first, CheckIn.day <= month.last)
             .group_by(CheckIn.userid))
    return dict(session.execute(query).all())


def _leaders_by_unit(session: Session) -> dict[int, list[str]]:
    query = select(RoleGrant.org_unit_id, RoleGrant.userid).where(
        RoleGrant.role == LEADER, RoleGrant.org_unit_id.is_not(None)).order_by(RoleGrant.userid)
    found: dict[int, list[str]] = defaultdict(list)
    for unit_id, userid in session.execute(query):
        found[unit_id].append(userid)
    return dict(found)


def _admins(session: Session) -> list[str]:
    ids = set(current_app.config.get("BOT_ADMINS", ()))
    ids |= set(session.scalars(select(RoleGrant.userid).where(RoleGrant.role == ADMIN)))
    return sorted(ids)


def _not_yet_sent(session: Session, push_id: str, members: list[Member]) -> list[Member]:
    unsent = set(_not_yet_sent_ids(session, push_id, [m.userid for m in members]))
    return [m for m in members if m.userid in unsent]


def _not_yet_sent_ids(session: Session, push_id: str, userids: list[str]) -> list[str]:
    # the outbox would skip them anyway; asking the ledger first spares the work and keeps counts honest
    unsent = Ledger(session, clock.now).unsent(push_id, [f"user:{u}" for u in userids])
    return [u for u in userids if f"user:{u}" in unsent]
