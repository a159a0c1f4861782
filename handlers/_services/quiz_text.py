"""How the daily quiz talks: a question, the verdict after an answer, the hint, the summary."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.models.quiz import Outcome
from content_packs import QUESTION_TYPES, Question, answers
from handlers._services.question_bank import BankQuestion

HOW_TO_ANSWER = {
    "single": "请回复一个选项字母，如「A」，也可以回复选项内容",
    "multiple": "请回复全部正确选项，如「AC」或「A C」",
    "truefalse": "请回复「对」或「错」",
    "fill": "请直接回复要填的内容",
}
CONTROLS = "不会可回复「跳过」，发「结束」可提前结束"
VERDICTS = {
    Outcome.RIGHT: "✓ 回答正确！",
    Outcome.WRONG: "✗ 回答错误。",
    Outcome.MISSED: "⏰ 时间到，本题记为未作答。",
    Outcome.SKIPPED: "已跳过本题。",
}
MODE_TITLES = {"daily": "今天的答题", "review": "错题复习"}
SNIPPET = 24          # characters of a question's text listed in the summary


@dataclass(frozen=True)
class Summary:
    mode: str
    answered: int
    right: int
    seconds: float              # from the first question to the end
    credited_minutes: int       # study time credited for this quiz (0: none)
    to_review: list[str]        # question texts that went into the review schedule
    review_ready: bool = False  # some of the member's reviews are due already
    next_review: datetime | None = None


def question(bq: BankQuestion, *, number: int, total: int, limit_seconds: int = 0) -> str:
    q = bq.question
    limit = f"（限时 {limit_seconds} 秒）" if limit_seconds else ""
    lines = [f"第 {number}/{total} 题 · {QUESTION_TYPES[q.type]}{limit}", q.text]
    lines += [f"{letter}. {text}" for letter, text in q.options.items()]
    lines.append(f"{HOW_TO_ANSWER[q.type]}；{CONTROLS}。")
    return "\n".join(lines)


def verdict(q: Question, outcome: Outcome) -> str:
    """The verdict, the right answer and the explanation."""
    return "\n".join([VERDICTS[outcome], f"正确答案：{answer_shown(q)}", f"解析：{q.explanation}"])


def answer_shown(q: Question) -> str:
    """``Question.answer_label``, with the option texts for a choice question: "B（集体）"."""
    label = q.answer_label
    if q.type in ("single", "multiple"):
        return f"{label}（{'；'.join(q.options[letter] for letter in label)}）"
    return label


def hint(bq: BankQuestion, message: str, *, number: int, total: int, limit_seconds: int = 0) -> str:
    """An unreadable reply: a short hint, then the question again."""
    opening = "" if message == answers.DONT_KNOW_HINT else "没看懂这个答案。"
    return f"{opening}{message}\n\n" + question(bq, number=number, total=total, limit_seconds=limit_seconds)


def summary(s: Summary) -> str:
    title = MODE_TITLES.get(s.mode, "答题")
    if not s.answered:
        return f"{title}已结束，这次没有记录答题。想答题时再发「答题」。"
    lines = [f"{title}结束：答对 {s.right}/{s.answered} 题，用时 {duration(s.seconds)}。"]
    if s.credited_minutes:
        lines.append(f"已计入学习时长 {s.credited_minutes} 分钟。")
    if s.to_review:
        lines.append(f"以下 {len(s.to_review)} 题放进了错题本：")
        lines += [f"· {snippet(text)}" for text in s.to_review]
        if s.review_ready:
            lines.append("发「错题」就可以复习到期的错题。")
        else:
            when = f"（最早 {moment(s.next_review)}）" if s.next_review else ""
            lines.append(f"到期后发「错题」复习{when}。")
    elif s.right == s.answered:
        lines.append("全部答对，真棒！")
    return "\n".join(lines)


def duration(seconds: float) -> str:
    seconds = max(int(round(seconds)), 0)
    minutes, rest = divmod(seconds, 60)
    return f"{minutes} 分 {rest} 秒" if minutes else f"{rest} 秒"


def moment(at: datetime) -> str:
    return f"{at.month}月{at.day}日 {at:%H:%M}"


def snippet(text: str) -> str:
    return text if len(text) <= SNIPPET else text[:SNIPPET] + "…"
