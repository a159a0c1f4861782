"""评价, 👍/👎, 已读 and 内容反馈 through the real encrypted callback path, on pushes created as a push would."""
from __future__ import annotations

import itertools
from datetime import datetime, timedelta
from pathlib import Path

import fakeredis
import pytest
from sqlalchemy import select

from bot import create_app, db
from bot.models import StudyLog
from bot.models.messaging import Delivery
from bot.models.pushes import ItemReceipt, Push, PushFeedback
from bot.models.study import StudySource
from handlers._services import study
from tests.conftest import SHANGHAI, make_settings
from tests.factories import member

PUSHED_AT = datetime(2026, 11, 24, 12, 30, tzinfo=SHANGHAI)
PACK = "id: {id}\nversion: 1\ntitle: 测试推送包\nkind: push\ntopics: [测试]\ndescription: 测试用推送包\n"
ITEM = "- id: {id}\n  title: {title}\n  topics: [测试]\n  mandatory: {mandatory}\n  minutes: {minutes}\n" \
       "  text:\n    body: {title}的正文\n"
ITEMS = {"dam": ("大坝安全巡查", False, 10), "flood": ("防汛值班故事", True, 5), "history": ("水库的历史", False, 8)}
MANY = {f"m{n:02d}": (f"第{n}条很长很长的水利精神学习材料标题", False, 5) for n in range(40)}
MODULES = ["help", "study", "push_feedback"]
_times = itertools.count(1)


def write_push_pack(root: Path, pack_id: str, items: dict[str, tuple[str, bool, int]]) -> None:
    """A push pack folder: ``items`` maps item id → (title, mandatory, minutes)."""
    folder = root / pack_id
    folder.mkdir(parents=True)
    (folder / "pack.yaml").write_text(PACK.format(id=pack_id), "utf-8")
    (folder / "items.yaml").write_text("".join(
        ITEM.format(id=item_id, title=title, mandatory=str(mandatory).lower(), minutes=minutes)
        for item_id, (title, mandatory, minutes) in items.items()), "utf-8")


def build_app(tmp_path, clock, packs: dict[str, dict]):
    root = tmp_path / "packs"
    for pack_id, items in packs.items():
        write_push_pack(root, pack_id, items)
    # only the modules these tests talk to: others' start-up checks expect the shipped packs
    settings = make_settings(tmp_path / "bot", CONTENT_PACKS_DIR=str(root), HANDLER_MODULES=MODULES)
    return create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)


@pytest.fixture
def app(tmp_path, clock):
    app = build_app(tmp_path, clock, {"push_t": ITEMS, "push_many": MANY})
    with app.app_context():
        db.create_all(app)
        yield app


def pushed(userid: str, item_ref: str, *, push_id: int | None = None, receipt: bool = True) -> Push:
    """A push of ``item_ref`` that reached ``userid`` (a later call = a later receipt); reuses ``push_id``."""
    session = db.get_session()
    push = session.get(Push, push_id) if push_id else None
    if push is None:
        push = Push(id=push_id, item_ref=item_ref, pack_version=1, audience="全体", origin="admin", status="sent",
                    scheduled_for=PUSHED_AT, created_by="admin01", created_at=PUSHED_AT)
        session.add(push)
        session.flush()
    if receipt:
        session.add(ItemReceipt(userid=userid, item_ref=item_ref, push_id=push.id, form="text",
                                received_at=PUSHED_AT + timedelta(minutes=next(_times))))
    session.commit()
    return push


def feedback() -> list[tuple[int, str, str, int | None, bool]]:
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(PushFeedback).order_by(PushFeedback.push_id, PushFeedback.userid))
    return [(r.push_id, r.userid, r.item_ref, r.rating, r.read_at is not None) for r in rows]


def push_logs() -> list[tuple[str, int, str, str]]:
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(StudyLog).where(StudyLog.source == StudySource.PUSH.value).order_by(StudyLog.id))
    return [(r.userid, r.minutes, r.source_ref, r.topic) for r in rows]


@pytest.fixture
def zhang(app):
    """张三 received push 1 (大坝安全巡查), then push 2 (水库的历史): push 2 is his latest."""
    row = member(db.get_session(), "u001", name="张三")
    pushed("u001", "push_t/dam", push_id=1)
    pushed("u001", "push_t/history", push_id=2)
    return row


def say(platform, text, user="u001"):
    return platform.say(text, channel="app", chattype="single", user=user).text


RATINGS = [
    ("评价 1 5", 1, 5), ("评价1 5分", 1, 5), ("评价 1号 3分", 1, 3), ("评价 第1号推送 打2分", 1, 2),
    ("评价 1 好评", 1, 5), ("评分 1 4", 1, 4), ("打分 1,4", 1, 4), ("评价 1 五分", 1, 5), ("给1号打4分", 1, 4),
    ("给第1号推送打3分", 1, 3), ("评价 4分", 2, 4), ("给这条推送打2分", 2, 2),
    ("👍", 2, 5), ("好评", 2, 5), ("点赞", 2, 5), ("👍👍", 2, 5), ("👍🏻", 2, 5),
    ("👎", 2, 1), ("差评", 2, 1), ("／评价　１　５", 1, 5), ("@思政助手 👍", 2, 5),
]


@pytest.mark.parametrize("text, push_id, rating", RATINGS)
def test_each_rating_phrasing_stores_the_rating_on_the_right_push(platform, zhang, text, push_id, rating):
    reply = say(platform, text)
    assert f"第 {push_id} 号推送" in reply and f"{rating} 分" in reply, reply
    item = {1: "push_t/dam", 2: "push_t/history"}[push_id]
    assert feedback() == [(push_id, "u001", item, rating, False)]


def test_a_new_rating_replaces_the_old_one(platform, zhang):
    say(platform, "评价 1 2")
    reply = say(platform, "评价 1 5分")
    assert "从 2 分改为 5 分" in reply
    assert feedback() == [(1, "u001", "push_t/dam", 5, False)]


def test_rating_replies_name_the_item_and_suggest_reading(platform, zhang):
    reply = say(platform, "👍")
    assert "《水库的历史》" in reply and "已读" in reply


@pytest.mark.parametrize("text", ["评价 99 5", "给99号打4分", "已读 99", "读完了99号"])
def test_a_push_never_received_is_refused_and_nothing_changes(platform, zhang, text):
    reply = say(platform, text)
    assert "没有找到您收到过的第 99 号推送" in reply
    assert feedback() == [] and push_logs() == []


def test_another_members_push_is_refused(platform, zhang):
    member(db.get_session(), "u002", name="李四")
    pushed("u002", "push_t/flood", push_id=3)
    assert "没有找到您收到过的第 3 号推送" in say(platform, "评价 3 5")
    assert "没有找到您收到过的第 3 号推送" in say(platform, "已读 3")
    assert feedback() == [] and push_logs() == []


@pytest.mark.parametrize("text, expected", [
    ("评价 1 6", "1 到 5 分"), ("评价 1 0分", "1 到 5 分"), ("给1号打9分", "1 到 5 分"),
    ("评价 很好", "用法：评价"), ("评价 5", "用法：评价"), ("评价", "用法：评价"), ("已读 昨天那条", "没看懂推送号"),
])
def test_bad_input_gets_a_clear_answer_and_changes_nothing(platform, zhang, text, expected):
    assert expected in say(platform, text)
    assert feedback() == [] and push_logs() == []


def test_nothing_received_yet(platform, app):
    member(db.get_session(), "u001")
    assert "还没有收到过推送" in say(platform, "👍")
    assert "还没有收到过推送" in say(platform, "已读")
    assert feedback() == []


def test_a_push_known_only_to_the_delivery_ledger_counts_as_received(platform, zhang):
    pushed("u001", "push_t/dam", push_id=5, receipt=False)      # a re-push: the receipt stays with push 1
    session = db.get_session()
    session.add(Delivery(push_id="push-5-0", recipient="user:u001", msgtype="text", status="sent",
                         updated_at=PUSHED_AT))
    session.commit()
    assert "第 5 号推送" in say(platform, "评价 5 4")
    assert feedback() == [(5, "u001", "push_t/dam", 4, False)]


@pytest.mark.parametrize("text, push_id", [
    ("已读", 2), ("看完了", 2), ("读完了", 2), ("听完了", 2), ("看完啦!", 2), ("我看完了", 2), ("已阅", 2),
    ("已读 1", 1), ("已读1号", 1), ("看完了 第1号推送", 1),
])
def test_read_credits_the_items_minutes_as_push_study_time(platform, zhang, text, push_id):
    reply = say(platform, text)
    minutes, title, item = {1: (10, "大坝安全巡查", "push_t/dam"), 2: (8, "水库的历史", "push_t/history")}[push_id]
    assert f"计入学习 {minutes} 分钟" in reply and f"《{title}》" in reply, reply
    assert push_logs() == [("u001", minutes, f"push:{push_id}:u001", title)]
    assert feedback() == [(push_id, "u001", item, None, True)]


def test_read_of_an_item_without_minutes_credits_the_policys_read_minutes(tmp_path, clock):
    from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, unit_without_push_policy
    from tests.platform.actor import WeComPlatform

    app = build_app(tmp_path, clock, {"push_t": ITEMS})
    items = app.config["CONTENT_PACKS_DIR"] + "/push_t/items.yaml"
    with open(items, "a", encoding="utf-8") as file:      # an item that does not say how long it takes
        file.write("- id: notice\n  title: 汛期值班须知\n  topics: [测试]\n  text:\n    body: 值班须知正文\n")
    unit = unit_without_push_policy(tmp_path)
    (unit / "push_policy.yaml").write_text("read_minutes: 12\n", "utf-8")
    settings = dict(app.config, UNIT_DIR=str(unit))
    app = create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)
    with app.app_context():
        db.create_all(app)
        member(db.get_session(), "u001", name="张三")
        pushed("u001", "push_t/notice", push_id=3)
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())
        reply = say(platform, "已读")
    assert "计入学习 12 分钟" in reply, reply
    with app.app_context():
        assert push_logs() == [("u001", 12, "push:3:u001", "汛期值班须知")]


def test_read_asks_for_a_rating_only_when_there_is_none(platform, zhang):
    assert "觉得内容怎么样" in say(platform, "已读 2")
    say(platform, "评价 1 4")
    assert "觉得内容怎么样" not in say(platform, "已读 1")


def test_a_sentence_that_starts_like_read_is_left_to_the_study_log(platform, zhang):
    reply = say(platform, "读完了《水法》，学习了1小时")
    assert "已记录" in reply and "已读" not in reply
    assert push_logs() == [] and feedback() == []


def test_read_twice_credits_once_and_says_so(platform, zhang, clock):
    say(platform, "已读")
    clock.set(clock.at + timedelta(hours=1))
    second = say(platform, "读完了")
    assert "已经标记过已读" in second and "只计一次" in second
    assert push_logs() == [("u001", 8, "push:2:u001", "水库的历史")]
    day = clock.at.date()
    assert study.totals(db.get_session(), ["u001"], day, day)["u001"].vouched_minutes == 8


def test_read_keeps_the_rating_and_rating_keeps_the_read(platform, zhang):
    say(platform, "评价 1 4")
    say(platform, "已读 1")
    assert "看完了可以回复" not in say(platform, "评价 1 5")
    assert feedback() == [(1, "u001", "push_t/dam", 5, True)]


def test_read_is_not_capped_like_self_reports(platform, zhang):
    say(platform, "学习 8小时")                      # far beyond the daily self-report cap
    reply = say(platform, "已读 1")
    assert "计入学习 10 分钟" in reply
    assert push_logs() == [("u001", 10, "push:1:u001", "大坝安全巡查")]


def test_read_of_an_item_no_longer_in_the_packs_credits_nothing(platform, app):
    member(db.get_session(), "u001")
    pushed("u001", "push_t/retired", push_id=7)
    reply = say(platform, "已读")
    assert "已标记第 7 号推送" in reply and "没有可计入的学习时长" in reply
    assert push_logs() == [] and feedback() == [(7, "u001", "push_t/retired", None, True)]


def test_admin_off_the_roster_has_no_pushes(platform, app):
    assert "不在名册中" in say(platform, "已读", user="admin01")
    assert "不在名册中" in say(platform, "👍", user="admin01")


# ---- 内容反馈 -------------------------------------------------------------------------------------------------

@pytest.fixture
def rated(app):
    """Four members and two items; by hand (cohorts by the bundled rules, year 2026):

        member  cohorts            dam: rating read   history: rating read
        y1      青年               5      yes         3      no
        y2      青年               4      no          –      yes
        o1      临退休, 调度管理   1      yes         (not pushed)
        r1      退休               2      no          5      yes
    """
    session = db.get_session()
    member(session, "y1", name="青一", birth_year=1995, post_category="综合管理")
    member(session, "y2", name="青二", birth_year=1996, post_category="综合管理")
    member(session, "o1", name="老一", birth_year=1965, post_category="调度管理")
    member(session, "r1", name="退一", birth_year=1955, status="退休")
    pushed("y1", "push_t/dam", push_id=1)
    for userid in ("y2", "o1", "r1"):
        pushed(userid, "push_t/dam", push_id=1)
    for userid in ("y1", "y2", "r1"):
        pushed(userid, "push_t/history", push_id=2)
    for userid, push_id, rating, read in [("y1", 1, 5, True), ("y2", 1, 4, False), ("o1", 1, 1, True),
                                          ("r1", 1, 2, False), ("y1", 2, 3, False), ("y2", 2, None, True),
                                          ("r1", 2, 5, True)]:
        item = "push_t/dam" if push_id == 1 else "push_t/history"
        session.add(PushFeedback(push_id=push_id, userid=userid, item_ref=item, rating=rating,
                                 read_at=PUSHED_AT if read else None, updated_at=PUSHED_AT))
    session.commit()


def report(platform, words=""):
    return say(platform, f"内容反馈 {words}".strip(), user="admin01")


def test_report_for_everyone_by_hand(platform, rated):
    lines = report(platform).split("\n")
    assert lines[1:3] == [
        # dam: (5+4+1+2)/4 = 3.0; 👍 5,4 → 2/4; 👎 1,2 → 2/4; read y1, o1 of 4
        "1. 《大坝安全巡查》全体：4 人评 均 3.0 分 👍50% 👎50%，已读 2/4（50%）",
        # history: (3+5)/2 = 4.0; 👍 5 → 1/2; 👎 none; read y2, r1 of 3
        "2. 《水库的历史》全体：2 人评 均 4.0 分 👍50% 👎0%，已读 2/3（67%）",
    ]
    assert "内容反馈 人群名" in lines[-1]


def test_report_for_one_cohort_by_hand(platform, rated):
    lines = report(platform, "青年").split("\n")
    assert "人群「青年」" in lines[0]
    assert lines[1:] == [
        "1. 《水库的历史》青年：1 人评 均 3.0 分 👍0% 👎0%，已读 1/2（50%）",
        "2. 《大坝安全巡查》青年：2 人评 均 4.5 分 👍100% 👎0%，已读 1/2（50%）",
    ]


def test_report_for_one_item_across_cohorts_by_hand(platform, rated):
    lines = report(platform, "大坝").split("\n")
    assert "条目「大坝」" in lines[0]
    assert lines[1:] == [
        "1. 《大坝安全巡查》临退休：1 人评 均 1.0 分 👍0% 👎100%，已读 1/1（100%）",
        "2. 《大坝安全巡查》调度管理：1 人评 均 1.0 分 👍0% 👎100%，已读 1/1（100%）",
        "3. 《大坝安全巡查》退休：1 人评 均 2.0 分 👍0% 👎100%，已读 0/1（0%）",
        "4. 《大坝安全巡查》全体：4 人评 均 3.0 分 👍50% 👎50%，已读 2/4（50%）",
        "5. 《大坝安全巡查》青年：2 人评 均 4.5 分 👍100% 👎0%，已读 1/2（50%）",
    ]


def test_report_lists_unrated_items_after_rated_ones(platform, rated):
    pushed("y1", "push_t/flood", push_id=3)
    lines = report(platform).split("\n")
    assert lines[3] == "3. 《防汛值班故事》全体：暂无评分，已读 0/1（0%）"


def test_report_is_for_admins_only(platform, rated):
    reply = say(platform, "内容反馈", user="y1")
    assert "管理员" in reply and "大坝安全巡查" not in reply


def test_report_with_an_unknown_word_lists_the_cohorts(platform, rated):
    reply = report(platform, "不存在的东西")
    assert "没有叫「不存在的东西」的人群或推送条目" in reply and "青年、临退休、退休" in reply


def test_report_without_pushes(platform, app):
    assert "还没有推送记录" in report(platform)


def test_a_long_report_fits_one_message(platform, app):
    member(db.get_session(), "u001")
    for number, item_id in enumerate(MANY, start=1):
        pushed("u001", f"push_many/{item_id}", push_id=number)
    text = report(platform)
    assert len(text.encode("utf-8")) <= 2048
    shown = [line for line in text.split("\n") if line[:1].isdigit()]
    hidden = int(text.split("…另有 ")[1].split(" 条")[0])
    assert len(shown) >= 10 and len(shown) + hidden == len(MANY)
    assert feedback() == []
