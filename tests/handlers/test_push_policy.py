"""The channel policy: forms per cohort, precedence, preferred forms, fallbacks, voice rates, schedules, bad files."""
from __future__ import annotations

import shutil
from pathlib import Path

import fakeredis
import pytest
import yaml

from bot import cohorts, create_app, db
from bot.config import DEFAULT_UNIT_DIR
from content_packs import load_all
from content_packs.schema import PushItem
from handlers._services.push_policy import CohortSchedule, PolicyError, get_policy, load_policy
from tests.conftest import TEST_AES_KEY, TEST_CORP_ID, TEST_TOKEN, make_settings
from tests.factories import member
from tests.platform.actor import WeComPlatform

DEMO_PACK_IDS = ("push_policy_readings", "push_dam_safety_cases", "push_flood_duty_stories",
                 "push_young_water_workers", "push_unit_history")
PUSH_MODULES = ("help", "push_prefs", "push_preview")
SCRIPT = "大坝是水库的心脏。巡查时要看坝坡有没有裂缝，听坝体有没有异响。"
EVERY_FORM = {
    "id": "dam-basics", "title": "大坝安全基本功", "topics": ["大坝安全"],
    "text": {"body": "巡查大坝要做到**眼看、耳听、手摸**。\n\n发现渗水及时上报。"},
    "news": {"title": "大坝安全基本功", "description": "巡查三字诀", "url": "https://example.org/dam",
             "cover": "https://example.org/dam.jpg"},
    "video": {"url": "https://example.org/dam.mp4", "summary": "三分钟看懂大坝巡查"},
    "voice": {"script": SCRIPT},
    "image": {"file": "poster.png", "caption": "巡查要点海报"},
}


def item(**variants) -> PushItem:
    return PushItem.model_validate({"id": "x", "title": "测试条目", "topics": ["测试"], **variants})


def write_push_pack(root: Path, pack_id: str, items: list[dict], *, title: str = "测试推送包") -> Path:
    folder = root / pack_id
    folder.mkdir(parents=True)
    manifest = {"id": pack_id, "version": 1, "title": title, "kind": "push", "topics": ["测试"],
                "description": "测试用的推送包"}
    (folder / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    (folder / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), "utf-8")
    (folder / "poster.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    return folder


def demo_like_packs(root: Path) -> Path:
    """Stand-ins named like the demo push packs, so the shipped policy file can be loaded in isolation."""
    write_push_pack(root, "push_unit_history", [EVERY_FORM,
                    {"id": "founding", "title": "建库岁月", "topics": ["所史"], "voice": {"script": SCRIPT},
                     "text": {"body": "1958 年冬天，第一批建设者来到这里。"}}])
    write_push_pack(root, "push_young_water_workers", [
        {"id": "first-patrol", "title": "第一次夜间巡查", "topics": ["青年"], "text": {"body": "那天雨很大。"}},
        {"id": "flood-night", "title": "防汛值班的一夜", "topics": ["防汛"], "text": {"body": "值班室灯亮了一夜。"}}])
    for pack_id in set(DEMO_PACK_IDS) - {"push_unit_history", "push_young_water_workers"}:
        write_push_pack(root, pack_id, [{"id": "only", "title": f"{pack_id} 示例", "topics": ["测试"],
                                         "text": {"body": "示例正文。"}}])
    return root


def unit_dir_with(tmp_path: Path, policy: str | None = None) -> Path:
    unit = tmp_path / "unit"
    shutil.copytree(DEFAULT_UNIT_DIR, unit)
    if policy is not None:
        (unit / "push_policy.yaml").write_text(policy, "utf-8")
    return unit


def push_app(tmp_path: Path, clock, *, policy: str | None = None, modules=PUSH_MODULES):
    packs = demo_like_packs(tmp_path / "packs")
    settings = make_settings(tmp_path, CONTENT_PACKS_DIR=str(packs), UNIT_DIR=str(unit_dir_with(tmp_path, policy)),
                             HANDLER_MODULES=modules)
    return create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)


def platform_for(app) -> WeComPlatform:
    return WeComPlatform(token=TEST_TOKEN, aes_key=TEST_AES_KEY, corp_id=TEST_CORP_ID, client=app.test_client())


@pytest.fixture
def demo_policy(tmp_path):
    packs = load_all(demo_like_packs(tmp_path / "packs"))
    names = cohorts.load_rules(cohorts.DEFAULT_RULES).names
    return load_policy(DEFAULT_UNIT_DIR / "push_policy.yaml", cohorts=names, packs=packs)


ALL = item(**{k: v for k, v in EVERY_FORM.items() if k in ("text", "news", "video", "voice", "image")})


@pytest.mark.parametrize("member_cohorts, form", [
    (["退休"], "voice"),
    (["临退休"], "voice"),
    (["青年"], "text"),
    (["调度管理"], "news"),
    (["工程运维"], "video"),
    ([], "text"),
])
def test_demo_policy_gives_each_cohort_its_form(demo_policy, member_cohorts, form):
    assert demo_policy.choose(ALL, member_cohorts, None) == form


@pytest.mark.parametrize("member_cohorts, form", [
    (["临退休", "工程运维"], "voice"),      # 58-year-old patrol worker: 临退休 outranks 工程运维
    (["工程运维", "临退休"], "voice"),      # the order the member's cohorts come in does not matter
    (["青年", "工程运维"], "text"),         # young patrol worker: 青年 before 工程运维
    (["青年", "调度管理"], "text"),
    (["调度管理", "工程运维"], "news"),
    (["退休", "临退休"], "voice"),
])
def test_a_member_in_several_cohorts_gets_the_form_of_the_first_rule(demo_policy, member_cohorts, form):
    assert demo_policy.choose(ALL, member_cohorts, None) == form
    assert demo_policy.rule_for(member_cohorts).cohort == next(
        rule.cohort for rule in demo_policy.rules if rule.cohort in member_cohorts)


def test_precedence_order_is_the_documented_one(demo_policy):
    assert [rule.cohort for rule in demo_policy.rules] == ["退休", "临退休", "青年", "调度管理", "工程运维"]


@pytest.mark.parametrize("preferred, member_cohorts, form", [
    ("voice", ["青年"], "voice"),
    ("text", ["退休"], "text"),
    ("text", [], "text"),
    ("voice", ["调度管理"], "voice"),
])
def test_a_preferred_form_wins_when_the_item_has_it(demo_policy, preferred, member_cohorts, form):
    assert demo_policy.choose(ALL, member_cohorts, preferred) == form


def test_a_preferred_form_the_item_lacks_falls_back_to_the_policy(demo_policy):
    text_and_news = item(text=EVERY_FORM["text"], news=EVERY_FORM["news"])
    assert demo_policy.choose(text_and_news, ["调度管理"], "voice") == "news"
    assert demo_policy.choose(text_and_news, ["退休"], "voice") == "text"


@pytest.mark.parametrize("variants, member_cohorts, form", [
    ({"text": EVERY_FORM["text"]}, ["退休"], "text"),                       # no voice: the next in 退休's list
    ({"news": EVERY_FORM["news"]}, ["青年"], "news"),
    ({"video": EVERY_FORM["video"], "text": EVERY_FORM["text"]}, ["调度管理"], "text"),
    ({"image": EVERY_FORM["image"]}, ["工程运维"], "image"),                  # in no list: the item's own form
    ({"voice": EVERY_FORM["voice"]}, [], "voice"),
])
def test_falls_back_to_a_form_the_item_has(demo_policy, variants, member_cohorts, form):
    assert demo_policy.choose(item(**variants), member_cohorts, None) == form


def test_voice_is_read_slower_for_older_cohorts(demo_policy):
    assert demo_policy.voice_wpm == 150
    assert demo_policy.voice_wpm_for(["退休"]) == 130
    assert demo_policy.voice_wpm_for(["临退休", "工程运维"]) == 140
    assert demo_policy.voice_wpm_for(["青年"]) == 150 and demo_policy.voice_wpm_for([]) == 150


def test_demo_schedules_name_cohorts_crons_and_packs(demo_policy):
    by_cohort = {schedule.cohort: schedule for schedule in demo_policy.schedules}
    assert by_cohort["青年"] == CohortSchedule("青年", "30 12 * * 1-5",
                                               ("push_young_water_workers", "push_policy_readings",
                                                "push_flood_duty_stories"))
    assert by_cohort["工程运维"].cron == "30 17 * * 1-5"
    assert by_cohort["退休"].cron.startswith("0 9 ") and "push_unit_history" in by_cohort["退休"].packs
    assert "push_flood_duty_stories" in by_cohort["其他"].packs      # members in no cohort get the must-reads too
    assert {pack for schedule in demo_policy.schedules for pack in schedule.packs} == set(DEMO_PACK_IDS)


def test_the_app_loads_the_policy_at_start(tmp_path, clock):
    app = push_app(tmp_path, clock)
    policy = app.extensions["szzs.push_policy"]
    with app.app_context():
        assert get_policy() is policy
    assert policy.source.endswith("push_policy.yaml") and len(policy.schedules) == 6


GOOD = """\
default: [text]
cohorts:
  - cohort: 青年
    forms: [text, video]
schedules:
  - cohort: 青年
    cron: "30 12 * * 1-5"
    packs: [push_young_water_workers]
"""


@pytest.mark.parametrize("broken, line, field, message", [
    (GOOD.replace("forms: [text, video]", "forms: [text, audio]"), 4, "cohorts[0].forms", "不认识的形式「audio」"),
    (GOOD.replace("cohort: 青年\n    forms", "cohort: 少年\n    forms"), 3, "cohorts[0].cohort", "没有人群「少年」"),
    (GOOD.replace('"30 12 * * 1-5"', '"30 25 * * 1-5"'), 7, "schedules[0].cron", "不是有效的 cron 表达式"),
    (GOOD.replace('"30 12 * * 1-5"', '"0 30 12 * * 1-5"'), 7, "schedules[0].cron", "应为 5 段"),
    (GOOD.replace("[push_young_water_workers]", "[push_no_such_pack]"), 8, "schedules[0].packs[0]",
     "没有内容包「push_no_such_pack」"),
    (GOOD.replace("default: [text]", "default: [text]\nvoice_wpm: 20"), 2, "voice_wpm", "应不小于 80"),
    (GOOD.replace("default: [text]", "default: [text]\nread_minutes: 0"), 2, "read_minutes", "应不小于 1"),
    (GOOD.replace("    forms: [text, video]", "    form: [text, video]"), 4, "cohorts[0].form", "不认识这一项"),
    (GOOD + "  - cohort: 退休\n    packs: [push_unit_history]\n", 9, "schedules[1].cron", "缺少此项"),
])
def test_a_bad_policy_file_stops_the_start_naming_file_line_and_field(tmp_path, clock, broken, line, field, message):
    with pytest.raises(PolicyError) as caught:
        push_app(tmp_path, clock, policy=broken)
    errors = caught.value.errors
    named = [error.partition(f":{line}: {field}: ") for error in errors]
    assert any(where.endswith("push_policy.yaml") and sep and message in said for where, sep, said in named), errors
    assert str(caught.value).startswith(f"推送策略有 {len(errors)} 处错误")


def test_a_schedule_names_a_cohort_or_others(tmp_path):
    packs = load_all(demo_like_packs(tmp_path / "packs"))
    policy = tmp_path / "push_policy.yaml"
    policy.write_text(GOOD.replace("cohort: 青年\n    cron", "cohort: 其他\n    cron"), "utf-8")
    assert [s.cohort for s in load_policy(policy, cohorts=["青年"], packs=packs).schedules] == ["其他"]
    policy.write_text(GOOD.replace("cohort: 青年\n    cron", "cohort: 其它人\n    cron"), "utf-8")
    with pytest.raises(PolicyError, match="没有人群「其它人」，可用：青年，或「其他」"):
        load_policy(policy, cohorts=["青年"], packs=packs)


def test_a_quiz_pack_cannot_be_scheduled_as_pushes(tmp_path):
    packs = load_all(demo_like_packs(tmp_path / "packs"))
    quiz = load_all(Path(__file__).resolve().parents[2] / "content_packs")["quiz_dam_safety"]
    policy = tmp_path / "push_policy.yaml"
    policy.write_text(GOOD.replace("push_young_water_workers", "quiz_dam_safety"), "utf-8")
    with pytest.raises(PolicyError, match="不是推送包"):
        load_policy(policy, cohorts=["青年"], packs={**packs, quiz.id: quiz})


def test_a_unit_without_a_policy_file_gets_text_for_everyone_and_no_schedules(tmp_path, clock):
    unit = unit_dir_with(tmp_path)
    (unit / "push_policy.yaml").unlink()
    settings = make_settings(tmp_path, CONTENT_PACKS_DIR=str(demo_like_packs(tmp_path / "packs")),
                             UNIT_DIR=str(unit), HANDLER_MODULES=PUSH_MODULES)
    app = create_app(settings, redis=fakeredis.FakeRedis(), clock=clock)
    policy = get_policy(app)
    assert policy.schedules == []
    assert policy.choose(item(text={"body": "正文"}, voice={"script": "朗读稿"}), ["退休"], None) == "text"


def test_choice_for_a_real_member_follows_his_cohorts(tmp_path, clock):
    app = push_app(tmp_path, clock)
    with app.app_context():
        db.create_all(app)
        session = db.get_session()
        rules, policy = cohorts.get_rules(app), get_policy(app)
        today = clock().date()
        old_patroller = member(session, "u010", birth_year=1968, post_category="工程运维")
        dispatcher = member(session, "u011", birth_year=1980, post_category="调度管理")
        retiree = member(session, "u012", birth_year=1950, status="退休")
        chosen = {m.userid: policy.choose(ALL, rules.cohorts_of(m, today=today), None)
                  for m in (old_patroller, dispatcher, retiree)}
    assert chosen == {"u010": "voice", "u011": "news", "u012": "voice"}


def test_the_shipped_demo_policy_is_valid_against_the_shipped_packs():
    names = cohorts.load_rules(cohorts.DEFAULT_RULES).names
    policy = load_policy(DEFAULT_UNIT_DIR / "push_policy.yaml", cohorts=names, packs=load_all())
    assert {pack for schedule in policy.schedules for pack in schedule.packs} == set(DEMO_PACK_IDS)
