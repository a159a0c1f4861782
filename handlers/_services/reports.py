"""Monthly reports for leaders and admins: who may see which unit, and the month's figures as plain data.

The charts (report_charts.py), the workbook (report_workbook.py) and the dashboard all draw from a
``MonthlyReport``: study hours per department or team against the month's goal, the check-in rate
of each day, awareness per topic, and each member's hours, check-ins, quiz and activity figures.
Everything is read with a handful of grouped queries; the unit's size never adds queries per member.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from flask import current_app
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from bot import clock, cohorts, org, roles
from bot.acl import Role
from bot.models import Activity, ActivityRegistration, CheckIn, Member, OrgUnit, QuizAnswer
from bot.models.activities import RegistrationStatus
from bot.models.core import MemberStatus
from bot.models.quiz import Outcome
from bot.sqlutil import chunks
from handlers._services import awareness, progress, study
from handlers._services.dates import Period, parse_month
from handlers._services.goals import Month, get_goals

NO_TEAM = "科室直属"
_SIGNED_UP = (RegistrationStatus.REGISTERED.value, RegistrationStatus.WALK_IN.value)


class ReportError(ValueError):
    """The report cannot be made as asked; the message is polite Chinese for the person."""


@dataclass(frozen=True)
class ReportScope:
    """What one person may see: the whole tree for admins, the units a leader leads (and below)."""

    userid: str
    role: Role
    unit_ids: frozenset[int]
    label: str                  # 水库管理所 / 工程管理科 / 工程管理科 / 大坝巡查班组


@dataclass(frozen=True)
class MemberRow:
    userid: str
    name: str
    department: str
    team: str                   # "" without a team
    post: str
    goal_minutes: int           # the month's goal, pro-rated for leave
    self_minutes: int
    vouched_minutes: int
    checkin_days: int
    quiz_answers: int           # questions asked in the month (right, wrong, missed or skipped)
    quiz_right: int
    activities_signed_up: int   # activities starting in the month he registered for or walked in to
    activities_attended: int
    practice_this_quarter: int  # practice activities attended this quarter (the closed loop's goal)

    @property
    def study_minutes(self) -> int:
        return self.self_minutes + self.vouched_minutes

    @property
    def reached(self) -> bool:
        return self.study_minutes >= self.goal_minutes


@dataclass(frozen=True)
class UnitRow:
    """One bar of the study-hours chart: a department, or a team inside one department."""

    name: str
    people: int
    reached: int
    study_minutes: int
    goal_minutes: int           # the members' goals added up
    checkins: int

    @property
    def average_minutes(self) -> float:
        return self.study_minutes / self.people if self.people else 0.0


@dataclass(frozen=True)
class DayRate:
    day: date
    checked_in: int
    people: int                 # members expected to check in: at work (在职) and not on leave

    @property
    def rate(self) -> float:
        return self.checked_in / self.people if self.people else 0.0


@dataclass(frozen=True)
class MonthlyReport:
    scope_label: str
    period: Period
    as_of: date                 # the last day counted: the month's end, or today in the current month
    unit_kind: str              # 部门 or 班组: what ``units`` are
    goal_minutes: int           # the unit's default monthly goal (8 h), the chart's goal line
    awareness_goal_percent: int
    units: tuple[UnitRow, ...]
    days: tuple[DayRate, ...]
    awareness_period: Period    # awareness counts the year up to ``as_of``
    topics: tuple[awareness.Rate, ...]     # this year, as of ``as_of``
    members: tuple[MemberRow, ...]

    @property
    def title(self) -> str:
        return f"{self.scope_label} · {self.period.label}"

    @property
    def days_counted(self) -> int:
        return (self.as_of - self.period.first).days + 1

    def by_department(self) -> dict[str, list[MemberRow]]:
        """Members per department, in the report's order (department, team, name)."""
        found: dict[str, list[MemberRow]] = {}
        for row in self.members:
            found.setdefault(row.department, []).append(row)
        return found


def report_scope_for(session: Session, userid: str) -> ReportScope | None:
    """The units ``userid`` may see reports of; None for members and guests."""
    standing = roles.resolve(session, userid, on_roster=org.find_member(session, userid) is not None,
                             config_admins=tuple(current_app.config.get("BOT_ADMINS", ())))
    return scope_of(session, userid, standing)


def scope_of(session: Session, userid: str, standing: roles.Standing) -> ReportScope | None:
    """``report_scope_for`` when the standing is known already (a handler's ``ctx.standing``)."""
    if standing.role >= Role.ADMIN:
        units = org.root_units(session)
    elif standing.role >= Role.LEADER:
        units = set(standing.leads)
    else:
        return None
    label = "、".join(org.unit_path(session.get(OrgUnit, u)) for u in sorted(units)) or "全单位"
    return ReportScope(userid, standing.role, frozenset(units), label)


def month_period(text: str | None, *, today: date) -> Period:
    """本月 (default), 上月, 2026-10 or 10月 as a Period.

    Raises:
        ReportError: the month is unreadable.
    """
    try:
        month = parse_month(text, today=today)
    except ValueError as exc:
        raise ReportError(str(exc)) from None
    return Period(month.first, month.last, month.label)


def monthly_report(session: Session, scope: ReportScope, period: Period, *,
                   department: str | None = None) -> MonthlyReport:
    """The month's figures for the scope, or for one department or team inside it.

    Raises:
        ReportError: the month has not begun, is not a calendar month, or the department is
            unknown, ambiguous or outside the scope.
    """
    _check_period(period)
    as_of = min(period.last, clock.now().date())
    roots, label = _chosen_units(session, scope, department)
    members = progress.members_under(session, set(roots))
    measured = progress.measure(session, members, day=as_of, goals=get_goals(), rules=cohorts.get_rules())
    userids = [m.userid for m in members]
    checkins = _checkin_days(session, userids, period.first, as_of)
    quiz = _quiz_counts(session, userids, period.first, as_of)
    activity = _activity_counts(session, userids, period.first, as_of)
    rows = tuple(_member_row(p, checkins, quiz, activity) for p in measured)
    kind, key = ("部门", lambda r: r.department) if len({r.department for r in rows}) > 1 \
        else ("班组", lambda r: r.team or NO_TEAM)
    year = Period(as_of.replace(month=1, day=1), as_of, f"{as_of.year} 年（截至 {as_of:%m-%d}）")
    goals = get_goals().defaults
    return MonthlyReport(
        scope_label=label, period=period, as_of=as_of, unit_kind=kind,
        goal_minutes=round(goals.study_hours_per_month * 60), awareness_goal_percent=goals.awareness_percent,
        units=_units(rows, key), days=_day_rates(session, members, checkins, period.first, as_of),
        awareness_period=year, topics=_topic_rates(session, roots, year), members=rows)


def check_request(session: Session, scope: ReportScope, period: Period, *, department: str | None = None) -> str:
    """Check a report request before queueing it, so the person hears at once what is wrong.

    Returns:
        What the report will cover, e.g. 水库管理所 or 工程管理科 / 防汛抢险班组.

    Raises:
        ReportError: as ``monthly_report`` would.
    """
    _check_period(period)
    return _chosen_units(session, scope, department)[1]


def _check_period(period: Period) -> None:
    if period.first.day != 1 or period.last != Month.of(period.first).last:
        raise ReportError("报表按自然月统计，请写「本月」「上月」或「2026-10」这样的月份。")
    if period.first > clock.now().date():
        raise ReportError(f"{period.label}还没有开始。")


def _chosen_units(session: Session, scope: ReportScope, department: str | None) -> tuple[frozenset[int], str]:
    if not department:
        return scope.unit_ids, scope.label
    found = org.find_unit_by_name(session, department)
    if not found:
        raise ReportError(f"没有找到名为「{department}」的部门或班组。")
    if len(found) > 1:
        raise ReportError(f"有多个「{department}」，请写成「部门/班组」。")
    if found[0].id not in org.units_within(session, set(scope.unit_ids)):
        raise ReportError(f"抱歉，「{department}」不在您负责的范围内，您可以查看自己负责的单位。")
    return frozenset({found[0].id}), org.unit_path(found[0])


def _member_row(p: progress.Progress, checkins: dict[str, set[date]], quiz: dict[str, tuple[int, int]],
                activity: dict[str, tuple[int, int]]) -> MemberRow:
    m = p.member
    asked, right = quiz.get(m.userid, (0, 0))
    signed_up, attended = activity.get(m.userid, (0, 0))
    return MemberRow(userid=m.userid, name=m.name, department=m.department.name,
                     team=m.team.name if m.team else "", post=m.post or "", goal_minutes=p.goal_minutes,
                     self_minutes=p.totals.self_minutes, vouched_minutes=p.totals.vouched_minutes,
                     checkin_days=len(checkins.get(m.userid, ())), quiz_answers=asked, quiz_right=right,
                     activities_signed_up=signed_up, activities_attended=attended,
                     practice_this_quarter=p.activities)


def _units(rows: tuple[MemberRow, ...], key) -> tuple[UnitRow, ...]:
    grouped: dict[str, list[MemberRow]] = {}
    for row in rows:
        grouped.setdefault(key(row), []).append(row)
    return tuple(UnitRow(name, len(items), sum(r.reached for r in items), sum(r.study_minutes for r in items),
                         sum(r.goal_minutes for r in items), sum(r.checkin_days for r in items))
                 for name, items in grouped.items())


def _day_rates(session: Session, members: list[Member], checkins: dict[str, set[date]], first: date,
               last: date) -> tuple[DayRate, ...]:
    """Each day: of the members expected to check in (at work, not on leave), how many did."""
    active = [m.userid for m in members if m.status == MemberStatus.ACTIVE.value]
    away = study.leave_days(session, active, first, last)
    rates = []
    for n in range((last - first).days + 1):
        day = first + timedelta(days=n)
        expected = [u for u in active if day not in away[u]]
        rates.append(DayRate(day, sum(day in checkins.get(u, ()) for u in expected), len(expected)))
    return tuple(rates)


def _topic_rates(session: Session, roots: frozenset[int], year: Period) -> tuple[awareness.Rate, ...]:
    topics = awareness.all_topics()
    if not topics:
        return ()
    who = org.active_userids_within(session, set(roots))
    return tuple(awareness.rates(session, topics, who, year))


def _checkin_days(session: Session, userids: list[str], first: date, last: date) -> dict[str, set[date]]:
    found: dict[str, set[date]] = {}
    for chunk in chunks(userids):
        query = select(CheckIn.userid, CheckIn.day).where(CheckIn.userid.in_(chunk), CheckIn.day.between(first, last))
        for userid, day in session.execute(query):
            found.setdefault(userid, set()).add(day)
    return found


def _quiz_counts(session: Session, userids: list[str], first: date, last: date) -> dict[str, tuple[int, int]]:
    """(questions asked, answered right) per member."""
    right = func.sum(case((QuizAnswer.outcome == Outcome.RIGHT.value, 1), else_=0))
    found: dict[str, tuple[int, int]] = {}
    for chunk in chunks(userids):
        query = (select(QuizAnswer.userid, func.count(), right)
                 .where(QuizAnswer.userid.in_(chunk), QuizAnswer.day.between(first, last))
                 .group_by(QuizAnswer.userid))
        found.update({userid: (asked, int(ok or 0)) for userid, asked, ok in session.execute(query)})
    return found


def _activity_counts(session: Session, userids: list[str], first: date, last: date) -> dict[str, tuple[int, int]]:
    """(signed up, attended) per member, for activities starting in the local days ``first``..``last``."""
    start, end = _utc_bounds(first, last)
    attended = func.sum(case((ActivityRegistration.attended_at.is_not(None), 1), else_=0))
    found: dict[str, tuple[int, int]] = {}
    for chunk in chunks(userids):
        query = (select(ActivityRegistration.userid, func.count(), attended)
                 .join(Activity, Activity.id == ActivityRegistration.activity_id)
                 .where(ActivityRegistration.userid.in_(chunk), ActivityRegistration.status.in_(_SIGNED_UP),
                        Activity.starts_at >= start, Activity.starts_at < end)
                 .group_by(ActivityRegistration.userid))
        found.update({userid: (signed, int(came or 0)) for userid, signed, came in session.execute(query)})
    return found


def _utc_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    zone = clock.now().tzinfo
    start = datetime.combine(first, time(0), zone).astimezone(timezone.utc)
    end = datetime.combine(last + timedelta(days=1), time(0), zone).astimezone(timezone.utc)
    return start, end
