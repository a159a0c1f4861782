"""答题竞赛: an admin starts a timed contest in a group; members answer with @; 结束竞赛 stops it.

The start command's reply carries the first question; jobs/contest.py closes each question on
time and posts the answer, the next question and finally the leaderboard. Each answer is judged
here and counted once, atomically, in Redis (handlers/_services/contest.py). The reply to an answer
only says it was received: replies in a group are seen by everyone, so whether it was right is
revealed for all at once when the question closes.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from bot import redis_store
from bot.acl import Role, Where
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from content_packs.answers import fold
from handlers._services import contest as service
from handlers._services import question_bank
from jobs import contest as contest_jobs

group = CommandGroup("contest", title="答题竞赛")

USAGE = "用法：竞赛 <题库或主题> [题数] [每题秒数]，例如「竞赛 大坝安全 5 30」（默认 5 题、每题 30 秒）。"
ALREADY_RUNNING = "本群已经有一场竞赛在进行（第 {n}/{total} 题）。请等它结束，或发送「结束竞赛」后再开始新的一场。"
NO_WEBHOOK = ("本群还没有配置群机器人的推送地址（WECOM_GROUP_WEBHOOKS），竞赛无法按时发题和公布答案。"
              "请联系系统管理员配置后再试。")
NO_CONTEST = "本群目前没有进行中的竞赛。发送「竞赛 <题库或主题>」可以开始一场。"
RECEIVED = "已收到你对第 {n} 题的回答，截止后统一公布答案和得分。"
ALREADY_COUNTED = "你对第 {n} 题的回答已经记下了，以第一次回答为准。"
LATE = "抱歉，第 {n} 题已经截止，这次回答没有计分。请留意下一题。"
ENDED = "本场竞赛已经结束，这次回答没有计分。感谢参与！"
NOT_ON_ROSTER = "您不在本单位名册中，竞赛答题不计分。"
VERDICT_TEXTS = {service.Verdict.COUNTED: RECEIVED, service.Verdict.AGAIN: ALREADY_COUNTED,
                 service.Verdict.LATE: LATE, service.Verdict.ENDED: ENDED}


@group.command("竞赛", aliases=("答题竞赛", "知识竞赛", "开始竞赛", "contest"), role=Role.ADMIN, where=Where.GROUP,
               summary="在群里发起限时答题竞赛，按题库或主题出题，最后公布排行榜",
               args=[Arg("bank", label="题库或主题", required=False),
                     Arg("options", label="题数 每题秒数", required=False, rest=True)],
               example="竞赛 大坝安全 5 30")
def start_contest(ctx, bank=None, options=None):
    redis, chat_id = redis_store.get_redis(ctx.app), ctx.inbound.chat_id
    if (running := service.find(redis, chat_id)) is not None and running.running:
        return _already_running(running)
    if not bank:
        return Reply(f"请告诉我用哪个题库或主题。{USAGE}\n{_bank_list(ctx)}")
    try:
        count, seconds = service.parse_options(options)
    except ValueError as exc:
        return Reply(f"{exc}\n{USAGE}")
    questions = question_bank.matching(bank, ctx.app)
    if not questions:
        return Reply(f"没有找到题库或主题「{bank}」。\n{_bank_list(ctx)}")
    if chat_id not in (ctx.config.get("WECOM_GROUP_WEBHOOKS") or {}):
        return Reply(NO_WEBHOOK)
    contest_id = service.new_contest_id(chat_id, ctx.now, ctx.inbound.msg_id)
    contest = service.start(redis, chat_id=chat_id, contest_id=contest_id, title=_title(bank, questions),
                            questions=service.draw(questions, count, contest_id), seconds=seconds, now=ctx.now)
    if contest is None:         # another admin's start won the race
        return _already_running(service.find(redis, chat_id))
    contest_jobs.schedule_close(contest)
    fewer = f"（该题库共 {len(contest.questions)} 题）" if len(contest.questions) < count else ""
    return Reply(f"答题竞赛开始！题库：{contest.title}，共 {len(contest.questions)} 题{fewer}，每题 {seconds} 秒。\n"
                 f"{contest_jobs.RULES}\n\n{contest_jobs.render_question(contest)}")


@group.command("结束竞赛", aliases=("停止竞赛", "终止竞赛", "stopcontest"), role=Role.ADMIN, where=Where.GROUP,
               summary="提前结束本群正在进行的竞赛，并公布当前排行")
def stop_contest(ctx):
    redis = redis_store.get_redis(ctx.app)
    contest = service.stop(redis, ctx.inbound.chat_id)
    if contest is None:
        return Reply(NO_CONTEST)
    answers = service.answers_of(redis, contest, contest.index)
    service.record_answers(ctx.session, contest, contest.index, answers, ZoneInfo(ctx.config["TIMEZONE"]))
    standings = service.standings(redis, ctx.session, contest)
    return Reply(contest_jobs.render_leaderboard(standings, finished=False))


@group.listener
def answer_contest(ctx, text):
    """An @-message in a group with a contest: an answer to the open question, or None (not ours)."""
    if not ctx.is_group:
        return None
    redis = redis_store.get_redis(ctx.app)
    contest = service.find(redis, ctx.inbound.chat_id)
    bank_question = contest.question() if contest else None
    correct = service.judge(bank_question.question, text) if bank_question else None
    if correct is None:
        return None
    if not contest.running:
        return Reply(ENDED)
    if not ctx.on_roster:
        return Reply(NOT_ON_ROSTER)
    status, _ = service.submit(redis, contest, userid=ctx.user_id, reply=text, correct=correct, now=ctx.now)
    return Reply(VERDICT_TEXTS[status].format(n=contest.index + 1))


def _already_running(running) -> Reply:
    if running is None:
        return Reply("本群刚刚有一场竞赛开始了，请稍后再试。")
    return Reply(ALREADY_RUNNING.format(n=running.index + 1, total=len(running.questions)))


def _bank_list(ctx) -> str:
    packs = question_bank.quiz_packs(ctx.app)
    titles = "、".join(p.title for p in packs)
    topics = "、".join(question_bank.topics(ctx.app)[:12])
    return f"可用题库：{titles}。\n也可以按主题出题，如：{topics}。"


def _title(bank: str, questions: list[question_bank.BankQuestion]) -> str:
    """「防汛值班与应急处置」 for a pack, 「主题：水法」 for a topic."""
    wanted = fold(bank).casefold()
    if any(wanted == fold(t).casefold() for bq in questions for t in bq.topics):
        return f"主题「{bank}」"
    return "、".join(dict.fromkeys(bq.pack.title for bq in questions))
