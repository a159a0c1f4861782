"""Survey jobs: reminders to those who have not finished, and the needs analysis an admin asked for."""
from __future__ import annotations

import logging
import re
from datetime import datetime, time, timedelta
from typing import Callable
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import clock, cohorts, db
from bot.models import Member, OrgUnit
from bot.models.surveys import SurveyResponse
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.sqlutil import chunks
from bot.tasks import app_job
from content_packs import Pack
from content_packs.schema import SurveyReminder
from handlers._services import cohort_needs, needs, surveys

log = logging.getLogger(__name__)
NOTICE_BATCH = 1000        # members per job of a new survey's notice
REMINDER = ("【问卷提醒】《{title}》将于 {closes:%m月%d日} 截止，您还没有填完。\n"
            "发送「问卷」就能填写，已答的题会保留。{anonymous}谢谢您的参与！")
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def reminder_time(pack: Pack, reminder: SurveyReminder, zone: ZoneInfo) -> datetime:
    """When a reminder is due: ``days_before_close`` days before the last day, at ``at``, local time."""
    hour, minute = (int(part) for part in reminder.at.split(":"))
    day = pack.survey.closes - timedelta(days=reminder.days_before_close)
    return datetime.combine(day, time(hour, minute), tzinfo=zone)


def reminder_push_id(pack: Pack, at: datetime) -> str:
    """Names survey and reminder: the delivery ledger sends one push id to a member once."""
    return f"survey-reminder:{pack.id}:{at:%Y%m%d%H%M}"


def survey_reminder_entries(entry: Callable) -> list:
    """One schedule entry per reminder time still ahead (or just past, for the tick's catch-up).

    Args:
        entry: jobs.schedule.Entry (passed in so this module does not import the schedule).
    """
    zone = ZoneInfo(current_app.config["TIMEZONE"])
    since = clock.now() - timedelta(days=1)
    found = []
    for pack in surveys.all_surveys():
        for reminder in pack.survey.reminders:
            at = reminder_time(pack, reminder, zone)
            if at >= since and surveys.is_open(pack, at.date()):
                found.append(entry(f"survey-reminder-{pack.id}-{at:%Y%m%d%H%M}",
                                   f"{at.minute} {at.hour} {at.day} {at.month} *", remind_unfinished_respondents,
                                   {"survey_id": pack.id, "remind_at": at.isoformat()}))
    return found


@app_job
def remind_unfinished_respondents(*, due: str, survey_id: str, remind_at: str) -> int:
    """Remind the audience members who have not completed the survey; the tick runs this once per
    reminder time, and the push id (survey + time) keeps a re-run from reaching anyone twice.

    Args:
        due: the ISO minute the schedule entry fired for; it must be the reminder time ``remind_at``
            (the cron expression has no year, so next year's same day fires too and is skipped).
        survey_id: the survey pack.
        remind_at: the reminder time (ISO); not ``at``, which the job gateway reads as "run later".

    Returns:
        How many members were queued.
    """
    reminder_at, due_at = datetime.fromisoformat(remind_at), datetime.fromisoformat(due)
    if due_at.tzinfo is None:
        due_at = due_at.replace(tzinfo=reminder_at.tzinfo)
    pack = surveys.find_survey(survey_id)
    if pack is None or due_at != reminder_at or not surveys.is_open(pack, reminder_at.date()):
        return 0
    return _remind(db.get_session(), pack, reminder_at)


def _remind(session: Session, pack: Pack, at: datetime) -> int:
    userids = unfinished_members(session, pack, at)
    if not userids:
        return 0
    text = REMINDER.format(title=pack.title, closes=pack.survey.closes,
                           anonymous="本问卷匿名填写。" if pack.survey.anonymous else "")
    enqueue_to_members(reminder_push_id(pack, at), userids, Text(text))
    log.info("survey %s: reminder %s queued for %d members", pack.id, at.isoformat(), len(userids))
    return len(userids)


@app_job
def announce_survey(*, survey_id: str, text: str) -> int:
    """Tell the audience of a survey just written in chat about it (``text``), in batches of NOTICE_BATCH;
    the push id names the survey, so a re-run reaches nobody twice. Returns how many members were queued."""
    pack = surveys.find_survey(survey_id)
    if pack is None:
        return 0
    userids = unfinished_members(db.get_session(), pack, clock.now())
    for batch in chunks(userids, NOTICE_BATCH):
        enqueue_to_members(f"survey-notice:{pack.id}", batch, Text(text))
    return len(userids)


def audience_size(session: Session, pack: Pack, at: datetime) -> int:
    """How many members the survey is for (cohorts, departments), one COUNT."""
    return session.scalar(select(func.count()).select_from(_audience(pack, at).subquery()))


def unfinished_members(session: Session, pack: Pack, at: datetime) -> list[str]:
    """Userids in the survey's audience (cohorts, departments) who have not completed it."""
    done = set(session.scalars(select(SurveyResponse.respondent).where(SurveyResponse.survey_id == pack.id,
                                                                       SurveyResponse.completed_on.is_not(None))))
    members = list(session.scalars(_audience(pack, at).order_by(Member.userid)))
    if not done:                     # a new survey: nobody to leave out, no key to work out per member
        return members
    secret = surveys.salt_of(current_app.config)
    return [u for u in members if surveys.respondent_key(secret, pack.id, u) not in done]


def _audience(pack: Pack, at: datetime):
    query = select(Member.userid)
    if pack.audience:
        query = query.where(cohorts.get_rules().clause(pack.audience, today=at.date()))
    if pack.survey.departments:
        query = query.where(Member.department_id.in_(
            select(OrgUnit.id).where(OrgUnit.name.in_(pack.survey.departments))))
    return query


def analysis_job_id(survey_id: str, userid: str, now: datetime) -> str:
    """One analysis per survey, admin and minute: a second 需求分析 in the same minute is not queued again."""
    return f"needs-{_UNSAFE.sub('_', survey_id)}-{_UNSAFE.sub('_', userid)}-{now:%Y%m%d%H%M}"


@app_job
def analyse_needs(*, survey_id: str, admin_userid: str, asked_at: str) -> str:
    """Run the needs analysis of a survey, keep each cohort's needs for the scheduled pushes' choice
    of content, and send the report to the admin who asked.

    Returns:
        The report text (also sent).
    """
    pack = surveys.find_survey(survey_id)
    if pack is None:
        log.warning("needs analysis: survey %s is gone", survey_id)
        return ""
    session = db.get_session()
    analysis = needs.analyse(needs.voices_of(session, pack))
    report = needs.render(pack, analysis)
    if analysis.voices:
        # what the cohorts asked for now steers their scheduled pushes (push_pick.pick_next)
        stored = cohort_needs.store(session, analysis.topics_by_cohort(), cohorts=cohorts.get_rules().names,
                                    survey_id=pack.id, now=clock.now())
        session.commit()
        report += "\n\n" + needs.render_steering(stored)
    stamp = datetime.fromisoformat(asked_at).astimezone(clock.now().tzinfo)
    enqueue_to_members(f"needs-analysis:{pack.id}:{admin_userid}:{stamp:%Y%m%d%H%M}", [admin_userid], Text(report))
    return report
