"""Who a push goes to: a cohort (人群), a department or team, or everyone (全体), as stored on a Push.

The audience is stored as a label (``全体``, ``人群:青年``, ``部门:工程管理科``) and resolved again
when the fan-out runs, so a push scheduled for next week reaches whoever is in the audience then.
Cohorts follow their own rules (the 退休 cohort is retirees), and ``其他`` (``bot.cohorts.OTHERS``) is the
members at work who are in none of them; 全体 is everyone on the roster,
retirees included (they are an audience the unit serves); a department or a team means the members
at work (在职) there. Muting (免打扰) is applied later, by the fan-out, per member.

A group (群) audience is a WeCom group chat posted to through its robot webhook (``WECOM_GROUP_WEBHOOKS``):
``群:<chat id or group name>``, or ``群:*`` for every configured group (工作群), resolved to one chat per
distinct webhook key when the fan-out runs. Members' 免打扰 does not apply to group posts: a group post
reaches the group, not a member's private chat, and nobody gets a receipt for it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from bot import org
from bot.cohorts import OTHERS, CohortRules
from bot.models import Member
from bot.models.core import MemberStatus

EVERYONE_WORDS = ("全体", "全员", "所有人", "全部", "大家")
EVERYONE, COHORT, UNIT, GROUP = "全体", "人群", "部门", "群"
ALL_GROUPS = "*"                      # the name of GROUP meaning every configured group
GROUP_WORDS = ("群", "工作群", "本群")   # 群 <chat>, 工作群 (every group), 本群 (the chat the command came from)


class AudienceError(ValueError):
    """The words name no cohort, department or team; the message is for the admin, in Chinese."""


@dataclass(frozen=True)
class Audience:
    kind: str            # EVERYONE, COHORT, UNIT or GROUP
    name: str            # the cohort, unit or chat name ("全体" for everyone, ALL_GROUPS for every group)

    @property
    def label(self) -> str:
        """How the audience is stored on a Push and shown to admins."""
        return EVERYONE if self.kind == EVERYONE else f"{self.kind}:{self.name}"

    @property
    def shown(self) -> str:
        if self.kind == GROUP:
            return "全部工作群" if self.name == ALL_GROUPS else f"「{self.name}」群"
        if self.kind == COHORT and self.name == OTHERS:
            return "不属于任何人群的在职职工"
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
    if rules.knows(name):
        return Audience(COHORT, name)
    if org.find_unit_by_name(session, word):
        return Audience(UNIT, word)
    raise AudienceError(f"没有找到人群或部门「{word}」。可选的人群：{'、'.join(rules.names)}；"
                        "也可以写部门或班组名，或「全体」。")


def resolve_group(words: list[str], *, webhooks: dict[str, str], chat_id: str | None) -> tuple[Audience, int]:
    """A group audience from the command's first words: ``群 <chat>``, ``工作群`` or ``本群``.

    Args:
        webhooks: ``WECOM_GROUP_WEBHOOKS`` (chat id or group name → webhook key).
        chat_id: the group the command was sent in, None one-to-one.

    Returns:
        The audience and how many words it took.

    Raises:
        AudienceError: no group is configured, the group is unknown, or 本群 outside a group.
    """
    if not webhooks:
        raise AudienceError("还没有配置可推送的群：请在 WECOM_GROUP_WEBHOOKS 里配置群名或群 chatid 和群机器人的 key。")
    configured = "、".join(webhooks)
    if words[0] == "工作群":
        return Audience(GROUP, ALL_GROUPS), 1
    if words[0] == "本群":
        if not chat_id:
            raise AudienceError(f"「本群」要在群里发送。也可以写「推送 群 <群名> <条目>」，已配置的群：{configured}。")
        chat, used = chat_id, 1
    else:
        if len(words) < 2:
            raise AudienceError(f"请写明推送到哪个群：推送 群 <群名或chatid> <条目>。已配置的群：{configured}。")
        chat, used = words[1].strip(), 2
    if chat not in webhooks:
        raise AudienceError(f"没有配置群「{chat}」的群机器人，发不了。已配置的群：{configured}。")
    return Audience(GROUP, chat), used


def group_chats(audience: Audience, webhooks: dict[str, str]) -> list[str]:
    """The chats a group audience posts to, one per distinct webhook key (a group configured by both
    its chat id and its name is posted to once); empty when the group is no longer configured."""
    if audience.kind != GROUP:
        return []
    if audience.name != ALL_GROUPS:
        return [audience.name] if webhooks.get(audience.name) else []
    chats: dict[str, str] = {}
    for chat, key in webhooks.items():
        chats.setdefault(key, chat)
    return list(chats.values())


def members_of(session: Session, audience: Audience, *, rules: CohortRules, today: date) -> list[Member]:
    """The members in the audience today, ordered by userid (empty when a unit no longer exists, and
    for a group audience: groups are posted to, see ``group_chats``)."""
    query = _audience_query(session, select(Member), audience, rules=rules, today=today)
    return [] if query is None else list(session.scalars(query))


def userids_of(session: Session, audience: Audience, *, rules: CohortRules, today: date) -> list[str]:
    """``members_of``, only the userids (a push to the whole roster needs no more)."""
    query = _audience_query(session, select(Member.userid), audience, rules=rules, today=today)
    return [] if query is None else list(session.scalars(query))


def includes(session: Session, audience: Audience, userid: str, *, rules: CohortRules, today: date) -> bool:
    """Whether the member ``userid`` is in the audience today (a query for him alone)."""
    query = _audience_query(session, select(Member.userid), audience, rules=rules, today=today)
    return query is not None and session.scalar(query.where(Member.userid == userid).limit(1)) is not None


def _audience_query(session: Session, query: Select, audience: Audience, *, rules: CohortRules, today: date):
    """``query`` narrowed to the audience and ordered by userid; None when nobody can be in it."""
    if audience.kind == GROUP:
        return None
    query = query.order_by(Member.userid)
    if audience.kind == COHORT:
        if not rules.knows(audience.name):
            return None
        query = query.where(rules.clause([audience.name], today=today))
    if audience.kind == UNIT:
        query = query.where(Member.status == MemberStatus.ACTIVE.value)
        units = org.units_within(session, {u.id for u in org.find_unit_by_name(session, audience.name)})
        if not units:
            return None
        query = query.where(or_(Member.department_id.in_(units), Member.team_id.in_(units)))
    return query
