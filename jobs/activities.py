"""Activity notices and reminders: the 活动通知 on publication, in each member's form; reminders the
day before and 30 minutes before, to registrants only, once each; and SATISFACTION_AFTER the start,
one invitation to the satisfaction survey (问卷), once.

The notice is fanned out like a content push (jobs/pushes.py ``plan``): the channel policy and each
member's 我要语音/我要文字 choose the form, members with 免打扰 on are left out, each distinct (form,
voice rate) is rendered once and sent as one delivery (``bot.outgoing.Series``) under the ledger id
``activity-<id>-notice-0``, so a retried or repeated job reaches nobody twice.

A schedule entry runs ``send_due_activity_reminders`` every minute. It looks for activities whose
reminder is due and not yet marked sent, queues the reminder and marks it. Exactly once holds even
when the mark is lost (a crash between queueing and commit, a second run): the push id names the
activity and the reminder kind, and the delivery ledger sends one push id to a member only once.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Callable

from sqlalchemy import select

from bot import clock, cohorts, db, keys, redis_store
from bot.models.activities import Activity, RegistrationStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Message, Series, Text
from bot.sqlutil import chunks
from bot.tasks import app_job, get_jobs
from bot.voice import VoiceError
from content_packs.schema import PushItem
from handlers._services import activities, activity_notice, surveys
from handlers._services.activity_text import when, where
from handlers._services.push_render import render_with_closing
from jobs.pushes import plan

log = logging.getLogger(__name__)
DAY_BEFORE = timedelta(hours=24)
SOON = timedelta(minutes=30)
SATISFACTION_AFTER = surveys.ACTIVITY_SURVEY_AFTER      # the satisfaction survey invitation, after the start
NOTICE_BATCH = 1000                                      # members per message/send call
# (kind, how long before the start it is due, the column marking it sent)
REMINDERS = (("day-before", DAY_BEFORE, Activity.day_before_sent_at), ("soon", SOON, Activity.soon_sent_at))


def activity_reminder_entries(entry: Callable) -> tuple:
    """The schedule entry of the reminder scan: every minute, but only while some published activity
    has not started yet, so idle minutes enqueue nothing. Read from Redis: the tick needs no SQL.

    Args:
        entry: jobs.schedule.Entry (passed in, as jobs/ modules do not import the schedule).
    """
    redis = redis_store.get_redis()
    now = clock.now().timestamp()
    after = SATISFACTION_AFTER.total_seconds()
    # kept until the satisfaction invitation is due (start + SATISFACTION_AFTER), with a minute to spare
    redis.zremrangebyscore(keys.ACTIVITY_STARTS, "-inf", f"({now - after - 60}")
    found = []
    if redis.zrangebyscore(keys.ACTIVITY_STARTS, now, "+inf", start=0, num=1):
        found.append(entry("activity-reminders", "* * * * *", send_due_activity_reminders))
    if redis.zrangebyscore(keys.ACTIVITY_STARTS, now - after - 60, now - after + 60, start=0, num=1):
        found.append(entry("activity-satisfaction", "* * * * *", invite_to_satisfaction_survey))
    return tuple(found)


def expect_reminders(activity: Activity) -> None:
    """Called on publication: the reminder scan runs until the activity starts."""
    redis_store.get_redis().zadd(keys.ACTIVITY_STARTS, {str(activity.id): activity.start.timestamp()})


def enqueue_notice(activity: Activity) -> None:
    """Queue the notice of a published activity, once per activity (the row must be committed first)."""
    get_jobs().enqueue(send_activity_notice, job_id=f"activity-notice-{activity.id}", activity_id=activity.id)


@app_job
def send_activity_notice(*, activity_id: int) -> dict:
    """Send the 活动通知 to the activity's audience, each member in his form.

    Args:
        activity_id: the published activity.

    Returns:
        Counts: queued members, muted, members per form.
    """
    session = db.get_session()
    activity = session.get(Activity, activity_id)
    if activity is None:
        log.warning("activity %s: gone before its notice was sent", activity_id)
        return {"queued": 0}
    now = clock.now()
    item = activity_notice.notice_item(activity, now)
    userids = activities.audience_userids(session, activity, rules=cohorts.get_rules(), today=now.date())
    the_plan = plan(session, item, userids, today=now.date())
    closing = activity_notice.closing_line(activity)
    for (form, rate), ids in the_plan.groups.items():
        message = Series.of(_render_notice(item, form, closing, rate))
        for part in chunks(ids, NOTICE_BATCH):
            enqueue_to_members(activity_notice.ledger_id(activity.id), part, message)
    log.info("activity %s: notice queued for %d members %s", activity_id, the_plan.size, the_plan.forms())
    return {"queued": the_plan.size, "muted": the_plan.muted, "forms": the_plan.forms()}


def _render_notice(item: PushItem, form: str, closing: str, rate: int | None) -> list[Message]:
    """The notice in ``form``; when speech cannot be made, the text form, so nobody misses the activity."""
    try:
        return render_with_closing(activity_notice.NOTICE_PACK, item, form, closing=closing, rate_wpm=rate)
    except VoiceError as exc:
        log.error("activity notice %s: voice failed (%s), sending text instead", item.id, exc)
        return render_with_closing(activity_notice.NOTICE_PACK, item, "text", closing=closing)


@app_job
def send_due_activity_reminders(*, due: str) -> int:
    """Queue every due reminder not yet sent; returns how many activities were reminded about.

    A day-before reminder not sent before the 30-minute one is due is dropped (the later one says
    the same); an activity that has started gets no reminder.

    Args:
        due: the ISO minute the schedule entry fired for (the clock decides what is due).
    """
    now = clock.now()
    session = db.get_session()
    reminded = 0
    for kind, ahead, sent_at in REMINDERS:
        query = select(Activity).where(sent_at.is_(None), Activity.starts_at > activities.utc(now),
                                       Activity.starts_at <= activities.utc(now + ahead))
        for activity in session.scalars(query).all():
            if kind == "day-before" and activity.start - now <= SOON:
                setattr(activity, sent_at.key, now)
                continue
            reminded += _remind(session, activity, kind, now)
            setattr(activity, sent_at.key, now)
    session.commit()
    return reminded


def _remind(session, activity: Activity, kind: str, now) -> int:
    userids = activities.userids_with(session, activity.id, RegistrationStatus.REGISTERED)
    if not userids:
        return 0
    head = "明天" if kind == "day-before" else "30 分钟后"
    text = (f"【活动提醒】您报名的「{activity.title}」{head}开始。\n时间：{when(activity, now)}\n"
            f"{'链接' if activity.online else '地点'}：{where(activity)}\n"
            f"签到时请发「签到 {activity.id} 签到码」。不能参加请发「取消报名 {activity.id}」。")
    enqueue_to_members(f"activity-{activity.id}-reminder-{kind}", userids, Text(text))
    log.info("activity %s: %s reminder queued for %d registrants", activity.id, kind, len(userids))
    return 1


@app_job
def invite_to_satisfaction_survey(*, due: str) -> int:
    """Invite the registrants and attendees of every activity whose start + SATISFACTION_AFTER falls in
    the minute ``due``; returns how many activities. The tick runs each minute once (catching up after
    downtime), and the push id per activity keeps a re-run from reaching anyone twice.

    Args:
        due: the ISO minute the schedule entry fired for.
    """
    if not surveys.activity_templates():
        return 0
    minute = datetime.fromisoformat(due) - SATISFACTION_AFTER
    session = db.get_session()
    query = select(Activity).where(Activity.starts_at > activities.utc(minute - timedelta(minutes=1)),
                                   Activity.starts_at <= activities.utc(minute))
    invited = 0
    for activity in session.scalars(query).all():
        userids = sorted({*activities.userids_with(session, activity.id, RegistrationStatus.REGISTERED),
                          *activities.userids_with(session, activity.id, *RegistrationStatus, attended=True)})
        if not userids:
            continue
        text = (f"【活动问卷】感谢参加「{activity.title}」！请花 1 分钟为这次活动打个分、提提建议：\n"
                "回复「问卷」开始填写，选填的题可以回复「跳过」。")
        enqueue_to_members(f"activity-{activity.id}-satisfaction", userids, Text(text))
        log.info("activity %s: satisfaction survey invitation queued for %d members", activity.id, len(userids))
        invited += 1
    return invited
