"""The afternoon nudge, one-to-one, to active members who have not checked in on a workday."""
from __future__ import annotations

import logging
from datetime import date, datetime

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from bot import clock, db, workdays
from bot.ledger import Ledger
from bot.models import CheckIn, Leave, Member
from bot.models.core import MemberStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.tasks import app_job

log = logging.getLogger(__name__)

REMINDER = ("【打卡提醒】您好，今天还没有打卡哦～\n"
            "发送「打卡」就能完成；想记下今天的学习心得，可以这样发：打卡 今天学习了防汛应急预案")


@app_job
def remind_unchecked_members(*, due: str) -> int:
    """Remind every active member who has neither checked in nor is on leave today.

    Does nothing on weekends and holidays (``bot.workdays``), and nothing once the due day is over.
    Safe to run twice: the push id names the day, and the delivery ledger sends it to a member once.

    Args:
        due: the ISO minute the schedule entry fired for; its date is the day reminded about.

    Returns:
        How many members were newly queued for a reminder.
    """
    now = clock.now()
    due_at = datetime.fromisoformat(due)
    day = (due_at.astimezone(now.tzinfo) if due_at.tzinfo else due_at).date()
    if day != now.date():
        log.info("check-in reminder for %s skipped: that day is over", day)
        return 0
    if not workdays.is_workday(day):
        return 0
    session = db.get_session()
    push_id = f"checkin-reminder-{day.isoformat()}"
    userids = _not_yet_reminded(session, push_id, find_unchecked_members(session, day))
    if not userids:
        return 0
    enqueue_to_members(push_id, userids, Text(REMINDER))
    return len(userids)


def find_unchecked_members(session: Session, day: date) -> list[str]:
    """Userids of active (在职) members with no check-in on ``day`` and no leave covering it."""
    checked_in = exists().where(CheckIn.userid == Member.userid, CheckIn.day == day)
    on_leave = exists().where(Leave.userid == Member.userid, Leave.start_day <= day, Leave.end_day >= day)
    query = (select(Member.userid)
             .where(Member.status == MemberStatus.ACTIVE.value, ~checked_in, ~on_leave)
             .order_by(Member.userid))
    return list(session.scalars(query))


def _not_yet_reminded(session: Session, push_id: str, userids: list[str]) -> list[str]:
    # the outbox would skip them anyway; asking the ledger first keeps the returned count honest
    unsent = Ledger(session, clock.now).unsent(push_id, [f"user:{u}" for u in userids])
    return [u for u in userids if f"user:{u}" in unsent]
