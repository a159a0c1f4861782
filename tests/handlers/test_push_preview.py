"""预览 through the real callback path: item lookup, each cohort's form and content, voice estimates, admins only."""
from __future__ import annotations

import pytest

from bot import db
from handlers._services import push_render
from tests.factories import member
from tests.handlers.test_push_policy import SCRIPT, platform_for, push_app


@pytest.fixture
def platform(tmp_path, clock, monkeypatch):
    # a preview must never synthesise: fail loudly if it tries
    monkeypatch.setattr(push_render, "voice_parts", lambda *a, **k: pytest.fail("预览不应合成语音"))
    app = push_app(tmp_path, clock)
    with app.app_context():
        db.create_all(app)
        member(db.get_session(), "u001", name="张三")
        yield platform_for(app)


def preview(platform, text, user="admin01"):
    return platform.say(text, channel="app", chattype="single", user=user).text


def sections(text: str) -> dict[str, str]:
    """「【人群】形式\\n内容」 blocks by their label."""
    found = {}
    for block in text.split("\n\n【")[1:]:
        label, _, rest = block.partition("】")
        found[label] = rest
    return found


def test_every_cohort_in_precedence_order_with_its_form_and_content(platform):
    text = preview(platform, "预览 push_unit_history/dam-basics")
    assert text.startswith("预览《大坝安全基本功》（push_unit_history/dam-basics，有文字、图文卡片、视频链接、语音、图片）")
    shown = sections(text)
    assert list(shown) == ["退休", "临退休", "青年", "调度管理", "工程运维", "其他职工"]
    assert shown["退休"].startswith("语音\n[语音] 朗读稿") and "每分钟 130 字词" in shown["退休"]
    assert "每分钟 140 字词" in shown["临退休"]
    assert shown["青年"].startswith("文字\n**大坝安全基本功**") and "https://example.org/dam.mp4" in shown["青年"]
    assert shown["调度管理"].startswith("图文卡片\n[图文卡片] 大坝安全基本功") and "https://example.org/dam" in shown["调度管理"]
    assert shown["工程运维"].startswith("视频链接\n【大坝安全基本功】\n三分钟看懂大坝巡查")
    assert "评价 <推送号> 1-5" in shown["其他职工"]
    assert "按 退休 > 临退休 > 青年 > 调度管理 > 工程运维 的顺序" in text


def test_one_named_cohort_shows_only_its_message(platform):
    text = preview(platform, "预览 push_unit_history/founding 退休")
    assert list(sections(text)) == ["退休"]
    voice = sections(text)["退休"]
    assert f"朗读稿 {len(SCRIPT)} 字" in voice and "预计 1 段" in voice and "约" in voice and "秒" in voice
    assert "[文字] 以上是语音《建库岁月》" in voice


def test_a_cohort_may_come_first_and_other_means_the_default(platform):
    assert list(sections(preview(platform, "预览 青年 founding"))) == ["青年"]
    text = preview(platform, "预览 founding 其他")
    assert list(sections(text)) == ["其他职工"] and "1958 年冬天" in text


@pytest.mark.parametrize("query", ["founding", "建库岁月", "建库", "push_unit_history/founding"])
def test_an_item_by_id_title_or_part_of_the_title(platform, query):
    assert preview(platform, f"预览 {query}").startswith("预览《建库岁月》")


def test_an_ambiguous_title_asks_which_one(platform):
    text = preview(platform, "预览 夜")
    assert text.startswith("「夜」对应 2 条内容，请写明是哪一条")
    assert "push_young_water_workers/first-patrol  第一次夜间巡查" in text
    assert "push_young_water_workers/flood-night  防汛值班的一夜" in text


@pytest.mark.parametrize("query", ["没有这条", "push_unit_history/nope", "nope/founding"])
def test_an_unknown_item_is_explained(platform, query):
    assert preview(platform, f"预览 {query}").startswith(f"没有找到条目「{query}」")


def test_bare_preview_gets_the_usage(platform):
    assert "预览 <条目 [人群]>" in preview(platform, "预览")


def test_members_may_not_preview(platform):
    text = preview(platform, "预览 founding", user="u001")
    assert "预览《" not in text and "管理员" in text
