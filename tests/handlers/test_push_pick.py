"""pick_next: mandatory items first, never a received one, None when done, and ratings steering each cohort."""
from __future__ import annotations

import random
from collections import Counter

import pytest
from sqlalchemy import event

from bot import db
from bot.models.pushes import PushFeedback
from handlers._services.push_pick import pick_next
from tests.factories import member
from tests.handlers.test_push_feedback import PUSHED_AT, build_app, pushed

ITEMS = {"m1": ("必读一", True, 5), "a": ("条目甲", False, 5), "b": ("条目乙", False, 5),
         "m2": ("必读二", True, 5), "c": ("条目丙", False, 5)}
M1, A, B, M2, C = (f"pick_t/{item}" for item in ITEMS)
ALL = [M1, A, B, M2, C]
DRAWS = 600


@pytest.fixture
def app(tmp_path, clock):
    app = build_app(tmp_path, clock, {"pick_t": ITEMS})
    with app.app_context():
        db.create_all(app)
        session = db.get_session()
        for n in range(5):
            member(session, f"y{n}", name=f"青年{n}", birth_year=1995, post_category="综合管理")
            member(session, f"r{n}", name=f"退休{n}", birth_year=1955, status="退休")
        yield app


def rate(item_ref: str, ratings: dict[str, int]) -> None:
    """Members' ratings of a push of ``item_ref``, as 评价 would have stored them."""
    push = None
    for userid, rating in ratings.items():
        push = pushed(userid, item_ref, push_id=push.id if push else None)
        db.get_session().add(PushFeedback(push_id=push.id, userid=userid, item_ref=item_ref, rating=rating,
                                          updated_at=PUSHED_AT))
    db.get_session().commit()


def shares(cohort: str, candidates=(A, B), *, seed: int = 7) -> Counter:
    """How often each candidate is picked in DRAWS seeded picks, as shares."""
    rng = random.Random(seed)
    session = db.get_session()
    picks = Counter(pick_next(session, cohort=cohort, candidates=list(candidates), received=set(), rng=rng)
                    for _ in range(DRAWS))
    return Counter({ref: count / DRAWS for ref, count in picks.items()})


def test_mandatory_items_come_first_in_order_whatever_the_ratings(app):
    rate(A, {f"y{n}": 5 for n in range(5)})
    session, rng = db.get_session(), random.Random(1)
    assert pick_next(session, cohort="青年", candidates=ALL, received=set(), rng=rng) == M1
    assert pick_next(session, cohort="青年", candidates=ALL, received={M1}, rng=rng) == M2
    assert pick_next(session, cohort="青年", candidates=ALL, received={M1, M2}, rng=rng) in {A, B, C}


def test_never_a_received_item(app):
    session = db.get_session()
    picks = {pick_next(session, cohort="青年", candidates=ALL, received={M1, M2, A}, rng=random.Random(seed))
             for seed in range(200)}
    assert picks == {B, C}


def test_none_when_everything_was_received(app):
    session, rng = db.get_session(), random.Random(1)
    assert pick_next(session, cohort="青年", candidates=ALL, received=set(ALL), rng=rng) is None
    assert pick_next(session, cohort="青年", candidates=[], received=set(), rng=rng) is None


def test_an_item_no_pack_knows_is_treated_as_optional(app):
    session = db.get_session()
    picked = pick_next(session, cohort="青年", candidates=["pick_t/gone", M1], received=set(), rng=random.Random(1))
    assert picked == M1


def test_a_seeded_rng_gives_the_same_picks(app):
    rate(A, {"y0": 4, "y1": 2})
    session = db.get_session()

    def run(seed):
        rng = random.Random(seed)
        return [pick_next(session, cohort="青年", candidates=[A, B, C], received=set(), rng=rng) for _ in range(50)]

    assert run(42) == run(42)
    assert len(set(run(42))) == 3          # and it does explore


def test_ratings_change_the_next_pick(app):
    before = shares("青年")
    assert 0.4 < before[A] < 0.6          # unrated: a fair coin between the two
    # y: 5, 4, 3 for A → 2.5 good of 3 → Beta(3.5, 1.5); 2, 3, 1 for B → 0.5 of 3 → Beta(1.5, 3.5)
    rate(A, {"y0": 5, "y1": 4, "y2": 3})
    rate(B, {"y0": 2, "y1": 3, "y2": 1})
    after = shares("青年")
    assert after[A] > 0.75                # clearly preferred …
    assert after[B] > 0.05                # … while the badly rated one still gets an occasional chance


def test_strong_ratings_settle_the_choice(app):
    rate(A, {f"y{n}": 5 for n in range(5)})
    rate(B, {f"y{n}": 1 for n in range(5)})
    assert shares("青年")[A] > 0.95


def test_each_cohort_is_steered_by_its_own_members(app):
    rate(A, {f"y{n}": 5 for n in range(5)} | {f"r{n}": 1 for n in range(5)})
    rate(B, {f"y{n}": 1 for n in range(5)} | {f"r{n}": 5 for n in range(5)})
    assert shares("青年")[A] > 0.95
    assert shares("退休")[B] > 0.95
    # a name that is no cohort pools everyone: here the two camps cancel out
    assert 0.35 < shares("全体")[A] < 0.65


def test_a_run_counts_the_ratings_once_per_transaction_and_sees_new_ones_after(app):
    rate(A, {"y0": 5})
    session = db.get_session()
    tallies = []

    def listen(conn, cursor, statement, *rest):
        if statement.lstrip().upper().startswith("SELECT") and "FROM push_feedback" in statement:
            tallies.append(statement)

    event.listen(db.get_engine(), "before_cursor_execute", listen)
    try:
        for seed in range(100):       # one pick per member, as a scheduled run does
            pick_next(session, cohort="青年", candidates=[A, B], received=set(), rng=random.Random(seed))
        assert len(tallies) == 1
        rate(B, {f"y{n}": 5 for n in range(1, 5)} | {"y0": 1})      # commits: a new transaction counts again
        pick_next(session, cohort="青年", candidates=[A, B], received=set(), rng=random.Random(0))
        assert len(tallies) == 2
    finally:
        event.remove(db.get_engine(), "before_cursor_execute", listen)
