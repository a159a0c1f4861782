"""竞赛 under load: 200 members answer one question within 3 seconds from 8 threads, through the real encrypted
callback path against a real Valkey; everyone is scored exactly once and the leaderboard is exact."""
from __future__ import annotations

import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from bot import create_app, db, redis_store
from bot.models.quiz import QuizAnswer
from handlers._services import contest as service
from jobs.contest import close_question
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, FixedClock, make_settings
from tests.factories import member
from tests.platform.actor import WeComPlatform
from tests.standin_http import HOOK_KEY, messages

CHAT = "wrkDemoGroup01"
MEMBERS, LATE_MEMBERS, THREADS = 200, 20, 8
DEPARTMENTS = ("工程管理科", "办公室", "防汛调度科", "水政监察大队")


class PerThreadClock(FixedClock):
    """One shared base time; each sending thread adds its own offset (the moment its member answers)."""

    def __init__(self, at):
        super().__init__(at)
        self.local = threading.local()

    def __call__(self):
        return self.at + getattr(self.local, "offset", timedelta(0))


@pytest.fixture
def app(tmp_path, standin_url, valkey, clock):
    # a SQLite file, not the shared in-memory connection: the sending threads use their own connections
    settings = make_settings(tmp_path / "bot", DATABASE_URL=f"sqlite:///{tmp_path}/load.sqlite",
                             WECOM_API_BASE=standin_url, WECOM_GROUP_WEBHOOKS={CHAT: HOOK_KEY})
    app = create_app(settings, redis=valkey, clock=PerThreadClock(clock.at))
    with app.app_context():
        db.create_all(app)
        yield app


def expected_points(correct: bool, offset_ms: int) -> int:
    """The documented rule, written out independently: 100 at the start, 50 at the 30 s deadline."""
    return round(100 - 50 * offset_ms / 30_000) if correct else 0


def test_200_members_answering_at_once_are_each_scored_exactly_once(app, standin_url):
    session = db.get_session()
    for i in range(MEMBERS + LATE_MEMBERS):
        member(session, f"m{i:03d}", name=f"成员{i:03d}", department=DEPARTMENTS[i % 4], team=None)
    chat_clock = app.extensions["szzs.clock"]
    platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID, client=app.test_client())
    platform.say("竞赛 大坝安全 1 30", user="admin01", chat=CHAT)
    contest = service.find(redis_store.get_redis(), CHAT)
    question = contest.question().question
    right, wrong = _right_and_wrong(question)

    # (userid, text, offset ms): every member once within 3 s, a third of them wrong; every fourth member
    # sends the same answer twice at once; 20 more members answer just after the deadline
    sends = [(f"m{i:03d}", wrong if i % 3 == 0 else right, i * 15) for i in range(MEMBERS)]
    sends += [(f"m{i:03d}", wrong if i % 3 == 0 else right, i * 15) for i in range(0, MEMBERS, 4)]
    sends += [(f"m{i:03d}", right, 30_001 + i) for i in range(MEMBERS, MEMBERS + LATE_MEMBERS)]
    random.Random(4).shuffle(sends)

    local = threading.local()
    threads_used = set()

    def answer(send):
        userid, text, offset = send
        if not hasattr(local, "platform"):
            local.platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                           client=app.test_client())
        threads_used.add(threading.get_ident())
        chat_clock.local.offset = timedelta(milliseconds=offset)
        return userid, local.platform.say(text, user=userid, chat=CHAT).text

    with ThreadPoolExecutor(THREADS) as pool:
        replies = list(pool.map(answer, sends))

    assert len(threads_used) == THREADS
    by_member: dict[str, list[str]] = {}
    for userid, text in replies:
        by_member.setdefault(userid, []).append(text)
    for i in range(MEMBERS):
        texts = by_member[f"m{i:03d}"]
        assert sum("已收到你对第 1 题的回答" in t for t in texts) == 1, texts
        assert sum("已经记下了" in t for t in texts) == len(texts) - 1, texts
    for i in range(MEMBERS, MEMBERS + LATE_MEMBERS):
        assert "第 1 题已经截止" in by_member[f"m{i:03d}"][0]

    expected = {f"m{i:03d}": expected_points(i % 3 != 0, i * 15) for i in range(MEMBERS)}
    raw = redis_store.get_redis().zrange(f"szzs:contest-scores:{contest.id}", 0, -1, withscores=True)
    assert {u.decode(): int(s) for u, s in raw} == expected

    chat_clock.local.offset = timedelta(0)
    chat_clock.set(contest.deadline(chat_clock.at.tzinfo))
    assert close_question(chat_id=CHAT, contest_id=contest.id, index=0) == service.Closing.DONE
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(QuizAnswer)) == MEMBERS
    board = messages(standin_url, via="webhook")[-1]["body"]["text"]["content"]
    _assert_leaderboard(board, expected)


def _assert_leaderboard(board: str, expected: dict[str, int]) -> None:
    top = sorted(expected.items(), key=lambda item: (-item[1], item[0]))[:10]
    for rank, (userid, points) in enumerate(top, start=1):
        i = int(userid[1:])
        assert f"{rank}. 成员{i:03d}（{DEPARTMENTS[i % 4]}）{points} 分" in board, board
    assert f"共 {MEMBERS} 人参赛" in board and "11." not in board
    for d, department in enumerate(DEPARTMENTS):
        points = [p for userid, p in expected.items() if int(userid[1:]) % 4 == d]
        assert f"· {department} {round(sum(points) / len(points), 1):g} 分（{len(points)} 人）" in board, board
    assert "本题 200 人作答" in board


def _right_and_wrong(question):
    if question.type == "truefalse":
        return ("对", "错") if question.answer else ("错", "对")
    if question.type == "fill":
        return question.answer[0], "混凝土"
    return question.answer_label, next(letter for letter in question.options if not question.is_correct(letter))


def test_admins_starting_at_once_get_one_contest(app):
    def start(_):
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())
        return platform.say("竞赛 大坝安全 3", user="admin01", chat=CHAT).text

    with ThreadPoolExecutor(THREADS) as pool:
        replies = list(pool.map(start, range(THREADS)))
    assert sum("答题竞赛开始" in reply for reply in replies) == 1
    assert sum("已经有一场竞赛在进行" in reply or "刚刚有一场竞赛开始了" in reply for reply in replies) == THREADS - 1
