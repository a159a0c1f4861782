"""Needs steer the pushes: 需求分析 stores each cohort's need topics, and pick_next prefers items on
the topics they point to (needs_content.yaml), so a cohort's stated need changes which item is picked."""
from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import fakeredis
import pytest
import yaml
from sqlalchemy import select

import content_packs
from bot import db
from bot.models.surveys import CohortNeed
from handlers._services import cohort_needs
from handlers._services.push_pick import pick_next
from tests.factories import member
from tests.handlers.test_surveys import running, say
from tests.standin_http import messages

CAREER, SPIRIT, MENTOR = "push_steer/career", "push_steer/spirit", "push_steer/mentor"
ITEMS = [("career", "青年的职业规划", ["职业规划"]), ("spirit", "水利精神代代传", ["水利精神"]),
         ("mentor", "师傅带徒弟", ["经验传承"])]
DRAWS = 600


def write_steer_pack(root: Path) -> None:
    folder = root / "push_steer"
    folder.mkdir(parents=True)
    manifest = {"id": "push_steer", "version": 1, "title": "测试推送包", "kind": "push", "topics": ["测试"],
                "description": "测试用推送包"}
    items = [{"id": i, "title": t, "topics": topics, "text": {"body": f"{t}的正文"}} for i, t, topics in ITEMS]
    (folder / "pack.yaml").write_text(yaml.safe_dump(manifest, allow_unicode=True), "utf-8")
    (folder / "items.yaml").write_text(yaml.safe_dump(items, allow_unicode=True, sort_keys=False), "utf-8")


@pytest.fixture
def wired(tmp_path, clock, fake_server, standin_url):
    write_steer_pack(tmp_path / "packs")
    people = ("y1", "y2", "y3", "s1", "s2", "s3")
    with running(tmp_path, clock, people=(), redis=fakeredis.FakeRedis(server=fake_server),
                 WECOM_API_BASE=standin_url) as (app, platform):
        session = db.get_session()
        for userid in people:           # 青年 (born 1998) and 临退休 (born 1966)
            member(session, userid, name=userid, birth_year=1998 if userid[0] == "y" else 1966,
                   post_category="综合管理", department="办公室", team=None)
        yield app, platform


def shares(cohort: str, candidates=(CAREER, SPIRIT), *, seed: int = 11) -> Counter:
    rng, session = random.Random(seed), db.get_session()
    picks = Counter(pick_next(session, cohort=cohort, candidates=list(candidates), received=set(), rng=rng)
                    for _ in range(DRAWS))
    return Counter({ref: count / DRAWS for ref, count in picks.items()})


def answer_survey(platform, userid: str, need: str) -> None:
    say(platform, "问卷", user=userid)
    for answer in ("A", "A", "3", need, "跳过"):
        say(platform, answer, user=userid)


def test_a_cohorts_stated_need_changes_which_item_is_picked(wired, standin_url):
    app, platform = wired
    before_young, before_senior = shares("青年"), shares("临退休", (MENTOR, SPIRIT))
    assert 0.4 < before_young[CAREER] < 0.6 and 0.4 < before_senior[MENTOR] < 0.6     # fair coins
    for userid, need in (("y1", "希望多讲职业规划"), ("y2", "职业规划和考证"), ("y3", "想听职业规划的经验")):
        answer_survey(platform, userid, need)
    for userid, need in (("s1", "经验传承，搞好传帮带"), ("s2", "把经验传承下去"), ("s3", "经验传承很重要")):
        answer_survey(platform, userid, need)

    say(platform, "需求分析 needs_test", user="admin01")         # the job runs inline in tests

    session = db.get_session()
    session.expire_all()
    stored = {(row.cohort, row.topic) for row in session.scalars(select(CohortNeed))}
    assert ("青年", "职业发展") in stored and ("临退休", "经验传承") in stored
    assert ("青年", "经验传承") not in stored
    report = messages(standin_url, recipient="admin01")[-1]["body"]["text"]["content"]
    assert "各人群的定时推送今后优先挑选这些主题的内容" in report and "青年 → 职业发展" in report
    after_young, after_senior = shares("青年"), shares("临退休", (MENTOR, SPIRIT))
    assert after_young[CAREER] > 0.68 and after_senior[MENTOR] > 0.68          # Beta(3, 1) vs Beta(1, 1): ¾
    assert 0.4 < shares("青年", (MENTOR, SPIRIT))[MENTOR] < 0.6                # another cohort's need is not his
    assert 0.4 < shares("全体")[CAREER] < 0.6                                  # no cohort, no stated need


def test_a_new_analysis_replaces_a_cohorts_needs_and_skips_names_that_are_no_cohort(wired, clock):
    session = db.get_session()
    cohort_needs.store(session, {"青年": ["职业发展", "岗位技能"], "临退休": ["经验传承"]},
                       cohorts=["青年", "临退休"], survey_id="a", now=clock())
    stored = cohort_needs.store(session, {"青年": ["防汛"], "其他": ["政策法规"]}, cohorts=["青年", "临退休"],
                                survey_id="b", now=clock())
    session.commit()
    assert stored == {"青年": ["防汛"]}
    assert cohort_needs.wanted(session, "青年") == ["防汛"] and cohort_needs.wanted(session, "临退休") == ["经验传承"]
    assert cohort_needs.wanted(session, "其他") == []


def test_need_topics_point_to_item_topics_and_unmapped_ones_to_themselves():
    mapping = {"职业发展": ("职业规划", "青年成长")}
    assert cohort_needs.content_topics(["职业发展", "水利精神"], mapping) == {"职业规划", "青年成长", "水利精神"}


def test_every_item_topic_the_mapping_names_is_used_by_a_shipped_push_pack():
    used = {topic for pack in content_packs.load_all().values() if pack.kind == "push"
            for item in pack.items for topic in item.topics}
    named = {topic for topics in cohort_needs.load_content_map().values() for topic in topics}
    assert named - used == set()
