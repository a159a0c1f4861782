"""Grading replies the way members type them, and the canonical answers the loader keeps."""
from __future__ import annotations

import pytest

from content_packs import Question
from content_packs.answers import AnswerError, parse_accepted, parse_letters, parse_truth
from content_packs.yamllines import YamlSyntaxError, load

BASE = {"text": "题", "topics": ["防汛"], "difficulty": 1, "explanation": "解析", "source": "出处"}


def question(qtype: str, answer, options=None) -> Question:
    return Question.model_validate({**BASE, "id": "q1", "type": qtype, "answer": answer, "options": options or {}})


@pytest.mark.parametrize(("typed", "letters"), [
    ("B", "B"), (" b ", "B"), ("Ｂ", "B"), ("A,C", "AC"), ("C、A", "AC"), ("ａｃｄ", "ACD"), (["D", "A"], "AD")])
def test_letters(typed, letters):
    assert parse_letters(typed) == letters


@pytest.mark.parametrize("typed", ["", "G", "AA", "甲", 3])
def test_bad_letters(typed):
    with pytest.raises(AnswerError):
        parse_letters(typed)


@pytest.mark.parametrize(("typed", "value"), [
    (True, True), ("对", True), ("正确", True), ("√", True), ("T", True), ("错", False), ("错误", False),
    ("×", False), ("false", False), ("Ｆ", False)])
def test_truth(typed, value):
    assert parse_truth(typed) is value


def test_accepted_answers():
    assert parse_accepted("预案|预案措施") == ("预案", "预案措施")
    assert parse_accepted("24；二十四") == ("24", "二十四")
    assert parse_accepted([24, " 二十四 "]) == ("24", "二十四")
    with pytest.raises(AnswerError):
        parse_accepted([True])


def test_single_and_multiple_grading():
    single = question("single", "b", {"A": "甲", "B": "乙"})
    assert single.answer == "B" and single.is_correct("b") and not single.is_correct("A")
    multiple = question("multiple", "A,C,D", {"A": "1", "B": "2", "C": "3", "D": "4"})
    assert multiple.answer == "ACD" and multiple.answer_label == "ACD"
    assert multiple.is_correct("DCA") and multiple.is_correct("a c d") and not multiple.is_correct("AC")
    assert not multiple.is_correct("随便")


def test_truefalse_and_fill_grading():
    truefalse = question("truefalse", "错")
    assert truefalse.answer is False and truefalse.answer_label == "错误"
    assert truefalse.is_correct("×") and not truefalse.is_correct("对") and not truefalse.is_correct("不知道")
    fill = question("fill", ["安全第一", "Safety First"])
    assert fill.answer_label == "安全第一 | Safety First"
    assert fill.is_correct("安全第一。") and fill.is_correct(" safety first ") and fill.is_correct("“安全 第一”")
    assert not fill.is_correct("安全")


def test_line_numbers_follow_keys_and_items():
    doc = load("a: 1\nlist:\n  - x: 1\n    y: 2\n  - z\n")
    assert doc.data == {"a": 1, "list": [{"x": 1, "y": 2}, "z"]}
    assert doc.line_of(("list", 0, "y")) == 4 and doc.line_of(("list", 1)) == 5
    assert doc.line_of(("list", 0, "missing")) == 3 and doc.line_of(("nothing",)) == 1


def test_recursive_anchors_do_not_hang():
    doc = load("a: &x [*x]\n")
    assert doc.line_of(("a",)) == 1


def test_yaml_errors_carry_the_line():
    with pytest.raises(YamlSyntaxError) as caught:
        load("a: 1\nb: [\n")
    assert caught.value.line >= 2
