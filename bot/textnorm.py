"""Input normalisation: full-width → half-width, Chinese punctuation, spaces, @-mentions, a leading '/'."""
from __future__ import annotations

import re
import unicodedata

_MENTION = re.compile(r"^(?:@\S+\s*)+")
_SPACES = re.compile(r"\s+")
_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "「": '"', "」": '"', "—": "-", "、": ","})
# punctuation people put after a bare command ("打卡！", "帮助？")
TRAILING_PUNCT = "!?.,;:~。！？，；：…、"


def normalize(text: str, *, bot_names: tuple[str, ...] = ()) -> str:
    """Make typed text comparable: NFKC (full-width to half-width, U+3000 to space),
    smart quotes to ASCII, collapsed spaces, leading @mentions and '/' removed."""
    text = unicodedata.normalize("NFKC", text or "").translate(_QUOTES)
    text = text.replace("\u200b", "").replace("\u2005", " ")
    for name in bot_names:
        text = text.replace(f"@{name}", " ")
    text = _SPACES.sub(" ", text).strip()
    text = _MENTION.sub("", text)
    return text.lstrip("/").strip()


def strip_mentions(text: str) -> str:
    """Drop the leading @-mentions WeCom keeps in a group message ("@思政助手 打卡" → "打卡")."""
    return _MENTION.sub("", (text or "").replace("\u2005", " ").strip()).strip()


def command_key(word: str) -> str:
    """The lookup key of a command name or alias: normalised, lower-case, no trailing punctuation."""
    key = normalize(word).lower()
    return key.rstrip(TRAILING_PUNCT) or key
