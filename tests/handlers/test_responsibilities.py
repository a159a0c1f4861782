"""责任清单 through the real callback: the list, confirming the target letter, and who has not confirmed."""
from __future__ import annotations

import csv
import shutil
from datetime import datetime

import fakeredis
import pytest
from sqlalchemy import func, select

from bot import create_app, db
from bot.demo import DEMO_DIR, load_demo_unit
from bot.models import TargetLetterConfirmation
from handlers._services import responsibilities as service
from tests.conftest import SHANGHAI, TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform.actor import WeComPlatform

DEMO_FILE = DEMO_DIR / service.FILENAME
OLD_MONITOR_ITEM = "水情数据按时报送、反复核对，做到严谨细致，不漏报、不错报"
NEW_MONITOR_ITEM = "水情数据整点报送、双人核对，做到严谨细致，不漏报、不错报"


@pytest.fixture
def demo(app, clock):
    load_demo_unit(db.get_session(), now=clock())


def ask(platform, text: str, user: str, **kw) -> str:
    return platform.say(text, channel="app", chattype="single", user=user, **kw).text


def confirmations(userid: str | None = None) -> int:
    session = db.get_session()
    query = select(func.count()).select_from(TargetLetterConfirmation)
    if userid:
        query = query.where(TargetLetterConfirmation.userid == userid)
    return session.scalar(query)


# ---- 责任: my own list ----

def test_dam_patroller_sees_his_post_items_and_the_goals_they_serve(platform, demo):
    text = ask(platform, "责任", "zhangwei")
    assert "张伟的责任清单（2026-1 版）" in text
    assert "工程管理科 / 大坝巡查班组 · 大坝巡查岗" in text
    assert "【岗位职责 · 大坝巡查岗】" in text
    assert "1. 在巡检记录中如实写明发现的问题和处理经过，体现责任担当（服务目标：汛期安全零事故）" in text
    assert "（服务目标：每人每月结合业务开展思政学习不少于 8 小时）" in text
    assert "【层级职责】暂无" in text
    assert "2026 年尚未确认" in text and "确认责任书" in text


def test_aliases_show_the_same_list(platform, demo):
    assert ask(platform, "我的责任", "zhangwei") == ask(platform, "责任清单", "zhangwei")


@pytest.mark.parametrize("userid, level, not_level", [
    ("mayonggang", "【层级职责 · 班组负责人】", "部门负责人"),
    ("sunlijun", "【层级职责 · 部门负责人】", "班组负责人"),
    ("wangjianguo", "【层级职责 · 领导班子成员】", "部门负责人"),   # leads 领导班子: still the leadership level
    ("liuxiuying", "【层级职责 · 领导班子成员】", "部门负责人"),    # in 领导班子 without any grant
])
def test_leaders_also_see_the_items_of_their_level(platform, demo, userid, level, not_level):
    text = ask(platform, "责任", userid)
    assert "【岗位职责 · " in text and level in text
    assert not_level not in text


def test_post_without_items_is_told_to_ask_the_admin(platform, app):
    member(db.get_session(), "u900", name="新同事", post="讲解员", team=None)
    assert "岗位「讲解员」还没有配置责任清单" in ask(platform, "责任", "u900")
    assert "暂时无需确认" in ask(platform, "确认责任书", "u900")
    assert confirmations() == 0


# ---- 确认责任书 ----

def test_confirming_twice_records_once_and_says_when(platform, demo):
    first = ask(platform, "确认责任书", "zhangwei")
    assert "已确认 2026 年目标责任书" in first and "共 3 条职责" in first
    second = ask(platform, "确认责任书", "zhangwei")
    assert "已于 2026年11月25日 确认过 2026 年目标责任书，无需重复确认" in second
    assert confirmations("zhangwei") == 1
    assert "目标责任书：已于 2026年11月25日 确认。" in ask(platform, "责任", "zhangwei")


def test_a_new_year_needs_a_new_confirmation(platform, demo, clock):
    ask(platform, "确认责任书", "zhangwei")
    clock.set(datetime(2027, 1, 4, 9, 0, tzinfo=SHANGHAI))
    assert "2027 年尚未确认" in ask(platform, "责任", "zhangwei")
    assert "已确认 2027 年目标责任书" in ask(platform, "确认责任书", "zhangwei")
    assert confirmations("zhangwei") == 2


def test_a_changed_list_needs_a_new_confirmation_but_only_for_those_whose_list_changed(tmp_path, clock):
    unit_dir = tmp_path / "unit"
    unit_dir.mkdir()
    shutil.copy(DEMO_FILE, unit_dir / service.FILENAME)
    settings = make_settings(tmp_path, UNIT_DIR=str(unit_dir), DATABASE_URL=f"sqlite:///{tmp_path / 'szzs.sqlite'}")

    before = create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)
    with before.app_context():
        db.create_all(before)
        load_demo_unit(db.get_session(), now=clock())
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=before.test_client())
        for userid in ("zhangwei", "lina"):
            assert "已确认" in ask(platform, "确认责任书", userid)

    edited = DEMO_FILE.read_text("utf-8").replace(OLD_MONITOR_ITEM, NEW_MONITOR_ITEM)
    assert edited != DEMO_FILE.read_text("utf-8")
    (unit_dir / service.FILENAME).write_text(edited, "utf-8")
    clock.set(datetime(2026, 12, 2, 10, 0, tzinfo=SHANGHAI))

    after = create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)     # a restart after the edit
    with after.app_context():
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=after.test_client())
        text = ask(platform, "责任", "lina", msg_id="after-1")
        assert NEW_MONITOR_ITEM in text
        assert "您在 11月25日 确认过旧版清单，清单已有更新" in text
        assert "已于 2026年11月25日 确认" in ask(platform, "责任", "zhangwei", msg_id="after-2")
        pending = ask(platform, "责任书 未确认", "admin", msg_id="after-3")
        assert "李娜" in pending and "张伟" not in pending
        assert "已确认 2026 年目标责任书" in ask(platform, "确认责任书", "lina", msg_id="after-4")
        assert confirmations("lina") == 2 and confirmations("zhangwei") == 1


# ---- 责任书 未确认: each leader sees his own unit ----

def test_team_leader_sees_only_his_team(platform, demo):
    ask(platform, "确认责任书", "zhangwei")
    text = ask(platform, "责任书 未确认", "mayonggang")
    assert text.startswith("工程管理科 / 大坝巡查班组还有 9 人未确认 2026 年目标责任书")
    assert "【工程管理科 / 大坝巡查班组】高远、郭鹏、" in text and "马永刚" in text and "朱建华" in text
    assert "张伟" not in text                            # confirmed
    for outsider in ("孙立军", "许刚", "李娜"):
        assert outsider not in text


def test_department_head_sees_his_department_and_its_teams(platform, demo):
    text = ask(platform, "责任书 未确认", "sunlijun")
    lines = text.splitlines()
    assert lines[0].startswith("工程管理科还有 ")
    assert "【工程管理科】冯磊、何静、孙立军、吴凯、郑国庆、周文斌" in lines
    assert any(line.startswith("【工程管理科 / 大坝巡查班组】") for line in lines)
    assert any(line.startswith("【工程管理科 / 防汛抢险班组】") for line in lines)
    assert "李娜" not in text and "蒋红梅" not in text
    assert "孔德福" not in text                           # retired: no target letter


def test_admin_sees_everyone_grouped_by_department_and_team(platform, demo):
    text = ask(platform, "责任书", "admin")                # 未确认 is the default view
    assert text.startswith("全单位还有 52 人未确认")
    for heading in ("【领导班子】陈海涛、", "【工程管理科】", "【水情调度科 / 水情监测班组】", "【后勤保障科】"):
        assert heading in text
    assert "杜长青" not in text


def test_everyone_confirmed_says_so(platform, demo):
    team = ("mayonggang", "zhangwei", "zhujianhua", "hudesheng", "guopeng", "linhao", "gaoyuan", "luowei",
            "liangchen", "songbaolin")
    for userid in team:
        ask(platform, "确认责任书", userid)
    assert ask(platform, "责任书 未确认", "mayonggang") == \
        "工程管理科 / 大坝巡查班组在职人员 2026 年的目标责任书已全部确认。"


def test_member_asking_is_politely_refused(platform, demo):
    text = ask(platform, "责任书 未确认", "zhangwei")
    assert "抱歉" in text and "负责人权限" in text
    assert "马永刚" not in text


def test_list_of_names_is_not_shown_in_a_group_chat(platform, demo):
    reply = platform.say("责任书 未确认", channel="robot", chattype="group", user="mayonggang")
    assert "请私聊我" in reply.text


def test_unknown_view_gets_the_usage(platform, demo):
    text = ask(platform, "责任书 已确认", "mayonggang")
    assert "目前只能查看「未确认」名单" in text and "责任书 未确认" in text


# ---- the file ----

def test_shipped_demo_file_covers_every_roster_post_and_serves_known_goals():
    system = service.load_system(DEMO_FILE)
    with (DEMO_DIR / "roster.csv").open(encoding="utf-8") as rows:
        posts = {row["岗位"] for row in csv.DictReader(rows)}
    assert posts and all(system.post_items(post) for post in posts), posts - set(system.posts)
    goal_ids = {goal.id for goal in system.goals}
    assert goal_ids == {"study", "practice", "awareness", "safety"}
    items = [item for post_items in system.posts.values() for item in post_items]
    items += [item for level_items in system.levels.values() for item in level_items]
    assert all(item.goal.id in goal_ids for item in items)
    assert {item.goal.id for item in items} == goal_ids          # every goal is carried down to someone
    assert all(system.levels[level] for level in service.Level)


def test_every_active_demo_member_has_a_list(app, demo):
    session = db.get_session()
    system = service.get_system(app)
    pending = service.unconfirmed_in(session, None, 2026, system=system)
    assert len(pending) == 52 and all(p.has_list for p in pending)


def _broken(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


@pytest.mark.parametrize("edit, expected", [
    (lambda t: _broken(t, 'version: "2026-1"\n', ""), "version：缺少此项"),
    (lambda t: _broken(t, "      serves: safety\n    - text: 结合大坝日常巡检", "      serves: loyalty\n    - text: 结合大坝日常巡检"),
     "posts → 大坝巡查岗 → 第 1 条 → serves：没有 id 为「loyalty」的单位目标"),
    (lambda t: _broken(t, "  - id: practice\n", "  - id: Practice!\n"), "unit_goals → 第 2 条 → id"),
    (lambda t: _broken(t, "\nposts:\n", "\npost:\n"), "post：不认识这一项"),
    (lambda t: _broken(t, "  team:\n    - text: 利用班前会", "  team: []\n  unused:\n    - text: 利用班前会"),
     "levels → team：至少要有 1 条"),
    (lambda t: t + "\n  :\n- [unclosed\n", "不是有效的 YAML"),
    (lambda t: "", "应为一组 键: 值"),
])
def test_malformed_file_fails_naming_the_file_and_the_field(tmp_path, edit, expected):
    path = tmp_path / service.FILENAME
    path.write_text(edit(DEMO_FILE.read_text("utf-8")), "utf-8")
    with pytest.raises(ValueError) as caught:
        service.load_system(path)
    assert str(path) in str(caught.value)
    assert expected in str(caught.value)


def test_a_broken_file_stops_the_start(tmp_path, clock):
    unit_dir = tmp_path / "unit"
    unit_dir.mkdir()
    (unit_dir / service.FILENAME).write_text("version: 1\n", "utf-8")
    with pytest.raises(ValueError, match="unit_goals：缺少此项"):
        create_app(make_settings(tmp_path, UNIT_DIR=str(unit_dir)), redis=fakeredis.FakeRedis(), clock=clock)


def test_a_unit_without_lists_starts_and_members_have_none(tmp_path, clock):
    unit_dir = tmp_path / "unit"
    unit_dir.mkdir()
    app = create_app(make_settings(tmp_path, UNIT_DIR=str(unit_dir)), redis=fakeredis.FakeRedis(), clock=clock)
    with app.app_context():
        db.create_all(app)
        member(db.get_session(), "u001")
        platform = WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())
        assert "还没有制定责任清单" in ask(platform, "责任", "u001")
        assert "还没有制定责任清单" in ask(platform, "确认责任书", "u001")


def test_digest_is_stable_and_follows_the_list():
    first, again = service.load_system(DEMO_FILE), service.load_system(DEMO_FILE)
    patrol = first.post_items("大坝巡查岗")
    assert service.digest(patrol) == service.digest(again.post_items("大坝巡查岗"))
    assert service.digest(patrol) != service.digest(patrol[::-1])
    assert len(service.digest(patrol)) == 64
