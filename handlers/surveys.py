"""问卷: members answer open surveys one question at a time; admins see 问卷结果 and start 需求分析.

A survey is a flow (bot/flows.py) whose data names the survey, the response row and the open
question. Every answer is stored at once, so a survey interrupted by 取消, a timeout or a restart
resumes at the first unanswered question on the next 问卷.
"""
from __future__ import annotations

from collections import Counter

from bot.acl import Role
from bot.flows import END, Flow, Turn
from bot.messages import Reply
from bot.models.surveys import SurveyAnswer, SurveyResponse
from bot.outgoing import TEXT_LIMIT
from bot.router import Arg, CommandGroup, get_registry
from bot.tasks import get_jobs
from content_packs import Pack
from handlers._services import surveys as service
from jobs.surveys import analyse_needs, analysis_job_id

group = CommandGroup("surveys", title="问卷调查")
FLOW_NAME, STEP = "survey", "answer"
SKIP_WORDS = frozenset({"跳过", "跳过本题", "跳过这题", "不填", "略过"})
BACK_WORDS = frozenset({"上一题", "返回上一题", "上题", "改上一题"})
NOT_ON_ROSTER = "您是管理员，但不在名册中，所以不用填写问卷。"
NOTHING_OPEN = "目前没有需要您填写的问卷，谢谢关注！有新问卷时会通知您。"
REQUIRED = "这道题是必答题，不能跳过，请回答后再继续。"
FIRST_ALREADY = "已经是第一题了。"
GONE = "这份问卷已经撤下了，您的回答已保存。谢谢！"
CLOSED = "《{title}》已经截止，不再接受填写；您已答的题都保存了。谢谢！"
PAUSED = "好的，先填到这里。已答的题目都保存了，下次发「问卷」从没答的题接着填。"
THANKS = "《{title}》填写完成，非常感谢您的参与！{anonymous}"
ANONYMOUS_NOTE = "本问卷为匿名问卷，您的回答不会与姓名关联。"
NEXT_SURVEY = "还有一份问卷需要您填写："
UNKNOWN_SURVEY = "没有找到问卷「{ref}」。{listing}"
ANALYSIS_QUEUED = "已开始分析《{title}》的问答题和意见反馈，完成后会把结果发给您（一般一两分钟）。"
ANALYSIS_RUNNING = "《{title}》的需求分析刚刚已经开始了，结果稍后发给您，请勿重复发送。"


def _answer(ctx, data: dict, text: str) -> Turn | None:
    pack = service.find_survey(data["s"], ctx.app, session=ctx.session)
    response = ctx.session.get(SurveyResponse, data["r"])
    if pack is None or response is None:
        return Turn(GONE, END)
    if not service.is_open(pack, ctx.now.date()):
        return Turn(CLOSED.format(title=pack.title), END)
    question = pack.survey.questions[data["i"]]
    word = text.strip()
    if word in BACK_WORDS:
        return _back(ctx, pack, response, data)
    if word in SKIP_WORDS:
        if question.required:
            return Turn(f"{REQUIRED}\n\n{_ask(ctx, pack, response, data['i'])}", STEP)
        service.save_answer(ctx.session, response, question, reply=word, value="", skipped=True)
        return _next(ctx, pack, response, data)
    try:
        value = service.read_answer(question, word)
    except service.Unreadable as exc:
        if _is_command(ctx, word, question.type):
            return None                 # routed as a command; the question waits
        return Turn(f"{exc}\n\n{_ask(ctx, pack, response, data['i'])}", STEP)
    if question.type == "text" and get_registry(ctx.app).find(word) is not None:
        return None                     # a bare command name (帮助, 问卷) is not a needs answer
    service.save_answer(ctx.session, response, question, reply=word, value=value)
    return _next(ctx, pack, response, data)


def _paused(ctx, data: dict) -> str:
    return PAUSED


SURVEY = group.flow(Flow(FLOW_NAME, {STEP: _answer}, on_cancel=_paused))


@group.command("问卷", aliases=("填问卷", "填写问卷", "问卷调查", "调查问卷", "survey"),
               summary="填写发给您的问卷，一题一题答；中途可以暂停，下次接着填", example="问卷")
def start_survey(ctx):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    state = ctx.conversation.state
    if state is not None and state.flow == FLOW_NAME:
        pack = service.find_survey(state.data["s"], ctx.app, session=ctx.session)
        response = ctx.session.get(SurveyResponse, state.data["r"])
        if pack is not None and response is not None:
            return Reply("您正在填写问卷，接着答这一题：\n\n" + _ask(ctx, pack, response, state.data["i"]))
    respondent = service.respondent_of(ctx.app, ctx.member, ctx.now.date())
    pending = service.pending_surveys(ctx.session, respondent, secret=service.salt_of(ctx.config),
                                      today=ctx.now.date(), app=ctx.app, now=ctx.now)
    if not pending:
        return Reply(NOTHING_OPEN)
    data = _begin(ctx, pending[0], respondent)
    ctx.conversation.start(SURVEY, STEP, data)
    return Reply(data.pop("_intro"))


@group.command("问卷结果", aliases=("问卷统计", "调查结果", "surveyresults"), role=Role.ADMIN,
               args=(Arg("ref", label="问卷", required=False), Arg("number", label="题号", type=int, required=False)),
               summary="看问卷各选项的人数，按人群和部门分开；加题号看这一题的全部明细",
               example="问卷结果 survey_needs_2026")
def survey_results(ctx, ref: str | None = None, number: int | None = None):
    pack = _survey_or_none(ctx, ref)
    if pack is None:
        return Reply(UNKNOWN_SURVEY.format(ref=ref or "", listing=survey_list(service.all_surveys(ctx.app)))
                     if ref else survey_list(service.all_surveys(ctx.app)))
    return Reply(render_results(service.results(ctx.session, pack), number=number))


@group.command("需求分析", aliases=("分析需求", "needs"), role=Role.ADMIN, args=(Arg("ref", label="问卷"),),
               summary="分析问卷问答题和意见反馈里的学习需求（按人群分共性和个性），结果稍后发给您",
               example="需求分析 survey_needs_2026")
def analyse_survey_needs(ctx, ref: str):
    pack = _survey_or_none(ctx, ref)
    if pack is None:
        return Reply(UNKNOWN_SURVEY.format(ref=ref, listing=survey_list(service.all_surveys(ctx.app))))
    queued = get_jobs(ctx.app).enqueue(analyse_needs, job_id=analysis_job_id(pack.id, ctx.user_id, ctx.now),
                                       survey_id=pack.id, admin_userid=ctx.user_id, asked_at=ctx.now.isoformat())
    template = ANALYSIS_RUNNING if queued.duplicate else ANALYSIS_QUEUED
    return Reply(template.format(title=pack.title))


def _survey_or_none(ctx, ref: str | None) -> Pack | None:
    return service.find_survey(ref, ctx.app, session=ctx.session) if ref else None


def _begin(ctx, pack: Pack, respondent: service.Respondent) -> dict:
    """Flow data for ``pack`` at its first unanswered question, with the opening text under ``_intro``."""
    response = service.start_response(ctx.session, pack, respondent, secret=service.salt_of(ctx.config),
                                      today=ctx.now.date())
    answered = service.answers_of(ctx.session, response.id)
    index = service.next_open_index(pack, answered) or 0
    if answered:
        intro = f"欢迎回来！《{pack.title}》您已答了 {len(answered)} 题，接着从没答的题开始："
    else:
        note = "（匿名）" if pack.survey.anonymous else ""
        intro = (f"《{pack.title}》{note}共 {len(pack.survey.questions)} 题。{pack.manifest.description}\n"
                 "随时可以发「取消」暂停，已答的题会保存。")
    return {"s": pack.id, "r": response.id, "i": index,
            "_intro": f"{intro}\n\n{_ask(ctx, pack, response, index)}"}


def _ask(ctx, pack: Pack, response: SurveyResponse, index: int) -> str:
    previous = service.answers_of(ctx.session, response.id).get(pack.survey.questions[index].id)
    return ask(pack, index, previous=previous)


def _back(ctx, pack: Pack, response: SurveyResponse, data: dict) -> Turn:
    if data["i"] == 0:
        return Turn(f"{FIRST_ALREADY}\n\n{_ask(ctx, pack, response, 0)}", STEP)
    data["i"] -= 1
    return Turn(_ask(ctx, pack, response, data["i"]), STEP)


def _next(ctx, pack: Pack, response: SurveyResponse, data: dict) -> Turn:
    index = service.next_open_index(pack, service.answers_of(ctx.session, response.id))
    if index is not None:
        data["i"] = index
        return Turn(_ask(ctx, pack, response, index), STEP)
    response.completed_on = ctx.now.date()
    thanks = THANKS.format(title=pack.title, anonymous=ANONYMOUS_NOTE if pack.survey.anonymous else "")
    respondent = service.respondent_of(ctx.app, ctx.member, ctx.now.date())
    pending = service.pending_surveys(ctx.session, respondent, secret=service.salt_of(ctx.config),
                                      today=ctx.now.date(), app=ctx.app, now=ctx.now)
    if not pending:
        return Turn(thanks, END)
    following = _begin(ctx, pending[0], respondent)
    intro = following.pop("_intro")
    data.clear()
    data.update(following)
    return Turn(f"{thanks}\n\n{NEXT_SURVEY}\n{intro}", STEP)


def _is_command(ctx, text: str, qtype: str) -> bool:
    """Clearly a command rather than an answer; any text can answer a 问答题, so there only a bare name counts."""
    registry = get_registry(ctx.app)
    if qtype == "text":
        return registry.find(text) is not None
    return registry.match(text)[0] is not None


# -- what members and admins read ------------------------------------------------------------------

KIND_LABELS = {"single": "单选", "multiple": "多选，可选几项", "scale": "1–5 分，5 分最高", "text": "请写几句"}
HOW_TO = {"single": "回复字母或选项内容", "multiple": "回复字母，如「AC」或「A C」",
          "scale": "回复 1–5 的数字，如「4」", "text": "直接写下您的想法"}


def ask(pack: Pack, index: int, *, previous: SurveyAnswer | None = None) -> str:
    """One question as the member sees it, with how to answer (and their earlier answer after 上一题)."""
    question = pack.survey.questions[index]
    optional = "，选填" if not question.required else ""
    lines = [f"第 {index + 1}/{len(pack.survey.questions)} 题（{KIND_LABELS[question.type]}{optional}）",
             question.text]
    lines += [f"{letter}. {option}" for letter, option in question.options.items()]
    if previous is not None:
        lines.append(f"（您之前的回答：{'跳过' if previous.skipped else previous.reply}，重新回答即可修改）")
    hints = [HOW_TO[question.type]]
    if not question.required:
        hints.append("不想答可回复「跳过」")
    if index > 0:
        hints.append("「上一题」返回修改")
    hints.append("「取消」暂停")
    lines.append("；".join(hints) + "。")
    return "\n".join(lines)


def survey_list(packs: list[Pack]) -> str:
    if not packs:
        return "目前还没有问卷。"
    rows = [f"· {pack.id}（{pack.title}，{pack.survey.opens:%m-%d} 至 {pack.survey.closes:%m-%d}）" for pack in packs]
    return "现有问卷：\n" + "\n".join(rows) + "\n发送「问卷结果 问卷编号」查看。"


def render_results(results: service.SurveyResults, *, number: int | None = None) -> str:
    """The counts as one chat message; when the breakdowns do not fit, totals only and a hint."""
    pack = results.pack
    questions = results.questions
    if number is not None:
        if not 1 <= number <= len(questions):
            return f"《{pack.title}》只有 {len(questions)} 道题，请写 1–{len(questions)} 之间的题号。"
        questions = [questions[number - 1]]
    head = [f"《{pack.title}》结果：已完成 {results.completed} 份，未完成 {results.unfinished} 份",
            f"人群：{_counts(results.cohorts) or '无'}｜部门：{_counts(results.departments) or '无'}"]
    for detailed in (True, False):
        body = [_question_block(pack, r, detailed=detailed or number is not None) for r in questions]
        text = "\n\n".join(["\n".join(head), *body])
        if len(text.encode("utf-8")) <= TEXT_LIMIT - 200 or number is not None:
            break
        text += f"\n\n明细太长，已省略。发送「问卷结果 {pack.id} 题号」看某一题按人群和部门的人数。"
    return text


def _question_block(pack: Pack, result: service.QuestionResult, *, detailed: bool) -> str:
    question = result.question
    number = pack.survey.questions.index(question) + 1
    skipped = f"，跳过 {result.skipped}" if result.skipped else ""
    lines = [f"{number}. {question.text[:24]}（{result.answered} 人答{skipped}）"]
    if question.type == "text":
        lines.append(f"问答题，发送「需求分析 {pack.id}」看关键词分析。")
    elif question.type == "scale":
        lines.append(f"平均 {_mean(result.scores.get(''))}")
        if detailed:
            cohorts = [(k, v) for k, v in result.scores.items() if k and not k.startswith("@")]
            departments = [(k[1:], v) for k, v in result.scores.items() if k.startswith("@")]
            lines.append("｜".join(filter(None, ["、".join(f"{k} {_mean(v)}" for k, v in cohorts),
                                                "、".join(f"{k} {_mean(v)}" for k, v in departments)])))
    else:
        for letter, option in question.options.items():
            line = f"{letter} {option[:10]}：{result.total[letter]}"
            if detailed and result.total[letter]:
                by_cohort = _counts(Counter({k: c[letter] for k, c in result.by_cohort.items()}))
                by_dept = _counts(Counter({k: c[letter] for k, c in result.by_department.items()}))
                line += f"（{'｜'.join(filter(None, [by_cohort, by_dept]))}）"
            lines.append(line)
    return "\n".join(lines)


def _counts(counter: Counter) -> str:
    return "、".join(f"{name} {count}" for name, count in counter.most_common() if count)


def _mean(scores: list[int] | None) -> str:
    return f"{sum(scores) / len(scores):.1f} 分" if scores else "—"
