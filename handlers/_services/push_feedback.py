"""Feedback on pushes: ratings (评价, 👍/👎), 已读 with its study credit, and rating tallies for reports and picks.

A member may rate or mark read only a push he received: an ``ItemReceipt`` names the push, or the
delivery ledger shows it sent to him one-to-one (a re-push of an item he already had keeps the
receipt of the first push). One ``PushFeedback`` row per (push, member) holds both the rating and
``read_at``. How ratings read as good or bad lives here only, so the report and the picker agree.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask
from sqlalchemy import ColumnElement, distinct, func, select, true
from sqlalchemy.orm import Session

import content_packs
from bot import cohorts
from bot.models import Member
from bot.models.messaging import Delivery, DeliveryStatus
from bot.models.pushes import ItemReceipt, Push, PushFeedback
from bot.models.study import StudySource
from bot.sqlutil import insert_ignoring_duplicates
from handlers._services import study
from handlers._services.push_policy import get_policy

THUMBS_UP, THUMBS_DOWN = 5, 1
GOOD_FROM, BAD_UP_TO = 4, 2          # 4–5 count as 👍, 1–2 as 👎, 3 as neither

_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}
_SCORE = r"(?P<score>\d+|[一二两三四五])\s*(?:分|星)?"
_PUSH = r"(?:第\s*)?#?(?P<push>\d+)"
# "12 5", "12 5分", "12号 5分", "第12号推送 打4分", "12号好评"; the separator keeps "125" from meaning 12 → 5
_WITH_PUSH = re.compile(rf"^{_PUSH}(?:\s*(?:号|期)\s*(?:推送)?\s*[,:]?\s*|\s*[,:]\s*|\s+)(?:打|评|给)?\s*{_SCORE}$")
_WORD_WITH_PUSH = re.compile(rf"^{_PUSH}\s*(?:号|期)?\s*(?:推送)?\s*[,:]?\s*(?P<word>好评|差评|👍|👎)$")
_LATEST = re.compile(rf"^(?:这条|这个|刚才的?|最新的?)?\s*(?:推送)?\s*(?:打|评|给)?\s*{_SCORE}$")
# free sentences: "给12号打4分", "给第12号推送打5分", "给这条推送打5分"
_SENTENCE = re.compile(rf"^给\s*(?:{_PUSH}\s*(?:号|期)|这条|这个|刚才的?|最新的?)\s*(?:推送)?\s*(?:打|评)\s*{_SCORE}$")
_PUSH_ONLY = re.compile(rf"^{_PUSH}\s*(?:号|期)?\s*(?:推送)?$")
_WORDS = {"好评": THUMBS_UP, "👍": THUMBS_UP, "差评": THUMBS_DOWN, "👎": THUMBS_DOWN}


class RatingOutOfRange(ValueError):
    """The member wrote a score, but not one from 1 to 5."""


@dataclass(frozen=True)
class RatingInput:
    push_id: int | None       # None: the member's latest push
    rating: int


@dataclass(frozen=True)
class Rated:
    push: Push
    rating: int
    previous: int | None      # the rating it replaced, if any
    read: bool                # already marked read (so no need to suggest 已读)


@dataclass(frozen=True)
class Read:
    push: Push
    already: bool             # marked read before: nothing changed
    minutes: int              # study minutes credited now (0 when already read or the item is gone)
    rated: bool               # the member has rated this push already


def success(rating: int) -> float:
    """A rating as the chance the item served its reader: 4–5 → 1, 1–2 → 0, 3 → ½."""
    if rating >= GOOD_FROM:
        return 1.0
    return 0.0 if rating <= BAD_UP_TO else 0.5


def parse_rating(text: str) -> RatingInput | None:
    """What follows 评价: "12 5", "12号 5分", "12 好评", "5分" (latest), "👍"; None when unreadable.

    Raises:
        RatingOutOfRange: a score is written but is not 1–5 ("评价 12 6").
    """
    text = text.strip()
    if text in _WORDS:
        return RatingInput(None, _WORDS[text])
    found = _WORD_WITH_PUSH.match(text)
    if found:
        return RatingInput(int(found["push"]), _WORDS[found["word"]])
    found = _WITH_PUSH.match(text)
    if found:
        return RatingInput(int(found["push"]), _score(found["score"]))
    found = _LATEST.match(text)
    # a bare number could be a push id without its score: only "5分" or "打5分" means the latest
    if found and re.search(r"分|星|打|评|给", text):
        return RatingInput(None, _score(found["score"]))
    return None


def parse_rating_sentence(text: str) -> RatingInput | None:
    """A free sentence like "给12号打4分" or "给这条推送打5分"; None when it is no such sentence.

    Raises:
        RatingOutOfRange: the sentence gives a score that is not 1–5.
    """
    found = _SENTENCE.match(text.strip())
    if not found:
        return None
    push = found["push"]
    return RatingInput(int(push) if push else None, _score(found["score"]))


def parse_push_id(text: str) -> int | None:
    """"12", "12号", "第12号推送", "#12" → 12; None when the text is no push number."""
    found = _PUSH_ONLY.match(text.strip())
    return int(found["push"]) if found else None


def latest_push(session: Session, userid: str) -> Push | None:
    """The push of the member's most recent receipt, or None when he has received nothing."""
    query = (select(Push).join(ItemReceipt, ItemReceipt.push_id == Push.id).where(ItemReceipt.userid == userid)
             .order_by(ItemReceipt.received_at.desc(), ItemReceipt.push_id.desc()).limit(1))
    return session.scalar(query)


def find_received_push(session: Session, userid: str, push_id: int) -> Push | None:
    """The push if the member received it, else None (unknown pushes and other people's alike)."""
    push = session.get(Push, push_id)
    if push is None:
        return None
    receipt = select(ItemReceipt.push_id).where(ItemReceipt.userid == userid, ItemReceipt.push_id == push_id)
    if session.scalar(receipt.limit(1)) is not None:
        return push
    sent = select(Delivery.id).where(Delivery.push_id.like(push.ledger_pattern), Delivery.recipient == f"user:{userid}",
                                     Delivery.status == DeliveryStatus.SENT.value)
    return push if session.scalar(sent.limit(1)) is not None else None


def rate(session: Session, push: Push, *, userid: str, rating: int, now: datetime) -> Rated:
    """Store the member's rating of a push he received; a new rating replaces his old one."""
    row = _feedback_row(session, push, userid, now)
    previous = row.rating
    row.rating, row.updated_at = rating, now
    return Rated(push, rating, previous, row.read_at is not None)


def mark_read(session: Session, push: Push, *, userid: str, now: datetime, app: Flask | None = None) -> Read:
    """Mark a received push read once, crediting the item's ``minutes`` (else the policy's ``read_minutes``)
    as vouched study time.

    The study log's source_ref is ``push:<push id>:<userid>``, so the time counts once even if two
    已读 race each other.
    """
    row = _feedback_row(session, push, userid, now)
    rated = row.rating is not None
    if row.read_at is not None:
        return Read(push, already=True, minutes=0, rated=rated)
    row.read_at, row.updated_at = now, now
    item = find_item(push.item_ref, app)
    if item is None:           # the pack was edited since and the item dropped: nothing to measure
        return Read(push, already=False, minutes=0, rated=rated)
    minutes = item.minutes or get_policy(app).read_minutes
    credited = study.record_vouched(session, userid=userid, day=now.date(), minutes=minutes,
                                    source=StudySource.PUSH, ref=f"push:{push.id}:{userid}", topic=item.title,
                                    recorded_by=userid, now=now)
    return Read(push, already=not credited, minutes=minutes if credited else 0, rated=rated)


def find_item(item_ref: str, app: Flask | None = None) -> content_packs.schema.PushItem | None:
    """The loaded push item named ``<pack id>/<item id>``, or None when no loaded pack has it."""
    pack_id, _, item_id = item_ref.partition("/")
    pack = content_packs.get_packs(app).get(pack_id)
    if pack is None:
        return None
    try:
        return pack.item(item_id)
    except KeyError:
        return None


def item_title(item_ref: str, app: Flask | None = None) -> str:
    """The item's title for messages; its ref when the item is no longer loaded."""
    item = find_item(item_ref, app)
    return item.title if item is not None else item_ref


def rating_counts(session: Session, *, who: ColumnElement[bool] | None = None,
                  item_refs: list[str] | None = None) -> dict[str, Counter]:
    """How often each score was given, per item: ``{item_ref: Counter({5: 3, 1: 1})}``.

    Args:
        session: the SQL session.
        who: a condition on ``Member`` limiting whose ratings count (e.g. a cohort's clause); None = everyone's.
        item_refs: only these items when given.
    """
    query = (select(PushFeedback.item_ref, PushFeedback.rating, func.count())
             .join(Member, Member.userid == PushFeedback.userid)
             .where(PushFeedback.rating.is_not(None), true() if who is None else who)
             .group_by(PushFeedback.item_ref, PushFeedback.rating))
    if item_refs is not None:
        query = query.where(PushFeedback.item_ref.in_(item_refs))
    counts: dict[str, Counter] = {}
    for item_ref, rating, count in session.execute(query):
        counts.setdefault(item_ref, Counter())[rating] += count
    return counts


def receipt_and_read_counts(session: Session, *, who: ColumnElement[bool] | None = None,
                            item_refs: list[str] | None = None) -> dict[str, tuple[int, int]]:
    """Per item: (members who received it, members who marked it read), among ``who``."""
    where = true() if who is None else who
    received = (select(ItemReceipt.item_ref, func.count()).join(Member, Member.userid == ItemReceipt.userid)
                .where(where).group_by(ItemReceipt.item_ref))
    read = (select(PushFeedback.item_ref, func.count(distinct(PushFeedback.userid)))
            .join(Member, Member.userid == PushFeedback.userid)
            .where(PushFeedback.read_at.is_not(None), where).group_by(PushFeedback.item_ref))
    if item_refs is not None:
        received = received.where(ItemReceipt.item_ref.in_(item_refs))
        read = read.where(PushFeedback.item_ref.in_(item_refs))
    reads = dict(session.execute(read).all())
    found = {ref: (count, reads.pop(ref, 0)) for ref, count in session.execute(received)}
    found.update({ref: (0, count) for ref, count in reads.items()})   # read without a receipt: a ledger-only push
    return found


EVERYONE = "全体"     # the report's bucket for all members, in a cohort or not


@dataclass(frozen=True)
class FeedbackRow:
    """One line of 内容反馈: an item's ratings and reads among one cohort (or everyone)."""

    item_ref: str
    cohort: str
    scores: Counter           # score → how many times given
    receipts: int             # members who received the item
    reads: int                # members who marked it read

    @property
    def ratings(self) -> int:
        return sum(self.scores.values())

    @property
    def average(self) -> float | None:
        return sum(s * n for s, n in self.scores.items()) / self.ratings if self.ratings else None

    @property
    def good_share(self) -> float:
        return sum(n for s, n in self.scores.items() if s >= GOOD_FROM) / self.ratings if self.ratings else 0.0

    @property
    def bad_share(self) -> float:
        return sum(n for s, n in self.scores.items() if s <= BAD_UP_TO) / self.ratings if self.ratings else 0.0

    @property
    def read_rate(self) -> float | None:
        return min(self.reads / self.receipts, 1.0) if self.receipts else None


def feedback_rows(session: Session, rules: cohorts.CohortRules, *, today: date, groups: list[str],
                  item_refs: list[str] | None = None) -> list[FeedbackRow]:
    """Ratings and read rates per item for each of ``groups`` (cohort names or ``EVERYONE``), lowest first.

    Cohort membership is decided by today's rules, so a member who has since turned 36 counts
    with 青年 no more. Items rated by nobody come last, the least read first.
    """
    rows = []
    for name in groups:
        who = None if name == EVERYONE else rules.clause([name], today=today)
        scores = rating_counts(session, who=who, item_refs=item_refs)
        seen = receipt_and_read_counts(session, who=who, item_refs=item_refs)
        for ref in sorted(set(scores) | set(seen)):
            receipts, reads = seen.get(ref, (0, 0))
            rows.append(FeedbackRow(ref, name, scores.get(ref, Counter()), receipts, reads))
    return sorted(rows, key=lambda row: (row.average is None, row.average or 0.0,
                                         1.0 if row.read_rate is None else row.read_rate))


def items_named(word: str, app: Flask | None = None) -> list[str]:
    """Refs of the loaded push items a word names: a ref, an item id, a title, or part of a title."""
    items = [(f"{pack.id}/{item.id}", item) for pack in content_packs.get_packs(app).values() for item in pack.items]
    for matches in ((lambda ref, item: word == ref), (lambda ref, item: word in (item.id, item.title)),
                    (lambda ref, item: word in item.title)):
        found = [ref for ref, item in items if matches(ref, item)]
        if found:
            return found
    return []


def _feedback_row(session: Session, push: Push, userid: str, now: datetime) -> PushFeedback:
    # insert-or-nothing first, so two messages at once cannot both create the row
    insert_ignoring_duplicates(session, PushFeedback, dict(push_id=push.id, userid=userid, item_ref=push.item_ref,
                                                           rating=None, read_at=None, updated_at=now))
    query = select(PushFeedback).where(PushFeedback.push_id == push.id, PushFeedback.userid == userid)
    return session.scalars(query.execution_options(populate_existing=True)).one()


def _score(raw: str) -> int:
    value = _DIGITS[raw] if raw in _DIGITS else int(raw)
    if not 1 <= value <= 5:
        raise RatingOutOfRange(raw)
    return value
