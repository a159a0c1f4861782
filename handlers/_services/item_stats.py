"""Item statistics per question, Moodle style, from each member's first attempt: which questions look broken.

* **Facility index**: the share of first attempts that were right (Moodle's "facility index").
* **Discrimination index**: the Pearson (point-biserial) correlation, over members, between the
  item score (1 right, 0 wrong, missed or skipped) and the rest of the member's score: the share
  right of his *other* first attempts among the questions analysed (the bank asked for, or all).
  This is Moodle's "discrimination index" (item against rest of test). Members answer different
  numbers of questions here, so the rest score is a share rather than a sum; a member with no other
  first attempt says nothing about the item and is left out of the correlation.

A member's first attempt is his earliest QuizAnswer for the question (by time, then id), in any
mode: later attempts are shaped by the explanation he saw, so only the first measures the item.
Everything is one SQL query grouped by question.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import Float, case, cast, func, select
from sqlalchemy.orm import Session

from bot.models import QuizAnswer
from bot.models.quiz import Outcome

MIN_ATTEMPTS = 10     # fewer first attempts than this: "样本不足", no judgement either way


class Verdict(str, Enum):
    TOO_FEW = "too_few"
    ALL_WRONG = "all_wrong"                 # facility 0 with enough attempts: a wrong key or a bad question
    NEGATIVE = "negative_discrimination"    # strong members miss it more often than weak ones
    FINE = "fine"


@dataclass(frozen=True)
class ItemStats:
    ref: str
    attempts: int                       # first attempts
    right: int
    discrimination: float | None        # None: too few members with other attempts, or no variance

    @property
    def facility(self) -> float | None:
        return self.right / self.attempts if self.attempts else None

    def verdict(self, min_attempts: int = MIN_ATTEMPTS) -> Verdict:
        if self.attempts < min_attempts:
            return Verdict.TOO_FEW
        if self.right == 0:
            return Verdict.ALL_WRONG
        if self.discrimination is not None and self.discrimination < 0:
            return Verdict.NEGATIVE
        return Verdict.FINE


def item_stats(session: Session, refs: list[str], *, min_attempts: int = MIN_ATTEMPTS) -> list[ItemStats]:
    """Statistics for each of ``refs`` (in that order), questions never answered included with 0 attempts."""
    if not refs:
        return []
    ranked = select(QuizAnswer.userid, QuizAnswer.question_ref,
                    case((QuizAnswer.outcome == Outcome.RIGHT.value, 1), else_=0).label("score"),
                    func.row_number().over(partition_by=(QuizAnswer.userid, QuizAnswer.question_ref),
                                           order_by=(QuizAnswer.answered_at, QuizAnswer.id)).label("attempt")
                    ).where(QuizAnswer.question_ref.in_(refs)).subquery()
    first = select(ranked.c.userid, ranked.c.question_ref, ranked.c.score).where(ranked.c.attempt == 1).cte("first")
    member = (select(first.c.userid, func.sum(first.c.score).label("right"), func.count().label("answered"))
              .group_by(first.c.userid).cte("member"))
    x = first.c.score
    rest = case((member.c.answered > 1, cast(member.c.right - x, Float) / (member.c.answered - 1)))
    query = (select(first.c.question_ref, func.count(), func.sum(x), func.count(rest),
                    func.sum(case((rest.is_not(None), x), else_=0)), func.sum(rest), func.sum(x * rest),
                    func.sum(rest * rest))
             .join(member, member.c.userid == first.c.userid).group_by(first.c.question_ref))
    found = {}
    for ref, attempts, right, n, sx, sy, sxy, syy in session.execute(query):
        r = _correlation(n, sx or 0, sy or 0.0, sxy or 0.0, syy or 0.0) if n >= min_attempts else None
        found[ref] = ItemStats(ref, attempts, right or 0, r)
    return [found.get(ref, ItemStats(ref, 0, 0, None)) for ref in refs]


def _correlation(n: int, sx: float, sy: float, sxy: float, syy: float) -> float | None:
    """Pearson's r of a 0/1 ``x`` with ``y`` from sums (Σx² = Σx); None when either does not vary."""
    spread_x = n * sx - sx * sx
    spread_y = n * syy - sy * sy
    if spread_x <= 0 or spread_y <= 1e-12:
        return None
    return (n * sxy - sx * sy) / math.sqrt(spread_x * spread_y)
