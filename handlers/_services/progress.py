"""Progress against the month's goals, for one member or a whole unit (the closed loop's measure)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import org
from bot.cohorts import CohortRules
from bot.models import Member
from handlers._services import study
from handlers._services.goals import GoalSet, Goals, Month, prorated_minutes, quarter_start, workdays


@dataclass(frozen=True)
class Progress:
    member: Member
    goal: GoalSet
    goal_minutes: int          # the month's study goal, pro-rated for leave
    expected_minutes: int      # where the member should be by the day measured, at an even pace
    totals: study.Totals
    activities: int            # practice activities this quarter
    leave_days: int

    @property
    def done_minutes(self) -> int:
        return self.totals.minutes

    @property
    def behind_minutes(self) -> int:
        return max(0, self.expected_minutes - self.done_minutes)

    @property
    def reached(self) -> bool:
        return self.done_minutes >= self.goal_minutes

    @property
    def completion(self) -> float:
        """Share of the goal done, at most 1 (a member with no goal counts as complete)."""
        return 1.0 if self.goal_minutes == 0 else min(1.0, self.done_minutes / self.goal_minutes)


def measure(session: Session, members: list[Member], *, day: date, goals: Goals,
            rules: CohortRules) -> list[Progress]:
    """Progress of each member in the month of ``day``, counting up to and including ``day``."""
    month = Month.of(day)
    ids = [m.userid for m in members]
    done = study.totals(session, ids, month.first, day)
    leaves = study.leave_days(session, ids, month.first, month.last)
    activities = study.activities_attended(session, ids, quarter_start(day), day)
    result = []
    for member in members:
        goal = goals.for_member(post=member.post, cohorts=rules.cohorts_of(member, today=day))
        goal_minutes = prorated_minutes(goal.study_hours_per_month, month, leaves[member.userid])
        present = workdays(month, excluding=leaves[member.userid])
        elapsed = workdays(month, until=day, excluding=leaves[member.userid])
        expected = round(goal_minutes * elapsed / present) if present else goal_minutes
        result.append(Progress(member, goal, goal_minutes, expected, done[member.userid],
                               activities[member.userid], len(leaves[member.userid])))
    return result


def members_under(session: Session, unit_ids: set[int]) -> list[Member]:
    """Everyone in the given org units and below, ordered by department, team and name."""
    scope = org.units_within(session, unit_ids)
    if not scope:
        return []
    query = select(Member).where((Member.department_id.in_(scope)) | (Member.team_id.in_(scope)))
    return sorted(session.scalars(query), key=lambda m: (m.department_id, m.team_id or 0, m.name))


@dataclass(frozen=True)
class GroupSummary:
    name: str
    people: int
    reached: int
    average_minutes: float
    average_completion: float
    self_minutes: int
    vouched_minutes: int


def summarise(name: str, items: list[Progress]) -> GroupSummary:
    people = len(items)
    return GroupSummary(
        name=name, people=people, reached=sum(p.reached for p in items),
        average_minutes=sum(p.done_minutes for p in items) / people if people else 0.0,
        average_completion=sum(p.completion for p in items) / people if people else 0.0,
        self_minutes=sum(p.totals.self_minutes for p in items),
        vouched_minutes=sum(p.totals.vouched_minutes for p in items))


def by_unit(items: list[Progress], *, key) -> dict[str, list[Progress]]:
    """Group progress by ``key(member) -> name``, keeping first-seen order."""
    groups: dict[str, list[Progress]] = {}
    for item in items:
        groups.setdefault(key(item.member), []).append(item)
    return groups
