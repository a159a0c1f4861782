"""新建问卷 through the real encrypted callback: the guided dialogue (bad input, 上一步, 删除上一题, 取消),
the survey stored in SQL, announced to its audience at the stand-in, and answered with 问卷 like a pack survey."""
from __future__ import annotations

import fakeredis
import pytest
from sqlalchemy import func, select

from bot import db
from jobs import schedule
from jobs.surveys import survey_reminder_entries
from bot.models.surveys import SurveyAnswer, SurveyDefinition, SurveyResponse
from tests.factories import member
from tests.handlers.test_surveys import running, say
from tests.standin_http import messages

MODULES = ["help", "surveys", "survey_admin", "feedback"]
CLOSED = {"old_test": {"opens": "2026-01-05", "closes": "2026-01-30"}}      # a pack survey nobody is asked now
QUESTIONS = ["单选 您喜欢哪种学习形式？ 图文/短视频/现场讲解",
             "多选 您想学哪些内容？防汛抢险/大坝安全/政策法规",
             "打分 今年的学习对工作有帮助吗？",
             "问答 选填 您还有什么建议？"]
GOOD = ["防汛培训效果调查", "全体", "7天", "匿名"]
BAD = [("这" * 41, "2–40 个字"), ("后勤科", "没有找到人群或部门「后勤科」"), ("昨天", "已经过去了"), ("随便", "请回「匿名」或「实名」")]


@pytest.fixture
def wired(tmp_path, clock, fake_server, standin_url):
    with running(tmp_path, clock, surveys=CLOSED, people=("u001", "u002"), HANDLER_MODULES=MODULES,
                 redis=fakeredis.FakeRedis(server=fake_server), WECOM_API_BASE=standin_url) as (app, platform):
        member(db.get_session(), "u003", name="王五", department="办公室", team=None)
        yield app, platform


def admin(platform, text) -> str:
    return say(platform, text, user="admin01")


def definitions() -> int:
    return db.get_session().scalar(select(func.count()).select_from(SurveyDefinition))


def create(platform, answers=GOOD, questions=QUESTIONS) -> str:
    admin(platform, "新建问卷")
    for text in [*answers, *questions, "完成"]:
        admin(platform, text)
    return admin(platform, "确认")


def test_dialogue_re_asks_on_bad_input_at_each_step_and_creates_on_confirm(wired, standin_url):
    app, platform = wired
    assert "问卷名称" in admin(platform, "新建问卷")
    for (bad, why), good in zip(BAD, GOOD):
        reply = admin(platform, bad)
        assert why in reply, (bad, reply)
        admin(platform, good)
    for bad, why in (("判断 水是湿的", "先写题型"), ("单选 只有一个选项？ 甲", "至少两个"), ("完成", "还没有题目")):
        assert why in admin(platform, bad), bad
    assert "现有问卷" in admin(platform, "问卷结果")      # a command is answered; the dialogue waits
    for number, text in enumerate(QUESTIONS, start=1):
        assert f"已加第 {number} 题" in admin(platform, text)
    summary = admin(platform, "完成")
    assert "请核对问卷" in summary and "开放到 2026-12-01（含当天）；匿名" in summary
    assert "1. [单选] 您喜欢哪种学习形式？：A 图文 / B 短视频 / C 现场讲解" in summary
    assert "2. [多选，可选几项] 您想学哪些内容？：A 防汛抢险 / B 大坝安全 / C 政策法规" in summary
    assert "4. [请写几句，选填] 您还有什么建议？" in summary and definitions() == 0
    done = admin(platform, "确认")
    assert "问卷已创建：chat-1《防汛培训效果调查》，共 4 题" in done and "已通知 3 人" in done
    for userid in ("u001", "u002", "u003"):
        [notice] = messages(standin_url, recipient=userid)
        assert "【新问卷】《防汛培训效果调查》共 4 题，12月01日截止" in notice["body"]["text"]["content"]
    assert "没有需要您填写的问卷" not in say(platform, "问卷", user="u001")


def test_members_answer_a_chat_survey_like_a_pack_survey_and_resume_it(wired):
    app, platform = wired
    create(platform)
    opening = say(platform, "问卷", user="u001")
    assert "《防汛培训效果调查》（匿名）共 4 题" in opening and "第 1/4 题（单选）" in opening
    assert "第 2/4 题" in say(platform, "短视频", user="u001")
    assert "先填到这里" in say(platform, "取消", user="u001")
    assert "欢迎回来" in say(platform, "问卷", user="u001")
    say(platform, "A C", user="u001")
    say(platform, "4分", user="u001")
    assert "填写完成" in say(platform, "跳过", user="u001")
    session = db.get_session()
    session.expire_all()
    response = session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == "chat-1"))
    assert response.userid is None and response.completed_on is not None          # anonymous
    answers = {row.question_id: (row.value, row.skipped) for row in session.scalars(select(SurveyAnswer))}
    assert answers == {"q1": ("B", False), "q2": ("AC", False), "q3": ("4", False), "q4": ("", True)}
    results = admin(platform, "问卷结果 chat-1")
    assert "《防汛培训效果调查》结果：已完成 1 份" in results and "B 短视频：1" in results
    assert "平均 4.0 分" in results


def test_a_department_audience_is_the_only_one_told_and_asked(wired, standin_url):
    app, platform = wired
    assert "已通知 1 人" in create(platform, answers=["办公室意见征集", "办公室", "12-10", "实名"],
                                     questions=["问答 您对办公室工作有什么意见？"])
    assert [m["recipient"] for m in messages(standin_url)] == ["u003"]
    assert "没有需要您填写的问卷" in say(platform, "问卷", user="u001")
    assert "办公室意见征集" in say(platform, "问卷", user="u003")
    say(platform, "希望多组织业务培训", user="u003")
    session = db.get_session()
    session.expire_all()
    assert session.scalar(select(SurveyResponse.userid)) == "u003"                   # named


def test_go_back_and_remove_the_last_question(wired):
    app, platform = wired
    admin(platform, "新建问卷")
    for text in GOOD[:3]:
        admin(platform, text)
    assert "问卷开放到哪天" in admin(platform, "上一步")
    admin(platform, "12-05")
    admin(platform, "实名")
    admin(platform, QUESTIONS[0])
    admin(platform, QUESTIONS[2])
    assert "已删除第 2 题「今年的学习对工作有帮助吗？」" in admin(platform, "删除上一题")
    assert "匿名还是实名" in admin(platform, "上一步")             # from a question: back to 匿名/实名 …
    assert "请发第 2 题" in admin(platform, "实名")                  # … and the questions so far are kept
    summary = admin(platform, "完成")
    assert "开放到 2026-12-05" in summary and "实名" in summary and "2." not in summary
    assert "请发第 2 题" in admin(platform, "上一步")                # from the summary: add more questions
    admin(platform, QUESTIONS[3])
    admin(platform, "完成")
    admin(platform, "确认")
    stored = db.get_session().scalar(select(SurveyDefinition))
    assert [q["id"] for q in stored.definition["questions"]] == ["q1", "q2"]
    assert stored.definition["anonymous"] is False and stored.definition["closes"] == "2026-12-05"


@pytest.mark.parametrize("steps_done", range(len(GOOD) + 2))
def test_cancel_at_any_step_stores_nothing(wired, standin_url, steps_done):
    app, platform = wired
    admin(platform, "新建问卷")
    for text in [*GOOD, QUESTIONS[0], "完成"][:steps_done]:
        admin(platform, text)
    assert "已取消新建问卷" in admin(platform, "取消")
    assert definitions() == 0 and messages(standin_url) == []
    assert "没看懂" not in admin(platform, "确认")      # the dialogue is over: 确认 is no answer to anything


def test_a_title_in_use_is_refused_and_members_may_not_create(wired):
    app, platform = wired
    create(platform)
    admin(platform, "新建问卷")
    assert "已经有名为「防汛培训效果调查」的问卷了" in admin(platform, "防汛培训效果调查")
    assert "已经有名为「测试问卷t」的问卷了" in admin(platform, "测试问卷t")          # a pack survey's title
    assert "管理员" in say(platform, "新建问卷", user="u001")
    assert definitions() == 1


def test_a_chat_survey_gets_the_reminder_pack_surveys_get(wired):
    app, platform = wired
    create(platform)                 # 7 days: open to 12-01, reminded two days before at 09:00
    names = [entry.name for entry in survey_reminder_entries(schedule.Entry)]
    assert names == ["survey-reminder-chat-1-202611290900"]


def test_an_admin_ends_a_chat_survey_early_and_nobody_can_answer_it_after(wired):
    from bot.models import AuditEntry

    app, platform = wired
    create(platform)                                    # open to 12-01
    say(platform, "问卷", user="u001")
    say(platform, "短视频", user="u001")                # one answer, then the survey is ended mid-way
    reply = admin(platform, "关闭问卷　 chat-1")           # an alias, a full-width space
    assert "已结束《防汛培训效果调查》" in reply and "共收到 1 份回答，其中 0 份填完" in reply
    assert "已经截止" in say(platform, "A C", user="u001")
    assert "没有需要您填写的问卷" in say(platform, "问卷", user="u002")
    assert stored_answers() == 1                        # the answer before the end is kept, none after
    assert [entry.name for entry in survey_reminder_entries(schedule.Entry)] == []
    assert "已于 11月24日 截止，不用再结束" in admin(platform, "结束问卷 chat-1")
    assert "问卷结果" in reply and "已完成 0 份" in admin(platform, "问卷结果 chat-1")
    audit = db.get_session().scalars(select(AuditEntry).where(AuditEntry.command == "结束问卷")).all()
    assert [(entry.arguments, entry.result) for entry in audit] == [("chat-1", "ok"), ("chat-1", "ok")]


def test_ending_a_survey_that_is_not_a_chat_survey_changes_nothing(tmp_path, clock, fake_server):
    with running(tmp_path, clock, people=("u001",), HANDLER_MODULES=MODULES,
                 redis=fakeredis.FakeRedis(server=fake_server)) as (app, platform):
        reply = admin(platform, "结束问卷 needs_test")
        assert "是内容包里的问卷" in reply and "survey.yaml" in reply
        assert "测试问卷t" in say(platform, "问卷", user="u001")       # still open
        assert "没有找到问卷「第九号」" in admin(platform, "结束问卷 第九号")
        assert "管理员" in say(platform, "结束问卷 needs_test", user="u001")


def stored_answers() -> int:
    session = db.get_session()
    session.expire_all()
    return session.scalar(select(func.count()).select_from(SurveyAnswer))


def test_a_second_confirm_racing_the_first_creates_nothing_more(wired, clock, monkeypatch):
    from handlers import survey_admin

    app, platform = wired
    admin(platform, "新建问卷")
    for text in [*GOOD, QUESTIONS[0], "完成"]:
        admin(platform, text)
    session = db.get_session()                       # the other 确认 stored it after this one looked
    session.add(SurveyDefinition(title=GOOD[0], audience=[], definition={}, created_by="admin01", created_at=clock()))
    session.commit()
    monkeypatch.setattr(survey_admin.survey_service, "all_surveys", lambda app=None: [])
    assert "刚刚已经有名为「防汛培训效果调查」的问卷了" in admin(platform, "确认")
    assert definitions() == 1


@pytest.mark.parametrize("refused, why, instead", [
    ("大坝巡查班组", "「大坝巡查班组」是班组", "工程管理科"),       # its department is an audience
    ("其他", "问卷不能面向「其他」", "青年"),                        # a cohort is
])
def test_a_team_or_others_is_not_a_survey_audience(wired, refused, why, instead):
    app, platform = wired
    admin(platform, "新建问卷")
    admin(platform, GOOD[0])
    assert why in admin(platform, refused)
    assert "开放到哪天" in admin(platform, instead)
