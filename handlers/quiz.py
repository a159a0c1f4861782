"""每日答题: 答题 (today's questions), 错题 (what is due for review), and 跳过 / 结束 inside a quiz.

A quiz is a flow (bot/flows.py) with one step that reads each answer; the chosen questions, the
open one and a few numbers travel in the flow data. Every answer is a QuizAnswer row; wrong,
missed and skipped questions go into the member's review schedule (FSRS).
"""
from __future__ import annotations

from bot import cohorts, redis_store
from bot.flows import END, Flow, Turn
from bot.messages import Reply
from bot.models.quiz import Outcome, QuizMode
from bot.router import CommandGroup, get_registry
from content_packs import answers
from handlers._services import contest, quiz_draw, quiz_record, quiz_session, quiz_text, review
from handlers._services.quiz_session import STEP, QuizSettings
from jobs import quiz_timer

group = CommandGroup("quiz", title="每日答题")
SKIP_WORDS = frozenset({"跳过", "跳过本题", "跳过这题", "skip"})
END_WORDS = frozenset({"结束", "结束答题", "交卷", "不答了", "end"})
NOT_ON_ROSTER = "您是管理员，但不在名册中，所以不能参加答题。"
NOTHING_LEFT = ("适合您的题目暂时都答过了（答对的题 30 天内不再出），题库更新后会有新题。\n"
                "也可以发「错题」看看有没有到期的错题。")
LATE = "上一题的时间刚好到了，这个答案没有计入。请看新的一题："
NOT_IN_QUIZ = "现在没有进行中的答题。发「答题」开始今天的答题，发「错题」复习错题。"
CONTEST_RUNNING = "群里正在进行知识竞赛，个人答题请私聊我，或等竞赛结束后再来。"


@group.on_init
def _check(app) -> None:
    QuizSettings.from_config(app.config)       # a malformed QUIZ_* setting stops the start
    answers.load_synonyms()                    # so does a malformed answer_synonyms.yaml


def _answer(ctx, data: dict, text: str) -> Turn | None:
    if _contest_running(ctx):
        return None                             # the group's contest takes the answers; this quiz waits
    word = text.strip()
    if word in SKIP_WORDS:
        return _settle(ctx, data, Outcome.SKIPPED, word)
    if word in END_WORDS:
        return Turn(_finish(ctx, data), END)
    bq = quiz_session.current(data, ctx.app)
    if bq is None:                              # the question left its pack since it was asked
        return _settle(ctx, data, Outcome.SKIPPED, "")
    q = bq.question
    try:
        right = answers.grade(q.type, q.answer, word, options=q.options)
    except answers.UnreadableReply as exc:
        if _is_command(ctx, word, q.type):
            return None                         # routed as a command; the question waits
        return Turn(quiz_text.hint(bq, str(exc), number=data["i"] + 1, total=len(data["refs"]),
                                   limit_seconds=data["lim"]), STEP)
    if not right and _is_command(ctx, word, q.type):
        return None
    if quiz_session.crossed_a_time_out(data, ctx.now):
        return Turn(f"{LATE}\n\n{quiz_session.ask(data, ctx.app)}", STEP)
    return _settle(ctx, data, Outcome.RIGHT if right else Outcome.WRONG, word)


def _farewell(ctx, data: dict) -> str:
    """取消 inside a quiz ends it like 结束: the summary of what was answered."""
    return _finish(ctx, data)


QUIZ = group.flow(Flow(quiz_session.FLOW, {STEP: _answer}, ttl_seconds=quiz_session.TTL_SECONDS,
                       on_cancel=_farewell))


@group.command("答题", aliases=("每日答题", "开始答题", "做题"), summary="开始今天的答题：每次几道题，答完看解析",
               example="答题")
def start_quiz(ctx):
    return _start(ctx, QuizMode.DAILY)


@group.command("错题", aliases=("错题本", "复习错题", "错题复习"), summary="复习错题本里到期的题目")
def start_review(ctx):
    return _start(ctx, QuizMode.REVIEW)


@group.command("跳过", aliases=("跳过本题",), summary="答题时跳过当前这道题（会放进错题本）")
def skip_outside(ctx):
    return Reply(NOT_IN_QUIZ)


@group.command("结束答题", aliases=("结束", "交卷"), summary="提前结束答题，看看这次的成绩")
def end_outside(ctx):
    return Reply(NOT_IN_QUIZ)


def _start(ctx, mode: QuizMode) -> Reply:
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    state = ctx.conversation.state
    if state is not None and state.flow == quiz_session.FLOW:
        return Reply("您正在答题，接着答这一题：\n\n" + quiz_session.ask(state.data, ctx.app))
    if _contest_running(ctx):
        return Reply(CONTEST_RUNNING)
    settings = QuizSettings.from_config(ctx.config)
    refs, why_none = _draw(ctx, mode, settings)
    if not refs:
        return Reply(why_none)
    quiz_id = quiz_session.new_quiz_id(mode, ctx.user_id, ctx.now, f"{ctx.inbound.channel}:{ctx.inbound.msg_id}")
    data = quiz_session.new_data(quiz_id=quiz_id, mode=mode, refs=refs, now=ctx.now,
                                 limit=settings.limit(in_group=ctx.is_group))
    first = quiz_session.ask(data, ctx.app)
    ctx.conversation.start(QUIZ, STEP, data)
    _start_timer(ctx, data)
    title = "开始今天的答题" if mode is QuizMode.DAILY else "开始复习错题"
    return Reply(f"{title}，共 {len(refs)} 题。\n\n{first}")


def _contest_running(ctx) -> bool:
    """A group contest is open in this chat: its answers must not be read as a personal quiz's."""
    if not ctx.is_group:
        return False
    running = contest.find(redis_store.get_redis(ctx.app), ctx.inbound.chat_id)
    return running is not None and running.running


def _draw(ctx, mode: QuizMode, settings: QuizSettings) -> tuple[list[str], str]:
    """The questions to ask, or none and what to say instead."""
    if mode is QuizMode.REVIEW:
        refs = quiz_draw.draw_review(ctx.session, userid=ctx.user_id, now=ctx.now,
                                     count=settings.review_questions, app=ctx.app)
        return refs, "" if refs else _nothing_due(ctx)
    done = quiz_session.finished_daily(ctx.session, ctx.user_id, ctx.now)
    if done is not None:
        return [], _already_done(ctx, done)
    member_cohorts = cohorts.get_rules(ctx.app).cohorts_of(ctx.member, today=ctx.now.date())
    refs = quiz_draw.draw_daily(ctx.session, userid=ctx.user_id, cohorts=member_cohorts, now=ctx.now,
                                count=settings.questions, app=ctx.app)
    return refs, "" if refs else NOTHING_LEFT


def _settle(ctx, data: dict, outcome: Outcome, reply: str) -> Turn:
    if data["lim"]:
        quiz_timer.stop_timer(data["id"], data["i"])
    moved = quiz_session.settle(ctx.session, data, userid=ctx.user_id, outcome=outcome, reply=reply,
                                now=ctx.now, app=ctx.app)
    if moved.open_index is None:
        return Turn(moved.text, END)
    _start_timer(ctx, data)
    return Turn(moved.text, STEP)


def _finish(ctx, data: dict) -> str:
    if data["lim"]:
        quiz_timer.stop_timer(data["id"], data["i"])
    return quiz_session.finish(ctx.session, data, userid=ctx.user_id, now=ctx.now, app=ctx.app)


def _start_timer(ctx, data: dict) -> None:
    if data["lim"]:
        quiz_timer.start_timer(channel=ctx.inbound.channel, chat_id=ctx.inbound.chat_id or ctx.user_id,
                               userid=ctx.user_id, quiz_id=data["id"], index=data["i"], seconds=data["lim"],
                               in_group=ctx.is_group)


def _is_command(ctx, text: str, qtype: str) -> bool:
    """Whether text is clearly a command (打卡, 帮助 …) rather than an answer.

    Any text is a possible fill-in answer, so there only an exact command name as the first word counts.
    """
    registry = get_registry(ctx.app)
    if qtype == "fill":
        return registry.find(text.partition(" ")[0]) is not None
    return registry.match(text)[0] is not None


def _already_done(ctx, quiz_id: str) -> str:
    rows = quiz_record.answers_in(ctx.session, quiz_id, ctx.user_id)
    right = sum(row.outcome == Outcome.RIGHT.value for row in rows)
    lines = [f"今天的答题已经完成了（答对 {right}/{len(rows)} 题），明天再来吧！"]
    if review.due_refs(ctx.session, ctx.user_id, ctx.now, limit=1):
        lines.append("错题本里有到期的题，发「错题」可以复习。")
    else:
        lines.append("想巩固一下的话，可以发「错题」看看错题本。")
    return "\n".join(lines)


def _nothing_due(ctx) -> str:
    upcoming = review.next_due(ctx.session, ctx.user_id, ctx.now)
    if upcoming is not None:
        return f"现在没有到期的错题。下一道在 {quiz_text.moment(upcoming)} 到期，到时再发「错题」。"
    if review.count_cards(ctx.session, ctx.user_id):
        return "现在没有到期的错题。"
    return "您的错题本还是空的。答错、跳过或超时的题会放进错题本，按遗忘规律安排复习。"
