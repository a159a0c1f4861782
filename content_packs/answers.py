"""Answers as people write them (B, "A,C", ＡＣＤ, 对/×, "8|八") → one canonical form, and grading."""
from __future__ import annotations

import re
import unicodedata
from typing import Any

LETTERS = "ABCDEF"
TRUE_WORDS = frozenset({"true", "t", "对", "正确", "是", "√", "✓", "✔", "yes", "y", "1"})
FALSE_WORDS = frozenset({"false", "f", "错", "错误", "否", "×", "✗", "✘", "x", "no", "n", "0"})
TRUE_LABEL, FALSE_LABEL = "正确", "错误"
_LETTER_SEPARATORS = re.compile(r"[\s,;/、.，；]+")
FILL_SEPARATORS = re.compile(r"\s*[|｜;；]\s*")     # between accepted answers of a fill-in question
_FILL_NOISE = re.compile(r"[\s\"'“”‘’《》「」()（）.,;:!?。，；：！？、]+")


class AnswerError(ValueError):
    """The answer cannot be read; the message is Chinese and says what was expected."""


def fold(text: str) -> str:
    """NFKC (full-width → half-width) and trimmed: for codes, letters and keywords, never for prose."""
    return unicodedata.normalize("NFKC", text).strip()


def parse_letters(value: Any) -> str:
    """Option letters from "B", "a,c", "ＡＣＤ" or ["A", "C"] → "ACD" (sorted, no repeats).

    Raises:
        AnswerError: something other than the letters A–F, a repeated letter, or nothing at all.
    """
    if isinstance(value, (list, tuple)):
        value = ",".join(str(part) for part in value)
    if not isinstance(value, str):
        raise AnswerError("应为选项字母（A–F）")
    letters = _LETTER_SEPARATORS.sub("", fold(value).upper())
    if not letters:
        raise AnswerError("不能为空，应为选项字母（A–F）")
    if any(char not in LETTERS for char in letters):
        raise AnswerError(f"应为选项字母 A–F，实际为「{value.strip()}」")
    if len(set(letters)) != len(letters):
        raise AnswerError(f"选项字母重复：「{value.strip()}」")
    return "".join(sorted(letters))


def parse_truth(value: Any) -> bool:
    """True/false from a YAML bool or 对/错, 正确/错误, √/×, T/F, true/false.

    Raises:
        AnswerError: any other value.
    """
    if isinstance(value, bool):
        return value
    word = fold(str(value)).lower() if isinstance(value, (str, int)) else ""
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise AnswerError(f"判断题的答案应为 true（正确）或 false（错误），实际为「{value}」")


def parse_accepted(value: Any) -> tuple[str, ...]:
    """Accepted answers of a fill-in question: a list, or one text with | or ； between answers.

    Raises:
        AnswerError: no answer, an empty or non-text answer.
    """
    if isinstance(value, str):
        value = FILL_SEPARATORS.split(value.strip())
    if not isinstance(value, (list, tuple)):
        raise AnswerError("填空题的答案应为一个或几个可接受的答案（列表）")
    answers: list[str] = []
    for item in value:
        if isinstance(item, bool) or not isinstance(item, (str, int, float)):
            raise AnswerError(f"填空题的每个答案都应为文字，实际为「{item}」（可加引号）")
        text = str(item).strip()
        if not text:
            raise AnswerError("填空题的答案不能为空")
        if FILL_SEPARATORS.search(text):
            raise AnswerError(f"填空题的答案「{text}」里不能有 | 或 ；（它们用来分隔几个可接受的答案）")
        answers.append(text)
    if not answers:
        raise AnswerError("填空题至少要有一个可接受的答案")
    return tuple(answers)


def fill_key(text: str) -> str:
    """How a fill-in reply is compared: NFKC, case-folded, without spaces, quotes and punctuation."""
    return _FILL_NOISE.sub("", fold(text).casefold())


def is_correct(qtype: str, answer: str | bool | tuple[str, ...], reply: str) -> bool:
    """Whether a member's reply matches the canonical ``answer`` of a question of type ``qtype``."""
    try:
        if qtype in ("single", "multiple"):
            return parse_letters(reply) == answer
        if qtype == "truefalse":
            return parse_truth(reply) is answer
    except AnswerError:
        return False
    return fill_key(reply) in {fill_key(text) for text in answer}


def answer_label(qtype: str, answer: str | bool | tuple[str, ...]) -> str:
    """The answer as shown to members and written to Excel: B, ACD, 正确, "8 | 八"."""
    if qtype == "truefalse":
        return TRUE_LABEL if answer else FALSE_LABEL
    if qtype == "fill":
        return " | ".join(answer)
    return str(answer)
