"""Time limits of quiz questions: asking a question schedules ``time_out_question`` for its deadline.

The job is harmless whenever it runs: it acts only while the member's flow is still at that quiz
and that question (``flows.key_of`` + ``flows.load``), and its save is a compare-and-set, so an answer
that arrives first — or at the same moment — wins and the job does nothing. Answering also deletes
the scheduled job, which saves the worker a wake-up but is not needed for correctness.
"""
from __future__ import annotations

import hashlib
import logging
from datetime import datetime, timedelta, timezone

from rq.exceptions import NoSuchJobError
from rq.job import Job

from bot import clock, db, flows, redis_store
from bot.models.quiz import Outcome
from bot.outbox import enqueue_to_group, enqueue_to_members
from bot.outgoing import Text
from bot.tasks import Enqueued, app_job, get_jobs
from handlers._services import quiz_session

log = logging.getLogger(__name__)


def timer_job_id(quiz_id: str, index: int) -> str:
    """``quiz-timer-<hash of the quiz id>-<question index>`` (RQ ids allow letters, digits, - and _)."""
    return f"quiz-timer-{hashlib.sha256(quiz_id.encode('utf-8')).hexdigest()[:20]}-{index}"


def start_timer(*, channel: str, chat_id: str, userid: str, quiz_id: str, index: int, seconds: int,
                in_group: bool) -> Enqueued:
    """Schedule the time-out of question ``index`` of a quiz ``seconds`` from now (once per question)."""
    # real time, not the app clock: the RQ scheduler runs on real time (cf. bot.outbox.reschedule_deferred)
    at = datetime.now(timezone.utc) + timedelta(seconds=seconds)
    return get_jobs().enqueue(time_out_question, job_id=timer_job_id(quiz_id, index), at=at, channel=channel,
                              chat_id=chat_id, userid=userid, quiz_id=quiz_id, index=index, in_group=in_group)


def stop_timer(quiz_id: str, index: int) -> None:
    """Delete the scheduled time-out of a question that was answered (nothing when there is none)."""
    try:
        Job.fetch(timer_job_id(quiz_id, index), connection=redis_store.get_redis()).delete()
    except NoSuchJobError:
        pass


@app_job
def time_out_question(*, channel: str, chat_id: str, userid: str, quiz_id: str, index: int,
                      in_group: bool) -> bool:
    """Record question ``index`` of the quiz as missed, move the quiz on and push what comes next.

    Args:
        channel, chat_id, userid: where the quiz runs (the flow key).
        quiz_id, index: the question this time-out is for; anything else open makes the job a no-op.
        in_group: push to the group (mentioning the member) rather than to the member.

    Returns:
        True when the question timed out now; False when it had been answered (or the quiz is gone).
    """
    redis = redis_store.get_redis()
    key = flows.key_of(channel, chat_id, userid)
    state = flows.load(redis, key)
    if state is None or state.flow != quiz_session.FLOW or state.data.get("id") != quiz_id \
            or state.data.get("i") != index:
        return False
    session = db.get_session()
    moved = quiz_session.settle(session, state.data, userid=userid, outcome=Outcome.MISSED, reply="",
                                now=clock.now())
    try:
        flows.save(redis, key, state if moved.open_index is not None else None, read_rev=state.rev,
                   ttl_seconds=quiz_session.TTL_SECONDS)
    except flows.StaleFlow:
        log.info("quiz %s question %s: answered while timing out; the answer wins", quiz_id, index)
        session.rollback()
        return False
    session.commit()
    push_id = f"quiz-timeout-{quiz_id}-{index}"
    if in_group:
        enqueue_to_group(push_id, chat_id, Text(moved.text, mentioned=(userid,)))
    else:
        enqueue_to_members(push_id, [userid], Text(moved.text))
    if moved.open_index is not None:
        start_timer(channel=channel, chat_id=chat_id, userid=userid, quiz_id=quiz_id, index=moved.open_index,
                    seconds=state.data["lim"], in_group=in_group)
    return True
