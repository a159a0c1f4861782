"""Members' replies in a quiz: letters in any width and with any separator, option texts, 对/错 in many
spellings, tolerant fill-in matching (width, punctuation, spaces, numerals, synonyms), and hints."""
from __future__ import annotations

import pytest

from content_packs import answers
from content_packs.answers import UnreadableReply, fill_matches, grade, read_reply

OWNERSHIP = {"A": "国家", "B": "集体", "C": "水库管理单位", "D": "取水单位"}
FOUR_PRE = {"A": "预报", "B": "预警", "C": "预演", "D": "预售"}


@pytest.mark.parametrize("reply", ["A", "a", "Ａ", "ａ", " A ", "A。", "A.", "选A", "我选 A", "答案是A", "A吧", "A选项",
                                   "国家", "国家。", "「国家」", "是国家", "水资源属于国家"[-2:]])
def test_single_choice_forms_read_as_the_letter(reply):
    assert read_reply("single", reply, options=OWNERSHIP) == "A"


def test_a_unique_part_of_an_option_text_counts():
    assert read_reply("single", "管理单位", options=OWNERSHIP) == "C"
    with pytest.raises(UnreadableReply):
        read_reply("single", "单位", options=OWNERSHIP)          # in C and D: ambiguous


@pytest.mark.parametrize("reply", ["ABC", "abc", "ＡＢＣ", "A B C", "A,B,C", "A、B、C", "A，B，C", "C B A", "a c b",
                                   "A;B;C", "预报、预警、预演", "预报 预警 预演", "预演,预报,预警"])
def test_multiple_choice_forms_read_as_sorted_letters(reply):
    assert read_reply("multiple", reply, options=FOUR_PRE) == "ABC"


@pytest.mark.parametrize("reply, hint", [
    ("G", "A–D"), ("E", "本题的选项是 A–D"), ("AB", "单选题"), ("我不知道啊", "跳过"), ("不会", "跳过"),
    ("随便写写", "选项字母（A–D）"), ("", "跳过")])
def test_unreadable_single_choice_gets_a_hint(reply, hint):
    with pytest.raises(UnreadableReply) as caught:
        read_reply("single", reply, options=OWNERSHIP)
    assert hint in str(caught.value)


def test_multiple_choice_hint_shows_how():
    with pytest.raises(UnreadableReply) as caught:
        read_reply("multiple", "都对吧", options=FOUR_PRE)
    assert "AC" in str(caught.value)


@pytest.mark.parametrize("reply, value", [
    ("对", True), ("√", True), ("✓", True), ("正确", True), ("T", True), ("ｔｒｕｅ", True), ("对的", True),
    ("是的", True), ("我觉得对", True), ("对。", True),
    ("错", False), ("×", False), ("错误", False), ("F", False), ("不对", False), ("错的", False), ("X", False)])
def test_truefalse_words(reply, value):
    assert read_reply("truefalse", reply) is value


def test_truefalse_unreadable():
    with pytest.raises(UnreadableReply) as caught:
        read_reply("truefalse", "B")
    assert "「对」或「错」" in str(caught.value)


@pytest.mark.parametrize("accepted, reply", [
    (("防汛抗旱指挥部",), "防汛抗旱指挥部"),
    (("防汛抗旱指挥部",), "防汛抗旱 指挥部"),              # the example in the issue
    (("防汛抗旱指挥部",), "防汛抗旱　指挥部。"),             # full-width space and a full stop
    (("防汛抗旱指挥部",), "防指"),                         # synonym table
    (("防汛抗旱指挥部",), "“防汛抗旱指挥部”"),
    (("预案",), "答案是预案"),
    (("24", "二十四"), "２４"),
    (("24",), "二十四"),                                   # numerals as digits
    (("2023",), "二〇二三"),
    (("2023",), "二零二三"),
    (("三类坝",), "3类坝"),
    (("三会一课",), "3会1课"),
    (("防洪法",), "中华人民共和国防洪法"),
    (("溶解氧", "DO"), "do"),
    (("Safety First",), "safety  first"),
])
def test_fill_in_tolerant_matches(accepted, reply):
    assert fill_matches(accepted, reply)
    assert grade("fill", accepted, reply)


@pytest.mark.parametrize("accepted, reply", [
    (("预案",), "预警"), (("安全第一",), "安全"), (("防汛抗旱指挥部",), "指挥部"), (("24",), "42"), (("2023",), "二〇二二")])
def test_fill_in_wrong_answers_stay_wrong(accepted, reply):
    assert not grade("fill", accepted, reply)


def test_dont_know_is_no_fill_in_answer():
    with pytest.raises(UnreadableReply):
        grade("fill", ("预案",), "我不知道啊")


def test_grade_and_is_correct():
    assert grade("single", "A", "国家", options=OWNERSHIP)
    assert not grade("single", "A", "B", options=OWNERSHIP)
    assert grade("multiple", "ABC", "A、C、B", options=FOUR_PRE)
    assert not grade("multiple", "ABC", "AB", options=FOUR_PRE)
    assert grade("truefalse", False, "×") and not grade("truefalse", True, "×")
    # the existing API: unreadable is simply not correct; options are optional
    assert answers.is_correct("single", "A", "国家", options=OWNERSHIP)
    assert not answers.is_correct("single", "A", "国家")
    assert not answers.is_correct("single", "A", "我不知道啊", options=OWNERSHIP)


def test_synonyms_file_is_checked(tmp_path):
    good = tmp_path / "good.yaml"
    good.write_text("groups:\n  - [防汛抗旱指挥部, 防指]\n", "utf-8")
    assert answers.load_synonyms(good) == {"防汛抗旱指挥部": "防汛抗旱指挥部", "防指": "防汛抗旱指挥部"}
    for text in ("[a, b]\n", "groups:\n  - [只有一个]\n", "groups:\n  - [甲, 乙]\n  - [丙, 乙]\n"):
        bad = tmp_path / f"bad{abs(hash(text))}.yaml"
        bad.write_text(text, "utf-8")
        with pytest.raises(ValueError):
            answers.load_synonyms(bad)


def test_the_bundled_synonyms_load():
    assert answers.load_synonyms()["防指"] == "防汛抗旱指挥部"
