"""Survey packs: the demo survey loads; a malformed survey.yaml is reported as file:line: field: message."""
from __future__ import annotations

from datetime import date
from textwrap import dedent

import content_packs
from bot.cohorts import DEFAULT_RULES, load_rules
from content_packs import PACKS_ROOT, PackError

MANIFEST = """\
id: s1
version: 1
title: 测试问卷
kind: survey
topics: [学习需求]
audience: []
description: 测试用
"""


def test_demo_needs_survey_loads_with_every_question_type():
    pack = content_packs.load_pack(PACKS_ROOT / "survey_needs_2026", cohorts=load_rules(DEFAULT_RULES).names)
    survey = pack.survey
    assert pack.kind == "survey" and survey.anonymous and survey.opens < survey.closes
    assert {q.type for q in survey.questions} == {"single", "multiple", "scale", "text"}
    assert any(not q.required for q in survey.questions)
    assert all(q.topics for q in survey.questions)


def test_survey_errors_name_file_line_and_field(tmp_path):
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    (folder / "survey.yaml").write_text(dedent("""\
        opens: 2026-03-01
        closes: 2026-3-40
        questions:
          - id: q1
            type: choice
            text: 哪个？
          - id: q2
            type: single
            text: 选一个
            options:
              A: 甲
          - id: q3
            type: scale
            text: 打分
            options:
              A: 甲
              B: 乙
        """), "utf-8")
    try:
        content_packs.load_pack(folder)
    except PackError as exc:
        errors = exc.errors
    else:
        raise AssertionError("the broken survey loaded")
    assert any(e.endswith("survey.yaml:2: closes: 应为日期，写作 2026-03-01") for e in errors)
    assert any("survey.yaml:5: questions[0].type: 题型只能是 single（单选）" in e for e in errors)
    assert any("survey.yaml:10: questions[1].options: 单选题应有 2–8 个选项，实际有 1 个" in e for e in errors)
    assert any("survey.yaml:15: questions[2].options: 打分题（1–5 分）不需要选项" in e for e in errors)


def _errors_of(tmp_path, survey_yaml: str) -> str:
    folder = tmp_path / "s1"
    folder.mkdir(exist_ok=True)
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    (folder / "survey.yaml").write_text(dedent(survey_yaml), "utf-8")
    try:
        content_packs.load_pack(folder)
    except PackError as exc:
        return str(exc)
    raise AssertionError("the broken survey loaded")


def test_closing_before_opening_and_repeated_ids_are_refused(tmp_path):
    assert "closes（2026-03-01）早于 opens（2026-03-10）" in _errors_of(tmp_path, """\
        opens: 2026-03-10
        closes: 2026-03-01
        questions:
          - {id: q1, type: text, text: 说说看}
        """)
    assert "survey.yaml:3: questions: 题目编号重复：q1" in _errors_of(tmp_path, """\
        opens: 2026-03-01
        closes: 2026-03-10
        questions:
          - {id: q1, type: text, text: 说说看}
          - {id: q1, type: text, text: 再说说}
        """)


def test_default_reminder_is_two_days_before_close_at_nine(tmp_path):
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    (folder / "survey.yaml").write_text("opens: 2026-03-01\ncloses: 2026-03-10\nquestions:\n"
                                        "  - {id: q1, type: text, text: 说说看}\n", "utf-8")
    survey = content_packs.load_pack(folder).survey
    assert survey.opens == date(2026, 3, 1) and not survey.anonymous
    assert [(r.days_before_close, r.at) for r in survey.reminders] == [(2, "09:00")]


def test_activity_satisfaction_pack_is_a_per_activity_template():
    pack = content_packs.load_pack(PACKS_ROOT / "survey_activity_satisfaction", cohorts=load_rules(DEFAULT_RULES).names)
    survey = pack.survey
    assert pack.kind == "survey" and survey.per_activity and survey.reminders == ()
    assert "{活动}" in survey.questions[0].text and survey.questions[0].type == "scale"
    assert [q.type for q in survey.questions[1:]] == ["text", "text"]
    assert not any(q.required for q in survey.questions[1:])


def test_per_activity_template_needs_the_placeholder_a_scale_question_and_no_reminders(tmp_path):
    errors = _errors_of(tmp_path, """\
        opens: 2026-03-01
        closes: 2026-12-31
        per_activity: true
        questions:
          - id: q1
            type: text
            text: 有什么收获？
        """)
    assert "第 1 题要写 {活动}" in errors
    errors = _errors_of(tmp_path, """\
        opens: 2026-03-01
        closes: 2026-12-31
        per_activity: true
        questions:
          - id: q1
            type: text
            text: 参加「{活动}」有什么收获？
        """)
    assert "至少要有一道 scale" in errors
    errors = _errors_of(tmp_path, """\
        opens: 2026-03-01
        closes: 2026-12-31
        per_activity: true
        questions:
          - id: q1
            type: scale
            text: 给「{活动}」打分
        """)
    assert "reminders 应写 []" in errors


def test_placeholder_only_in_per_activity_surveys(tmp_path):
    errors = _errors_of(tmp_path, """\
        opens: 2026-03-01
        closes: 2026-12-31
        questions:
          - id: q1
            type: scale
            text: 给「{活动}」打分
        """)
    assert "per_activity: true 的问卷才能" in errors
