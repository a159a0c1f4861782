"""Activity packs: the demo pack loads; a malformed activities.yaml is reported as file:line: field: message."""
from __future__ import annotations

from datetime import datetime
from textwrap import dedent

import pytest

import content_packs
from bot.cohorts import DEFAULT_RULES, load_rules
from content_packs import PACKS_ROOT, PackError

MANIFEST = """\
id: a1
version: 1
title: 测试活动包
kind: activity
topics: [活动]
audience: []
description: 测试用
"""


def test_demo_activity_pack_loads_online_and_offline_with_and_without_a_time():
    pack = content_packs.load_pack(PACKS_ROOT / "activity_reservoir_office", cohorts=load_rules(DEFAULT_RULES).names)
    drill, talk, desilting = pack.activities
    assert (drill.online, drill.counts_as_practice, drill.starts) == (False, True, datetime(2027, 4, 22, 9, 30))
    assert (talk.online, talk.counts_as_practice, talk.place) == (True, False, None)
    assert desilting.starts is None and desilting.capacity == 20
    assert pack.activity("desilting") is desilting
    with pytest.raises(KeyError):
        pack.activity("nope")


def errors_of(tmp_path, activities: str) -> list[str]:
    folder = tmp_path / "a1"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    (folder / "activities.yaml").write_text(dedent(activities), "utf-8")
    with pytest.raises(PackError) as caught:
        content_packs.load_pack(folder)
    return caught.value.errors


def test_activity_errors_name_file_line_and_field(tmp_path):
    errors = errors_of(tmp_path, """\
        - id: live
          title: 线上直播
          kind: 直播
          starts: "2027-03-01 09:00"
        - id: drill
          title: 演练
          kind: 跳舞
          place: 溢洪道
          capacity: 0
        - id: visit
          title: 参观
          kind: 实地参观
          starts: 2027-13-01 09:00
        - id: visit
          title: 这个活动的名字写得实在是太长了太长了太长了太长了太长了太长了太长了太长了太长了太长了
          kind: 专题分享
          link: ftp://example.org/x
          practice: 也许
          minutes: 2
        - id: salon
          title: 主题沙龙
          kind: 主题沙龙
        """)
    # pydantic checks the whole activity (place or link) only once its fields are valid
    expected = [
        "activities.yaml:1: activities[0]: 线上活动（直播）要写 link（参加链接）",
        "activities.yaml:7: activities[1].kind: 活动类型只能是：直播、网络研讨",
        "activities.yaml:9: activities[1].capacity: 应不小于 1",
        "activities.yaml:13: activities[2].starts: 应为日期和时间，写作 \"2027-04-22 09:30\"",
        "activities.yaml:14: activities[3].id: 活动编号「visit」与第 10 行的活动重复",
        "activities.yaml:15: activities[3].title: 最多 40 个字",
        "activities.yaml:17: activities[3].link: 应为 http:// 或 https:// 开头的链接",
        "activities.yaml:18: activities[3].practice: 应为 true 或 false",
        "activities.yaml:19: activities[3].minutes: 应不小于 5",
        "activities.yaml:20: activities[4]: 线下活动（主题沙龙）要写 place（地点）",
    ]
    for line in expected:
        assert any(line in error for error in errors), (line, errors)
    assert len(errors) == len(expected)


def test_an_online_activity_has_no_place_and_an_empty_file_is_refused(tmp_path):
    errors = errors_of(tmp_path, """\
        - id: talk
          title: 专题分享
          kind: 专题分享
          link: https://example.org/live
          place: 会议室
        """)
    assert any("activities.yaml:1: activities[0]: 线上活动（专题分享）不写 place" in e for e in errors), errors
    (tmp_path / "a1" / "activities.yaml").write_text("[]\n", "utf-8")
    with pytest.raises(PackError) as caught:
        content_packs.load_pack(tmp_path / "a1")
    assert any("activities: 应为活动列表" in e for e in caught.value.errors), caught.value.errors
