"""Results of slow work for smart-bot conversations: an RQ send job on the OUTBOX queue.

The job goes through the Messenger (delivery ledger: at most once per push and conversation) and the
per-conversation limits (30/min, 1000/h, shared with replies); the message itself is sent with
``aibot_send_msg`` by the longconn process (``bot.longconn.relay``): text as markdown, a voice, image or
file after the socket's chunked upload (the bot's uploads: 30/min, 1000/h; media ids reused for 3 days).
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import clock, db, redis_store
from bot.ledger import Ledger
from bot.models.bindings import BindingStatus, SenderBinding
from bot.longconn.relay import WAIT_SECONDS, RelaySender
from bot.outbox import reschedule_deferred, get_messenger, job_id
from bot.outgoing import Message
from bot.ratelimit import Limit
from bot.tasks import OUTBOX, Enqueued, app_job, get_jobs

SINGLE, GROUP = 1, 2      # aibot_send_msg chat_type


def conversation_limits(bot_id: str) -> tuple[Limit, ...]:
    """wecom-longconn.md §7: per conversation ≤30/min and ≤1000/h, replies and pushes together."""
    return (Limit(f"aibot{bot_id}", 30, 60), Limit(f"aibot{bot_id}", 1000, 3600))


def upload_limits(bot_id: str) -> tuple[Limit, ...]:
    """wecom-longconn.md §7: media uploads over the socket, ≤30/min and ≤1000/h per bot."""
    return (Limit(f"aibot{bot_id}-upload", 30, 60), Limit(f"aibot{bot_id}-upload", 1000, 3600))


@app_job
def deliver_to_conversation(*, push_id: str, chatid: str, message: dict, chat_type: int | None = None) -> dict:
    """Send ``message`` (``Message.to_dict()``) into one conversation; idempotent per (push_id, chatid).

    Raises:
        RetryableWeComError: nothing went out (the longconn process is down, or WeCom is busy); RQ retries.
    """
    config = current_app.config
    bot_id = config["WECOM_BOT_ID"]
    sender = RelaySender(redis_store.get_redis(), bot_id,
                         wait_seconds=config.get("LONGCONN_RELAY_WAIT_SECONDS") or WAIT_SECONDS)
    result = get_messenger().send_to_conversation(push_id, chatid, Message.from_dict(message), sender,
                                                  limits=conversation_limits(bot_id), chat_type=chat_type,
                                                  upload_limits=upload_limits(bot_id))
    reschedule_deferred(result, lambda ids, at, next_id: get_jobs().enqueue(
        deliver_to_conversation, job_id=next_id, queue=OUTBOX, at=at, on_failure=record_exhausted_retries,
        push_id=push_id, chatid=chatid, message=message, chat_type=chat_type), "chat", push_id)
    return result.summary()


def enqueue_to_conversation(push_id: str, chatid: str, message: Message | dict, *, chat_type: int | None = None,
                            at: datetime | None = None) -> Enqueued:
    """Queue one message into a smart-bot conversation (a userid one-to-one, a chatid in a group)."""
    body = message.to_dict() if isinstance(message, Message) else dict(message)
    return get_jobs().enqueue(deliver_to_conversation, job_id=job_id("chat", push_id, chatid), queue=OUTBOX,
                              on_failure=record_exhausted_retries, at=at, push_id=push_id, chatid=chatid,
                              message=body, chat_type=chat_type)


def enqueue_to_member_conversations(push_id: str, userids: list[str], message: dict, *,
                                    at: datetime | None = None) -> Enqueued:
    """``enqueue_to_members`` for a unit with no app API: one job per member's one-to-one conversation.

    WeCom only lets the bot push into a conversation the member has opened (93006 otherwise), so a
    member who never wrote to the bot gets a failed ledger row that the admins' failure alert shows.
    """
    chats = member_conversations(db.get_session(), userids)
    queued = [enqueue_to_conversation(push_id, chats[userid], message, chat_type=SINGLE, at=at) for userid in userids]
    return Enqueued(job_id=queued[-1].job_id if queued else "", duplicate=all(q.duplicate for q in queued))


def member_conversations(session: Session, userids: list[str]) -> dict[str, str]:
    """Each member's one-to-one conversation id: the id WeCom sends him as (a confirmed binding's), else his userid."""
    bound = dict(session.execute(select(SenderBinding.userid, SenderBinding.external_id).where(
        SenderBinding.userid.in_(userids), SenderBinding.status == BindingStatus.CONFIRMED.value)).all())
    return {userid: bound.get(userid, userid) for userid in userids}


@app_job
def record_exhausted_retries(job, connection, exc_type, exc_value, traceback) -> None:
    """After the last try, the ledger records the conversation that never got the message."""
    if job.retries_left:
        return
    kwargs = job.kwargs
    msgtype = (kwargs.get("message") or {}).get("msgtype", "")
    Ledger(db.get_session(), clock.now).give_up(kwargs["push_id"], [f"chat:{kwargs['chatid']}"], msgtype,
                                                getattr(exc_value, "errcode", None), f"多次重试后仍失败：{exc_value}")
