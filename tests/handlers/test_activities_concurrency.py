"""报名 racing for the last seats: a real SQLite file, 12 threads through the callback path, no over-booking."""
from __future__ import annotations

import threading
from datetime import timedelta, timezone

import fakeredis
import pytest
from sqlalchemy import select

from bot import create_app, db
from bot.models.activities import Activity, ActivityRegistration
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform.actor import WeComPlatform

THREADS, CAPACITY = 12, 5


@pytest.fixture
def app(tmp_path, clock):
    app = create_app(make_settings(tmp_path, DATABASE_URL=f"sqlite:///{tmp_path}/bot.sqlite",
                                   HANDLER_MODULES=["activities", "activity_admin"]),
                     redis=fakeredis.FakeRedis(), clock=clock)
    with app.app_context():
        db.create_all(app)
        session = db.get_session()
        for n in range(1, THREADS + 1):
            member(session, f"u{n:03d}", name=f"职工{n}")
        session.add(Activity(title="大坝岁修体验", kind="实践体验", online=False, place="大坝", audience=["全体"],
                             starts_at=(clock() + timedelta(days=2)).astimezone(timezone.utc), capacity=CAPACITY,
                             seats_taken=0, counts_as_practice=True, study_minutes=60, created_by="admin01",
                             created_at=clock()))
        session.commit()
        yield app


def test_concurrent_registrations_never_over_book(app):
    start, replies = threading.Barrier(THREADS), {}

    def register(userid):
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())
        start.wait()
        replies[userid] = platform.say("报名 1", user=userid, channel="app", chattype="single").text

    threads = [threading.Thread(target=register, args=(f"u{n:03d}",)) for n in range(1, THREADS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    session = db.get_session()
    session.expire_all()
    statuses = [row.status for row in session.scalars(select(ActivityRegistration))]
    assert sorted(statuses) == ["registered"] * CAPACITY + ["waiting"] * (THREADS - CAPACITY)
    assert session.get(Activity, 1).seats_taken == CAPACITY
    assert sum("报名成功" in text for text in replies.values()) == CAPACITY
    positions = sorted(int(text.split("排第 ")[1].split(" 位")[0]) for text in replies.values() if "候补" in text)
    assert positions == list(range(1, THREADS - CAPACITY + 1))
