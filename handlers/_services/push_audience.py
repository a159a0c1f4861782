"""Who a push goes to: a cohort (人群), a department or team, or everyone (全体), as stored on a Push.

The audience is stored as a label (``全体``, ``人群:青年``, ``部门:工程管理科``) and resolved again
when the fan-out runs, so a push scheduled for next week reaches whoever is in the audience then.
Cohorts follow their own rules (the 退休 cohort is retirees); 全体 is everyone on the roster,
retirees included (they are an audience the unit serves); a department or a team means the members
at work (在职) there. Muting (免打扰) is applied later, by the fan-out, per member.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot import org
from bot.cohorts import CohortRules
from bot.models import Member
from bot.models.core import MemberStatus

EVERYONE_WORDS = ("全体", "全员", "所有人", "全部", "大家")
EVERYONE, COHORT, UNIT = "全体", "人群", "部门"


class AudienceError(ValueError):
    """The words name no cohort, department or team; the message is for the admin, in Chinese."""


@dataclass(frozen=True)
class Audience:
    kind: str            # EVERYONE, COHORT or UNIT
    name: str            # the cohort or unit name ("全体" for everyone)

    @property
    def label(self) -> str:
        """How the audience is stored on a Push and shown to admins."""
        return EVERYONE if self.kind == EVERYONE else f"{self.kind}:{self.name}"

    @property
    def shown(self) -> str:
        return {EVERYONE: "全体人员（含退休职工）", COHORT: f"「{self.name}」人群"}.get(self.kind, f"「{self.name}」")

    @classmethod
    def from_label(cls, label: str) -> "Audience":
        kind, _, name = label.partition(":")
        return cls(EVERYONE, EVERYONE) if kind == EVERYONE else cls(kind, name)


def resolve(session: Session, word: str, *, rules: CohortRules) -> Audience:
    """The audience an admin named: 全体 (全员, 所有人), a cohort, or a department/team name.

    Cohort names win over unit names; ``部门/班组`` picks one team where team names repeat.

    Raises:
        AudienceError: nothing of that name.
    """
    word = word.strip()
    if word in EVERYONE_WORDS:
        return Audience(EVERYONE, EVERYONE)
    name = word.removeprefix("人群:").removeprefix("人群：")
    if name in rules.names:
        return Audience(COHORT, name)
    if org.find_unit_by_name(session, word):
        return Audience(UNIT, word)
    raise AudienceError(f"没有找到人群或部门「{word}」。可选的人群：{'、'.join(rules.names)}；"
                        "也可以写部门或班组名，或「全体」。")


def members_of(session: Session, audience: Audience, *, rules: CohortRules, today: date) -> list[Member]:
    """The members in the audience today, ordered by userid (empty when a unit no longer exists)."""
    query = select(Member).order_by(Member.userid)
    if audience.kind == COHORT:
        if audience.name not in rules.names:
            return []
        query = query.where(rules.clause([audience.name], today=today))
    if audience.kind == UNIT:
        query = query.where(Member.status == MemberStatus.ACTIVE.value)
        units = org.units_within(session, {u.id for u in org.find_unit_by_name(session, audience.name)})
        if not units:
            return []
        query = query.where(or_(Member.department_id.in_(units), Member.team_id.in_(units)))
    return list(session.scalars(query))
