"""Reading study reports typed in chat: how long someone studied ("一个半小时", "1.5h") and on what."""
from __future__ import annotations

import re
from dataclasses import dataclass

import jieba

from bot import nlp

MAX_MINUTES = 24 * 60          # one report cannot cover more than a day
TOPIC_MAX_CHARS = 30

_NUM = r"(?:\d+(?:\.\d+)?|[零〇一二两俩三四五六七八九十百]+)"
# one "atom" of a duration; an hour atom followed by a minute atom is read as one duration
_ATOM = re.compile(
    rf"(?P<hour>(?:(?P<h>{_NUM})|(?P<lead>半))\s*(?P<ge>个)?\s*(?P<mid>半)?\s*"
    r"(?P<hunit>小时|钟头|钟|hours?|hrs?|h)(?![A-Za-z])(?P<tail>半)?)"
    rf"|(?P<quarter>(?P<q>{_NUM})\s*个?\s*刻钟)"
    rf"|(?P<minute>(?P<m>{_NUM})\s*(?P<munit>分钟|分|minutes?|mins?|m)(?![A-Za-z]))",
    re.IGNORECASE,
)
# what may sit between "1小时" and "20分钟"
_JOINER = re.compile(r"\s*零?\s*")
# "1h30", "一小时二十": minutes without a unit, only 10-59 and only at the end of a clause,
# so "1小时二十大精神" stays an hour of 二十大
_BARE_MINUTES = re.compile(r"\s*(?P<m>[1-5]\d|[二三四五]?十[一二三四五六七八九]?)(?=$|[\s,，。!！;；、])")
# a minus sign ("-2小时", "负1小时") or a range ("2-3小时", "两到三小时") right before a number:
# no single reading; a dash after a word is a separator ("防汛知识-2小时")
_BEFORE_BAD = re.compile(r"(?:(?:^|\s)[-−]|负|[\d零〇一二两俩三四五六七八九十百]\s*[-−~到至])\s*$")

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "俩": 2, "三": 3, "四": 4,
           "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100}

_CLAUSE_BREAK = re.compile(r"[,，。.!！?？;；、\n]")
_PUNCT = " \t,，。.!！?？;；:：、~…\"'()（）[]【】《》<>-—"
# words around a duration that say nothing about the topic; stripped only at the topic's edges,
# so "党的二十大精神" keeps its inner 的
_FILLERS = frozenset("""
    今天 昨天 前天 明天 今早 今晚 早上 上午 中午 下午 晚上 刚才 刚刚 方才 我 我们 大家 又 也 再 还 已经 已
    学习 学习了 学了 学 了 过 的 地 在 关于 有关 相关 一下 知识点 认真 认真学习 集中 集中学习 自学
    看 看了 读 读了 听 听了 观看 观看了 阅读 阅读了 研读 研读了 收看 收看了 进行 进行了 参加 参加了
    共 一共 总共 累计 合计 花了 用了 约 大约 大概 差不多 左右 多 时间 时长 的时间 一共是 是
""".split())
# a topic that is only one of these is no topic at all ("学了1小时的知识")
_GENERIC = frozenset({"知识", "内容", "资料", "材料", "学习资料", "东西"})


@dataclass(frozen=True)
class StudyInput:
    minutes: int        # > 0
    topic: str          # "" when none; trimmed, at most 30 characters


@dataclass(frozen=True)
class _Span:
    start: int
    end: int
    minutes: float


# returned by the readers below for an atom that looks like a duration but cannot be one ("两三个小时")
_UNREADABLE = _Span(0, 0, 0)


def parse_study(text: str) -> StudyInput | None:
    """Minutes and topic of a study report, or None when it has no single readable duration.

    Several durations ("上午1小时，下午2小时"), ranges, days and bare numbers are all None:
    a wrong number in the monthly tally is worse than asking the member again.
    """
    text = (text or "").strip()
    spans = _durations(text)
    if spans is None or len(spans) != 1:
        return None
    span = spans[0]
    minutes = int(span.minutes + 0.5)
    if not 0 < minutes <= MAX_MINUTES:
        return None
    return StudyInput(minutes, _topic(text[:span.start], text[span.end:]))


def _durations(text: str) -> list[_Span] | None:
    """Every duration in ``text``; None when one of them cannot be read (negative, a range, 1小时90分)."""
    spans: list[_Span] = []
    atoms = list(_ATOM.finditer(text))
    i = 0
    while i < len(atoms):
        atom, nxt = atoms[i], atoms[i + 1] if i + 1 < len(atoms) else None
        if _BEFORE_BAD.search(text[:atom.start()]):
            return None
        if atom["hour"] and nxt and not nxt["hour"] and _joined(text, atom, nxt):
            span = _compound(atom, _atom_minutes(nxt), nxt.end())
            i += 2
        else:
            span = _single(text, atom)
            i += 1
        if span is _UNREADABLE:
            return None
        if span is not None:
            spans.append(span)
    return spans


def _joined(text: str, hour: re.Match, minute: re.Match) -> bool:
    gap = text[hour.end():minute.start()]
    return not hour["tail"] and _JOINER.fullmatch(gap) is not None


def _single(text: str, atom: re.Match) -> _Span | None:
    """One atom on its own; a bare "分"/"m" is not a duration by itself ("十分重要", "90分" is a score)."""
    if atom["minute"] and atom["munit"].lower() in ("分", "m"):
        return None
    bare = _BARE_MINUTES.match(text, atom.end()) if atom["hour"] and not atom["tail"] else None
    if bare:
        return _compound(atom, _to_number(bare["m"]), bare.end())
    minutes = _atom_minutes(atom)
    return _UNREADABLE if minutes is None else _Span(atom.start(), atom.end(), minutes)


def _compound(hour: re.Match, extra: float | None, end: int) -> _Span:
    """"1小时20分钟", "一小时二十分", "1h30m", "一小时一刻钟": whole hours, then less than an hour."""
    whole = _atom_minutes(hour)
    if whole is None or extra is None or extra >= 60 or whole % 60:
        return _UNREADABLE
    return _Span(hour.start(), end, whole + extra)


def _atom_minutes(atom: re.Match) -> float | None:
    if atom["quarter"]:
        count = _to_number(atom["q"])
        return None if count is None else count * 15
    if atom["minute"]:
        return _to_number(atom["m"])
    return _hour_minutes(atom)


def _hour_minutes(atom: re.Match) -> float | None:
    """"2小时", "一个半小时", "两小时半", "半个钟头"; "钟" needs "个" ("两个钟") to mean hours."""
    if atom["hunit"] == "钟" and not atom["ge"]:
        return None
    if atom["lead"]:
        return None if atom["mid"] or atom["tail"] else 30
    if atom["mid"] and atom["tail"]:
        return None
    hours = _to_number(atom["h"])
    if hours is None:
        return None
    half = 0.5 if atom["mid"] or atom["tail"] else 0
    return None if half and hours % 1 else (hours + half) * 60


def _to_number(word: str) -> float | None:
    """"2", "1.5", "二十五", "一百零五", "两" → the number; None for "两三" or "十十"."""
    try:
        return float(word)
    except ValueError:
        return _chinese_number(word)


def _chinese_number(word: str) -> int | None:
    total, digit, last_unit = 0, None, 1000
    for char in word:
        if char in _UNITS:
            unit = _UNITS[char]
            # units must shrink left to right, and "百" needs a digit in front ("十" alone means 10)
            if unit >= last_unit or (digit is None and unit == 100):
                return None
            total, digit, last_unit = total + (1 if digit is None else digit) * unit, None, unit
        elif digit is not None and digit != 0:
            return None            # "两三个小时" is a guess, not a number
        else:
            digit = _DIGITS[char]
    return total + (digit or 0)


def _topic(before: str, after: str) -> str:
    """The rest of the duration's clause after it ("2小时 防汛政策"), else the clause before it
    ("防汛知识学了2小时")."""
    after_clause = _CLAUSE_BREAK.split(after, maxsplit=1)[0]
    before_clause = _CLAUSE_BREAK.split(before)[-1]
    topic = _trim(after_clause) or _trim(before_clause)
    return "" if topic in _GENERIC else topic[:TOPIC_MAX_CHARS].strip(_PUNCT)


def _trim(clause: str) -> str:
    """Drop filler words and punctuation at both ends, using jieba's word boundaries."""
    nlp.load()
    tokens = jieba.lcut(clause.strip(_PUNCT))
    while tokens and _is_filler(tokens[0]):
        tokens.pop(0)
    while tokens and _is_filler(tokens[-1]):
        tokens.pop()
    return "".join(tokens).strip(_PUNCT)


def _is_filler(token: str) -> bool:
    return token.strip(_PUNCT) == "" or token.strip() in _FILLERS


# "学了", "学习了", "学完", "自学", "领学" — but not "上大学了", "放学了", "数学了"
_STUDIED = re.compile(r"(?<![大数化科留放上同开小中哲医文教入转退休复逃辍])学(?:习)?(?:了|完)"
                      r"|自学|领学|完成了?.{0,20}学习|(?:阅读|研读|读)(?:了|完)"
                      r"|参加了.{0,20}(?:学习|培训|党课|讲座|宣讲)")
# watching or listening counts only with something study-like after it ("看了电影" does not)
_WATCHED = re.compile(r"(?:看|观看|收看|听)了.{0,20}?(?:学习|资料|材料|文件|视频|课|讲座|报告|书|文章|精神|"
                      r"党史|党章|条例|规范|规程|预案|制度|知识|政策|警示|专题)")
# not a report: negated ("没学"), planned or asked for ("明天学", "请大家学习"), or a question
_NEGATED = r"(?:没有?|未(?!来)|不(?![仅但少断]))(?:认真|好好)?学"
_PLANNED = (r"(?:明天|后天|下周|下星期|下个月|准备|打算|计划|将要|(?<![主只重])要|需要|应该|记得|请)"
            r"(?:大家)?(?:去|再|好好|认真)?学")
_QUESTION = r"[?？]|吗|[么没]\s*$"
_NOT_DONE = re.compile("|".join((_NEGATED, _PLANNED, _QUESTION)))


def mentions_study(text: str) -> bool:
    """Whether a sentence without a command reports studying that has happened
    ("今天学习了2个小时的防汛知识", "看了半小时学习资料"); plans, requests and questions do not count."""
    text = (text or "").strip()
    if not text or _NOT_DONE.search(text):
        return False
    if _STUDIED.search(text) or _WATCHED.search(text):
        return True
    # "今天学习2小时防汛知识": no 了, but a study verb and a readable duration
    return "学习" in text and parse_study(text) is not None
