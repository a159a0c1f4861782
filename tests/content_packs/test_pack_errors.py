"""Malformed packs built in tmp_path: every error names file, line and field, and all are reported at once."""
from __future__ import annotations

from pathlib import Path
from textwrap import dedent

import pytest
from flask import Flask

import content_packs
from content_packs import PackError

MANIFEST = """\
id: {id}
version: 1
title: 测试题库
kind: {kind}
topics: [防汛]
audience: {audience}
description: 测试用
"""

GOOD_QUESTION = """\
- id: q1
  type: single
  text: 防汛工作的方针第一句是？
  options:
    A: 安全第一
    B: 效益优先
  answer: A
  topics: [防汛]
  difficulty: 1
  explanation: 安全第一，常备不懈，以防为主，全力抢险。
  source: 《中华人民共和国防汛条例》
"""


def make_pack(root: Path, name: str, questions: str = GOOD_QUESTION, *, kind: str = "quiz",
              audience: str = "[]", manifest: str | None = None) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    text = manifest if manifest is not None else MANIFEST.format(id=name, kind=kind, audience=audience)
    (folder / "pack.yaml").write_text(text, "utf-8")
    (folder / "questions.yaml").write_text(dedent(questions), "utf-8")
    return folder


def line_of(folder: Path, file: str, needle: str, nth: int = 1) -> int:
    hits = [number for number, line in enumerate((folder / file).read_text("utf-8").splitlines(), 1)
            if needle in line]
    return hits[nth - 1]


def errors_of(folder: Path) -> list[str]:
    with pytest.raises(PackError) as caught:
        content_packs.load_pack(folder)
    return caught.value.errors


def where(folder: Path, file: str) -> str:
    return content_packs.loader.display(folder / file)


def test_a_good_pack_loads(tmp_path):
    pack = content_packs.load_pack(make_pack(tmp_path, "good"))
    assert pack.ref == "good@1"
    assert pack.question("q1").is_correct("a")


def test_single_choice_with_two_letters(tmp_path):
    folder = make_pack(tmp_path, "two_letters", GOOD_QUESTION.replace("answer: A", "answer: AB"))
    assert errors_of(folder) == [
        f"{where(folder, 'questions.yaml')}:{line_of(folder, 'questions.yaml', 'answer:')}: "
        "questions[0].answer: 单选题的答案只能是一个选项字母"]


def test_answer_letter_that_is_not_an_option(tmp_path):
    folder = make_pack(tmp_path, "wrong_letter", GOOD_QUESTION.replace("answer: A", "answer: E"))
    [error] = errors_of(folder)
    assert error.startswith(f"{where(folder, 'questions.yaml')}:{line_of(folder, 'questions.yaml', 'answer:')}: "
                            "questions[0].answer: ")
    assert "「E」不是本题的选项" in error and "A、B" in error


def test_duplicate_question_id(tmp_path):
    folder = make_pack(tmp_path, "dupes", GOOD_QUESTION + GOOD_QUESTION.replace("防汛工作", "防洪工作"))
    second = line_of(folder, "questions.yaml", "- id: q1", nth=2)
    assert errors_of(folder) == [
        f"{where(folder, 'questions.yaml')}:{second}: questions[1].id: 题目编号「q1」与第 1 行的题目重复"]


def test_unknown_kind(tmp_path):
    folder = make_pack(tmp_path, "posterish", kind="poster")
    [error] = errors_of(folder)
    assert error == (f"{where(folder, 'pack.yaml')}:{line_of(folder, 'pack.yaml', 'kind:')}: "
                     "kind: 不认识的内容包类型「poster」，目前支持：quiz、push、survey、activity")


def test_missing_explanation_points_at_the_question(tmp_path):
    questions = GOOD_QUESTION.replace("  explanation: 安全第一，常备不懈，以防为主，全力抢险。\n", "")
    folder = make_pack(tmp_path, "no_explanation", questions)
    assert errors_of(folder) == [
        f"{where(folder, 'questions.yaml')}:1: questions[0].explanation: 缺少此项（必填）"]


def test_several_errors_in_several_packs_are_reported_together(tmp_path):
    bad_questions = GOOD_QUESTION.replace("answer: A", "answer: AB").replace("difficulty: 1", "difficulty: 5")
    one = make_pack(tmp_path, "one", bad_questions + GOOD_QUESTION.replace("    B: 效益优先\n", ""))
    two = make_pack(tmp_path, "two", kind="poster")
    make_pack(tmp_path, "fine")
    errors = content_packs.check_all(tmp_path)
    q_file = where(one, "questions.yaml")
    assert errors == [
        f"{q_file}:{line_of(one, 'questions.yaml', 'answer:')}: questions[0].answer: 单选题的答案只能是一个选项字母",
        f"{q_file}:{line_of(one, 'questions.yaml', 'difficulty:')}: questions[0].difficulty: 应不大于 3",
        f"{q_file}:{line_of(one, 'questions.yaml', '- id: q1', nth=2)}: questions[1].id: 题目编号「q1」与第 1 行的题目重复",
        f"{q_file}:{line_of(one, 'questions.yaml', 'options:', nth=2)}: questions[1].options: 单选题应有 2–6 个选项，实际有 1 个",
        f"{where(two, 'pack.yaml')}:4: kind: 不认识的内容包类型「poster」，目前支持：quiz、push、survey、activity",
    ]
    with pytest.raises(PackError) as caught:
        content_packs.load_all(tmp_path)
    assert caught.value.errors == errors
    assert str(caught.value).splitlines()[1:] == errors


def test_yaml_syntax_error_names_its_line(tmp_path):
    folder = make_pack(tmp_path, "broken", GOOD_QUESTION + "  - stray: item\n")
    [error] = errors_of(folder)
    assert error.startswith(f"{where(folder, 'questions.yaml')}:12: 不是有效的 YAML")


def test_manifest_fields_are_checked(tmp_path):
    manifest = "id: Not A Slug\nversion: 0\ntitle: ''\nkind: quiz\ntopics: []\ncolour: blue\n"
    folder = make_pack(tmp_path, "manifest", manifest=manifest)
    file = where(folder, "pack.yaml")
    assert errors_of(folder) == [
        f"{file}:1: id: 只能用小写英文字母、数字、- 和 _，以字母或数字开头，最长 64 位",
        f"{file}:2: version: 应不小于 1",
        f"{file}:3: title: 不能为空",
        f"{file}:5: topics: 至少要写 1 项",
        f"{file}:1: description: 缺少此项（必填）",
        f"{file}:6: colour: 不认识这一项（拼写错误？）",
    ]


def test_unknown_audience_is_reported_when_cohorts_are_known(tmp_path):
    folder = make_pack(tmp_path, "aud", audience="[青年, 外星人]")
    content_packs.load_pack(folder)                       # cohorts unknown: not checked
    with pytest.raises(PackError) as caught:
        content_packs.load_pack(folder, cohorts=["青年", "退休"])
    assert caught.value.errors == [f"{where(folder, 'pack.yaml')}:6: audience[1]: 没有人群「外星人」，可用：退休、青年"]


@pytest.mark.parametrize(("change", "field", "message"), [
    (("type: single", "type: essay"), "type", "题型只能是"),
    (("answer: A", "answer: true"), "answer", "单选题的答案应为选项字母"),
    (("answer: A", "answer: [A, A]"), "answer", "选项字母重复"),
    (("difficulty: 1", "difficulty: '1'"), "difficulty", "应为整数"),
    (("topics: [防汛]", "topics: []"), "topics", "至少要写 1 项"),
    (("    B: 效益优先\n", "    C: 效益优先\n"), "options", "选项应依次为 A、B，实际为 A、C"),
    (("  source: 《中华人民共和国防汛条例》\n", "  source: 《防汛条例》\n  sauce: x\n"), "sauce", "不认识这一项"),
])
def test_question_field_mistakes(tmp_path, change, field, message):
    folder = make_pack(tmp_path, "field", GOOD_QUESTION.replace(*change))
    errors = errors_of(folder)
    assert any(f": questions[0].{field}: " in error and message in error for error in errors), errors


def test_truefalse_and_fill_take_no_options_and_checked_answers(tmp_path):
    questions = dedent("""\
        - id: tf
          type: truefalse
          text: 汛期可以擅自超汛限水位蓄水。
          options: {A: 对, B: 错}
          answer: 也许
          topics: [防汛]
          difficulty: 1
          explanation: 不可以。
          source: 《中华人民共和国防洪法》
        - id: fill
          type: fill
          text: 防汛“四预”：预报、预警、预演、____。
          answer: [预案|预备]
          topics: [防汛]
          difficulty: 2
          explanation: 预案。
          source: 水利部“四预”
        """)
    folder = make_pack(tmp_path, "tf", questions)
    errors = errors_of(folder)
    assert [error.split(": ", 2)[1] for error in errors] == [
        "questions[0].options", "questions[0].answer", "questions[1].answer"]
    assert "判断题不需要选项" in errors[0] and "「也许」" in errors[1] and "不能有 |" in errors[2]


def test_duplicate_pack_ids_across_folders(tmp_path):
    make_pack(tmp_path, "first", manifest=MANIFEST.format(id="same", kind="quiz", audience="[]"))
    make_pack(tmp_path, "second", manifest=MANIFEST.format(id="same", kind="quiz", audience="[]"))
    [error] = content_packs.check_all(tmp_path)
    assert "second/pack.yaml:1: id: 内容包 id「same」与" in error and error.endswith("first 重复")


def test_missing_questions_file(tmp_path):
    folder = make_pack(tmp_path, "empty")
    (folder / "questions.yaml").unlink()
    assert errors_of(folder) == [f"{where(folder, 'questions.yaml')}:1: 缺少文件 questions.yaml"]


def test_init_app_refuses_an_invalid_pack(tmp_path):
    make_pack(tmp_path, "bad", GOOD_QUESTION.replace("answer: A", "answer: Z"))
    app = Flask(__name__)
    app.config["CONTENT_PACKS_DIR"] = str(tmp_path)
    with pytest.raises(PackError, match="questions\\[0\\].answer"):
        content_packs.init_app(app)


def test_init_app_checks_audience_against_the_apps_cohorts(tmp_path):
    make_pack(tmp_path, "aud", audience="[青年]")
    app = Flask(__name__)
    app.config["CONTENT_PACKS_DIR"] = str(tmp_path)
    app.extensions["szzs.cohorts"] = type("Rules", (), {"names": ["退休"]})()
    with pytest.raises(PackError, match="没有人群「青年」"):
        content_packs.init_app(app)
    app.extensions["szzs.cohorts"].names = ["青年", "退休"]
    content_packs.init_app(app)
    assert content_packs.get("aud", app=app).audience == ("青年",)


def test_get_packs_and_get(tmp_path):
    make_pack(tmp_path, "one")
    app = Flask(__name__)
    with pytest.raises(RuntimeError, match="init_app"):
        content_packs.get_packs(app)
    app.config["CONTENT_PACKS_DIR"] = str(tmp_path)
    content_packs.init_app(app)
    with app.app_context():
        assert list(content_packs.get_packs()) == ["one"]
        assert content_packs.get("one", version=1).title == "测试题库"
        with pytest.raises(KeyError, match="第 1 版，不是第 2 版"):
            content_packs.get("one", version=2)
        with pytest.raises(KeyError, match="没有内容包"):
            content_packs.get("two")


def test_a_key_written_twice_is_an_error(tmp_path):
    folder = make_pack(tmp_path, "twice", GOOD_QUESTION.replace("  answer: A\n", "  answer: A\n  answer: B\n"))
    assert errors_of(folder) == [
        f"{where(folder, 'questions.yaml')}:8: questions[0].answer: 这一项写了两次，请只保留一个"]
