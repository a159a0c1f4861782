"""Cutting scripts: sentence ends first, commas next, characters last; nothing lost or reordered."""
from bot.voice.split import estimated_chars, split_script
from tests.voice.scripts import LONG


def test_short_script_is_one_part():
    assert split_script("今天天气很好。", 50) == ["今天天气很好。"]


def test_cuts_after_sentence_ends_and_keeps_closing_quotes():
    script = "他说：“坝体稳定！”我们放心了。汛期还长……大家要坚持。\n请按时巡坝"
    parts = split_script(script, 10)
    assert parts == ["他说：“坝体稳定！”", "我们放心了。", "汛期还长……", "大家要坚持。\n", "请按时巡坝"]


def test_packs_several_sentences_into_one_part_when_they_fit():
    assert split_script("一二三。四五六。七八九。", 8) == ["一二三。四五六。", "七八九。"]


def test_falls_back_to_commas_for_a_long_sentence():
    script = "渗压正常，位移正常，水位正常，雨量正常。"
    parts = split_script(script, 10)
    assert parts == ["渗压正常，位移正常，", "水位正常，雨量正常。"]


def test_cuts_between_characters_only_as_a_last_resort():
    parts = split_script("一二三四五六七八九十甲乙", 5)
    assert parts == ["一二三四五", "六七八九十", "甲乙"]


def test_parts_join_back_to_the_script_and_respect_the_limit():
    for limit in (1, 7, 40, 160, 10_000):
        parts = split_script(LONG, limit)
        assert "".join(parts) == LONG
        assert all(len("".join(p.split())) <= limit for p in parts)
        assert all(p.strip() for p in parts)


def test_slower_rate_fits_fewer_characters():
    assert estimated_chars(55, 150) < estimated_chars(55, 175) < estimated_chars(55, 250)
