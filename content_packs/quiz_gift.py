"""Moodle GIFT text → Drafts.

Supported: ``::title::``, ``// comments`` (``// 出处：…`` before a question sets its source),
``$CATEGORY: a/b/c`` (the last part becomes the question's topic), single choice ``{=right ~wrong}``,
multiple choice ``{~%50%a ~%50%b ~%-100%c}``, true/false ``{T}`` ``{F}`` ``{TRUE}`` ``{FALSE}``,
short answer ``{=a =b}`` (accepted answers), ``#feedback`` after an answer and ``####general feedback``
(the explanation), escapes ``\\: \\~ \\= \\# \\{ \\} \\\\ \\n``, and ``[html]``/``[moodle]``/``[markdown]`` markers.
Essay, numeric and matching questions are reported as unsupported. Difficulty is 中 (GIFT has none).
"""
from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from typing import Any

from content_packs.answers import LETTERS
from content_packs.quiz_drafts import DEFAULT_DIFFICULTY, Draft

_PLACEHOLDERS = {"\\": "\ue000", ":": "\ue001", "~": "\ue002", "=": "\ue003", "#": "\ue004", "{": "\ue005",
                 "}": "\ue006", "n": "\ue007"}
_RESTORE = str.maketrans({value: ("\n" if key == "n" else key) for key, value in _PLACEHOLDERS.items()})
_ESCAPE = re.compile(r"\\(.)")
_CATEGORY = re.compile(r"^\$CATEGORY:\s*(.*)$", re.I)
_SOURCE_COMMENT = re.compile(r"^//\s*(?:出处|来源|source)\s*[:：]\s*(.+)$", re.I)
_TITLE = re.compile(r"^\s*::(.*?)::", re.S)
_FORMAT = re.compile(r"^\s*\[(html|moodle|plain|markdown)\]", re.I)
_TRUEFALSE = re.compile(r"^(T|F|TRUE|FALSE)\s*((?:#[^#]*){0,2})$", re.I | re.S)
_WEIGHT = re.compile(r"^\s*%(-?\d+(?:\.\d+)?)%")
_TOKEN = re.compile(r"([=~])([^=~]*)")
_TAG = re.compile(r"<[^>]+>")
Feedback = tuple[list[str], list[str]]       # (feedback on the right answers, on the others)


class _Unsupported(ValueError):
    """The answer part is not a kind of question we keep; the message says which."""


@dataclass
class _Block:
    line: int
    lines: list[str] = field(default_factory=list)
    topic: str | None = None
    source: str | None = None


@dataclass(frozen=True)
class _Token:
    marker: str                 # "=" right, "~" wrong unless weighted
    weight: float | None
    text: str
    feedback: str


def parse_gift(text: str) -> list[Draft]:
    """One Draft per question in a GIFT file, in file order."""
    return [_draft(block) for block in _blocks(text)]


def _blocks(text: str) -> list[_Block]:
    blocks: list[_Block] = []
    current: _Block | None = None
    topic: str | None = None
    source: str | None = None        # from a "// 出处：" line, for the next question
    for number, raw in enumerate(text.lstrip("\ufeff").splitlines(), start=1):
        line = raw.strip()
        if line.startswith("//"):
            if match := _SOURCE_COMMENT.match(line):
                if current is not None:
                    current.source = match.group(1).strip()
                else:
                    source = match.group(1).strip()
            continue
        category = _CATEGORY.match(line)
        if not line or category:
            current = None
            if category:
                topic = _topic(category.group(1))
            continue
        if current is None:
            current = _Block(line=number, topic=topic, source=source)
            blocks.append(current)
            source = None
        current.lines.append(line)
    return blocks


def _topic(path: str) -> str | None:
    """"$course$/top/防汛/值班制度" → "值班制度"."""
    parts = [part.strip() for part in path.split("/")]
    parts = [part for part in parts if part and not part.startswith("$") and part.lower() != "top"]
    return parts[-1] if parts else None


def _draft(block: _Block) -> Draft:
    text = _ESCAPE.sub(lambda m: _PLACEHOLDERS.get(m.group(1), m.group(0)), " ".join(block.lines))
    title_match = _TITLE.match(text)
    title = _restore(title_match.group(1)).strip() if title_match else ""
    body = text[title_match.end():] if title_match else text
    draft = Draft(label=f"第 {block.line} 行" + (f"（::{title}::）" if title else ""))
    start = body.find("{")
    end = body.find("}", start + 1) if start >= 0 else -1
    if start < 0 or end < 0:
        draft.fail("answer", "没有答案部分 {…}（GIFT 里的说明文字不能作为题目）")
        return draft
    if "{" in body[end + 1:]:
        draft.fail("answer", "一道题只能有一个答案部分 {…}（不支持完形填空）")
        return draft
    inner, _, general = body[start + 1:end].partition("####")
    try:
        qtype, options, answer, feedback = _answers(inner.strip())
    except _Unsupported as exc:
        draft.fail("answer", str(exc))
        return draft
    stem, tail = _prose(body[:start]), _prose(body[end + 1:])
    right, others = feedback
    explanation = (_restore(general).strip() or "；".join(dict.fromkeys(f for f in right if f))
                   or next((f for f in others if f), ""))
    draft.fields = {
        "id": None, "type": qtype, "text": f"{stem}____{tail}" if tail else stem, "options": options,
        "answer": answer, "topics": [block.topic] if block.topic else [], "difficulty": DEFAULT_DIFFICULTY,
        "explanation": explanation, "source": block.source or "",
    }
    _hints(draft)
    return draft


def _hints(draft: Draft) -> None:
    """GIFT has no place for topic, source or explanation by default: say how to write them."""
    if not draft.fields["topics"]:
        draft.fail("topics", "缺少知识点：请在题目前加一行 $CATEGORY: 知识点")
    if not draft.fields["source"]:
        draft.fail("source", "缺少出处：请在题目前一行写 // 出处：…")
    if not draft.fields["explanation"]:
        draft.fail("explanation", "缺少解析：请在答案后写 ####解析，或在正确答案后写 #反馈")


def _answers(inner: str) -> tuple[str, dict[str, str], Any, Feedback]:
    """(type, options, answer, feedback) from the text inside {…}."""
    if not inner:
        raise _Unsupported("不支持问答题（{} 中没有答案）")
    if match := _TRUEFALSE.match(inner):
        wrong, right = (match.group(2).split("#")[1:] + ["", ""])[:2]
        return "truefalse", {}, match.group(1).upper().startswith("T"), ([_restore(right)], [_restore(wrong)])
    if inner.startswith("#"):
        raise _Unsupported("不支持数值题（{#…}）")
    if "->" in inner:
        raise _Unsupported("不支持配对题（->）")
    if re.split(r"[=~]", inner, maxsplit=1)[0].strip():
        raise _Unsupported("答案部分应以 = 或 ~ 开头")
    tokens = [_token(marker, text) for marker, text in _TOKEN.findall(inner)]
    if all(token.marker == "=" for token in tokens):
        return _fill(tokens)
    return _choice(tokens)


def _token(marker: str, text: str) -> _Token:
    weight_match = _WEIGHT.match(text)
    weight = float(weight_match.group(1)) if weight_match else None
    rest = text[weight_match.end():] if weight_match else text
    answer, _, feedback = rest.partition("#")
    return _Token(marker, weight, _restore(answer).strip(), _restore(feedback).strip())


def _fill(tokens: list[_Token]) -> tuple[str, dict[str, str], Any, Feedback]:
    if any(token.weight is not None and token.weight < 100 for token in tokens):
        raise _Unsupported("填空题不支持部分得分（=%50%…），请只列出完全正确的答案")
    return "fill", {}, [token.text for token in tokens], ([token.feedback for token in tokens], [])


def _choice(tokens: list[_Token]) -> tuple[str, dict[str, str], Any, Feedback]:
    if len(tokens) > len(LETTERS):
        raise _Unsupported(f"选项有 {len(tokens)} 个，最多 {len(LETTERS)} 个")
    right = [index for index, token in enumerate(tokens) if _is_right(token)]
    if not right:
        raise _Unsupported("没有正确答案：单选题用 = 标出正确选项，多选题用 ~%50% 这样的正分值")
    options = {LETTERS[index]: token.text for index, token in enumerate(tokens)}
    answer = "".join(LETTERS[index] for index in right)
    feedback = ([tokens[index].feedback for index in right], [t.feedback for t in tokens if not _is_right(t)])
    return ("single" if len(right) == 1 else "multiple"), options, answer, feedback


def _is_right(token: _Token) -> bool:
    if token.marker == "=":
        return token.weight is None or token.weight > 0
    return token.weight is not None and token.weight > 0


def _prose(text: str) -> str:
    """Question text: escapes restored, a [format] marker dropped, HTML tags removed for [html]."""
    format_match = _FORMAT.match(text)
    if format_match:
        text = text[format_match.end():]
        if format_match.group(1).lower() == "html":
            text = html.unescape(_TAG.sub("", text))
    return _restore(text).strip()


def _restore(text: str) -> str:
    return text.translate(_RESTORE)
