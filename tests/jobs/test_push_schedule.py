"""Cohort schedules: the tick runs each cohort's push once per due minute, on workdays, with the next item."""
from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select

from bot import db
from bot.models.pushes import ItemReceipt, Push
from jobs import schedule
from jobs.pushes import run_schedule, schedule_entry_name
from tests.conftest import SHANGHAI
from tests.factories import member
from tests.standin_http import app_on_standin, messages

YOUTH = ("u_y1", "u_y2", "u_y3")


@pytest.fixture
def app(tmp_path, fake_server, standin_url, clock):
    with app_on_standin(tmp_path, fake_server, standin_url, clock) as app:
        session = db.get_session()
        for userid in YOUTH:
            member(session, userid, name=userid, birth_year=1999)
        member(session, "u_old", name="老周", birth_year=1975)
        yield app


def received():
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(ItemReceipt).order_by(ItemReceipt.userid, ItemReceipt.received_at))
    found: dict[str, list[str]] = {}
    for row in rows:
        found.setdefault(row.userid, []).append(row.item_ref)
    return found


def tick_at(clock, *args):
    clock.set(datetime(*args, tzinfo=SHANGHAI))
    return schedule.tick()


def test_each_young_member_gets_one_new_item_per_workday_run_and_only_once(app, clock, standin_url):
    job_id = f"cron-{schedule_entry_name('青年')}-202611251230"
    assert job_id in tick_at(clock, 2026, 11, 25, 12, 30)
    first = received()
    assert sorted(first) == list(YOUTH) and all(len(items) == 1 for items in first.values())
    assert {m["recipient"] for m in messages(standin_url)} == set(YOUTH)      # not the 50-year-old
    pushes = db.get_session().scalars(select(Push)).all()
    assert {p.origin for p in pushes} == {"schedule"} and {p.audience for p in pushes} == {"人群:青年"}
    sent = len(messages(standin_url))

    assert tick_at(clock, 2026, 11, 25, 12, 30) == []                        # a second tick: marker
    run_schedule(due="2026-11-25T12:30:00+08:00", cohort="青年")            # a retried run: same picks
    assert received() == first and len(messages(standin_url)) == sent
    assert len(db.get_session().scalars(select(Push)).all()) == len(pushes)

    tick_at(clock, 2026, 11, 26, 12, 30)
    second = received()
    for userid in YOUTH:
        assert len(second[userid]) == 2 and second[userid][0] != second[userid][1]


def test_no_run_on_a_weekend_for_a_workday_schedule(app, clock, standin_url):
    assert any(job.startswith(f"cron-{schedule_entry_name('青年')}") for job in tick_at(clock, 2026, 11, 28, 12, 30))
    assert received() == {} and messages(standin_url) == []


def test_a_member_who_received_everything_gets_nothing_more(app, clock, standin_url):
    from handlers._services.push_policy import get_policy
    import content_packs

    packs = next(s.packs for s in get_policy().schedules if s.cohort == "青年")
    refs = [f"{p}/{i.id}" for p in packs for i in content_packs.get(p).items]
    session = db.get_session()
    push = Push(item_ref=refs[0], pack_version=1, audience="全体", origin="admin", status="sent",
                scheduled_for=clock(), created_by="admin01", created_at=clock(), detail="")
    session.add(push)
    session.flush()
    session.add_all([ItemReceipt(userid="u_y1", item_ref=ref, push_id=push.id, form="text", received_at=clock())
                     for ref in refs])
    session.commit()
    tick_at(clock, 2026, 11, 25, 12, 30)
    assert {m["recipient"] for m in messages(standin_url)} == {"u_y2", "u_y3"}


def test_retirees_get_voice_at_nine_on_monday_wednesday_and_friday(app, clock, standin_url):
    member(db.get_session(), "u_ret", name="周师傅", birth_year=1950, status="退休")
    tick_at(clock, 2026, 11, 26, 9, 0)                                       # a Thursday: not their day
    assert "u_ret" not in received()
    tick_at(clock, 2026, 11, 27, 9, 0)                                       # Friday 9:00
    assert len(received()["u_ret"]) == 1
    assert [m["msgtype"] for m in messages(standin_url, recipient="u_ret")][0] == "voice"


def test_the_cohorts_ratings_steer_what_its_scheduled_run_sends(app, clock, standin_url):
    import content_packs
    from bot.models.pushes import PushFeedback
    from handlers._services.push_policy import get_policy
    from tests.handlers.test_push_feedback import PUSHED_AT, pushed

    packs = [content_packs.get(p) for p in next(s.packs for s in get_policy().schedules if s.cohort == "青年")]
    refs = [(f"{pack.id}/{item.id}", item.mandatory) for pack in packs if pack.is_for(["青年"]) for item in pack.items]
    mandatory = [ref for ref, must in refs if must]
    good, bad = [ref for ref, must in refs if not must][:2]
    session = db.get_session()
    for n in range(10):                                 # young colleagues who rated them: 5 stars and 1 star
        member(session, f"rater{n}", name=f"评{n}", birth_year=1998)
        for ref, stars in ((good, 5), (bad, 1)):
            push = pushed(f"rater{n}", ref)
            session.add(PushFeedback(push_id=push.id, userid=f"rater{n}", item_ref=ref, rating=stars,
                                     updated_at=PUSHED_AT))
    targets = [f"t{n:02d}" for n in range(30)]
    for userid in targets:                              # past the mandatory items: the draw decides
        member(session, userid, name=userid, birth_year=2000)
        for ref in mandatory:
            pushed(userid, ref)
    session.commit()
    before = received()
    tick_at(clock, 2026, 11, 25, 12, 30)
    picks = [next(ref for ref in received()[u] if ref not in before[u]) for u in targets]
    optional = [ref for ref, must in refs if not must]
    assert bad not in picks
    # Beta(11, 1) against a dozen Beta(1, 1) draws wins about half the time; unrated, one time in len(optional)
    assert picks.count(good) == max(picks.count(ref) for ref in set(picks))
    assert picks.count(good) >= 3 * len(targets) / len(optional)


def test_members_in_no_cohort_get_the_others_run_at_eight_in_the_default_form(app, clock, standin_url):
    session = db.get_session()
    member(session, "u_clerk", name="任文书", department="办公室", team=None, post="文书", post_category="综合管理",
           birth_year=1980)
    unknown_age = member(session, "u_new", name="新同事", department="办公室", team=None, post="文书",
                         post_category="综合管理")
    unknown_age.birth_year = None
    session.commit()
    tick_at(clock, 2026, 11, 25, 8, 0)
    assert sorted(received()) == ["u_clerk", "u_new"]         # not the young, not the 工程运维 u_old
    first = received()["u_clerk"][0]
    assert first.startswith(("push_flood_duty_stories/", "push_policy_readings/"))
    assert [m["msgtype"] for m in messages(standin_url, recipient="u_clerk")][0] == "markdown"    # default: text
