"""Time phrases at the end of 推送: which words are the time, and when that is."""
from __future__ import annotations

from datetime import datetime

import pytest

from handlers._services.push_time import split_when
from tests.conftest import SHANGHAI

NOW = datetime(2026, 11, 25, 9, 30, tzinfo=SHANGHAI)       # a Wednesday


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.mark.parametrize("words, rest, when", [
    ("青年 duty-rules", "青年 duty-rules", None),
    ("青年 duty-rules 现在", "青年 duty-rules", None),
    ("青年 duty-rules 明天 9:00", "青年 duty-rules", at(2026, 11, 26, 9, 0)),
    ("青年 duty-rules 明天9:00", "青年 duty-rules", at(2026, 11, 26, 9, 0)),
    ("青年 duty-rules 周五 17:30", "青年 duty-rules", at(2026, 11, 27, 17, 30)),
    ("青年 duty-rules 星期三 8:00", "青年 duty-rules", at(2026, 12, 2, 8, 0)),     # today's 8:00 is past
    ("青年 duty-rules 周三 18:00", "青年 duty-rules", at(2026, 11, 25, 18, 0)),
    ("青年 duty-rules 2026-12-01 08:30", "青年 duty-rules", at(2026, 12, 1, 8, 30)),
    ("青年 duty-rules 今天 18:00", "青年 duty-rules", at(2026, 11, 25, 18, 0)),
    ("青年 duty-rules 今天 下午6点", "青年 duty-rules", at(2026, 11, 25, 18, 0)),
    ("青年 duty-rules 12-01 9点半", "青年 duty-rules", at(2026, 12, 1, 9, 30)),
    ("青年 防汛 值班 故事", "青年 防汛 值班 故事", None),
])
def test_the_time_is_peeled_off_the_end(words, rest, when):
    left, found = split_when(words.split(), now=NOW)
    assert (" ".join(left), found) == (rest, when)


@pytest.mark.parametrize("words, says", [
    ("全体 x 今天 9:00", "已经过去了"),
    ("全体 x 2026-11-31 9:00", "不是一个有效的日期"),
    ("全体 x 明天 25:00", None),       # not a clock time: the words stay item words
])
def test_past_and_impossible_times_are_refused(words, says):
    if says is None:
        assert split_when(words.split(), now=NOW) == (words.split(), None)
        return
    with pytest.raises(ValueError, match=says):
        split_when(words.split(), now=NOW)
