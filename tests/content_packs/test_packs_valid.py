"""Every pack folder in the repository loads; the demo banks are big and varied enough, and point at real items."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest
import yaml

import content_packs
from bot.cohorts import DEFAULT_RULES, load_rules
from content_packs import PACKS_ROOT, QUESTION_TYPES
from content_packs.quiz_store import dump_questions

PACK_FOLDERS = sorted(path.parent for path in PACKS_ROOT.glob("*/pack.yaml"))
QUIZ_FOLDERS = [folder for folder in PACK_FOLDERS if (folder / "questions.yaml").exists()]
DEMO_BANKS = ("quiz_water_policy", "quiz_dam_safety", "quiz_flood_duty", "quiz_reservoir_ecology",
              "quiz_responsibilities")
RESPONSIBILITIES = PACKS_ROOT / "demo_unit" / "responsibilities.yaml"
LEVEL_NAMES = {"领导班子": "leadership", "科室负责人": "department", "班组负责人": "team"}
SOURCE = re.compile(r"^责任清单·(?:(单位目标)|层级职责·(.+)|岗位职责·(.+))$")


def cohort_names() -> list[str]:
    return load_rules(DEFAULT_RULES).names


@pytest.mark.parametrize("folder", PACK_FOLDERS, ids=[folder.name for folder in PACK_FOLDERS])
def test_pack_loads(folder: Path):
    pack = content_packs.load_pack(folder, cohorts=cohort_names())
    assert pack.id == folder.name
    assert pack.version >= 1
    if pack.kind == "quiz":
        assert pack.questions


@pytest.mark.parametrize("folder", QUIZ_FOLDERS, ids=[folder.name for folder in QUIZ_FOLDERS])
def test_questions_file_is_in_the_layout_imports_write(folder: Path):
    """Hand edits and imports produce the same layout, so an import's diff shows only what changed."""
    pack = content_packs.load_pack(folder)
    assert (folder / "questions.yaml").read_text("utf-8") == dump_questions(pack.questions)


def test_check_all_finds_no_errors_in_the_real_tree():
    assert content_packs.check_all(PACKS_ROOT, cohorts=cohort_names()) == []


def test_load_all_skips_folders_without_a_manifest():
    packs = content_packs.load_all()
    assert "demo_unit" not in packs
    assert set(DEMO_BANKS) <= set(packs)


def test_demo_banks_are_big_and_varied_enough():
    packs = content_packs.load_all()
    questions = [q for pack_id in DEMO_BANKS for q in packs[pack_id].questions]
    assert len(questions) >= 80
    assert set(Counter(q.type for q in questions)) == set(QUESTION_TYPES)
    for pack_id in DEMO_BANKS:
        bank = packs[pack_id].questions
        assert len(bank) >= 14, pack_id
        assert {q.type for q in bank} == set(QUESTION_TYPES), pack_id
        assert {q.difficulty for q in bank} == {1, 2, 3}, pack_id


def test_no_two_questions_share_a_text():
    texts = Counter(q.text for pack in content_packs.load_all().values() for q in pack.questions)
    assert [text for text, count in texts.items() if count > 1] == []


def test_dam_safety_is_for_engineering_staff():
    assert content_packs.load_all()["quiz_dam_safety"].audience == ("工程运维",)


def test_responsibility_questions_point_at_an_item_of_the_list():
    duties = yaml.safe_load(RESPONSIBILITIES.read_text("utf-8"))
    for question in content_packs.load_all()["quiz_responsibilities"].questions:
        match = SOURCE.match(question.source)
        assert match, f"{question.id}: {question.source}"
        goal, level, post = match.groups()
        if level:
            assert LEVEL_NAMES[level] in duties["levels"], question.id
        if post:
            assert post in duties["posts"], question.id
        assert goal or level or post


def test_every_fill_in_question_has_a_blank():
    for pack in content_packs.load_all().values():
        for question in pack.questions:
            if question.type == "fill":
                assert "____" in question.text, question.id
