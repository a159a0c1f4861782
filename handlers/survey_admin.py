"""新建问卷: admins write a survey in a short dialogue (name → audience → last day → anonymous or
named → questions, one message each → confirm); it is stored in SQL and asked by 问卷 like a survey pack.

Bad input gets the reason and the same question again, 上一步 goes back, 取消 ends it; nothing is
stored until the admin confirms. On confirm the audience is told the survey is open.
"""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy.exc import IntegrityError

from bot import cohorts
from bot.acl import Role
from bot.flows import END, Turn
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from bot.tasks import get_jobs
from handlers._guided import CONFIRM_WORDS, guided_flow, is_command
from handlers._services import survey_drafts
from handlers._services import surveys as survey_service
from handlers.surveys import KIND_LABELS, UNKNOWN_SURVEY, survey_list
from jobs.surveys import announce_survey, audience_size

group = CommandGroup("survey_admin", title="问卷管理")
FLOW_NAME = "new_survey"
ORDER = ("title", "audience", "closes", "anonymous", "question", "confirm")
DONE_WORDS = frozenset({"完成", "好了", "出完了", "完成出题", "结束出题", "没有了"})
UNDO_WORDS = frozenset({"删除上一题", "删掉上一题", "去掉上一题", "撤销", "撤销上一题"})
ANONYMOUS_WORDS = {"匿名": True, "是": True, "匿名填写": True, "实名": False, "记名": False, "否": False,
                   "不匿名": False, "实名填写": False}
CANCELLED = "好的，已取消新建问卷，什么都没有保存。"


def _ask(step: str, data: dict) -> str:
    if step == "confirm":
        return _summary(data)
    if step == "question":
        number = len(data.get("questions", [])) + 1
        done = "；出完了回「完成」" if number > 1 else ""
        return (f"请发第 {number} 题：先写题型（单选、多选、打分、问答），空一格写题目；选择题再空一格写选项，"
                f"用「/」隔开；不必答的题在题型后写「选填」{done}。例如：\n{survey_drafts.QUESTION_EXAMPLES}")
    return {
        "title": "请发问卷名称（2–40 个字），如「防汛培训效果调查」。",
        "audience": ("请哪些人填写？回「全体」，或写人群、部门名，多个用顿号隔开。\n"
                     f"可选的人群：{'、'.join(cohorts.get_rules().names)}"),
        "closes": "问卷开放到哪天（含当天）？回日期，如「12-20」，或天数，如「7天」。",
        "anonymous": "匿名还是实名？回「匿名」或「实名」。匿名问卷不记录是谁填的，只记人群和部门。",
    }[step]


def _summary(data: dict) -> str:
    lines = ["请核对问卷：", f"名称：{data['title']}",
             f"面向：{data['audience_shown']}；开放到 {data['closes']}（含当天）；"
             f"{'匿名' if data['anonymous'] else '实名'}"]
    for number, question in enumerate(data["questions"], start=1):
        optional = "，选填" if not question["required"] else ""
        options = " / ".join(f"{letter} {text}" for letter, text in question["options"].items())
        lines.append(f"{number}. [{KIND_LABELS[question['type']]}{optional}] {question['text']}"
                     + (f"：{options}" if options else ""))
    lines.append("无误请回「确认」创建并通知面向的同事；回「上一步」继续出题；回「取消」放弃。")
    return "\n".join(lines)


def _take_title(ctx, data: dict, text: str) -> None:
    title = text.strip()
    if not 2 <= len(title) <= 40:
        raise ValueError("问卷名称请写 2–40 个字。")
    if any(title in (pack.title, pack.id) for pack in survey_service.all_surveys(ctx.app)):
        raise ValueError(f"已经有名为「{title}」的问卷了，请换一个名称。")
    data["title"] = title


def _take_audience(ctx, data: dict, text: str) -> None:
    words = [w for w in re.split(r"[\s,，、;；]+", text.strip()) if w]
    data["cohorts"], data["departments"], data["audience_shown"] = survey_drafts.parse_audience(
        ctx.session, words, rules=cohorts.get_rules(ctx.app))


def _take_closes(ctx, data: dict, text: str) -> None:
    data["closes"] = survey_drafts.parse_closes(text, today=ctx.now.date()).isoformat()


def _take_anonymous(ctx, data: dict, text: str) -> None:
    if text.strip() not in ANONYMOUS_WORDS:
        raise ValueError("请回「匿名」或「实名」。")
    data["anonymous"] = ANONYMOUS_WORDS[text.strip()]
    data.setdefault("questions", [])


TAKERS = {"title": _take_title, "audience": _take_audience, "closes": _take_closes, "anonymous": _take_anonymous}


def _question(ctx, data: dict, word: str) -> Turn | None:
    questions = data["questions"]
    if word in DONE_WORDS:
        if not questions:
            return Turn(f"还没有题目。{_ask('question', data)}", "question")
        return Turn(_summary(data), "confirm")
    if word in UNDO_WORDS:
        if not questions:
            return Turn(f"还没有题目可以删除。{_ask('question', data)}", "question")
        removed = questions.pop()
        return Turn(f"已删除第 {len(questions) + 1} 题「{removed['text'][:20]}」。\n{_ask('question', data)}",
                    "question")
    try:
        question = survey_drafts.parse_question(word, len(questions) + 1)
    except ValueError as exc:
        if is_command(ctx, word):
            return None             # a command, not a question: routed as usual, the dialogue waits
        return Turn(f"{exc}\n{_ask('question', data)}", "question")
    questions.append(question.model_dump(mode="json"))
    if len(questions) >= survey_drafts.MAX_QUESTIONS:
        return Turn(f"已加第 {len(questions)} 题，题目已到上限 {survey_drafts.MAX_QUESTIONS} 道。\n{_summary(data)}",
                    "confirm")
    return Turn(f"已加第 {len(questions)} 题（{KIND_LABELS[question.type]}）。接着发第 {len(questions) + 1} 题，"
                "出完了回「完成」；回「删除上一题」可以去掉刚加的题。", "question")


def _confirm(ctx, data: dict, word: str) -> Turn | None:
    if word.lower() not in CONFIRM_WORDS:
        if is_command(ctx, word):
            return None
        return Turn(f"没看懂「{word[:20]}」。\n{_summary(data)}", "confirm")
    created_meanwhile = Turn(f"刚刚已经有名为「{data['title']}」的问卷了，没有重复创建。", END)
    if any(data["title"] == pack.title for pack in survey_service.all_surveys(ctx.app)):
        return created_meanwhile
    questions = [dict(q, id=f"q{n}") for n, q in enumerate(data["questions"], start=1)]
    try:
        pack = survey_drafts.save(ctx.session, title=data["title"], cohorts=data["cohorts"],
                                  departments=data["departments"], closes=date.fromisoformat(data["closes"]),
                                  anonymous=data["anonymous"], questions=questions, created_by=ctx.user_id,
                                  now=ctx.now)
    except IntegrityError:          # the same 确认 sent twice at once: the other one stored it (unique title)
        ctx.session.rollback()
        return created_meanwhile
    told = _announce(ctx, pack)
    return Turn(f"问卷已创建：{pack.id}《{pack.title}》，共 {len(questions)} 题，开放到 {data['closes']}，"
                f"已通知 {told} 人。\n发「问卷结果 {pack.id}」看结果，「需求分析 {pack.id}」分析问答题。", END)


def _announce(ctx, pack) -> int:
    """Queue the notice (the job reads the audience and queues the sends); returns the audience's size."""
    anonymous = "本问卷匿名填写。" if pack.survey.anonymous else ""
    text = (f"【新问卷】《{pack.title}》共 {len(pack.survey.questions)} 题，{pack.survey.closes:%m月%d日}截止。"
            f"{anonymous}\n发送「问卷」开始填写，中途可以暂停，下次接着填。")
    ctx.session.commit()            # the job reads the survey from its own session
    get_jobs(ctx.app).enqueue(announce_survey, job_id=f"survey-notice-{pack.id}", survey_id=pack.id, text=text)
    return audience_size(ctx.session, pack, ctx.now)


NEW_SURVEY = group.flow(guided_flow(FLOW_NAME, order=ORDER, ask=_ask, takers=TAKERS,
                                    special={"question": _question, "confirm": _confirm},
                                    on_cancel=lambda ctx, data: CANCELLED))


@group.command("新建问卷", aliases=("创建问卷", "发起问卷", "newsurvey"), role=Role.ADMIN,
               summary="一步步出一份问卷（单选、多选、打分、问答），大家发「问卷」填写", example="新建问卷")
def new_survey(ctx):
    ctx.conversation.start(NEW_SURVEY, "title", {})
    return Reply("好的，我们一步步来出问卷（随时回「取消」放弃，回「上一步」修改上一项）。\n" + _ask("title", {}))


@group.command("结束问卷", aliases=("关闭问卷", "截止问卷", "停止问卷", "提前结束问卷", "closesurvey"), role=Role.ADMIN,
               args=(Arg("ref", label="问卷"),),
               summary="提前结束对话中发起的问卷：从今天起不再接受填写、不再提醒，已收到的回答都保留",
               example="结束问卷 chat-1")
def close_survey(ctx, ref: str):
    pack = survey_service.find_survey(ref, ctx.app, session=ctx.session)
    if pack is None:
        return Reply(UNKNOWN_SURVEY.format(ref=ref, listing=survey_list(survey_service.all_surveys(ctx.app))))
    today = ctx.now.date()
    if pack.survey.closes < today:
        return Reply(f"《{pack.title}》已于 {pack.survey.closes:%m月%d日} 截止，不用再结束。")
    if not pack.id.startswith(survey_drafts.ID_PREFIX):
        return Reply(f"《{pack.title}》是内容包里的问卷，截止日期写在它的 survey.yaml（closes）里，"
                     "请改文件后重新部署；这里只能结束在对话中「新建问卷」发起的问卷。")
    survey_drafts.close(ctx.session, pack.id, today=today)
    started, completed = survey_service.response_counts(ctx.session, pack)
    return Reply(f"已结束《{pack.title}》：从今天起不再接受填写，也不再提醒。共收到 {started} 份回答，"
                 f"其中 {completed} 份填完。\n发「问卷结果 {pack.id}」查看结果。")
