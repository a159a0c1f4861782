"""The questions of every loaded quiz pack, addressed the way records store them.

A question's ``ref`` is ``<pack id>/<question id>`` (what ``QuizAnswer.question_ref`` and
``ReviewCard.question_ref`` hold). Topics are the question-level tags (``水法``, ``防汛值班`` …);
a pack's title also names a bank people can ask for (``竞赛 大坝安全``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from flask import Flask

import content_packs
from content_packs import Pack, Question
from content_packs.answers import fold


@dataclass(frozen=True)
class BankQuestion:
    """A question with the pack it came from."""

    pack: Pack
    question: Question

    @property
    def ref(self) -> str:
        return make_ref(self.pack.id, self.question.id)

    @property
    def topics(self) -> tuple[str, ...]:
        return self.question.topics


def make_ref(pack_id: str, question_id: str) -> str:
    return f"{pack_id}/{question_id}"


def quiz_packs(app: Flask | None = None) -> list[Pack]:
    """Every loaded quiz pack, in id order (a stable order for drawing and reports)."""
    return [pack for _, pack in sorted(content_packs.get_packs(app).items()) if pack.kind == "quiz"]


def all_questions(app: Flask | None = None) -> list[BankQuestion]:
    return [BankQuestion(pack, q) for pack in quiz_packs(app) for q in pack.questions]


def find(ref: str, app: Flask | None = None) -> BankQuestion | None:
    """The question a stored ref names, or None when its pack or the question is gone."""
    pack_id, _, question_id = ref.partition("/")
    pack = content_packs.get_packs(app).get(pack_id)
    if pack is None or pack.kind != "quiz":
        return None
    try:
        return BankQuestion(pack, pack.question(question_id))
    except KeyError:
        return None


def for_cohorts(cohorts: Iterable[str], app: Flask | None = None) -> list[BankQuestion]:
    """The questions of the packs meant for a member in these cohorts (empty audience = everyone)."""
    cohorts = tuple(cohorts)
    return [BankQuestion(pack, q) for pack in quiz_packs(app) if pack.is_for(cohorts) for q in pack.questions]


def topics(app: Flask | None = None) -> list[str]:
    """Every question topic, in first-seen order."""
    return list(dict.fromkeys(t for bq in all_questions(app) for t in bq.topics))


def matching(name: str, app: Flask | None = None) -> list[BankQuestion]:
    """The questions a person means by ``name``: a pack (id or title, or part of the title) or a topic.

    Full-width and case differences are ignored; an exact topic wins over a partial title.
    """
    wanted = fold(name).casefold().strip()
    if not wanted:
        return []
    questions = all_questions(app)
    exact = [bq for bq in questions if wanted in {fold(t).casefold() for t in bq.topics}]
    if exact:
        return exact
    packs = [p for p in quiz_packs(app) if wanted in (p.id.casefold(), fold(p.title).casefold())
             or wanted in fold(p.title).casefold()]
    return [BankQuestion(p, q) for p in packs for q in p.questions]
