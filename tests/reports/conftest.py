"""A small office with a month of figures worked out by hand, and an app that sends through the stand-in.

The clock stands on Wednesday 2026-11-25; November has run 25 days. Two test banks replace the demo
ones (the same as tests/handlers/test_awareness.py): quiz_t_policy p1 [水法] p2 [水法, 防洪法] p3 [防洪法].

    工程管理科  大坝巡查班组  patrol1 巡查一 (leads the team)   patrol2 巡查二
                防汛抢险班组  flood1 抢险一
                (no team)     head1 科长甲 (leads the department)
    水情调度科  水情监测班组  water1 水情一
    后勤保障科  (no team)     admin01 管理员 (BOT_ADMINS), old1 老王 (retired, goal 2 h)

November, by hand:
    study     patrol1 2 h self + 0.5 h quiz; patrol2 8 h quiz; flood1 1.5 h self; water1 3 h quiz;
              October's 5 h of patrol1 does not count
    check-ins patrol1 11-02..11-06 (5 days), patrol2 11-02 and 11-03, water1 11-24 and 11-25;
              patrol1 on 10-30 does not count; flood1 is on leave 11-02 and 11-03, so on those days
              5 of the 6 active members are expected to check in (old1 is retired: never expected)
    quiz      patrol1 p1 right, p2 wrong, p3 right (3 asked, 2 right); head1 p1 right; water1 p2 skipped
    activity  #1 on 11-10: patrol2 attended, flood1 registered (did not come), water1 cancelled;
              #2 on 10-20: patrol1 attended (October, not counted in November)
"""
from __future__ import annotations

import itertools
from datetime import date, datetime, time, timezone

import fakeredis
import pytest

from bot import create_app, db
from bot.models import Activity, ActivityRegistration, CheckIn, Leave, QuizAnswer
from bot.models.quiz import Outcome, QuizMode
from bot.models.study import StudySource
from handlers import ENABLED_BY_DEFAULT
from handlers._services import study
from tests.conftest import SHANGHAI, make_settings
from tests.factories import office_with_leaders
from tests.handlers.test_awareness import write_pack
from tests.platform.messages import DEMO_CHAT
from tests.standin_http import control

MODULES = tuple(dict.fromkeys((*ENABLED_BY_DEFAULT, "reports")))
WORK_GROUP_KEY = "hook-key-reports"
_ids = itertools.count(1)


@pytest.fixture
def app(tmp_path, clock, fake_server, standin_url):
    packs = tmp_path / "packs"
    write_pack(packs, "quiz_t_policy", "测试政策题库", "", {"p1": "水法", "p2": "水法, 防洪法", "p3": "防洪法"})
    control(standin_url, {"webhooks": {DEMO_CHAT: WORK_GROUP_KEY}})
    settings = make_settings(tmp_path / "bot", CONTENT_PACKS_DIR=str(packs), WECOM_API_BASE=standin_url,
                             HANDLER_MODULES=MODULES, WECOM_GROUP_WEBHOOKS={DEMO_CHAT: WORK_GROUP_KEY})
    app = create_app(settings, redis=fakeredis.FakeRedis(server=fake_server), clock=clock)
    with app.app_context():
        db.create_all(app)
        yield app


@pytest.fixture
def office(app, clock):
    session = db.get_session()
    office_with_leaders(session, clock())
    _study(clock)
    _checkins(clock)
    session.add(Leave(userid="flood1", start_day=date(2026, 11, 2), end_day=date(2026, 11, 3), reason="事假",
                      recorded_by="head1", created_at=clock()))
    _answers()
    _activities(clock)
    session.commit()


def _study(clock):
    entries = [("patrol1", 120, StudySource.SELF, date(2026, 11, 3)), ("patrol1", 30, StudySource.QUIZ, date(2026, 11, 4)),
               ("patrol2", 480, StudySource.QUIZ, date(2026, 11, 5)), ("flood1", 90, StudySource.SELF, date(2026, 11, 6)),
               ("water1", 180, StudySource.QUIZ, date(2026, 11, 20)), ("patrol1", 300, StudySource.SELF, date(2026, 10, 9))]
    for userid, minutes, source, day in entries:
        study.record_vouched(db.get_session(), userid=userid, day=day, minutes=minutes, source=source,
                             ref=f"test:{next(_ids)}", topic="", recorded_by="test", now=clock())


def _checkins(clock):
    days = {"patrol1": [date(2026, 11, d) for d in range(2, 7)] + [date(2026, 10, 30)],
            "patrol2": [date(2026, 11, 2), date(2026, 11, 3)], "water1": [date(2026, 11, 24), date(2026, 11, 25)]}
    for userid, dates in days.items():
        for day in dates:
            db.get_session().add(CheckIn(userid=userid, day=day, note="", channel="app", msg_id=f"m{next(_ids)}",
                                         created_at=clock()))


def _answers():
    rows = [("patrol1", "p1", Outcome.RIGHT), ("patrol1", "p2", Outcome.WRONG), ("patrol1", "p3", Outcome.RIGHT),
            ("head1", "p1", Outcome.RIGHT), ("water1", "p2", Outcome.SKIPPED)]
    for userid, question, outcome in rows:
        day = date(2026, 11, 12)
        db.get_session().add(QuizAnswer(
            userid=userid, question_ref=f"quiz_t_policy/{question}", pack_version=1, mode=QuizMode.DAILY.value,
            session_ref=f"s{next(_ids)}", outcome=outcome.value, reply="", seconds=3.0, day=day,
            answered_at=datetime.combine(day, time(9, 0), tzinfo=SHANGHAI)))


def _activities(clock):
    session = db.get_session()
    november = _activity(session, clock, datetime(2026, 11, 10, 9, 0, tzinfo=SHANGHAI))
    october = _activity(session, clock, datetime(2026, 10, 20, 9, 0, tzinfo=SHANGHAI))
    signups = [(november, "patrol2", "registered", True), (november, "flood1", "registered", False),
               (november, "water1", "cancelled", False), (october, "patrol1", "registered", True)]
    for activity, userid, status, came in signups:
        session.add(ActivityRegistration(activity_id=activity.id, userid=userid, status=status, queued_at=clock(),
                                         updated_at=clock(), attended_at=activity.starts_at if came else None))


def _activity(session, clock, starts_at: datetime) -> Activity:
    row = Activity(title="防汛实地参观", kind="实地参观", online=False, starts_at=starts_at.astimezone(timezone.utc),
                   place="大坝", audience=["全体"], capacity=None, seats_taken=0, counts_as_practice=True,
                   study_minutes=60, created_by="admin01", created_at=clock())
    session.add(row)
    session.flush()
    return row

