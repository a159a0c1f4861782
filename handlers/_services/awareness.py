"""Awareness (知晓率): per topic, the share of members who answered its questions right, and who are still wrong.

The paper's goal is 100 % awareness. For a topic and a group of members (active members of an
org unit) over a period (this year by default):

* **knowing** – members who answered at least one of the topic's questions right in the period;
* **still wrong** – members whose latest answer in the period to some question of the topic is
  wrong, missed or skipped (what the review schedule still owes them).

Both are shares of every active member in scope, whether or not they ever answered, so the 100 %
goal means everyone. Each figure for all topics at once is one SQL query with one
``COUNT(DISTINCT CASE …)`` column per topic; the unit's size never adds queries.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask
from sqlalchemy import Select, case, func, select
from sqlalchemy.orm import Session

from bot import cohorts
from bot.models import Member, QuizAnswer
from bot.models.quiz import Outcome
from content_packs.answers import fold
from handlers._services import question_bank
from handlers._services.dates import Period
from handlers._services.question_bank import BankQuestion


@dataclass(frozen=True)
class Topic:
    name: str
    refs: tuple[str, ...]      # the question refs it covers
    audience: tuple[str, ...] = ()   # cohorts its banks are meant for; () = everyone


@dataclass(frozen=True)
class Rate:
    topic: str
    people: int                # active members in scope
    knowing: int
    still_wrong: int

    @property
    def share(self) -> float:
        return self.knowing / self.people if self.people else 0.0

    @property
    def wrong_share(self) -> float:
        return self.still_wrong / self.people if self.people else 0.0


def topics_of(questions: list[BankQuestion]) -> list[Topic]:
    """One Topic per question topic, in first-seen order."""
    found: dict[str, list[BankQuestion]] = {}
    for bq in questions:
        for topic in bq.topics:
            found.setdefault(topic, []).append(bq)
    return [Topic(name, tuple(bq.ref for bq in asked), _audience(asked)) for name, asked in found.items()]


def _audience(questions: list[BankQuestion]) -> tuple[str, ...]:
    """Who a topic is meant for: everyone as soon as one of its banks is for everyone."""
    if any(not bq.pack.audience for bq in questions):
        return ()
    return tuple(dict.fromkeys(name for bq in questions for name in bq.pack.audience))


def all_topics(app: Flask | None = None) -> list[Topic]:
    return topics_of(question_bank.all_questions(app))


def topic_named(name: str, app: Flask | None = None) -> Topic | None:
    """A question topic (水法) or a bank by title or part of it (大坝安全); None when nothing matches."""
    found = question_bank.matching(name, app)
    if not found:
        return None
    wanted = fold(name).casefold().strip()
    exact = next((t for t in found[0].topics if fold(t).casefold() == wanted), None)
    label = exact or "、".join(dict.fromkeys(bq.pack.title for bq in found))
    return Topic(label, tuple(bq.ref for bq in found), _audience(found))


def rates(session: Session, topics: list[Topic], who: Select, period: Period) -> list[Rate]:
    """The awareness of each topic among the members ``who`` selects (a SELECT of userids), in topic order.

    A topic whose banks are meant for some cohorts only (大坝安全 for 工程运维) counts only the members
    of ``who`` in those cohorts, so 100 % stays reachable; one pair of queries per distinct audience.
    """
    found: dict[int, Rate] = {}
    for audience in dict.fromkeys(t.audience for t in topics):
        indexes = [i for i, t in enumerate(topics) if t.audience == audience]
        group = [topics[i] for i in indexes]
        found.update(zip(indexes, _rates(session, group, meant_for(who, audience, period), period)))
    return [found[i] for i in range(len(topics))]


def meant_for(who: Select, audience: tuple[str, ...], period: Period) -> Select:
    """``who`` narrowed to the members of ``audience`` (cohort names; () = everyone) in the period's year."""
    if not audience:
        return who
    return select(Member.userid).where(Member.userid.in_(who), cohorts.get_rules().clause(audience, today=period.last))


def _rates(session: Session, topics: list[Topic], who: Select, period: Period) -> list[Rate]:
    people = session.scalar(select(func.count()).select_from(who.subquery()))
    in_period = [QuizAnswer.day.between(period.first, period.last), QuizAnswer.userid.in_(who)]
    knowing = session.execute(
        select(*_per_topic(topics, QuizAnswer.question_ref, QuizAnswer.userid))
        .where(*in_period, QuizAnswer.outcome == Outcome.RIGHT.value)).one()
    latest = (select(QuizAnswer.userid, QuizAnswer.question_ref, QuizAnswer.outcome,
                     func.row_number().over(partition_by=(QuizAnswer.userid, QuizAnswer.question_ref),
                                            order_by=(QuizAnswer.answered_at.desc(), QuizAnswer.id.desc()))
                     .label("newest"))
              .where(*in_period).subquery())
    wrong = session.execute(
        select(*_per_topic(topics, latest.c.question_ref, latest.c.userid))
        .where(latest.c.newest == 1, latest.c.outcome != Outcome.RIGHT.value)).one()
    return [Rate(t.name, people, knowing[i] or 0, wrong[i] or 0) for i, t in enumerate(topics)]


def _per_topic(topics: list[Topic], ref_column, userid_column) -> list:
    return [func.count(case((ref_column.in_(t.refs), userid_column)).distinct()) for t in topics]


def overall(found: list[Rate]) -> float | None:
    """The mean of the topics' shares: the share of (member, topic) pairs known; None without topics."""
    return sum(r.share for r in found) / len(found) if found else None


def not_knowing(session: Session, topic: Topic, who: Select, period: Period, *, limit: int) -> list[str]:
    """Names of members in ``who`` who have not answered the topic right in the period, by name."""
    knowing = select(QuizAnswer.userid).where(
        QuizAnswer.day.between(period.first, period.last), QuizAnswer.question_ref.in_(topic.refs),
        QuizAnswer.outcome == Outcome.RIGHT.value)
    who = meant_for(who, topic.audience, period)
    query = (select(Member.name).where(Member.userid.in_(who), Member.userid.not_in(knowing))
             .order_by(Member.name).limit(limit))
    return list(session.scalars(query))


@dataclass(frozen=True)
class MemberAwareness:
    """One member's topics: how many he answered right, how many he is still wrong on, of how many."""

    topics: int
    known: int
    still_wrong: int

    @property
    def started(self) -> bool:
        return bool(self.known or self.still_wrong)

    @property
    def share(self) -> float:
        return self.known / self.topics if self.topics else 0.0


def of_member(session: Session, who: Select, topics: list[Topic], period: Period) -> MemberAwareness:
    """``rates`` for a group of one (``who`` selects him): each topic is 0 or 1 of 1."""
    found = rates(session, topics, who, period)
    return MemberAwareness(len(found), sum(r.knowing for r in found), sum(r.still_wrong for r in found))
