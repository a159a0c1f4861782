"""The next item for a member of a cohort: mandatory items in order, then Thompson sampling over ratings.

Each optional item gets a Beta(1 + good, 1 + bad) belief about how well it serves the cohort, where
every rating adds its ``push_feedback.success`` (4–5 → 1, 3 → ½, 1–2 → 0) to good and the rest to
bad. One draw per item; the highest draw wins. Well-rated items are therefore picked more often,
badly rated ones less, and unrated ones still get their chance.

Whose ratings count: those of members who are in the cohort today (by the cohort rules), so
青年 and 退休 steer their own feeds, 其他 (members in no cohort) theirs; a name that is no cohort (全体, a
department) pools everyone's.

What the cohort asked for counts too: an item on a topic the cohort's stated needs point to (the
last 需求分析, handlers/_services/cohort_needs.py) starts as if NEED_BONUS members had rated it
well, so it is picked more often while ratings keep steering.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from sqlalchemy.orm import Session

from bot import clock, cohorts
from handlers._services import cohort_needs
from handlers._services.push_feedback import find_item, rating_counts, success

PRIOR = 1.0       # Beta(1, 1): an unrated item is a fair coin
NEED_BONUS = 2.0  # a stated need weighs like two good ratings: unrated, Beta(3, 1) beats Beta(1, 1) 3 times in 4
_MEMO = "push_pick.beliefs"


def pick_next(session: Session, *, cohort: str, candidates: Sequence[str], received: set[str],
              rng: random.Random) -> str | None:
    """The item ref to send next from ``candidates`` (in pack order) that is not in ``received``.

    Mandatory items come first, in candidate order; then one Thompson draw per remaining item.
    Draws are made in candidate order, so a seeded ``rng`` gives the same pick every time.
    Refs no loaded pack knows count as optional.

    Returns:
        an item ref, or None when every candidate was received.
    """
    remaining = [ref for ref in dict.fromkeys(candidates) if ref not in received]
    if not remaining:
        return None
    for ref in remaining:
        item = find_item(ref)
        if item is not None and item.mandatory:
            return ref
    beliefs = _memo(session, ("ratings", cohort), lambda: _count_beliefs(session, cohort))
    wanted = _memo(session, ("needs", cohort),
                   lambda: cohort_needs.content_topics(cohort_needs.wanted(session, cohort)))
    draws = [(rng.betavariate(*_belief(ref, beliefs, wanted)), ref) for ref in remaining]
    return max(draws, key=lambda draw: draw[0])[1]


def _belief(ref: str, beliefs: dict[str, tuple[float, float]], wanted: set[str]) -> tuple[float, float]:
    alpha, beta = beliefs.get(ref, (PRIOR, PRIOR))
    item = find_item(ref) if wanted else None
    if item is not None and wanted.intersection(item.topics):
        alpha += NEED_BONUS
    return alpha, beta


def _memo(session: Session, key: tuple[str, str], compute):
    """``compute()`` once per transaction and key (kept in ``session.info``).

    A scheduled run picks for every member of a cohort inside one transaction, so the ratings and
    needs are read once per transaction and cohort, not once per member.
    """
    session.connection()                       # make sure a transaction has begun, so it can key the memo
    transaction = session.get_transaction()
    memo = session.info.get(_MEMO)
    if memo is None or memo[0] is not transaction:
        memo = session.info[_MEMO] = (transaction, {})
    if key not in memo[1]:
        memo[1][key] = compute()
    return memo[1][key]


def _count_beliefs(session: Session, cohort: str) -> dict[str, tuple[float, float]]:
    """(alpha, beta) per rated item, from the ratings of the cohort's members."""
    rules = cohorts.get_rules()
    who = rules.clause([cohort], today=clock.now().date()) if rules.knows(cohort) else None
    beliefs = {}
    for ref, scores in rating_counts(session, who=who).items():
        good = sum(success(score) * count for score, count in scores.items())
        beliefs[ref] = (PRIOR + good, PRIOR + sum(scores.values()) - good)
    return beliefs
