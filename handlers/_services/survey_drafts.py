"""Surveys written in chat (新建问卷): reading what the admin typed, storing the survey in SQL, and
loading stored surveys as the same ``Pack`` survey packs give, so 问卷, 问卷结果, reminders and
需求分析 treat them alike. A stored survey is named ``chat-<id>``.

Every parser raises ValueError with a Chinese explanation, which the dialogue shows as it is.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import org
from bot.cohorts import OTHERS, CohortRules
from bot.models.core import OrgKind
from bot.models.surveys import SurveyDefinition
from content_packs import Manifest, Pack
from content_packs.schema import SURVEY_LETTERS, Survey, SurveyQuestion, describe
from handlers._services.dates import parse_day
from handlers._services import push_audience

ID_PREFIX = "chat-"
MAX_QUESTIONS = 20
MAX_DAYS_OPEN = 366
TYPE_WORDS = {"单选": "single", "单选题": "single", "多选": "multiple", "多选题": "multiple",
              "打分": "scale", "打分题": "scale", "评分": "scale", "评分题": "scale", "问答": "text",
              "问答题": "text", "简答": "text", "简答题": "text", "填空": "text"}
OPTIONAL_WORDS = ("选填", "(选填)", "可选", "(可选)")
_OPTION_SPLIT = re.compile(r"\s*[/|]\s*")
_DAYS = re.compile(r"^(\d{1,3})\s*(?:天|日)$")
QUESTION_EXAMPLES = ("单选 您喜欢哪种学习形式？ 图文/短视频/现场讲解\n"
                     "多选 您想学哪些内容？ 防汛抢险/大坝安全/政策法规\n"
                     "打分 今年的学习对工作有帮助吗？\n"
                     "问答 选填 您还有什么建议？")
DESCRIPTION = "管理员在对话中发起的问卷，请根据实际情况填写。"


def parse_question(text: str, number: int) -> SurveyQuestion:
    """One question as typed: ``<题型> [选填] <题目> [选项/选项/…]``; ``number`` makes its id (q1, q2 …)."""
    words = unicodedata.normalize("NFKC", text).strip().split(" ", 1)
    qtype = TYPE_WORDS.get(words[0])
    if qtype is None or len(words) < 2:
        raise ValueError("每道题先写题型（单选、多选、打分、问答），空一格再写题目。")
    rest, required = words[1].strip(), True
    for marker in OPTIONAL_WORDS:
        if rest.startswith(marker):
            rest, required = rest[len(marker):].strip(), False
    title, options = _split_options(rest) if qtype in ("single", "multiple") else (rest, [])
    if qtype in ("single", "multiple") and len(options) < 2:
        raise ValueError("选择题请在题目后空一格写选项，用「/」隔开，至少两个，如「图文/短视频/现场讲解」。")
    if not 2 <= len(title) <= 100:
        raise ValueError("题目请写 2–100 个字。")
    try:
        return SurveyQuestion(id=f"q{number}", type=qtype, text=_chinese_punctuation(title), required=required,
                              options=dict(zip(SURVEY_LETTERS, map(_chinese_punctuation, options))))
    except ValidationError as exc:
        raise ValueError("；".join(message for _, message in describe(exc))) from None


def _chinese_punctuation(text: str) -> str:
    """Typed text arrives NFKC-normalised ("？" → "?"); Chinese sentences get their own marks back."""
    if not re.search(r"[\u4e00-\u9fff]", text):
        return text
    return text.translate(_CHINESE_MARKS)


_CHINESE_MARKS = str.maketrans({"?": "？", ":": "：", ",": "，", "!": "！", ";": "；", "(": "（", ")": "）"})


def _split_options(text: str) -> tuple[str, list[str]]:
    """"您想学什么？ 防汛/大坝/政策" → ("您想学什么？", [防汛, 大坝, 政策]): the options start after the
    last space (or question mark) before the first "/"."""
    first = min((i for i in (text.find("/"), text.find("|")) if i >= 0), default=-1)
    if first < 0:
        return text, []
    cut = max(text.rfind(" ", 0, first), text.rfind("?", 0, first), text.rfind(":", 0, first))
    if cut < 0:
        return text, []
    head = text[: cut + 1].strip()
    options = [option for option in _OPTION_SPLIT.split(text[cut + 1:].strip()) if option]
    if len(options) > len(SURVEY_LETTERS):
        raise ValueError(f"选项最多 {len(SURVEY_LETTERS)} 个。")
    if any(len(option) > 40 for option in options):
        raise ValueError("每个选项最多 40 个字。")
    return head, options


def parse_closes(text: str, *, today: date) -> date:
    """The last day: a date ("12-20", "2026-12-20") or a number of days from today ("7天")."""
    word = unicodedata.normalize("NFKC", text).strip()
    days = _DAYS.match(word)
    closes = today + timedelta(days=int(days.group(1)) - 1) if days else parse_day(word, today=today)
    if closes < today:
        raise ValueError(f"{closes:%Y-%m-%d} 已经过去了，请写今天或以后的日期。")
    if closes > today + timedelta(days=MAX_DAYS_OPEN):
        raise ValueError("问卷最多开放一年，请写近一些的日期。")
    return closes


def parse_audience(session: Session, words: list[str], *, rules: CohortRules) -> tuple[list[str], list[str], str]:
    """(cohort names, department names, how it is shown): 全体, cohorts and departments (not teams)."""
    if not words:
        raise ValueError("请写面向的人群或部门，或「全体」。")
    chosen = list(dict.fromkeys(push_audience.resolve(session, word, rules=rules) for word in words))
    if any(audience.kind == push_audience.EVERYONE for audience in chosen):
        return [], [], "全体"
    chosen_cohorts = [a.name for a in chosen if a.kind == push_audience.COHORT]
    if OTHERS in chosen_cohorts:        # 问卷 offers a survey by the member's own cohorts, and 其他 is none of them
        raise ValueError(f"问卷不能面向「{OTHERS}」，请写具体的人群或部门，或「全体」。")
    departments = [a.name for a in chosen if a.kind == push_audience.UNIT]
    for name in departments:
        if not any(unit.kind == OrgKind.DEPARTMENT.value for unit in org.find_unit_by_name(session, name)):
            raise ValueError(f"「{name}」是班组，问卷只能面向人群或部门，请写它所在的部门。")
    return chosen_cohorts, departments, "、".join([*chosen_cohorts, *departments])


# -- stored surveys --------------------------------------------------------------------------------

def save(session: Session, *, title: str, cohorts: list[str], departments: list[str], closes: date,
         anonymous: bool, questions: list[dict], created_by: str, now: datetime) -> Pack:
    """Store a survey opening today; returns it as 问卷 will load it."""
    survey = Survey(opens=now.date(), closes=closes, anonymous=anonymous, departments=tuple(departments),
                    questions=tuple(SurveyQuestion.model_validate(q) for q in questions))
    row = SurveyDefinition(title=title, audience=list(cohorts), definition=survey.model_dump(mode="json"),
                           created_by=created_by, created_at=now)
    session.add(row)
    session.flush()
    return as_pack(row)


def as_pack(row: SurveyDefinition) -> Pack:
    manifest = Manifest(id=f"{ID_PREFIX}{row.id}", version=1, title=row.title, kind="survey", topics=("学习需求",),
                        audience=tuple(row.audience), description=DESCRIPTION)
    return Pack(manifest=manifest, folder=Path(__file__).parent, survey=Survey.model_validate(row.definition))


def close(session: Session, survey_id: str, *, today: date) -> None:
    """End a survey written in chat (``chat-<n>``) before its last day: yesterday becomes its last day (and its
    first, when it opened today), so from today 问卷 no longer offers it and no reminder names it.

    Raises:
        LookupError: no survey written in chat has that id.
    """
    number = survey_id.removeprefix(ID_PREFIX)
    row = session.get(SurveyDefinition, int(number)) if survey_id.startswith(ID_PREFIX) and number.isdigit() else None
    if row is None:
        raise LookupError(survey_id)
    survey = Survey.model_validate(row.definition)
    closes = today - timedelta(days=1)
    row.definition = survey.model_copy(update={"opens": min(survey.opens, closes), "closes": closes}
                                       ).model_dump(mode="json")


def chat_surveys(session: Session) -> list[Pack]:
    """Every survey written in chat, oldest first."""
    return [as_pack(row) for row in session.scalars(select(SurveyDefinition).order_by(SurveyDefinition.id))]
