"""需求分析: the learning needs in free-text survey answers and 反馈, per cohort, linked to content topics.

Keywords come from jieba's TF-IDF and TextRank (``jieba.analyse``) over each cohort's texts, with
the domain dictionary (bot/domain_words.txt) and a stop-word list (needs_stopwords.txt). A need
is *common* when a fair share of every cohort's answers mention it, *particular* when one cohort
mentions it and the others hardly do. Keywords map to content topics through needs_topics.yaml.
"""
from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import nlp
from bot.cohorts import OTHERS
from bot.models.surveys import Feedback, SurveyAnswer
from content_packs import Pack
from handlers._services import surveys

STOP_WORDS = Path(__file__).with_name("needs_stopwords.txt")
TOPICS = Path(__file__).with_name("needs_topics.yaml")
CANDIDATES = 30          # keywords taken from each extractor before ranking
TOP = 6                  # keywords shown per cohort
MIN_SHARE = 0.15         # a need: mentioned in at least this share of a cohort's texts …
MIN_TEXTS = 2            # … and by at least two people
RARE_ELSEWHERE = 1 / 3   # particular: every other cohort mentions it at most a third as often


@dataclass(frozen=True)
class Voice:
    """One free text and the cohorts of who wrote it."""

    text: str
    cohorts: tuple[str, ...]
    source: str = "survey"       # survey | feedback


@dataclass
class CohortNeeds:
    cohort: str
    texts: int
    keywords: list[str] = field(default_factory=list)     # best first
    particular: list[str] = field(default_factory=list)
    quotes: list[str] = field(default_factory=list)       # representative answers


@dataclass
class NeedsReport:
    cohorts: dict[str, CohortNeeds]
    common: list[str]
    voices: int
    from_feedback: int

    def topics_by_cohort(self, topic_map: dict[str, str] | None = None) -> dict[str, list[str]]:
        """Content topics per cohort: the common needs' first, then the cohort's own; no repeats."""
        mapping = load_topics() if topic_map is None else topic_map
        out = {}
        for name, needs in self.cohorts.items():
            words = [*self.common, *needs.particular, *needs.keywords]
            out[name] = list(dict.fromkeys(mapping[w] for w in words if w in mapping))
        return out


@functools.cache
def load_topics(path: Path = TOPICS) -> dict[str, str]:
    data = yaml.safe_load(path.read_text("utf-8")) or {}
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise ValueError(f"{path}: 应为「关键词: 主题」的映射")
    return data


@functools.cache
def _extractors() -> tuple:
    """Our own extractor objects (jieba.analyse.TFIDF, TextRank), so the stop words do not change jieba's
    module-level defaults. Imported here, in the worker's job: importing jieba.analyse loads its IDF table
    and part-of-speech dictionary (about 80 MB) that the web workers never use."""
    import jieba.analyse

    nlp.load()
    tfidf, textrank = jieba.analyse.TFIDF(), jieba.analyse.TextRank()
    tfidf.set_stop_words(str(STOP_WORDS))
    textrank.set_stop_words(str(STOP_WORDS))
    return tfidf, textrank


def keywords(texts: list[str], limit: int = CANDIDATES) -> list[tuple[str, float]]:
    """Keywords of the texts with a combined score: TF-IDF and TextRank weights, each scaled to 0–1, added."""
    tfidf, textrank = _extractors()
    document = "\n".join(texts)
    scores: dict[str, float] = defaultdict(float)
    for found in (tfidf.extract_tags(document, topK=limit, withWeight=True),
                  textrank.textrank(document, topK=limit, withWeight=True)):
        top = max((weight for _, weight in found), default=0) or 1
        for word, weight in found:
            if not word.startswith("#"):
                scores[word] += weight / top
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def analyse(voices: list[Voice], *, top: int = TOP) -> NeedsReport:
    """Needs per cohort, the needs common to all cohorts, and each cohort's particular ones."""
    by_cohort: dict[str, list[str]] = defaultdict(list)
    for voice in voices:
        for name in voice.cohorts or (OTHERS,):
            by_cohort[name].append(voice.text)
    candidates = {name: [w for w, _ in keywords(texts)] for name, texts in by_cohort.items()}
    words = {w for found in candidates.values() for w in found}
    share = {name: {w: _share(w, texts) for w in words} for name, texts in by_cohort.items()}
    counts = {name: {w: sum(w in t for t in texts) for w in words} for name, texts in by_cohort.items()}
    needs = {name: [w for w in candidates[name] if share[name][w] >= MIN_SHARE and counts[name][w] >= MIN_TEXTS]
             for name in by_cohort}
    common = []
    if len(by_cohort) >= 2:
        first = next(iter(needs.values()))
        common = [w for w in first if all(w in found for found in needs.values())]
    cohorts = {}
    for name in sorted(by_cohort, key=lambda n: (-len(by_cohort[n]), n)):
        others = [share[o] for o in by_cohort if o != name]
        particular = [w for w in needs[name] if w not in common and others
                      and all(s[w] <= share[name][w] * RARE_ELSEWHERE for s in others)]
        cohorts[name] = CohortNeeds(name, len(by_cohort[name]), needs[name][:top], particular[:top],
                                    _quotes(by_cohort[name], particular[:3] or needs[name][:3]))
    return NeedsReport(cohorts, common, len(voices), sum(v.source == "feedback" for v in voices))


def _share(word: str, texts: list[str]) -> float:
    return sum(word in text for text in texts) / len(texts) if texts else 0.0


def _quotes(texts: list[str], words: list[str], limit: int = 2) -> list[str]:
    """For each word, the answer that says most of the cohort's needs (then the shortest): one per word."""
    chosen: list[str] = []
    for word in words:
        holding = [t for t in texts if word in t and t not in chosen]
        if holding:
            chosen.append(min(holding, key=lambda t: (-sum(w in t for w in words), len(t), t)))
        if len(chosen) == limit:
            break
    return chosen


# -- from the database -----------------------------------------------------------------------------

def voices_of(session: Session, pack: Pack) -> list[Voice]:
    """The survey's free-text answers and the 反馈 sent while it was open."""
    text_ids = [q.id for q in pack.survey.questions if q.type == "text"]
    rows = session.scalars(select(SurveyAnswer).where(SurveyAnswer.survey_id == pack.id,
                                                      SurveyAnswer.question_id.in_(text_ids),
                                                      SurveyAnswer.skipped.is_(False)).order_by(SurveyAnswer.id))
    voices = [Voice(row.value, tuple(surveys.split_cohorts(row.cohorts))) for row in rows if row.value.strip()]
    start = datetime.combine(pack.survey.opens, time.min)
    end = datetime.combine(pack.survey.closes + timedelta(days=1), time.min)
    feedback = session.scalars(select(Feedback).order_by(Feedback.id))
    for row in feedback:
        created = row.created_at.replace(tzinfo=None) if row.created_at.tzinfo is None else row.created_at
        local = created if created.tzinfo is None else created.astimezone(_zone(pack)).replace(tzinfo=None)
        if start <= local < end:
            voices.append(Voice(row.text, tuple(surveys.split_cohorts(row.cohorts)), "feedback"))
    return voices


def _zone(pack: Pack):
    from flask import current_app
    from zoneinfo import ZoneInfo

    return ZoneInfo(current_app.config["TIMEZONE"])


def needs_by_cohort(session: Session, survey_ref: str) -> dict[str, list[str]]:
    """Content topics each cohort asked for in a survey (and in 反馈 while it was open), best first.

    Args:
        session: the SQL session.
        survey_ref: the survey's pack id or title.

    Raises:
        KeyError: there is no such survey.
    """
    pack = surveys.find_survey(survey_ref)
    if pack is None:
        raise KeyError(survey_ref)
    return analyse(voices_of(session, pack)).topics_by_cohort()


def render(pack: Pack, report: NeedsReport) -> str:
    """The report as one message for the admin who asked."""
    if not report.voices:
        return f"需求分析 · 《{pack.title}》\n还没有问答题的回答或意见反馈，暂时无法分析。"
    topics = load_topics()
    sizes = "、".join(f"{n.cohort} {n.texts}" for n in report.cohorts.values())
    lines = [f"需求分析 · 《{pack.title}》",
             f"共 {report.voices} 条文字（问卷问答 {report.voices - report.from_feedback} 条、意见反馈 "
             f"{report.from_feedback} 条）。按人群：{sizes}（一人可属多个人群）"]
    lines.append("共性需求（各人群都提到）：" + (_with_topics(report.common, topics) or "暂无"))
    for needs in report.cohorts.values():
        lines += ["", f"【{needs.cohort}】高频词：{'、'.join(needs.keywords) or '暂无'}",
                  f"特有需求：{_with_topics(needs.particular, topics) or '无明显的特有需求'}"]
        lines += [f"代表性回答：“{quote[:60]}”" for quote in needs.quotes]
    return "\n".join(lines)


def render_steering(stored: dict[str, list[str]]) -> str:
    """The report's last paragraph: which topics each cohort's scheduled pushes now prefer."""
    lines = [f"{cohort} → {'、'.join(topics)}" for cohort, topics in stored.items() if topics]
    if not lines:
        return "没有找到能对应到内容主题的需求，各人群的定时推送仍按评价挑选内容。"
    return "各人群的定时推送今后优先挑选这些主题的内容：\n" + "\n".join(lines)


def _with_topics(words: list[str], topics: dict[str, str]) -> str:
    return "、".join(f"{w}（→{topics[w]}）" if w in topics else w for w in words)
