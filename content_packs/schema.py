"""What a content pack is: the manifest (pack.yaml), quiz questions, and the loaded Pack."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt, StringConstraints,
                      ValidationError, ValidationInfo, field_validator, model_validator)

from content_packs import answers
from content_packs.answers import LETTERS, AnswerError

if TYPE_CHECKING:
    from content_packs.activity_schema import ActivityDefinition

KINDS = ("quiz", "push", "survey", "activity")       # the loader has one payload reader per kind
QUESTION_TYPES = {"single": "单选题", "multiple": "多选题", "truefalse": "判断题", "fill": "填空题"}
MIN_OPTIONS, MAX_OPTIONS = 2, 6
SLUG_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

Slug = Annotated[str, StringConstraints(pattern=SLUG_PATTERN)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

# pydantic's wording for the mistakes people make when editing YAML by hand
_MESSAGES = {
    "missing": "缺少此项（必填）", "extra_forbidden": "不认识这一项（拼写错误？）",
    "string_type": "应为文字", "string_too_short": "不能为空", "string_too_long": "最多 {max_length} 个字",
    "bool_type": "应为 true 或 false", "bool_parsing": "应为 true 或 false",
    "string_pattern_mismatch": "只能用小写英文字母、数字、- 和 _，以字母或数字开头，最长 64 位",
    "int_type": "应为整数", "int_parsing": "应为整数", "int_from_float": "应为整数",
    "greater_than_equal": "应不小于 {ge}", "less_than_equal": "应不大于 {le}",
    "too_short": "至少要写 {min_length} 项", "list_type": "应为列表", "tuple_type": "应为列表",
    "dict_type": "应为一组 字母: 选项内容", "model_type": "应为一组 键: 值（YAML 映射）",
    "literal_error": "题型只能是 single（单选）、multiple（多选）、truefalse（判断）或 fill（填空）",
}


class Manifest(BaseModel):
    """pack.yaml: what every pack has, whatever its kind."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    version: StrictInt = Field(ge=1)
    title: Text
    kind: str
    topics: tuple[Text, ...] = Field(min_length=1)
    audience: tuple[Text, ...] = ()          # cohort names; empty = everyone
    description: Text

    @field_validator("kind")
    @classmethod
    def _known_kind(cls, value: str) -> str:
        if value not in KINDS:
            raise ValueError(f"不认识的内容包类型「{value}」，目前支持：{'、'.join(KINDS)}")
        return value


class Question(BaseModel):
    """One quiz question; ``answer`` is canonical: "B", "ACD", True/False, or accepted fill-in texts."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    # field order matters: the validators of options and answer read type (and options) from info.data
    id: Slug
    type: Literal["single", "multiple", "truefalse", "fill"]
    text: Text
    options: dict[str, Text] = Field(default_factory=dict)
    answer: str | bool | tuple[str, ...]
    topics: tuple[Text, ...] = Field(min_length=1)
    difficulty: StrictInt = Field(ge=1, le=3)
    explanation: Text
    source: Text

    @field_validator("options")
    @classmethod
    def _options_fit_type(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        qtype = info.data.get("type")
        if qtype in ("truefalse", "fill"):
            if value:
                raise ValueError(f"{QUESTION_TYPES[qtype]}不需要选项")
            return value
        if qtype is None:
            return value
        if not MIN_OPTIONS <= len(value) <= MAX_OPTIONS:
            raise ValueError(f"{QUESTION_TYPES[qtype]}应有 {MIN_OPTIONS}–{MAX_OPTIONS} 个选项，实际有 {len(value)} 个")
        expected = LETTERS[: len(value)]
        if "".join(value) != expected:
            raise ValueError(f"选项应依次为 {'、'.join(expected)}，实际为 {'、'.join(map(str, value))}")
        return value

    @field_validator("answer", mode="before")
    @classmethod
    def _answer_fits_type(cls, value: Any, info: ValidationInfo) -> Any:
        qtype, options = info.data.get("type"), info.data.get("options")
        try:
            return canonical_answer(qtype, value, options)
        except AnswerError as exc:
            raise ValueError(str(exc)) from None

    def is_correct(self, reply: str) -> bool:
        """Whether a member's reply ("b", "A C", "对", "八", or an option's text) answers this question."""
        return answers.is_correct(self.type, self.answer, reply, options=self.options)

    @property
    def answer_label(self) -> str:
        """The answer as shown after answering: B, ACD, 正确, "8 | 八"."""
        return answers.answer_label(self.type, self.answer)


def canonical_answer(qtype: str | None, value: Any, options: dict[str, str] | None) -> Any:
    """The answer in canonical form for ``qtype``; ``options`` (when known) bounds the letters.

    Raises:
        AnswerError: the answer does not fit the question type or its options.
    """
    if qtype == "truefalse":
        return answers.parse_truth(value)
    if qtype == "fill":
        return answers.parse_accepted(value)
    if qtype not in ("single", "multiple"):
        return value if isinstance(value, (str, bool)) else answers.parse_accepted(value)
    if isinstance(value, bool):
        raise AnswerError(f"{QUESTION_TYPES[qtype]}的答案应为选项字母，不是 true/false")
    letters = answers.parse_letters(value)
    if qtype == "single" and len(letters) != 1:
        raise AnswerError("单选题的答案只能是一个选项字母")
    if qtype == "multiple" and len(letters) < 2:
        raise AnswerError("多选题至少要有两个正确选项（只有一个时请改为单选题）")
    missing = [letter for letter in letters if options is not None and letter not in options]
    if missing:
        allowed = "、".join(options or {}) or "无"
        raise AnswerError(f"答案中的「{''.join(missing)}」不是本题的选项（可选：{allowed}）")
    return letters


def _is_link(value: str) -> str:
    if not re.fullmatch(r"https?://\S+", value):
        raise ValueError("应为 http:// 或 https:// 开头的链接")
    return value


Url = Annotated[str, StringConstraints(strip_whitespace=True), AfterValidator(_is_link)]
FORMS = ("text", "news", "video", "voice", "image")      # the variants an item may have, by form


class TextVariant(BaseModel):
    """Markdown body for reading in the chat."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    body: Text


class NewsVariant(BaseModel):
    """An image-text card: title, one-line description, the link it opens, and a cover picture."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    title: Text
    description: Text
    url: Url
    cover: Url | None = None


class VideoVariant(BaseModel):
    """A link to a (short) video and one line saying what it is about."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    url: Url
    summary: Text


class VoiceVariant(BaseModel):
    """Either a script to synthesise (bot/voice) or a recorded audio file shipped in the pack folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    script: Text | None = None
    file: Text | None = None            # relative to the pack folder (e.g. audio/history-01.amr)

    @model_validator(mode="after")
    def _one_source(self) -> "VoiceVariant":
        if (self.file is None) == (self.script is None):
            raise ValueError("语音要写 script（朗读稿）或 file（录音文件）之一，且只写一个")
        return self


class ImageVariant(BaseModel):
    """A picture (a poster, a chart): a file in the pack folder."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    file: Text
    caption: Text | None = None


class PushItem(BaseModel):
    """One piece of content; which variants it has is up to the author, the channel policy picks one."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    title: Text
    topics: tuple[Text, ...] = Field(min_length=1)
    mandatory: bool = False             # every member of the audience must get it, whatever the ratings say
    minutes: StrictInt | None = Field(default=None, ge=1, le=120)   # study time for 已读; None: the policy's read_minutes
    text: TextVariant | None = None
    news: NewsVariant | None = None
    video: VideoVariant | None = None
    voice: VoiceVariant | None = None
    image: ImageVariant | None = None

    @property
    def forms(self) -> tuple[str, ...]:
        """The forms this item can be sent in, in FORMS order."""
        return tuple(form for form in FORMS if getattr(self, form) is not None)

    @model_validator(mode="after")
    def _has_a_variant(self) -> "PushItem":
        if not self.forms:
            raise ValueError("至少要有一种形式：text、news、video、voice 或 image")
        return self


@dataclass(frozen=True)
class Pack:
    """A loaded, valid pack. Records that refer to it store ``id`` and ``version`` (see ``ref``)."""

    manifest: Manifest
    folder: Path
    questions: tuple[Question, ...] = ()
    items: tuple[PushItem, ...] = ()
    survey: "Survey | None" = None      # kind survey (content_packs/survey.py)
    activities: "tuple[ActivityDefinition, ...]" = ()    # kind activity (content_packs/activity_schema.py)

    @property
    def id(self) -> str:
        return self.manifest.id

    @property
    def version(self) -> int:
        return self.manifest.version

    @property
    def title(self) -> str:
        return self.manifest.title

    @property
    def kind(self) -> str:
        return self.manifest.kind

    @property
    def audience(self) -> tuple[str, ...]:
        return self.manifest.audience

    @property
    def ref(self) -> str:
        """``id@version``: the pack as scheduled jobs and stored answers name it."""
        return f"{self.id}@{self.version}"

    def question(self, question_id: str) -> Question:
        """The question with this id. Raises KeyError when the pack has none."""
        for question in self.questions:
            if question.id == question_id:
                return question
        raise KeyError(question_id)

    def item(self, item_id: str) -> PushItem:
        """The push item with this id. Raises KeyError when the pack has none."""
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def activity(self, activity_id: str) -> "ActivityDefinition":
        """The activity definition with this id. Raises KeyError when the pack has none."""
        for activity in self.activities:
            if activity.id == activity_id:
                return activity
        raise KeyError(activity_id)

    def is_for(self, cohorts: list[str] | tuple[str, ...] | set[str]) -> bool:
        """Whether a member in these cohorts is in the pack's audience (empty audience = everyone)."""
        return not self.audience or bool(set(self.audience) & set(cohorts))


# -- kind survey: survey.yaml ----------------------------------------------------------------------

SURVEY_QUESTION_TYPES = {"single": "单选题", "multiple": "多选题", "scale": "打分题（1–5 分）", "text": "问答题"}
SURVEY_LETTERS = "ABCDEFGH"
ACTIVITY_PLACEHOLDER = "{活动}"      # per_activity surveys: replaced by the activity's title


def _survey_date(value: Any) -> Any:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("应为日期，写作 2026-03-01") from None


SurveyDate = Annotated[date, BeforeValidator(_survey_date)]


class SurveyQuestion(BaseModel):
    """One survey question; choice questions have options A, B, C …; ``topics`` it informs are optional."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    type: str
    text: Text
    options: dict[str, Text] = Field(default_factory=dict)
    required: bool = True
    topics: tuple[Text, ...] = ()

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value not in SURVEY_QUESTION_TYPES:
            raise ValueError("题型只能是 single（单选）、multiple（多选）、scale（1–5 分打分）或 text（问答）")
        return value

    @field_validator("options")
    @classmethod
    def _options_fit_type(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        qtype = info.data.get("type")
        if qtype in ("scale", "text"):
            if value:
                raise ValueError(f"{SURVEY_QUESTION_TYPES[qtype]}不需要选项")
            return value
        if qtype is None:
            return value
        if not 2 <= len(value) <= len(SURVEY_LETTERS):
            raise ValueError(f"{SURVEY_QUESTION_TYPES[qtype]}应有 2–{len(SURVEY_LETTERS)} 个选项，实际有 {len(value)} 个")
        expected = SURVEY_LETTERS[: len(value)]
        if "".join(value) != expected:
            raise ValueError(f"选项应依次为 {'、'.join(expected)}，实际为 {'、'.join(map(str, value))}")
        return value


class SurveyReminder(BaseModel):
    """A reminder to those who have not finished: ``days_before_close`` days before the last day, at ``at``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    days_before_close: StrictInt = Field(ge=0, le=60)
    at: Annotated[str, StringConstraints(pattern=r"^([01]?\d|2[0-3]):[0-5]\d$")] = "09:00"


class Survey(BaseModel):
    """survey.yaml: who is asked (pack.yaml's ``audience`` cohorts and ``departments`` here), when, and what."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    opens: SurveyDate                       # the first day members can answer
    closes: SurveyDate                      # the last day
    anonymous: bool = False
    departments: tuple[Text, ...] = ()      # department names; empty = every department
    reminders: tuple[SurveyReminder, ...] = (SurveyReminder(days_before_close=2),)
    questions: tuple[SurveyQuestion, ...] = Field(min_length=1)
    # a template asked once per activity (after it, of those who registered or attended); the activity's
    # title replaces ACTIVITY_PLACEHOLDER in the first question, and the first scale question is the score
    per_activity: bool = False

    @field_validator("questions")
    @classmethod
    def _unique_ids(cls, value: tuple[SurveyQuestion, ...]) -> tuple[SurveyQuestion, ...]:
        ids = [q.id for q in value]
        repeated = sorted({qid for qid in ids if ids.count(qid) > 1})
        if repeated:
            raise ValueError(f"题目编号重复：{'、'.join(repeated)}")
        return value

    @model_validator(mode="after")
    def _closes_after_opens(self) -> "Survey":
        if self.closes < self.opens:
            raise ValueError(f"closes（{self.closes}）早于 opens（{self.opens}）")
        return self

    @model_validator(mode="after")
    def _per_activity_template(self) -> "Survey":
        uses = [q.id for q in self.questions if ACTIVITY_PLACEHOLDER in q.text]
        if not self.per_activity:
            if uses:
                raise ValueError(f"只有 per_activity: true 的问卷才能在题目里写 {ACTIVITY_PLACEHOLDER}：{'、'.join(uses)}")
            return self
        if ACTIVITY_PLACEHOLDER not in self.questions[0].text:
            raise ValueError(f"per_activity 问卷的第 1 题要写 {ACTIVITY_PLACEHOLDER}（换成活动名称）")
        if not any(q.type == "scale" for q in self.questions):
            raise ValueError("per_activity 问卷至少要有一道 scale（1–5 分）题作为满意度")
        if self.reminders:
            raise ValueError("per_activity 问卷由活动结束后的通知邀请，reminders 应写 []")
        return self


def describe(exc: ValidationError) -> list[tuple[tuple[Any, ...], str]]:
    """Each pydantic error as (location, Chinese message)."""
    out = []
    for error in exc.errors():
        template = _MESSAGES.get(error["type"])
        if template:
            message = template.format(**error.get("ctx", {}))
        else:
            message = error["msg"].removeprefix("Value error, ")
        out.append((tuple(error["loc"]), message))
    return out
