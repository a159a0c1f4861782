"""Points (积分): derived from check-ins, study logs and quiz answers, capped per member, day and kind.

There is no points ledger. Every figure is recomputed from the records that already exist, so a
revoked study entry or a corrected answer changes the points with nothing to keep in step. Each
kind is one SQL aggregation (member × day → capped points → member), so a month for the whole
unit costs four queries whatever its size.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path

import yaml
from flask import Flask, current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from bot import org
from content_packs.schema import describe
from bot.models import CheckIn, Member, OrgUnit, QuizAnswer, StudyLog
from bot.models.core import OrgKind
from bot.models.quiz import Outcome
from bot.models.study import StudySource
from handlers._services.dates import Period

EXTENSION = "szzs.points"
FILE_NAME = "points.yaml"


class PerEvent(BaseModel):
    """``points`` for each event (a check-in, a right answer, an activity attended), at most ``daily_cap`` a day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int = Field(ge=0, le=100)
    daily_cap: int = Field(ge=0, le=1000)


class PerMinutes(BaseModel):
    """``points`` for each full ``per_minutes`` of study on a day, at most ``daily_cap`` a day."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    points: int = Field(ge=0, le=100)
    per_minutes: int = Field(ge=1, le=24 * 60)
    daily_cap: int = Field(ge=0, le=1000)


class PointRules(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    checkin: PerEvent = PerEvent(points=2, daily_cap=2)
    study: PerMinutes = PerMinutes(points=1, per_minutes=30, daily_cap=8)
    quiz_right: PerEvent = PerEvent(points=1, daily_cap=10)
    activity: PerEvent = PerEvent(points=5, daily_cap=10)


def load_rules(path: Path) -> PointRules:
    """Read and validate a points file; a missing file means the defaults above.

    Raises:
        ValueError: naming the file and the first wrong entry.
    """
    if not path.exists():
        return PointRules()
    try:
        return PointRules.model_validate(yaml.safe_load(path.read_text("utf-8")) or {})
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: 不是有效的 YAML：{exc}") from None
    except ValidationError as exc:
        where, message = describe(exc)[0]
        raise ValueError(f"{path}: {'.'.join(map(str, where)) or '顶层'}：{message}") from None


def get_rules(app: Flask | None = None) -> PointRules:
    app = app or current_app
    if EXTENSION not in app.extensions:
        app.extensions[EXTENSION] = load_rules(Path(app.config["UNIT_DIR"]) / FILE_NAME)
    return app.extensions[EXTENSION]


# -- the points ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Points:
    checkin: int = 0
    study: int = 0
    quiz_right: int = 0
    activity: int = 0

    @property
    def total(self) -> int:
        return sum(getattr(self, f.name) for f in fields(self))


def points_of(session: Session, rules: PointRules, period: Period, who: Select) -> dict[str, Points]:
    """Points by kind for each member selected by ``who`` (a SELECT of userids) who earned any."""
    earned: dict[str, dict[str, int]] = {}
    for kind, per_day, rule in _per_day_queries(rules, period, who):
        for userid, points in _capped(session, per_day, rule.points, rule.daily_cap):
            earned.setdefault(userid, {})[kind] = int(points)
    return {userid: Points(**kinds) for userid, kinds in earned.items()}


def _per_day_queries(rules: PointRules, period: Period, who: Select):
    """(kind, SELECT userid, day, units, rule): one row per member and day, ``units`` before points."""
    def within(column):
        return column.between(period.first, period.last)

    checkins = (select(CheckIn.userid, CheckIn.day, func.count().label("units"))
                .where(within(CheckIn.day), CheckIn.userid.in_(who)).group_by(CheckIn.userid, CheckIn.day))
    alive = [StudyLog.revoked_at.is_(None), within(StudyLog.day), StudyLog.userid.in_(who)]
    study = (select(StudyLog.userid, StudyLog.day,
                    (func.sum(StudyLog.minutes) // rules.study.per_minutes).label("units"))
             .where(*alive, StudyLog.source != StudySource.ACTIVITY.value)
             .group_by(StudyLog.userid, StudyLog.day))
    # an activity attended twice the same day (two entries for one activity) still counts once
    activity = (select(StudyLog.userid, StudyLog.day, func.count(StudyLog.source_ref.distinct()).label("units"))
                .where(*alive, StudyLog.source == StudySource.ACTIVITY.value)
                .group_by(StudyLog.userid, StudyLog.day))
    # the unique (session, question, member) key already makes each right answer count once
    quiz = (select(QuizAnswer.userid, QuizAnswer.day, func.count().label("units"))
            .where(within(QuizAnswer.day), QuizAnswer.userid.in_(who), QuizAnswer.outcome == Outcome.RIGHT.value)
            .group_by(QuizAnswer.userid, QuizAnswer.day))
    return [("checkin", checkins, rules.checkin), ("study", study, rules.study),
            ("quiz_right", quiz, rules.quiz_right), ("activity", activity, rules.activity)]


def _capped(session: Session, per_day: Select, points: int, cap: int):
    days = per_day.subquery()
    earned = days.c.units * points
    query = (select(days.c.userid, func.sum(case((earned > cap, cap), else_=earned)))
             .group_by(days.c.userid))
    return session.execute(query).all()


# -- rankings --------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Ranked:
    place: int
    userid: str
    name: str
    department: str
    points: int


def rank_members(session: Session, earned: dict[str, Points], who: Select, *, limit: int | None = None) -> list[Ranked]:
    """Members selected by ``who``, most points first; ties share a place (1, 2, 2, 4)."""
    query = (select(Member.userid, Member.name, OrgUnit.name)
             .join(OrgUnit, OrgUnit.id == Member.department_id).where(Member.userid.in_(who)))
    rows = sorted(((earned.get(uid, Points()).total, uid, name, dept) for uid, name, dept in session.execute(query)),
                  key=lambda row: (-row[0], row[1]))
    places = _places([row[0] for row in rows])
    ranked = [Ranked(place, uid, name, dept, total) for place, (total, uid, name, dept) in zip(places, rows)]
    return ranked[:limit] if limit else ranked


@dataclass(frozen=True)
class DepartmentScore:
    place: int
    name: str
    people: int
    total: int

    @property
    def score(self) -> float:
        return self.total / self.people if self.people else 0.0


def rank_departments(session: Session, earned: dict[str, Points]) -> list[DepartmentScore]:
    """Departments by a size-neutral score, highest first.

    The issue defines the score as "the department's own points plus the average of its members'".
    We read "the department's own points" as points credited to the department as an organisation
    (the 组织积分 of a 积分制 scheme), not the sum of its members' points: that sum plus the average
    is (n + 1) × average, which rewards head count and contradicts "size-neutral". Every record that
    earns points today (check-ins, study, answers, attendance) belongs to a person, so a department
    has no points of its own yet and its score is the average over its active members, those with
    no points included. When department-level records appear, add them to ``score`` here.
    """
    query = (select(OrgUnit.name, Member.userid).join(Member, Member.department_id == OrgUnit.id)
             .where(OrgUnit.kind == OrgKind.DEPARTMENT.value, Member.userid.in_(org.active_userids())))
    people: dict[str, list[str]] = {}
    for name, userid in session.execute(query):
        people.setdefault(name, []).append(userid)
    unranked = [DepartmentScore(0, name, len(ids), sum(earned.get(u, Points()).total for u in ids))
                for name, ids in people.items()]
    unranked.sort(key=lambda d: (-d.score, d.name))
    places = _places([round(d.score, 6) for d in unranked])
    return [DepartmentScore(place, d.name, d.people, d.total) for place, d in zip(places, unranked)]


def _places(values: list) -> list[int]:
    """Competition ranking of values already sorted best first: equal values share a place."""
    places = []
    for index, value in enumerate(values):
        places.append(places[-1] if index and value == values[index - 1] else index + 1)
    return places
