"""Normalisation: what people type in WeCom becomes one comparable form."""
import pytest

from bot.textnorm import command_key, normalize

NAMES = ("思政助手", "机器人")


@pytest.mark.parametrize("typed, expected", [
    ("@思政助手 打卡", "打卡"),
    ("@思政助手\u2005打卡 今天学习了", "打卡 今天学习了"),
    ("@机器人   打卡", "打卡"),
    ("／打卡", "打卡"),
    ("/打卡", "打卡"),
    ("\u3000打卡\u3000\u3000今天　很好 ", "打卡 今天 很好"),
    ("ＨＥＬＰ", "HELP"),
    ("帮助　打卡", "帮助 打卡"),
    ("@张三 @思政助手 我的", "我的"),
    ("打卡“防汛”知识", '打卡"防汛"知识'),
    ("", ""),
])
def test_normalize(typed, expected):
    assert normalize(typed, bot_names=NAMES) == expected


@pytest.mark.parametrize("word, key", [("打卡！", "打卡"), ("帮助？", "帮助"), ("HELP", "help"), ("?", "?"), ("？", "?")])
def test_command_key(word, key):
    assert command_key(word) == key
