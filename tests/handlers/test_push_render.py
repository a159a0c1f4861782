"""Rendering an item in each form: the messages, their order, WeCom's limits, the feedback line, real voice."""
from __future__ import annotations

import pytest

from bot.outgoing import APP_MARKDOWN_LIMIT, TEXT_LIMIT, Image, Markdown, Message, News, Text, Voice
from bot.voice import check_voice
from content_packs import load_all
from handlers._services import push_render
from handlers._services.push_render import describe, plan_voice, render
from tests.handlers.test_push_policy import EVERY_FORM, SCRIPT, write_push_pack


@pytest.fixture
def pack(tmp_path):
    long_body = "\n\n".join(f"第{n}段：汛期值班要做到人员到位、责任到位、措施到位，雨情水情每小时报一次。" * 3
                            for n in range(1, 30))
    write_push_pack(tmp_path / "packs", "push_demo", [
        EVERY_FORM,
        {"id": "long-read", "title": "防汛值班手册", "topics": ["防汛"], "text": {"body": long_body}},
        {"id": "plain", "title": "节约用水", "topics": ["节水"], "text": {"body": "随手关紧水龙头。"}},
        {"id": "headed", "title": "汛期值班规矩", "topics": ["防汛"], "text": {"body": "**汛期值班规矩**\n\n在岗在位。"}},
    ])
    return load_all(tmp_path / "packs")["push_demo"]


def round_trip(messages: list[Message]) -> list[Message]:
    """What a job would rebuild from its kwargs: rendering must survive to_dict/from_dict."""
    return [Message.from_dict(message.to_dict()) for message in messages]


def test_text_is_markdown_with_title_body_video_link_and_feedback(pack):
    messages = render(pack, pack.item("dam-basics"), "text", push_id=42)
    assert messages == round_trip(messages) and len(messages) == 1
    content = messages[0].content
    assert isinstance(messages[0], Markdown)
    assert content.startswith("**大坝安全基本功**") and "**眼看、耳听、手摸**" in content
    assert "[三分钟看懂大坝巡查](https://example.org/dam.mp4)" in content
    assert content.rstrip().endswith("回复「已读」，或「评价 42 1-5」给这条内容打分。")


def test_a_body_that_opens_with_the_title_does_not_repeat_it(pack):
    content = render(pack, pack.item("headed"), "text", push_id=9)[0].content
    assert content.count("汛期值班规矩") == 1 and content.startswith("**汛期值班规矩**\n\n在岗在位。")


def test_text_without_a_video_has_no_video_line(pack):
    content = render(pack, pack.item("plain"), "text", push_id=7)[0].content
    assert "视频" not in content and "随手关紧水龙头。" in content and "评价 7 1-5" in content


def test_a_long_body_is_split_at_line_ends_within_the_limit(pack):
    body = pack.item("long-read").text.body
    messages = render(pack, pack.item("long-read"), "text", push_id=3)
    assert len(messages) > 1 and all(isinstance(m, Markdown) for m in messages)
    assert all(len(m.content.encode("utf-8")) <= APP_MARKDOWN_LIMIT for m in messages)
    assert messages[1].content.startswith(f"（续 2/{len(messages)}）")
    assert "评价 3 1-5" in messages[-1].content and "评价" not in messages[0].content
    # nothing lost, no paragraph cut in the middle
    joined = "\n".join(m.content.split("\n", 1)[1] if i else m.content for i, m in enumerate(messages))
    for paragraph in body.split("\n\n"):
        assert paragraph in joined


def test_news_is_a_card_then_the_feedback_line(pack):
    messages = render(pack, pack.item("dam-basics"), "news", push_id=5)
    assert messages == round_trip(messages)
    card, line = messages
    assert isinstance(card, News) and isinstance(line, Text)
    article = card.articles[0]
    assert (article.title, article.description, article.url, article.picurl) == (
        "大坝安全基本功", "巡查三字诀", "https://example.org/dam", "https://example.org/dam.jpg")
    assert "评价 5 1-5" in line.content


def test_video_is_one_text_with_summary_and_link(pack):
    [message] = render(pack, pack.item("dam-basics"), "video", push_id=9)
    assert isinstance(message, Text) and len(message.content.encode("utf-8")) <= TEXT_LIMIT
    assert message.content.splitlines() == ["【大坝安全基本功】", "三分钟看懂大坝巡查",
                                            "观看视频：https://example.org/dam.mp4",
                                            "读完请回复「已读」，或「评价 9 1-5」给这条内容打分。"]


def test_image_is_the_picture_then_caption_and_feedback(pack):
    messages = render(pack, pack.item("dam-basics"), "image", push_id=11)
    assert messages == round_trip(messages)
    picture, caption = messages
    assert isinstance(picture, Image) and picture.data == (pack.folder / "poster.png").read_bytes()
    assert caption.content.startswith("【大坝安全基本功】巡查要点海报") and "评价 11 1-5" in caption.content


def test_voice_is_real_amr_parts_then_one_line(app, pack):
    messages = render(pack, pack.item("dam-basics"), "voice", push_id=13, rate_wpm=130)
    *voices, line = messages
    assert voices and all(isinstance(v, Voice) for v in voices)
    for voice in voices:
        assert voice.data.startswith(b"#!AMR\n") and 0 < check_voice(voice.data) <= 55
    assert isinstance(line, Text) and line.content.startswith(f"以上是语音《大坝安全基本功》，共 {len(voices)} 段")
    assert "评价 13 1-5" in line.content
    assert round_trip(messages)[0].data == voices[0].data


def test_a_slower_rate_gives_longer_audio(app, pack):
    def seconds(rate):
        return sum(check_voice(m.data) for m in render(pack, pack.item("dam-basics"), "voice", push_id=1,
                                                       rate_wpm=rate) if isinstance(m, Voice))
    assert seconds(110) > seconds(190) * 1.3


def test_a_shipped_recording_is_sent_as_it_is(app, tmp_path):
    from bot.voice import voice_parts

    recording = voice_parts("欢迎收听所史故事。", rate=150)[0].data
    folder = write_push_pack(tmp_path / "recorded", "push_recorded", [
        {"id": "story", "title": "所史故事", "topics": ["所史"], "voice": {"file": "story.amr"}}], )
    (folder / "story.amr").write_bytes(recording)
    pack = load_all(tmp_path / "recorded")["push_recorded"]
    voice, line = render(pack, pack.item("story"), "voice", push_id=2)
    assert voice.data == recording and "共 1 段" in line.content


def test_asking_for_a_form_the_item_lacks_is_an_error(pack):
    with pytest.raises(ValueError):
        render(pack, pack.item("plain"), "voice", push_id=1)


def test_describe_estimates_voice_without_synthesising(pack, monkeypatch):
    monkeypatch.setattr(push_render, "voice_parts", lambda *a, **k: pytest.fail("预览不应合成语音"))
    text = describe(pack, pack.item("dam-basics"), "voice", rate_wpm=130)
    plan = plan_voice(SCRIPT, 130)
    assert plan.characters == len(SCRIPT) and plan.parts == 1 and 10 < plan.seconds < 30
    assert f"朗读稿 {len(SCRIPT)} 字" in text and "预计 1 段" in text and "每分钟 130 字词" in text
    assert "评价 <推送号> 1-5" in text


def test_a_long_script_is_planned_in_several_parts_and_slower_is_longer():
    script = SCRIPT * 12
    slow, fast = plan_voice(script, 120), plan_voice(script, 180)
    assert slow.parts > 1 and slow.parts >= fast.parts and slow.seconds > fast.seconds * 1.4


def test_describe_shows_text_as_sent(pack):
    text = describe(pack, pack.item("dam-basics"), "text")
    assert text == render(pack, pack.item("dam-basics"), "text", push_id=1)[0].content.replace(
        "评价 1 1-5", "评价 <推送号> 1-5")
