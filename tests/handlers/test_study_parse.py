"""Reading study time and topic from what members type (handlers/_services/study_parse.py)."""
from __future__ import annotations

import dataclasses

import pytest

from handlers._services.study_parse import StudyInput, mentions_study, parse_study

# (text as the parser receives it, minutes, topic)
READ = [
    # the command examples in handlers/study.py
    ("2小时", 120, ""),
    ("1.5h 防汛政策", 90, "防汛政策"),
    ("90分钟", 90, ""),
    ("半小时 水利精神", 30, "水利精神"),
    # spoken Chinese numbers and units
    ("一个半小时", 90, ""),
    ("两个钟头", 120, ""),
    ("学了两个钟头", 120, ""),
    ("两个钟", 120, ""),
    ("半个钟头", 30, ""),
    ("俩小时", 120, ""),
    ("三刻钟", 45, ""),
    ("一刻钟", 15, ""),
    ("两小时半", 150, ""),
    ("1个半钟头", 90, ""),
    ("十五分钟", 15, ""),
    ("一百二十分钟", 120, ""),
    ("二十四小时", 24 * 60, ""),
    # hours and minutes together
    ("1小时20分钟", 80, ""),
    ("1小时 20分钟", 80, ""),
    ("一小时二十分", 80, ""),
    ("一小时零五分", 65, ""),
    ("一小时一刻钟", 75, ""),
    ("1h30m 汛限水位", 90, "汛限水位"),
    ("1h30", 90, ""),
    ("学习了一个小时二十,很充实", 80, ""),
    # Latin units and decimals
    ("45min", 45, ""),
    ("30 mins", 30, ""),
    ("2h", 120, ""),
    ("2H", 120, ""),
    ("2 hours 防汛调度", 120, "防汛调度"),
    ("2.5小时", 150, ""),
    ("1 小时", 60, ""),
    ("0.25h", 15, ""),
    # free sentences: the topic keeps 知识 when it is part of the noun ("防汛知识", not "防汛")
    ("今天学习了2个小时的防汛知识", 120, "防汛知识"),
    ("学习了40分钟党章", 40, "党章"),
    ("学了半个小时的大坝安全知识", 30, "大坝安全知识"),
    ("二十分钟 防汛应急预案", 20, "防汛应急预案"),
    ("一个小时 溢洪道操作规程", 60, "溢洪道操作规程"),
    ("学习3小时水情测报规范", 180, "水情测报规范"),
    ("今天下午在党员活动室学了1小时党章", 60, "党章"),
    ("刚才学习了一下半小时防汛调度", 30, "防汛调度"),
    ("昨天集中学习1.5小时", 90, ""),
    ("读了一小时党章", 60, "党章"),
    ("自学了半小时", 30, ""),
    ("2小时左右", 120, ""),
    # the topic before the duration, when nothing follows it in the same clause
    ("防汛知识学了2小时,收获很大", 120, "防汛知识"),
    ("防汛知识 2小时", 120, "防汛知识"),
    ("学习防汛知识-2小时", 120, "防汛知识"),
    # fillers go only at the edges: the inner 的 of 党的二十大精神 stays, 二十大 is not 20 minutes
    ("学习了1小时党的二十大精神", 60, "党的二十大精神"),
    ("1小时二十大精神", 60, "二十大精神"),
    ("关于防汛的知识点 30分钟", 30, "防汛"),
    # a topic that is only a generic word is no topic
    ("学了1小时的知识", 60, ""),
    ("看了半小时学习资料", 30, ""),
]

UNREADABLE = [
    "",
    "防汛知识",                  # no duration
    "2",                         # a bare number: hours or minutes?
    "学习 30",
    "0分钟",
    "0小时 防汛知识",
    "-2小时",
    "负1小时",
    "25小时",                    # more than a day in one report
    "1500分钟",
    "2天",                       # days are not study time
    "一天",
    "2-3小时",                   # ranges and guesses
    "两到三个小时",
    "两三个小时",
    "一两个小时",
    "十几分钟",
    "二十多分钟",
    "1个多小时",
    "一小时九十分钟",            # nonsense compounds
    "1.5小时20分钟",
    "上午学了1小时,下午学了2小时",   # two durations: ask again rather than guess
    "90分",                      # a score, not a duration
    "防汛知识十分重要",
    "十点钟开会",
    "3点学习",
]

STUDY_SENTENCES = [
    "今天学习了2个小时的防汛知识",
    "学了两个钟头",
    "学习了40分钟党章",
    "看了半小时学习资料",
    "读了一小时党章",
    "听了一堂党课",
    "参加了防汛培训",
    "今天学习2小时防汛知识",
    "自学了半小时",
    "开会学习了防汛知识",
    "主要学了防汛知识",
    "完成了今天的学习",
]

NOT_STUDY_SENTENCES = [
    "",
    "防汛知识",
    "孩子上大学了",
    "放学了",
    "看了场电影",
    "今天没学习",
    "还没有学习",
    "你学了吗",
    "学了没",
    "学了多久?",
    "明天学习2小时",
    "大家要认真学习防汛知识",
    "请大家学习防汛应急预案",
    "准备学习党章",
    "开会通知",
]


@pytest.mark.parametrize(("text", "minutes", "topic"), READ)
def test_reads_minutes_and_topic(text, minutes, topic):
    assert parse_study(text) == StudyInput(minutes, topic)


@pytest.mark.parametrize("text", UNREADABLE)
def test_unreadable_durations_are_none(text):
    assert parse_study(text) is None


def test_topic_is_cut_to_thirty_characters():
    parsed = parse_study("2小时 " + "防汛" * 40)
    assert parsed is not None and parsed.topic == "防汛" * 15


def test_study_input_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_study("2小时").minutes = 3


@pytest.mark.parametrize("text", STUDY_SENTENCES)
def test_sentences_reporting_study(text):
    assert mentions_study(text)


@pytest.mark.parametrize("text", NOT_STUDY_SENTENCES)
def test_sentences_not_reporting_study(text):
    assert not mentions_study(text)
