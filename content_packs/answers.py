"""Answers as people write them (B, "A,C", ＡＣＤ, 对/×, "8|八", the option text) → one canonical form, and grading.

Two directions share the rules: answers in pack files (``parse_*``, for authors: strict) and members'
replies in a quiz (``read_reply``/``grade``: lenient — letters in any width and with any separator, the
option text itself, 对/错 in many spellings, and fill-in answers compared after NFKC, without
punctuation and spaces, with Chinese numerals as digits and the synonyms of ``answer_synonyms.yaml``
applied word by word, words as jieba cuts them).
"""
from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path
from typing import Any, Mapping

import yaml

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


def is_correct(qtype: str, answer: str | bool | tuple[str, ...], reply: str, *,
               options: Mapping[str, str] | None = None) -> bool:
    """Whether a member's reply matches the canonical ``answer`` of a question of type ``qtype``.

    An unreadable reply counts as not correct; ``grade`` tells the two apart. With ``options`` the
    option text itself ("国家") is read as its letter.
    """
    try:
        return grade(qtype, answer, reply, options=options)
    except AnswerError:
        return False


def answer_label(qtype: str, answer: str | bool | tuple[str, ...]) -> str:
    """The answer as shown to members and written to Excel: B, ACD, 正确, "8 | 八"."""
    if qtype == "truefalse":
        return TRUE_LABEL if answer else FALSE_LABEL
    if qtype == "fill":
        return " | ".join(answer)
    return str(answer)


# -- members' replies ------------------------------------------------------------------------------

SYNONYMS_FILE = Path(__file__).with_name("answer_synonyms.yaml")
REPLY_TRUE_WORDS = TRUE_WORDS | {"对的", "是的", "没错", "对了", "正确的", "✅", "⭕"}
REPLY_FALSE_WORDS = FALSE_WORDS | {"不对", "错的", "错了", "不正确", "不是", "❌"}
# "选A", "我觉得是 国家", "答案：B", "B吧": the words around an answer, not the answer
_LEADING = re.compile(r"^(?:我觉得|我认为|我猜|应该|可能|答案|我选|选择|选项|选)*(?:是|为|选)?\s*[:：]?\s*")
_TRAILING = re.compile(r"(?:吧|啊|呀|吗|呢|哦|嘛|了|选项)+$")
_END_PUNCT = "。.!！?？~～…,，;；、 "
_DONT_KNOW = re.compile(r"^(?:我|也|真|还|确实|实在)*(?:不知道|不晓得|不会|不清楚|不记得|记不得|忘了|忘记了|想不起来?|"
                        r"没学过|不确定|不懂|不太懂|不太会|不太清楚|pass)[啊呀了呢吧哦啦]*$")
_TEXT_SEPARATORS = re.compile(r"\s*[,;/，；、\s]\s*")
_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
              "九": 9}
_CN_UNITS = {"十": 10, "百": 100}
_NUMERAL_RUN = re.compile("[" + "".join(_CN_DIGITS) + "".join(_CN_UNITS) + "]+")
HINTS = {
    "truefalse": "请回复「对」或「错」（也可以回复 √ 或 ×）。",
    "fill": "请直接回复要填的内容。",
}
DONT_KNOW_HINT = "没关系，不会的题可以回复「跳过」，它会进入错题本，过后再复习。"


class UnreadableReply(AnswerError):
    """A member's reply that is no answer at all ("我不知道啊", "G" for A–D); the message is the hint."""


def read_reply(qtype: str, reply: str, *, options: Mapping[str, str] | None = None) -> str | bool:
    """What a member's reply says: letters ("AC") for single/multiple, a bool for truefalse, the text for fill.

    Raises:
        UnreadableReply: the reply is no answer to this kind of question; the message is a short hint.
    """
    text = _clean(reply)
    if not text or _DONT_KNOW.match(text.casefold()):
        raise UnreadableReply(DONT_KNOW_HINT)
    if qtype == "truefalse":
        return _read_truth(text)
    if qtype in ("single", "multiple"):
        return _read_choice(text, options, multiple=qtype == "multiple")
    return text


def grade(qtype: str, answer: str | bool | tuple[str, ...], reply: str, *,
          options: Mapping[str, str] | None = None) -> bool:
    """Whether ``reply`` answers the question right.

    Raises:
        UnreadableReply: the reply cannot be read as an answer (nothing is graded).
    """
    value = read_reply(qtype, reply, options=options)
    if qtype == "truefalse":
        return value is answer
    if qtype in ("single", "multiple"):
        return value == answer
    return fill_matches(answer, value)


def fill_matches(accepted: tuple[str, ...] | str, reply: str) -> bool:
    """A fill-in reply against the accepted answers: exact after ``fill_key``, else word by word with
    numerals as digits and synonyms applied ("防汛抗旱 指挥部" = "防汛抗旱指挥部", "防指" = "防汛抗旱指挥部")."""
    accepted = (accepted,) if isinstance(accepted, str) else tuple(accepted)
    replies = {reply, _strip_fillers(reply)}
    keys = {fill_key(text) for text in replies} - {""}
    if keys & {fill_key(text) for text in accepted}:
        return True
    wanted = {canonical(text) for text in accepted}
    return any(canonical(text) in wanted for text in replies if fill_key(text))


def canonical(text: str) -> str:
    """A fill-in text as compared: jieba words, each as ``fill_key`` with Chinese numerals as digits and
    synonyms as the first word of their group; the joined result is looked up once more as a whole."""
    synonyms = load_synonyms()
    whole = _digits(fill_key(text))
    if whole in synonyms:
        return synonyms[whole]
    import jieba       # only here: pack checks and imports never need the dictionary

    words = (_digits(fill_key(word)) for word in jieba.lcut(fold(text).casefold()))
    joined = "".join(synonyms.get(word, word) for word in words if word)
    return synonyms.get(joined, joined)


@cache
def load_synonyms(path: Path = SYNONYMS_FILE) -> dict[str, str]:
    """``fill_key`` of every synonym → the ``fill_key`` of the first word of its group.

    Raises:
        ValueError: the file is not a list of groups of two or more words, or a word is in two groups.
    """
    data = yaml.safe_load(path.read_text("utf-8")) if path.exists() else {"groups": []}
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, list):
        raise ValueError(f"{path}: 顶层应为 groups: 列表，每项是一组同义的说法")
    mapping: dict[str, str] = {}
    for number, group in enumerate(groups, start=1):
        if not isinstance(group, list) or len(group) < 2 or not all(isinstance(w, (str, int)) for w in group):
            raise ValueError(f"{path}: 第 {number} 组应为两个或更多说法的列表")
        head = _digits(fill_key(str(group[0])))
        for word in group:
            key = _digits(fill_key(str(word)))
            if mapping.get(key, head) != head:
                raise ValueError(f"{path}: 第 {number} 组的「{word}」已在前面的另一组里")
            mapping[key] = head
    return mapping


def _clean(reply: str) -> str:
    return fold(str(reply or "")).strip(_END_PUNCT)


def _strip_fillers(text: str) -> str:
    stripped = _TRAILING.sub("", _LEADING.sub("", text)).strip(_END_PUNCT)
    return stripped or text


def _read_truth(text: str) -> bool:
    for candidate in (text, _strip_fillers(text)):
        word = candidate.casefold()
        if word in REPLY_TRUE_WORDS:
            return True
        if word in REPLY_FALSE_WORDS:
            return False
    raise UnreadableReply(HINTS["truefalse"])


def _read_choice(text: str, options: Mapping[str, str] | None, *, multiple: bool) -> str:
    letters = _letters(text) or _letters(_strip_fillers(text))
    if letters is None and options:
        letters = _letters_by_text(text, options) or _letters_by_text(_strip_fillers(text), options)
    hint = _choice_hint(options, multiple=multiple)
    if letters is None:
        raise UnreadableReply(hint)
    if options and any(letter not in options for letter in letters):
        raise UnreadableReply(f"本题的选项是 {_letter_range(options)}。{hint}")
    if not multiple and len(letters) > 1:
        raise UnreadableReply("这是单选题，请只回复一个选项字母。")
    return letters


def _letters(text: str) -> str | None:
    try:
        return parse_letters(text)
    except AnswerError:
        return None


def _letters_by_text(text: str, options: Mapping[str, str]) -> str | None:
    """"国家" → "A"; "国家,集体" → "AB"; a part of exactly one option's text (≥ 2 characters) also counts."""
    keys = {letter: canonical(option) for letter, option in options.items()}
    whole = _option_for(canonical(text), keys)
    if whole is not None:
        return whole
    parts = [part for part in _TEXT_SEPARATORS.split(text) if part]
    if len(parts) < 2:
        return None
    letters = [_option_for(canonical(part), keys) for part in parts]
    if None in letters or len(set(letters)) != len(letters):
        return None
    return "".join(sorted(letters))


def _option_for(key: str, keys: Mapping[str, str]) -> str | None:
    exact = [letter for letter, option in keys.items() if option == key]
    if exact:
        return exact[0]
    partial = [letter for letter, option in keys.items() if len(key) >= 2 and key in option]
    return partial[0] if len(partial) == 1 else None


def _choice_hint(options: Mapping[str, str] | None, *, multiple: bool) -> str:
    letters = _letter_range(options) if options else "A–F"
    if multiple:
        return f"请回复全部正确选项的字母（{letters}），如「AC」或「A C」，也可以回复选项内容。"
    return f"请回复一个选项字母（{letters}），也可以回复选项内容。"


def _letter_range(options: Mapping[str, str]) -> str:
    letters = list(options)
    return f"{letters[0]}–{letters[-1]}" if len(letters) > 2 else "、".join(letters)


def _digits(text: str) -> str:
    """Every run of Chinese numerals as digits (三类坝 → 3类坝); both sides of a comparison go through it."""
    return _NUMERAL_RUN.sub(lambda match: _numeral(match.group()), text)


def _numeral(word: str) -> str:
    """Chinese numerals as digits: 二十四 → 24, 二〇二三 → 2023, 三 → 3."""
    if not any(char in _CN_UNITS for char in word):
        return "".join(str(_CN_DIGITS[char]) for char in word)
    total, digit = 0, None
    for char in word:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        else:
            total += (1 if digit is None else digit) * _CN_UNITS[char]
            digit = None
    return str(total + (digit or 0))
