"""Surveys (问卷) without chat text: who is asked, reading replies, storing answers, counting results."""
from __future__ import annotations

import hashlib
import hmac
import dataclasses
import re
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import cohorts as cohort_rules
from bot import db
from bot.models import Member
from bot.models.activities import Activity, ActivityRegistration, RegistrationStatus
from bot.models.surveys import SurveyAnswer, SurveyResponse
from content_packs import Pack, get_packs
from content_packs.schema import ACTIVITY_PLACEHOLDER, SURVEY_LETTERS, SurveyQuestion
from handlers._services import survey_drafts

SCALE = range(1, 6)
_CN_NUMBERS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8}
_SEPARATORS = re.compile(r"[\s,，、;；/和及]+")
_LEADING = re.compile(r"^(?:我选|我觉得|选择|选项|选|答案是|打)\s*[:：]?\s*")
_TRAILING = ".。!！~～"
_SCALE_REPLY = re.compile(r"^(\d|[一二两三四五六七八九十])\s*(?:分|星|颗星)?$")
TEXT_LIMIT = 1000      # characters kept of a free-text answer
ACTIVITY_SURVEY_AFTER = timedelta(hours=2)   # per-activity surveys: invited (and offered) this long after the start
ACTIVITY_SURVEY_DAYS = timedelta(days=14)    # … and offered by 问卷 until this long after the start


class Unreadable(ValueError):
    """A reply that does not answer the question; the message says (in Chinese) how to answer."""


@dataclass(frozen=True)
class Respondent:
    """Who answers, as stored with each answer: the userid only for named surveys."""

    userid: str
    cohorts: tuple[str, ...]
    department: str


def respondent_of(app: Flask, member: Member, today: date) -> Respondent:
    names = cohort_rules.get_rules(app).cohorts_of(member, today=today)
    return Respondent(member.userid, tuple(names), member.department.name if member.department else "")


# -- which surveys ---------------------------------------------------------------------------------

def all_surveys(app: Flask | None = None) -> list[Pack]:
    """Every survey, from packs (but the per-activity templates) and written in chat (新建问卷),
    oldest opening first."""
    packs = [pack for pack in get_packs(app).values() if pack.kind == "survey" and not pack.survey.per_activity]
    packs += survey_drafts.chat_surveys(db.get_session())
    return sorted(packs, key=lambda pack: (pack.survey.opens, pack.id))


def activity_templates(app: Flask | None = None) -> list[Pack]:
    """The survey packs asked once per activity (``per_activity: true``), by id."""
    return sorted((pack for pack in get_packs(app).values() if pack.kind == "survey" and pack.survey.per_activity),
                  key=lambda pack: pack.id)


def activity_ref(template: Pack, activity_id: int) -> str:
    """The stored survey id of a template asked about one activity: ``<pack id>:<activity id>``."""
    return f"{template.id}:{activity_id}"


def for_activity(template: Pack, activity: Activity) -> Pack:
    """The template as asked about ``activity``: its own id (so answers group per activity), the
    activity's title in the first question and in the survey's title."""
    first, *rest = template.survey.questions
    first = first.model_copy(update={"text": first.text.replace(ACTIVITY_PLACEHOLDER, activity.title)})
    survey = template.survey.model_copy(update={"questions": (first, *rest)})
    manifest = template.manifest.model_copy(update={"id": activity_ref(template, activity.id),
                                                    "title": f"{template.title}·{activity.title}"})
    return dataclasses.replace(template, manifest=manifest, survey=survey)


def find_survey(ref: str, app: Flask | None = None, *, session: Session | None = None) -> Pack | None:
    """A survey by pack id, by title, or by a part of its title that only one survey has; or a
    per-activity survey by ``<pack id>:<activity id>``."""
    ref = unicodedata.normalize("NFKC", ref or "").strip().strip("《》<>\"")
    template_id, colon, activity_id = ref.rpartition(":")
    if colon and activity_id.isdigit():
        template = next((t for t in activity_templates(app) if t.id == template_id), None)
        activity = (session or db.get_session()).get(Activity, int(activity_id)) if template else None
        return for_activity(template, activity) if activity is not None else None
    surveys = all_surveys(app)
    for pack in surveys:
        if ref in (pack.id, pack.title):
            return pack
    partial = [pack for pack in surveys if ref and ref in pack.title]
    return partial[0] if len(partial) == 1 else None


def is_open(pack: Pack, today: date) -> bool:
    return pack.survey.opens <= today <= pack.survey.closes


def response_counts(session: Session, pack: Pack) -> tuple[int, int]:
    """How many people started ``pack``, and how many of them finished it."""
    started, completed = session.execute(
        select(func.count(), func.count(SurveyResponse.completed_on)).where(SurveyResponse.survey_id == pack.id)).one()
    return started, completed


def is_for(pack: Pack, respondent: Respondent) -> bool:
    """Audience cohorts (pack.yaml) and departments (survey.yaml); an empty list means everyone."""
    departments = pack.survey.departments
    return pack.is_for(respondent.cohorts) and (not departments or respondent.department in departments)


def respondent_key(secret: str, survey_id: str, userid: str) -> str:
    """The stored respondent: a salted hash, so anonymous answers can be resumed and counted once."""
    return hmac.new(secret.encode("utf-8"), f"{survey_id}\x1f{userid}".encode("utf-8"), hashlib.sha256).hexdigest()


def salt_of(config) -> str:
    """``SURVEY_SALT``, else a secret the deployment has anyway (changing it forgets unfinished anonymous surveys)."""
    return str(config.get("SURVEY_SALT") or config.get("WECOM_AES_KEY") or config.get("WECOM_SECRET") or "")


def find_response(session: Session, pack: Pack, key: str) -> SurveyResponse | None:
    return session.scalar(select(SurveyResponse).where(SurveyResponse.survey_id == pack.id,
                                                       SurveyResponse.respondent == key))


def pending_surveys(session: Session, respondent: Respondent, *, secret: str, today: date,
                    app: Flask | None = None, now: datetime | None = None) -> list[Pack]:
    """Open surveys for this respondent that they have not completed, oldest first; given ``now``,
    then the per-activity surveys of the activities they registered for or attended."""
    found = list(all_surveys(app))
    if now is not None:
        for template in activity_templates(app):
            found += [for_activity(template, a) for a in activities_to_rate(session, respondent.userid, now=now)]
    pending = []
    for pack in found:
        if not is_open(pack, today) or not is_for(pack, respondent):
            continue
        response = find_response(session, pack, respondent_key(secret, pack.id, respondent.userid))
        if response is None or response.completed_on is None:
            pending.append(pack)
    return pending


def activities_to_rate(session: Session, userid: str, *, now: datetime) -> list[Activity]:
    """Activities the member registered for (holding a seat) or attended, started between
    ACTIVITY_SURVEY_DAYS and ACTIVITY_SURVEY_AFTER ago, earliest first."""
    query = (select(Activity).join(ActivityRegistration, ActivityRegistration.activity_id == Activity.id)
             .where(ActivityRegistration.userid == userid,
                    ActivityRegistration.status.in_([RegistrationStatus.REGISTERED.value,
                                                     RegistrationStatus.WALK_IN.value])
                    | ActivityRegistration.attended_at.is_not(None),
                    Activity.starts_at <= (now - ACTIVITY_SURVEY_AFTER).astimezone(timezone.utc),
                    Activity.starts_at >= (now - ACTIVITY_SURVEY_DAYS).astimezone(timezone.utc))
             .order_by(Activity.starts_at, Activity.id))
    return list(session.scalars(query))


def activity_answers(session: Session, activity_id: int, app: Flask | None = None) -> tuple[list[int], list[str]]:
    """An activity's per-activity survey answers: the scores of each template's first scale question,
    and the free-text answers, newest first."""
    scores: list[int] = []
    comments: list[str] = []
    for template in activity_templates(app):
        scale = next(q.id for q in template.survey.questions if q.type == "scale")
        texts = {q.id for q in template.survey.questions if q.type == "text"}
        rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == activity_ref(template, activity_id),
                                                          SurveyAnswer.skipped.is_(False))
                               .order_by(SurveyAnswer.id.desc()))
        for row in rows:
            if row.question_id == scale:
                scores.append(int(row.value))
            elif row.question_id in texts and row.value:
                comments.append(row.reply)       # as the member wrote it
    return scores, comments


def start_response(session: Session, pack: Pack, respondent: Respondent, *, secret: str,
                   today: date) -> SurveyResponse:
    """The respondent's response to ``pack``, created on first use."""
    key = respondent_key(secret, pack.id, respondent.userid)
    response = find_response(session, pack, key)
    if response is None:
        response = SurveyResponse(survey_id=pack.id, survey_version=pack.version, respondent=key,
                                  userid=None if pack.survey.anonymous else respondent.userid,
                                  cohorts=",".join(respondent.cohorts), department=respondent.department,
                                  started_on=today)
        session.add(response)
        session.flush()
    return response


def answers_of(session: Session, response_id: int) -> dict[str, SurveyAnswer]:
    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.response_id == response_id))
    return {row.question_id: row for row in rows}


def next_open_index(pack: Pack, answered: dict[str, SurveyAnswer]) -> int | None:
    """The first question (in order) without an answer, or None when every one has one."""
    for index, question in enumerate(pack.survey.questions):
        if question.id not in answered:
            return index
    return None


def save_answer(session: Session, response: SurveyResponse, question: SurveyQuestion, *, reply: str,
                value: str, skipped: bool = False) -> SurveyAnswer:
    """Store (or replace, after 上一题) the answer to one question."""
    row = session.scalar(select(SurveyAnswer).where(SurveyAnswer.response_id == response.id,
                                                    SurveyAnswer.question_id == question.id))
    if row is None:
        row = SurveyAnswer(response_id=response.id, survey_id=response.survey_id, question_id=question.id,
                           cohorts=response.cohorts, department=response.department)
        session.add(row)
    row.reply, row.value, row.skipped = reply[:TEXT_LIMIT], value[:TEXT_LIMIT], skipped
    session.flush()
    return row


# -- reading replies -------------------------------------------------------------------------------

def read_answer(question: SurveyQuestion, text: str) -> str:
    """The stored reading of a reply: "B", "AC", "4", or the text itself.

    Raises:
        Unreadable: the reply does not answer the question; the message says how to answer.
    """
    text = unicodedata.normalize("NFKC", text or "").strip()
    if question.type == "text":
        if not text:
            raise Unreadable("请写几句您的想法再发送。")
        return text
    cleaned = _LEADING.sub("", text).strip().rstrip(_TRAILING).strip()
    if question.type == "scale":
        return str(_read_scale(cleaned))
    if question.type == "single":
        letter = _one_option(cleaned, question.options)
        if letter is None:
            raise Unreadable(f"请回复一个选项的字母（{_letter_range(question)}）或选项内容。")
        return letter
    letters = _many_options(cleaned, question.options)
    if not letters:
        raise Unreadable(f"请回复选项字母，可以选多个，例如「AC」或「A C」（可选 {_letter_range(question)}）。")
    return letters


def _read_scale(text: str) -> int:
    match = _SCALE_REPLY.match(text)
    if match:
        raw = match.group(1)
        score = int(raw) if raw.isdigit() else _CN_NUMBERS.get(raw, 0)
        if score in SCALE:
            return score
    raise Unreadable("请回复 1–5 之间的一个数字（5 分最高），例如「4」或「4分」。")


def _one_option(text: str, options: dict[str, str]) -> str | None:
    upper = text.upper()
    if len(upper) == 1 and upper in options:
        return upper
    number = int(text) if text.isdigit() else _CN_NUMBERS.get(text)
    if number is not None and 1 <= number <= len(options):
        return SURVEY_LETTERS[number - 1]
    key = _fold(text)
    if not key:
        return None
    exact = [letter for letter, option in options.items() if _fold(option) == key]
    if exact:
        return exact[0]
    # "短视频" for "短视频（5 分钟以内）": a part that only one option has
    partial = [letter for letter, option in options.items() if len(key) >= 2 and key in _fold(option)]
    return partial[0] if len(partial) == 1 else None


def _many_options(text: str, options: dict[str, str]) -> str:
    compact = _SEPARATORS.sub("", text).upper()
    if compact and all(ch in options for ch in compact):
        return "".join(sorted(set(compact)))
    if compact.isdigit() and all(1 <= int(ch) <= len(options) for ch in compact):
        return "".join(sorted({SURVEY_LETTERS[int(ch) - 1] for ch in compact}))
    letters = set()
    for part in filter(None, _SEPARATORS.split(text)):
        letter = _one_option(part, options)
        if letter is None:
            return ""
        letters.add(letter)
    return "".join(sorted(letters))


def _fold(text: str) -> str:
    return re.sub(r"[\s,，、。.（）()“”\"']+", "", unicodedata.normalize("NFKC", text)).lower()


def _letter_range(question: SurveyQuestion) -> str:
    letters = list(question.options)
    return f"{letters[0]}–{letters[-1]}"


# -- results ---------------------------------------------------------------------------------------

@dataclass
class QuestionResult:
    """Counts for one question: per option (or score) in total, by cohort and by department."""

    question: SurveyQuestion
    answered: int = 0
    skipped: int = 0
    total: Counter = field(default_factory=Counter)
    by_cohort: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    by_department: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    scores: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))   # "" = everyone


@dataclass
class SurveyResults:
    pack: Pack
    completed: int
    unfinished: int
    cohorts: Counter
    departments: Counter
    questions: list[QuestionResult]


def results(session: Session, pack: Pack) -> SurveyResults:
    """Every stored answer of ``pack`` counted (unfinished responses' answers count too)."""
    responses = list(session.scalars(select(SurveyResponse).where(SurveyResponse.survey_id == pack.id)))
    done = [r for r in responses if r.completed_on is not None]
    by_id = {q.id: QuestionResult(q) for q in pack.survey.questions}
    for row in session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == pack.id)):
        result = by_id.get(row.question_id)
        if result is not None:
            _count(result, row)
    return SurveyResults(pack, len(done), len(responses) - len(done),
                         Counter(c for r in done for c in split_cohorts(r.cohorts)),
                         Counter(r.department for r in done if r.department), list(by_id.values()))


def split_cohorts(stored: str) -> list[str]:
    return [name for name in (stored or "").split(",") if name]


def _count(result: QuestionResult, row: SurveyAnswer) -> None:
    if row.skipped:
        result.skipped += 1
        return
    result.answered += 1
    qtype = result.question.type
    if qtype == "text":
        return
    groups = split_cohorts(row.cohorts)
    if qtype == "scale":
        score = int(row.value)
        for key in ("", *groups, f"@{row.department}"):
            result.scores[key].append(score)
        return
    for letter in row.value:
        result.total[letter] += 1
        for name in groups:
            result.by_cohort[name][letter] += 1
        result.by_department[row.department][letter] += 1
