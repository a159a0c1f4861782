"""The quiz authors' vocabulary (题型, 难度, 知识点 …) and Draft: one question as read from a file, unchecked."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from content_packs.answers import fold

# Question field → the column name authors use; also names the field in every import error
FIELD_LABELS = {
    "id": "编号", "type": "题型", "text": "题目", "options": "选项", "answer": "答案", "topics": "知识点",
    "difficulty": "难度", "explanation": "解析", "source": "出处",
}
TYPE_LABELS = {"single": "单选", "multiple": "多选", "truefalse": "判断", "fill": "填空"}
TYPE_WORDS = {
    **{label: qtype for qtype, label in TYPE_LABELS.items()},
    **{label + "题": qtype for qtype, label in TYPE_LABELS.items()},
    "单项选择": "single", "单项选择题": "single", "单选择题": "single", "多项选择": "multiple",
    "多项选择题": "multiple", "不定项选择": "multiple", "不定项选择题": "multiple", "是非题": "truefalse",
    "对错题": "truefalse", "填空": "fill", "简答填空": "fill",
    **{qtype: qtype for qtype in TYPE_LABELS}, "tf": "truefalse", "true/false": "truefalse",
}
DIFFICULTY_LABELS = {1: "易", 2: "中", 3: "难"}
DIFFICULTY_WORDS = {
    "易": 1, "容易": 1, "简单": 1, "较易": 1, "低": 1, "1": 1, "中": 2, "中等": 2, "一般": 2, "适中": 2,
    "2": 2, "难": 3, "困难": 3, "较难": 3, "高": 3, "3": 3, "easy": 1, "medium": 2, "hard": 3,
}
DEFAULT_DIFFICULTY = 2
TOPIC_SEPARATORS = re.compile(r"\s*[、,，;；]\s*")


@dataclass
class Draft:
    """One question as read from a table row or a GIFT block: fields for ``Question``, not yet checked.

    ``label`` says where it came from ("第 5 行", "第 12 行（::大坝巡查::）"); ``errors`` holds problems found
    while reading, as (field, message); those fields are not reported again by the model check.
    """

    label: str
    fields: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)

    def fail(self, name: str, message: str) -> None:
        self.errors.append((name, message))

    def messages(self) -> list[str]:
        return [message_for(self.label, (name,), message) for name, message in self.errors]


def message_for(label: str, loc: tuple, message: str) -> str:
    """"第 5 行「答案」单选题的答案只能是一个选项字母"; an option is named 「选项C」."""
    if not loc:
        return f"{label}：{message}"
    name = FIELD_LABELS.get(str(loc[0]), str(loc[0]))
    if loc[0] == "options" and len(loc) > 1:
        name += str(loc[1])
    elif loc[0] == "topics" and len(loc) > 1 and isinstance(loc[1], int):
        name += f"第 {loc[1] + 1} 项"
    return f"{label}「{name}」{message}"


def parse_type(text: str) -> str | None:
    """单选/多选题/判断/填空 (and a few synonyms) → single/multiple/truefalse/fill; None if unknown."""
    return TYPE_WORDS.get(re.sub(r"\s+", "", fold(text)).lower())


def parse_difficulty(text: str) -> int | None:
    """易/中/难, 1/2/3 (empty → 中); None if unknown."""
    key = re.sub(r"\s+", "", fold(text)).lower()
    return DEFAULT_DIFFICULTY if not key else DIFFICULTY_WORDS.get(key)


def split_topics(text: str) -> list[str]:
    """知识点 separated by 、 or commas (half- or full-width) or semicolons."""
    return [part for part in TOPIC_SEPARATORS.split(text.strip()) if part]
