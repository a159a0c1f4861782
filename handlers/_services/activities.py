"""Activities: who may join, seats and the waiting list, attendance and the credit it earns.

Seats are taken and given back only by conditional UPDATEs on ``activities.seats_taken`` (the
database serialises them), and a registration changes status only from the status it was read in,
so concurrent 报名 and 取消报名 never over-book nor promote one waiting member twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from enum import Enum

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.cohorts import CohortRules
from bot.models import Member
from bot.models.activities import Activity, ActivityRegistration, RegistrationStatus
from bot.models.study import StudySource
from bot.sqlutil import insert_ignoring_duplicates
from content_packs.activity_schema import OFFLINE_ACTIVITY_KINDS, ONLINE_ACTIVITY_KINDS, PRACTICE_ACTIVITY_KINDS
from handlers._services import push_audience, study, surveys

# the kinds live with the pack schema, which activity packs are checked against
ONLINE_KINDS, OFFLINE_KINDS = ONLINE_ACTIVITY_KINDS, OFFLINE_ACTIVITY_KINDS
PRACTICE_BY_DEFAULT = PRACTICE_ACTIVITY_KINDS      # what the study loop calls 实践活动
_REGISTERED, _WAITING, _CANCELLED, _WALK_IN = (s.value for s in RegistrationStatus)


class Outcome(str, Enum):
    REGISTERED = "registered"
    WAITING = "waiting"
    ALREADY_REGISTERED = "already_registered"
    ALREADY_WAITING = "already_waiting"
    CANCELLED = "cancelled"
    NOT_REGISTERED = "not_registered"


@dataclass(frozen=True)
class Cancelled:
    outcome: Outcome
    promoted: list[str]          # userids moved up from the waiting list


def find(session: Session, activity_id: int) -> Activity | None:
    return session.get(Activity, activity_id)


def recent(session: Session, *, limit: int) -> list[Activity]:
    """The latest activities by start time, newest first."""
    return list(session.scalars(select(Activity).order_by(Activity.starts_at.desc(), Activity.id.desc()).limit(limit)))


def audience_userids(session: Session, activity: Activity, *, rules: CohortRules, today: date) -> list[str]:
    """Everyone the activity is for today (the union of its audiences), sorted."""
    found: set[str] = set()
    for label in activity.audience:
        found.update(push_audience.userids_of(session, push_audience.Audience.from_label(label), rules=rules,
                                              today=today))
    return sorted(found)


def is_for(session: Session, activity: Activity, member: Member, *, rules: CohortRules, today: date) -> bool:
    """Whether the activity is for ``member`` today: one small query per audience, not the audience's roster."""
    return any(push_audience.includes(session, push_audience.Audience.from_label(label), member.userid,
                                      rules=rules, today=today) for label in activity.audience)


def upcoming_for(session: Session, member: Member, *, now: datetime, rules: CohortRules) -> list[Activity]:
    """Activities not yet started that the member may join, soonest first."""
    query = select(Activity).where(Activity.starts_at > utc(now)).order_by(Activity.starts_at, Activity.id)
    return [a for a in session.scalars(query) if is_for(session, a, member, rules=rules, today=now.date())]


def registration_of(session: Session, activity_id: int, userid: str) -> ActivityRegistration | None:
    return session.scalar(select(ActivityRegistration).where(ActivityRegistration.activity_id == activity_id,
                                                             ActivityRegistration.userid == userid))


def register(session: Session, activity: Activity, userid: str, *, now: datetime) -> Outcome:
    """Take a seat, or a place on the waiting list when the activity is full."""
    row = registration_of(session, activity.id, userid)
    if row is not None and row.status == _REGISTERED:
        return Outcome.ALREADY_REGISTERED
    if row is not None and row.status == _WAITING:
        return Outcome.ALREADY_WAITING
    seated = _take_seat(session, activity.id)
    status = _REGISTERED if seated else _WAITING
    if row is None:
        changed = insert_ignoring_duplicates(session, ActivityRegistration, dict(
            activity_id=activity.id, userid=userid, status=status, queued_at=utc(now), updated_at=utc(now)))
    else:
        changed = _move(session, row.id, row.status, status, now, queued_at=utc(now))
    if not changed:                 # the same member's other message won the race
        if seated:
            _give_back_seat(session, activity.id)
        return Outcome.ALREADY_REGISTERED
    return Outcome.REGISTERED if seated else Outcome.WAITING


def cancel(session: Session, activity: Activity, userid: str, *, now: datetime) -> Cancelled:
    """Give up a seat (the first on the waiting list moves up) or a place on the waiting list."""
    row = registration_of(session, activity.id, userid)
    if row is None or row.status not in (_REGISTERED, _WAITING):
        return Cancelled(Outcome.NOT_REGISTERED, [])
    if not _move(session, row.id, row.status, _CANCELLED, now):
        return Cancelled(Outcome.NOT_REGISTERED, [])
    promoted: list[str] = []
    if row.status == _REGISTERED:
        _give_back_seat(session, activity.id)
        promoted = fill_from_waiting_list(session, activity.id, now=now)
    return Cancelled(Outcome.CANCELLED, promoted)


def fill_from_waiting_list(session: Session, activity_id: int, *, now: datetime) -> list[str]:
    """Move waiting members up, first come first served, while seats are free; returns their userids."""
    promoted = []
    while _take_seat(session, activity_id):
        waiting = session.execute(
            select(ActivityRegistration.id, ActivityRegistration.userid)
            .where(ActivityRegistration.activity_id == activity_id, ActivityRegistration.status == _WAITING)
            .order_by(ActivityRegistration.queued_at, ActivityRegistration.id).limit(1)).first()
        if waiting is None:
            _give_back_seat(session, activity_id)
            break
        if _move(session, waiting.id, _WAITING, _REGISTERED, now):
            promoted.append(waiting.userid)
        else:
            _give_back_seat(session, activity_id)     # someone else moved him; try the next one
    return promoted


def waiting_position(session: Session, activity_id: int, row: ActivityRegistration) -> int:
    ahead = session.scalar(select(func.count()).where(
        ActivityRegistration.activity_id == activity_id, ActivityRegistration.status == _WAITING,
        (ActivityRegistration.queued_at < row.queued_at)
        | ((ActivityRegistration.queued_at == row.queued_at) & (ActivityRegistration.id < row.id))))
    return int(ahead) + 1


def userids_with(session: Session, activity_id: int, *statuses: RegistrationStatus,
                 attended: bool | None = None) -> list[str]:
    query = select(ActivityRegistration.userid).where(
        ActivityRegistration.activity_id == activity_id,
        ActivityRegistration.status.in_([s.value for s in statuses]))
    if attended is not None:
        query = query.where(ActivityRegistration.attended_at.is_not(None) if attended
                            else ActivityRegistration.attended_at.is_(None))
    return list(session.scalars(query.order_by(ActivityRegistration.userid)))


def mark_attended(session: Session, activity: Activity, userid: str, *, now: datetime) -> bool:
    """Record attendance and credit the activity's study time once; False when already signed in."""
    row = registration_of(session, activity.id, userid)
    if row is None:
        insert_ignoring_duplicates(session, ActivityRegistration, dict(
            activity_id=activity.id, userid=userid, status=_WALK_IN, queued_at=utc(now), updated_at=utc(now)))
        row = registration_of(session, activity.id, userid)
    marked = session.execute(update(ActivityRegistration)
                             .where(ActivityRegistration.id == row.id, ActivityRegistration.attended_at.is_(None))
                             .values(attended_at=utc(now), updated_at=utc(now))).rowcount
    if not marked:
        return False
    study.record_vouched(session, userid=userid, day=now.date(), minutes=activity.study_minutes,
                         source=study_source_of(activity), ref=f"activity:{activity.id}:{userid}",
                         topic=activity.title, recorded_by="activity", now=now)
    return True


def study_source_of(activity: Activity) -> StudySource:
    """How attendance is logged. 进度 counts ACTIVITY entries as the quarter's practice activities
    (study.activities_attended), so only practice activities use it; other attendance is time an
    organiser vouched for with the sign-in code, which is what ADMIN stands for."""
    return StudySource.ACTIVITY if activity.counts_as_practice else StudySource.ADMIN


@dataclass(frozen=True)
class Counts:
    registered: int
    waiting: int
    attended: int


def counts(session: Session, activity_id: int) -> Counts:
    rows = session.execute(select(ActivityRegistration.status, ActivityRegistration.attended_at.is_not(None),
                                  func.count())
                           .where(ActivityRegistration.activity_id == activity_id)
                           .group_by(ActivityRegistration.status, ActivityRegistration.attended_at.is_not(None)))
    registered = waiting = attended = 0
    for status, did_attend, number in rows:
        registered += number if status == _REGISTERED else 0
        waiting += number if status == _WAITING else 0
        attended += number if did_attend else 0
    return Counts(registered, waiting, attended)


def by_department(session: Session, activity_id: int) -> dict[str, Counts]:
    """Registered, waiting and attended per department, departments by name."""
    query = (select(ActivityRegistration.status, ActivityRegistration.attended_at, Member)
             .join(Member, Member.userid == ActivityRegistration.userid)
             .where(ActivityRegistration.activity_id == activity_id))
    tally: dict[str, list[int]] = {}
    for status, attended_at, member in session.execute(query):
        numbers = tally.setdefault(member.department.name, [0, 0, 0])
        numbers[0] += status == _REGISTERED
        numbers[1] += status == _WAITING
        numbers[2] += attended_at is not None
    return {name: Counts(*tally[name]) for name in sorted(tally)}


@dataclass(frozen=True)
class Satisfaction:
    """What the activity's satisfaction survey (a per_activity survey pack) collected."""

    scores: list[int]           # the 1–5 scores
    comments: list[str]         # free-text answers (most useful, suggestions), newest first

    @property
    def average(self) -> float | None:
        return sum(self.scores) / len(self.scores) if self.scores else None


def satisfaction(session: Session, activity_id: int) -> Satisfaction:
    return Satisfaction(*surveys.activity_answers(session, activity_id))


def _take_seat(session: Session, activity_id: int) -> bool:
    query = (update(Activity).where(Activity.id == activity_id,
                                    Activity.capacity.is_(None) | (Activity.seats_taken < Activity.capacity))
             .values(seats_taken=Activity.seats_taken + 1).execution_options(synchronize_session=False))
    return session.execute(query).rowcount == 1


def _give_back_seat(session: Session, activity_id: int) -> None:
    session.execute(update(Activity).where(Activity.id == activity_id, Activity.seats_taken > 0)
                    .values(seats_taken=Activity.seats_taken - 1).execution_options(synchronize_session=False))


def _move(session: Session, row_id: int, old: str, new: str, now: datetime, **values) -> bool:
    query = (update(ActivityRegistration)
             .where(ActivityRegistration.id == row_id, ActivityRegistration.status == old)
             .values(status=new, updated_at=utc(now), **values).execution_options(synchronize_session=False))
    return session.execute(query).rowcount == 1


def utc(moment: datetime) -> datetime:
    return moment.astimezone(timezone.utc)
