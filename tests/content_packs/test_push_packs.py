"""The shipped demo push packs: they load, are big enough, and fit the forms each cohort gets.

The schedules come from the shipped push_policy.yaml through the policy loader, so a pack added to a
cohort's schedule is held to that cohort's form (voice for older staff, video for the frontline).
"""
from __future__ import annotations

import re

import pytest

import content_packs
from bot.cohorts import DEFAULT_RULES, OTHERS, load_rules
from bot.config import DEFAULT_UNIT_DIR
from content_packs import PACKS_ROOT
from content_packs.schema import FORMS
from handlers._services.push_policy import FILE_NAME, load_policy

PUSH_PACKS = ("push_policy_readings", "push_dam_safety_cases", "push_flood_duty_stories",
              "push_young_water_workers", "push_unit_history")
OLDER = {"退休", "临退休"}
FRONTLINE = "工程运维"
COHORTS = load_rules(DEFAULT_RULES).names
URL = re.compile(r"https?://|www\.|\.(?:com|org|cn)\b", re.I)


@pytest.fixture(scope="module")
def all_packs():
    return content_packs.load_all(PACKS_ROOT, cohorts=COHORTS)


@pytest.fixture(scope="module")
def packs(all_packs):
    return {pack_id: all_packs[pack_id] for pack_id in PUSH_PACKS}


@pytest.fixture(scope="module")
def policy(all_packs):
    return load_policy(DEFAULT_UNIT_DIR / FILE_NAME, cohorts=COHORTS, packs=all_packs)


@pytest.fixture(scope="module")
def scheduled(policy):
    """Cohort → the ids of the packs its scheduled runs draw from."""
    by_cohort: dict[str, set[str]] = {}
    for schedule in policy.schedules:
        by_cohort.setdefault(schedule.cohort, set()).update(schedule.packs)
    return by_cohort


def items(packs):
    return [item for pack in packs.values() for item in pack.items]


def test_every_demo_push_pack_loads_as_a_push_pack(packs):
    for pack_id, pack in packs.items():
        assert (pack.kind, pack.folder.name) == ("push", pack_id) and pack.version >= 1
        assert pack.items and pack.manifest.topics


def test_at_least_thirty_items_with_unique_ids_and_topics(packs):
    all_items = items(packs)
    assert len(all_items) >= 30
    assert len({item.id for item in all_items}) == len(all_items)
    assert all(item.topics for item in all_items)


def test_items_for_older_staff_have_a_voice_script(packs):
    older = [pack for pack in packs.values() if OLDER & set(pack.audience) or pack.id == "push_unit_history"]
    assert {pack.id for pack in older} == {"push_unit_history"}
    for pack in older:
        for item in pack.items:
            assert item.voice is not None and item.voice.script, item.id
            assert 120 <= len(item.voice.script) <= 400, item.id


def test_voice_scripts_are_written_to_be_listened_to(packs):
    scripts = [(item.id, item.voice.script) for item in items(packs) if item.voice and item.voice.script]
    assert len(scripts) >= 8
    for item_id, script in scripts:
        assert not URL.search(script), item_id
        assert not re.search(r"[()（）\[\]【】]", script), item_id
        sentences = [s for s in re.split(r"[。！？!?\n]", script) if s.strip()]
        assert max(map(len, sentences)) <= 40, item_id


def test_young_staff_get_video_and_text(packs):
    young = packs["push_young_water_workers"]
    assert young.audience == ("青年",)
    assert all(item.video and item.text for item in young.items)
    assert "示例链接" in young.manifest.description


def test_example_links_are_marked_as_such(packs):
    for pack in packs.values():
        urls = [v.url for item in pack.items for v in (item.news, item.video) if v is not None]
        assert all(url.startswith("https://example.org/") for url in urls), pack.id
        if urls:
            assert "示例链接" in pack.manifest.description, pack.id


def test_mandatory_items_include_the_flood_duty_rules(packs):
    mandatory = [item.id for item in items(packs) if item.mandatory]
    assert 3 <= len(mandatory) <= 5
    assert "duty-rules" in mandatory


def test_every_form_but_image_appears_and_most_items_have_text(packs):
    all_items = items(packs)
    forms = {form for item in all_items for form in item.forms}
    assert forms == set(FORMS) - {"image"}
    assert sum(1 for item in all_items if item.text) >= 0.9 * len(all_items)
    office = packs["push_policy_readings"].items + packs["push_dam_safety_cases"].items     # 调度管理 reads cards
    assert all(item.news for item in office)


def test_illustrative_cases_are_labelled(packs):
    for item in packs["push_dam_safety_cases"].items:
        assert item.title.startswith("情景案例") or "情景" in item.text.body, item.id
    assert "情景" in packs["push_flood_duty_stories"].manifest.description
    assert "情景" in packs["push_unit_history"].manifest.description


def test_every_item_scheduled_for_older_staff_is_sent_as_voice(all_packs, policy, scheduled):
    pack_ids = set().union(*(scheduled.get(cohort, set()) for cohort in OLDER))
    assert {"push_unit_history", "push_policy_readings", "push_flood_duty_stories"} <= pack_ids
    for cohort in OLDER:
        for pack_id in scheduled[cohort]:
            for item in all_packs[pack_id].items:
                assert policy.choose(item, [cohort], None) == "voice", (cohort, pack_id, item.id)
                assert item.voice.file or 120 <= len(item.voice.script) <= 450, (pack_id, item.id)


def test_every_item_scheduled_for_the_frontline_is_sent_as_a_short_video(all_packs, policy, scheduled):
    assert {"push_dam_safety_cases", "push_flood_duty_stories"} <= scheduled[FRONTLINE]
    for pack_id in scheduled[FRONTLINE]:
        for item in all_packs[pack_id].items:
            assert policy.choose(item, [FRONTLINE], None) == "video", (pack_id, item.id)
            assert len(item.video.summary) <= 40, (pack_id, item.id)


def test_every_mandatory_item_is_scheduled_for_every_cohort_it_is_meant_for(all_packs, scheduled):
    owed = {(cohort, f"{pack.id}/{item.id}", pack.id) for pack in all_packs.values() if pack.kind == "push"
            for item in pack.items if item.mandatory for cohort in (*COHORTS, OTHERS) if pack.is_for([cohort])}
    assert {("退休", "push_flood_duty_stories/duty-rules", "push_flood_duty_stories"),
            ("调度管理", "push_dam_safety_cases/dam-case-report-first", "push_dam_safety_cases"),
            (OTHERS, "push_flood_duty_stories/duty-rules", "push_flood_duty_stories")} <= owed
    unscheduled = sorted((cohort, ref) for cohort, ref, pack_id in owed if pack_id not in scheduled.get(cohort, ()))
    assert unscheduled == []
