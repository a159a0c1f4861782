"""Group contests (竞赛) on time: the job that closes each question, and the messages the group sees.

``close_question`` runs at the question's deadline (scheduled with a deterministic job id). It
moves the contest on (handlers/_services/contest.py ``close``), stores the question's answers, and
posts one message to the group: the right answer with its explanation and how many got it right,
followed by the next question (whose close it schedules) or, after the last one, the leaderboard.
Every step is idempotent (the state change is a compare-and-set, stored rows are skipped, the
post has a push id, the next close a unique job id), so a job that fires twice or late, or is
retried after a crash, does nothing twice. One message per question keeps a contest well inside
the webhook's 20 messages a minute.
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import current_app

from bot import clock, db, redis_store
from bot.outbox import enqueue_to_group
from bot.outgoing import Text
from bot.tasks import Enqueued, app_job, get_jobs
from handlers._services import contest as service
from handlers._services.contest import BY_CLOSE, Answer, Closing, Contest, Standings

log = logging.getLogger(__name__)

TYPE_NAMES = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}
HOW_TO_ANSWER = {"single": "回复选项字母，如「@{bot} B」", "multiple": "回复全部正确选项，如「@{bot} AC」",
                 "truefalse": "回复「对」或「错」", "fill": "直接回复答案"}
RULES = "规则：@我 回复答案，每人每题以第一次回答为准；答对得 50–100 分，越快越高，答错不得分；截止后公布答案。"
LEADERBOARD_SIZE = 10


@app_job
def close_question(*, chat_id: str, contest_id: str, index: int) -> str:
    """Close question ``index`` of contest ``contest_id`` in ``chat_id`` and post what comes next.

    Returns:
        The ``Closing`` value: done, again (an earlier run moved it on; its side effects are redone,
        each idempotently), stale (the contest was stopped) or gone.
    """
    redis = redis_store.get_redis()
    contest = service.find(redis, chat_id)
    if contest is None or contest.id != contest_id:
        return Closing.GONE.value
    outcome = service.close(redis, contest, index, now=clock.now())
    if outcome not in (Closing.DONE, Closing.AGAIN):
        log.info("contest %s question %d: close was %s, nothing to do", contest_id, index, outcome.value)
        return outcome.value
    session = db.get_session()
    answers = service.answers_of(redis, contest, index)
    service.record_answers(session, contest, index, answers, _zone())
    session.commit()
    after = service.find(redis, chat_id)
    parts = [render_results(contest, index, answers, service.names_of(session, [a.userid for a in answers]))]
    if after is not None and after.running and after.index == index + 1:
        parts.append(render_question(after))
        schedule_close(after)
    elif after is not None and after.ended_by == BY_CLOSE:
        parts.append(render_leaderboard(service.standings(redis, session, after), finished=True))
    enqueue_to_group(f"{contest_id}-q{index + 1}-closed", chat_id, Text("\n\n".join(parts)))
    return outcome.value


def schedule_close(contest: Contest) -> Enqueued:
    """Schedule the close of the contest's open question at its deadline (once per question)."""
    return get_jobs().enqueue(close_question, job_id=f"contest-close-{contest.id}-{contest.index}",
                              at=contest.deadline(_zone()), chat_id=contest.chat_id, contest_id=contest.id,
                              index=contest.index)


# -- what the group reads ------------------------------------------------------------------------

def render_question(contest: Contest) -> str:
    """The open question as posted: number, type, time limit, options and how to answer."""
    bank_question = contest.question()
    if bank_question is None:
        return f"【答题竞赛 第 {contest.index + 1}/{len(contest.questions)} 题】题目已从题库中移除，本题不计分。"
    question = bank_question.question
    bot = (current_app.config.get("BOT_NAMES") or ("思政助手",))[0]
    lines = [f"【答题竞赛 第 {contest.index + 1}/{len(contest.questions)} 题】"
             f"{TYPE_NAMES[question.type]} · 限时 {contest.seconds} 秒",
             question.text]
    lines += [f"{letter}. {text}" for letter, text in question.options.items()]
    lines.append(f"请 @{bot} {HOW_TO_ANSWER[question.type].format(bot=bot)}。")
    return "\n".join(lines)


def render_results(contest: Contest, index: int, answers: list[Answer], names: dict[str, tuple[str, str]]) -> str:
    """The right answer, the explanation and how the group did on question ``index``."""
    bank_question = contest.question(index)
    header = f"【第 {index + 1} 题揭晓】"
    if bank_question is None:
        return header + "题目已从题库中移除。"
    question = bank_question.question
    right = [a for a in answers if a.correct]
    lines = [f"{header}正确答案：{question.answer_label}", f"解析：{question.explanation}",
             f"本题 {len(answers)} 人作答，{len(right)} 人答对。"]
    if right:
        fastest = right[0]
        lines.append(f"最快答对：{names.get(fastest.userid, (fastest.userid,))[0]}"
                     f"（{fastest.elapsed_ms / 1000:.1f} 秒，+{fastest.points} 分）")
    return "\n".join(lines)


def render_leaderboard(standings: Standings, *, finished: bool) -> str:
    """Top players and each department's average (over the members who took part)."""
    title = "【答题竞赛结束 · 排行榜】" if finished else "【答题竞赛已提前结束 · 当前排行】"
    if not standings.players:
        return title + "\n本场没有人作答。"
    lines = [f"{title}共 {standings.participants} 人参赛"]
    lines += [f"{rank}. {name}（{department or '未分部门'}）{points} 分"
              for rank, (name, department, points) in enumerate(standings.players, start=1)]
    lines.append("各部门平均分（按参赛人数）：")
    lines += [f"· {department} {average:g} 分（{players} 人）" for department, average, players in standings.departments]
    lines.append("感谢大家参与！")
    return "\n".join(lines)


def _zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["TIMEZONE"])
