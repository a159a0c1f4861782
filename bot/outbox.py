"""RQ send jobs and the helpers handlers call to enqueue them; every WeCom send goes through here.

Handlers call ``enqueue_to_members`` / ``enqueue_to_group`` with a ``push_id`` that names the push
(the same push_id never reaches a recipient twice, see ``bot.ledger.Ledger``). The jobs run on
the OUTBOX queue: a retryable WeCom error raises so RQ's ``Retry`` backs off (``DEFAULT_RETRY``);
recipients over a rate limit are re-enqueued for the time they may be sent ("the scheduler waits
instead of dropping"); other errcodes are logged at ERROR and kept in the ledger as ``failed``.
"""
from __future__ import annotations

import hashlib
import math
import re
from collections import defaultdict
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime, timedelta, timezone
from typing import Callable, Iterable, Mapping

from flask import current_app
from sqlalchemy.orm import Session

from bot import clock, db, redis_store
from bot.ledger import Ledger
from bot.ledger import recent_failures as _recent_failures
from bot.messenger import Messenger, SendResult
from bot.outgoing import Message
from bot.models.messaging import Delivery
from bot.tasks import OUTBOX, Enqueued, app_job, get_jobs
from bot.wecom import WeComClient, get_clients

RESCHEDULE_GRANULARITY_S = 5     # deferred recipients whose retry times fall in one slot share a job
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def get_messenger() -> Messenger:
    """A Messenger for the current app context (its SQL session, Redis, clients and clock)."""
    clients = get_clients()
    config = current_app.config
    return Messenger(session=db.get_session(), redis=redis_store.get_redis(), app_client=clients.app,
                     webhook=clients.webhook, webhooks=config.get("WECOM_GROUP_WEBHOOKS") or {},
                     agent_id=config.get("WECOM_AGENT_ID"), now=clock.now)


# -- jobs ----------------------------------------------------------------------------------------

@app_job
def deliver_to_members(*, push_id: str, userids: list[str], message: dict) -> dict:
    """Send ``message`` (``Message.to_dict()``) to members; idempotent per (push_id, userid).

    Raises:
        RetryableWeComError: nothing went out for some members; RQ retries the job.
    """
    result = get_messenger().send_to_members(push_id, userids, Message.from_dict(message))
    reschedule_deferred(result, lambda ids, at, job_id: get_jobs().enqueue(
        deliver_to_members, job_id=job_id, queue=OUTBOX, at=at, on_failure=record_exhausted_retries,
        push_id=push_id, userids=sorted(ids), message=message), "members", push_id)
    return result.summary()


@app_job
def deliver_to_group(*, push_id: str, chat: str, message: dict) -> dict:
    """Send ``message`` to the group ``chat`` via its webhook; idempotent per (push_id, chat).

    Raises:
        RetryableWeComError: nothing went out; RQ retries the job.
    """
    result = get_messenger().send_to_group(push_id, chat, Message.from_dict(message))
    reschedule_deferred(result, lambda ids, at, job_id: get_jobs().enqueue(
        deliver_to_group, job_id=job_id, queue=OUTBOX, at=at, on_failure=record_exhausted_retries,
        push_id=push_id, chat=chat, message=message), "group", push_id)
    return result.summary()


# -- what handlers call --------------------------------------------------------------------------

def enqueue_to_members(push_id: str, userids: Iterable[str], message: Message | dict, *,
                       at: datetime | None = None) -> Enqueued:
    """Queue one push to members (now, or at ``at``); a second call for the same push and ids is a no-op.

    A unit with no app API but a smart bot's long connection reaches each member in his one-to-one
    conversation instead (``bot.longconn.outbound``).
    """
    ids = sorted(set(userids))
    body = message.to_dict() if isinstance(message, Message) else dict(message)
    if _through_conversations(current_app.config):
        from bot.longconn.outbound import enqueue_to_member_conversations

        return enqueue_to_member_conversations(push_id, ids, body, at=at)
    return get_jobs().enqueue(deliver_to_members, job_id=job_id("members", push_id, *ids), queue=OUTBOX,
                              on_failure=record_exhausted_retries,
                              at=at, push_id=push_id, userids=ids, message=body)


def app_token_fetched_meanwhile() -> AbstractContextManager:
    """For a caller about to queue sends to members: the app API's access token is fetched while it
    prepares them (``WeComClient.token_fetched_meanwhile``), so their first ``message/send`` does not
    wait for ``gettoken``. Nothing is fetched when members are not reached through the app API."""
    client = get_clients().app
    if not isinstance(client, WeComClient) or _through_conversations(current_app.config):
        return nullcontext()
    return client.token_fetched_meanwhile()


def _through_conversations(config) -> bool:
    return not config.get("WECOM_AGENT_ID") and bool(config.get("WECOM_BOT_ID"))


def enqueue_to_group(push_id: str, chat: str, message: Message | dict, *,
                     at: datetime | None = None) -> Enqueued:
    """Queue one push to a group (chat id or group name in ``WECOM_GROUP_WEBHOOKS``)."""
    body = message.to_dict() if isinstance(message, Message) else dict(message)
    return get_jobs().enqueue(deliver_to_group, job_id=job_id("group", push_id, chat), queue=OUTBOX,
                              on_failure=record_exhausted_retries,
                              at=at, push_id=push_id, chat=chat, message=body)


@app_job
def record_exhausted_retries(job, connection, exc_type, exc_value, traceback) -> None:
    """RQ failure callback of the send jobs: after the last try, the ledger records who never got
    the push, so the admins' failure alert (jobs/alerts.py) tells them."""
    if job.retries_left:
        return      # RQ will try again
    kwargs = job.kwargs
    recipients = [f"user:{u}" for u in kwargs.get("userids", ())] or [f"group:{kwargs.get('chat')}"]
    errcode = getattr(exc_value, "errcode", None)
    error = f"多次重试后仍失败：{exc_value}"
    msgtype = (kwargs.get("message") or {}).get("msgtype", "")
    Ledger(db.get_session(), clock.now).give_up(kwargs["push_id"], recipients, msgtype, errcode, error)


def recent_failures(session: Session, limit: int = 20) -> list[Delivery]:
    """The latest failed deliveries (push_id, recipient, errcode, error), newest first."""
    return _recent_failures(session, limit)


def job_id(kind: str, push_id: str, *parts: str) -> str:
    """A deterministic RQ job id (RQ allows only letters, digits, ``_`` and ``-``).

    Shaped ``send-<kind>-<readable push id>-<hash of everything>``.
    """
    digest = hashlib.sha256("\x1f".join((kind, push_id, *parts)).encode("utf-8")).hexdigest()[:20]
    readable = _UNSAFE.sub("_", push_id).strip("_")[:40] or "push"
    return f"send-{kind}-{readable}-{digest}"


# -- deferring -----------------------------------------------------------------------------------

def reschedule_deferred(result: SendResult, enqueue: Callable[[list[str], datetime, str], Enqueued],
                kind: str, push_id: str) -> None:
    """Enqueue one job per retry slot for the deferred recipients.

    The job id holds the slot time, so running this job twice does not double the follow-up. The
    slot is on the app clock; the scheduler gets the same delay from real time.
    """
    for slot, ids in _slots(result.deferred).items():
        delay = max(slot - result.checked_at, 0.0)
        at = datetime.now(timezone.utc) + timedelta(seconds=delay)
        enqueue(ids, at, job_id(kind, push_id, f"at{slot}", *sorted(ids)))


def _slots(deferred: Mapping[str, float]) -> dict[int, list[str]]:
    slots: dict[int, list[str]] = defaultdict(list)
    for recipient, retry_at in deferred.items():
        slot = math.ceil(retry_at / RESCHEDULE_GRANULARITY_S) * RESCHEDULE_GRANULARITY_S
        slots[slot].append(recipient)
    return dict(sorted(slots.items()))
