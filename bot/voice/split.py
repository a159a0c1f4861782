"""Cutting a voice script into parts short enough for one WeCom voice message.

Parts are cut after sentence ends first, then after commas, and only as a last resort between
characters, so each voice message ends where a listener expects a pause. The parts concatenate back
to exactly the original script, which keeps the order and coverage easy to check.
"""
from __future__ import annotations

import re

# a sentence: anything up to a run of end marks plus any closing quotes or brackets after them
_SENTENCE = re.compile(r"[^。！？；!?;…\n]+(?:[。！？；!?;…\n]+[”’」』）)]*)?|[。！？；!?;…\n]+[”’」』）)]*")
_CLAUSE = re.compile(r"[^，,、：:]+[，,、：:]*|[，,、：:]+")

# espeak-ng's Mandarin at 175 wpm reads about 3.9–4.3 characters (punctuation included) per second;
# 3.6 leaves room for slower passages, and a part that still comes out too long is cut again.
CHARS_PER_SECOND_AT_175 = 3.6


def estimated_chars(seconds: float, rate: int) -> int:
    """How many characters fit in ``seconds`` of speech at ``rate`` words per minute (a cautious guess)."""
    return max(1, int(seconds * CHARS_PER_SECOND_AT_175 * rate / 175))


def split_script(script: str, max_chars: int) -> list[str]:
    """Cut ``script`` into pieces of at most ``max_chars`` characters (whitespace not counted).

    ``"".join(result) == script``; pieces that hold nothing but whitespace are glued to a neighbour.
    """
    if max_chars < 1:
        raise ValueError("max_chars must be at least 1")
    units: list[str] = []
    for sentence in _cut(script, _SENTENCE):
        if _size(sentence) <= max_chars:
            units.append(sentence)
            continue
        for clause in _cut(sentence, _CLAUSE):
            units.extend([clause] if _size(clause) <= max_chars else _hard_cut(clause, max_chars))
    return _pack(units, max_chars)


def _cut(text: str, pattern: re.Pattern) -> list[str]:
    return pattern.findall(text)


def _size(text: str) -> int:
    return len("".join(text.split()))


def _hard_cut(text: str, max_chars: int) -> list[str]:
    pieces, current = [], ""
    for char in text:
        if _size(current + char) > max_chars:
            pieces.append(current)
            current = ""
        current += char
    return [*pieces, current] if current else pieces


def _pack(units: list[str], max_chars: int) -> list[str]:
    parts: list[str] = []
    for unit in units:
        if parts and (_size(parts[-1] + unit) <= max_chars or not unit.strip()):
            parts[-1] += unit
        else:
            parts.append(unit)
    if len(parts) > 1 and not parts[0].strip():       # leading blank lines join the first real part
        parts[1] = parts[0] + parts[1]
        del parts[0]
    return parts
