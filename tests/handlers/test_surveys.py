"""问卷 and 问卷结果 through the real encrypted callback path, on survey packs written for each test.

The helpers at the top (write_survey, running, say, stored) are shared by the other test_survey* modules.
"""
from __future__ import annotations

import contextlib
from pathlib import Path

import fakeredis
import pytest
import yaml
from sqlalchemy import select

from bot import create_app, db, redis_store
from bot.models.surveys import SurveyAnswer, SurveyResponse
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform.actor import WeComPlatform

QUESTIONS = [
    {"id": "form", "type": "single", "text": "您最喜欢哪种学习形式？",
     "options": {"A": "图文推送", "B": "短视频", "C": "现场讲解"}},
    {"id": "topics", "type": "multiple", "text": "您想学哪些内容？",
     "options": {"A": "防汛抢险", "B": "大坝安全", "C": "政策法规", "D": "职业发展"}},
    {"id": "useful", "type": "scale", "text": "今年的学习内容对工作有帮助吗？"},
    {"id": "needs", "type": "text", "text": "您最希望得到哪些帮助？"},
    {"id": "other", "type": "text", "text": "还有什么建议？", "required": False},
]

# the capabilities these tests talk to (others check their own data against the real pack folder)
MODULES = ["help", "checkins", "study", "surveys", "feedback"]


def write_survey(root: Path, survey_id: str = "needs_test", *, audience=(), anonymous=True, opens="2026-11-20",
                 closes="2026-12-10", questions=QUESTIONS, **extra) -> None:
    folder = root / survey_id
    folder.mkdir(parents=True)
    manifest = {"id": survey_id, "version": 1, "title": f"测试问卷{survey_id[-1]}", "kind": "survey",
                "topics": ["学习需求"], "audience": list(audience), "description": "测试用。"}
    body = {"opens": opens, "closes": closes, "anonymous": anonymous, "questions": questions, **extra}
    (folder / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    (folder / "survey.yaml").write_text(yaml.safe_dump(body, allow_unicode=True, sort_keys=False), "utf-8")


@contextlib.contextmanager
def running(tmp_path, clock, *, surveys=None, people=("u001",), redis=None, **overrides):
    """An app whose only packs are the given surveys (default: one anonymous survey for everyone)."""
    root = tmp_path / "packs"
    for survey_id, options in (surveys or {"needs_test": {}}).items():
        write_survey(root, survey_id, **options)
    overrides.setdefault("HANDLER_MODULES", MODULES)
    app = create_app(make_settings(tmp_path, CONTENT_PACKS_DIR=str(root), **overrides),
                     redis=redis or fakeredis.FakeRedis(), clock=clock)
    with app.app_context():
        db.create_all(app)
        for userid in people:
            member(db.get_session(), userid, name={"u001": "张三", "u002": "李四"}.get(userid, userid))
        yield app, WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID,
                                 client=app.test_client())


def say(platform, text, user="u001") -> str:
    return platform.say(text, user=user, channel="app").text


def stored(survey_id="needs_test") -> dict[str, tuple[str, str, bool]]:
    session = db.get_session()
    session.expire_all()
    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == survey_id))
    return {row.question_id: (row.reply, row.value, row.skipped) for row in rows}


@pytest.fixture
def survey(tmp_path, clock):
    with running(tmp_path, clock) as (app, platform):
        yield platform


# -- answering -------------------------------------------------------------------------------------

def test_survey_asks_one_question_at_a_time_and_thanks_at_the_end(survey):
    first = say(survey, "问卷")
    assert "《测试问卷t》" in first and "共 5 题" in first and "第 1/5 题（单选）" in first
    assert "A. 图文推送" in first and "您最喜欢哪种学习形式" in first
    assert "第 2/5 题（多选" in say(survey, "B")
    assert "第 3/5 题" in say(survey, "A C")
    assert "第 4/5 题" in say(survey, "4")
    assert "第 5/5 题（请写几句，选填）" in say(survey, "希望多讲讲防汛应急预案的实际操作")
    done = say(survey, "多组织现场参观")
    assert "填写完成" in done and "非常感谢" in done and "匿名" in done
    assert stored() == {"form": ("B", "B", False), "topics": ("A C", "AC", False), "useful": ("4", "4", False),
                        "needs": ("希望多讲讲防汛应急预案的实际操作",) * 2 + (False,),
                        "other": ("多组织现场参观", "多组织现场参观", False)}
    response = db.get_session().scalar(select(SurveyResponse))
    assert response.completed_on is not None
    assert "目前没有需要您填写的问卷" in say(survey, "问卷")


@pytest.mark.parametrize("reply, expected", [
    ("B", "B"), ("b", "B"), ("2", "B"), ("２", "B"), ("短视频", "B"), ("选B", "B"), ("现场讲解", "C"), ("二", "B"),
])
def test_single_choice_by_letter_number_or_text(survey, reply, expected):
    say(survey, "问卷")
    assert "第 2/5 题" in say(survey, reply)
    assert stored()["form"][1] == expected


@pytest.mark.parametrize("reply, expected", [
    ("AC", "AC"), ("A C", "AC"), ("A、C", "AC"), ("a,c", "AC"), ("ＡＣ", "AC"), ("1 3", "AC"), ("CA", "AC"),
    ("防汛抢险 政策法规", "AC"), ("D", "D"),
])
def test_multiple_choice_forms(survey, reply, expected):
    say(survey, "问卷")
    say(survey, "A")
    assert "第 3/5 题" in say(survey, reply)
    assert stored()["topics"][1] == expected


@pytest.mark.parametrize("reply, expected", [("5", "5"), ("五", "5"), ("5分", "5"), ("５", "5"), ("3 分", "3"),
                                             ("一", "1")])
def test_scale_forms(survey, reply, expected):
    say(survey, "问卷")
    say(survey, "A")
    say(survey, "AB")
    assert "第 4/5 题" in say(survey, reply)
    assert stored()["useful"][1] == expected


@pytest.mark.parametrize("position, reply, hint", [
    (0, "E", "请回复一个选项的字母（A–C）"), (0, "都行", "请回复一个选项的字母"),
    (1, "AZ", "可以选多个"), (2, "6", "1–5 之间"), (2, "十分", "1–5 之间"), (2, "很好", "1–5 之间"),
])
def test_bad_answers_get_a_chinese_hint_and_change_nothing(survey, position, reply, hint):
    say(survey, "问卷")
    for answer in ("A", "AB")[:position]:
        say(survey, answer)
    before = stored()
    text = say(survey, reply)
    assert hint in text and f"第 {position + 1}/5 题" in text
    assert stored() == before


def test_skip_is_refused_on_a_required_question_and_stored_on_an_optional_one(survey):
    say(survey, "问卷")
    refused = say(survey, "跳过")
    assert "必答题，不能跳过" in refused and "第 1/5 题" in refused
    assert stored() == {}
    for answer in ("A", "AB", "3", "多讲防汛"):
        say(survey, answer)
    assert "填写完成" in say(survey, "跳过")
    assert stored()["other"] == ("跳过", "", True)


def test_previous_question_shows_the_earlier_answer_and_replaces_it(survey):
    say(survey, "问卷")
    assert "已经是第一题了" in say(survey, "上一题")
    say(survey, "A")
    say(survey, "AB")
    back = say(survey, "上一题")
    assert "第 2/5 题" in back and "您之前的回答：AB" in back
    assert "第 3/5 题" in say(survey, "CD")
    assert stored()["topics"] == ("CD", "CD", False)
    assert len(stored()) == 2


def test_an_interrupted_survey_resumes_where_it_stopped(survey, app=None):
    say(survey, "问卷")
    say(survey, "C")
    say(survey, "BD")
    paused = say(survey, "取消")
    assert "已答的题目都保存了" in paused
    assert "没太明白" in say(survey, "4")            # no survey in progress: a stray answer is not stored
    resumed = say(survey, "问卷")
    assert "欢迎回来" in resumed and "已答了 2 题" in resumed and "第 3/5 题" in resumed
    say(survey, "5")
    redis_store.get_redis().flushall()              # the conversation expired (or Redis restarted)
    again = say(survey, "填问卷")
    assert "已答了 3 题" in again and "第 4/5 题" in again
    assert {q: v for q, (_, v, _) in stored().items()} == {"form": "C", "topics": "BD", "useful": "5"}
    assert db.get_session().scalar(select(SurveyResponse.completed_on)) is None


def test_a_command_during_a_choice_question_runs_and_the_question_waits(survey):
    say(survey, "问卷")
    assert "第 1/5 题" not in say(survey, "帮助")
    waiting = say(survey, "问卷")
    assert "您正在填写问卷" in waiting and "第 1/5 题" in waiting
    assert stored() == {}


# -- anonymity and audience ------------------------------------------------------------------------

def test_anonymous_answers_store_no_userid_but_cohorts_and_department(survey):
    say(survey, "问卷")
    say(survey, "A")
    session = db.get_session()
    response = session.scalar(select(SurveyResponse))
    answer = session.scalar(select(SurveyAnswer))
    assert response.userid is None and "u001" not in response.respondent and len(response.respondent) == 64
    assert (answer.cohorts, answer.department) == ("工程运维", "工程管理科")
    assert (response.cohorts, response.department) == ("工程运维", "工程管理科")
    columns = [c.name for c in SurveyAnswer.__table__.columns]
    assert "userid" not in columns
    for row in session.execute(select(SurveyAnswer.__table__)).all():
        assert "u001" not in [str(v) for v in row]


def test_named_survey_keeps_the_userid(tmp_path, clock):
    with running(tmp_path, clock, surveys={"named_a": {"anonymous": False}}) as (app, platform):
        say(platform, "问卷")
        say(platform, "B")
        assert db.get_session().scalar(select(SurveyResponse.userid)) == "u001"
        assert "匿名" not in say(platform, "问卷")


def test_only_open_surveys_for_the_members_cohorts_and_department_are_offered(tmp_path, clock):
    surveys = {"retired_a": {"audience": ["退休"]}, "closed_b": {"closes": "2026-11-24"},
               "later_c": {"opens": "2026-11-26"}, "office_d": {"departments": ["办公室"]},
               "ops_e": {"audience": ["工程运维"], "departments": ["工程管理科"]}}
    with running(tmp_path, clock, surveys=surveys) as (app, platform):
        first = say(platform, "问卷")
        assert "《测试问卷e》" in first
        for answer in ("A", "A", "1", "学习防汛", "跳过"):
            last = say(platform, answer)
        assert "填写完成" in last and "还有" not in last
        assert "目前没有需要您填写的问卷" in say(platform, "问卷")


def test_a_finished_survey_leads_into_the_next_open_one(tmp_path, clock):
    with running(tmp_path, clock, surveys={"first_a": {}, "second_b": {"anonymous": False}}) as (app, platform):
        say(platform, "问卷")
        for answer in ("A", "A", "1", "学习防汛"):
            say(platform, answer)
        last = say(platform, "跳过")
        assert "《测试问卷a》填写完成" in last and "还有一份问卷" in last and "《测试问卷b》" in last
        assert "第 1/5 题" in last
        say(platform, "C")
        assert stored("second_b") == {"form": ("C", "C", False)}


# -- results ---------------------------------------------------------------------------------------

def test_results_count_each_option_by_cohort_and_department(tmp_path, clock):
    people = ("u001", "u002", "u003")
    with running(tmp_path, clock, people=()) as (app, platform):
        session = db.get_session()
        member(session, "u001", name="张三", birth_year=1995)                      # 青年, 工程运维, 工程管理科
        member(session, "u002", name="李四", department="办公室", team=None, post_category="综合管理",
               birth_year=1965)                                                    # 临退休, 办公室
        member(session, "u003", name="王五", birth_year=1980)                       # 工程运维, 工程管理科
        for userid, answers in zip(people, (("B", "AC", "5", "防汛"), ("B", "A", "3", "经验传承"),
                                            ("A", "AD", "4", "闸门"))):
            say(platform, "问卷", user=userid)
            for answer in (*answers, "跳过"):
                say(platform, answer, user=userid)
        assert "管理员" in say(platform, "问卷结果 needs_test")            # a member may not see results
        text = say(platform, "问卷结果 needs_test", user="admin01")
        assert "已完成 3 份，未完成 0 份" in text
        assert "B 短视频：2（青年 1、工程运维 1、临退休 1｜工程管理科 1、办公室 1）" in text
        assert "A 防汛抢险：3" in text and "D 职业发展：1（工程运维 1｜工程管理科 1）" in text
        assert "平均 4.0 分" in text and "临退休 3.0 分" in text
        assert "5. 还有什么建议？（0 人答，跳过 3）" in text and "需求分析 needs_test" in text
        assert len(text.encode("utf-8")) <= 2048
        detail = say(platform, "问卷结果 测试问卷t 2", user="admin01")
        assert "2. 您想学哪些内容？" in detail and "1. 您最喜欢" not in detail
        assert "没有找到问卷「不存在」" in say(platform, "问卷结果 不存在", user="admin01")
        assert "needs_test" in say(platform, "问卷结果", user="admin01")
