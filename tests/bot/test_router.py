"""The registry: names and aliases, duplicates failing at start, matching the way people type."""
import pytest

from bot.acl import Role
from bot.router import Arg, ArgError, CommandGroup, CommandRegistry, DuplicateCommand, bind_args


def _noop(ctx, **kw):
    return None


def make_registry():
    group = CommandGroup("demo", title="演示")
    group.command("打卡", aliases=("checkin", "签到"), summary="打卡",
                  args=[Arg("note", required=False, rest=True)])(_noop)
    group.command("取消", summary="取消")(_noop)
    group.command("取消报名", summary="取消报名", args=[Arg("number", type=int)])(_noop)
    group.command("授权", summary="授权", role=Role.ADMIN, args=[Arg("userid"), Arg("role")])(_noop)
    registry = CommandRegistry()
    registry.include(group)
    return registry


@pytest.mark.parametrize("text, name, rest", [
    ("打卡", "打卡", ""),
    ("打卡 今天学了防汛", "打卡", "今天学了防汛"),
    ("打卡今天学了防汛", "打卡", "今天学了防汛"),
    ("CHECKIN", "打卡", ""),
    ("签到！", "打卡", ""),
    ("我要打卡", "打卡", ""),
    ("请打卡", "打卡", ""),
    ("取消报名 3", "取消报名", "3"),
    ("取消报名3", "取消报名", "3"),
    ("取消", "取消", ""),
])
def test_match(text, name, rest):
    cmd, remainder = make_registry().match(text)
    assert cmd is not None and cmd.name == name
    assert remainder == rest


def test_no_match_returns_text():
    assert make_registry().match("今天天气真好") == (None, "今天天气真好")


def test_suggestions_for_typos_and_phrases():
    registry = make_registry()
    assert [c.name for c in registry.suggestions("打咔")][:1] == ["打卡"]
    assert "授权" in [c.name for c in registry.suggestions("怎么授权")]


def test_duplicate_alias_fails_at_start():
    one, two = CommandGroup("one", title="一"), CommandGroup("two", title="二")
    one.command("打卡", summary="x")(_noop)
    two.command("签到", aliases=("打卡",), summary="y")(_noop)
    registry = CommandRegistry()
    registry.include(one)
    with pytest.raises(DuplicateCommand, match="one and two"):
        registry.include(two)


def test_duplicate_after_normalisation_fails():
    one = CommandGroup("one", title="一")
    one.command("help", summary="x")(_noop)
    one.command("帮助", aliases=("ＨＥＬＰ",), summary="y")(_noop)
    with pytest.raises(DuplicateCommand):
        CommandRegistry().include(one)


def test_command_names_are_validated():
    with pytest.raises(ValueError):
        CommandGroup("g", title="g").command("两 个词", summary="x")


def test_bind_args_required_rest_and_types():
    args = (Arg("number", label="编号", type=int), Arg("note", label="备注", required=False, rest=True))
    assert bind_args(args, "3 很 好") == {"number": 3, "note": "很 好"}
    assert bind_args(args, "3") == {"number": 3, "note": None}
    with pytest.raises(ArgError, match="缺少「编号」"):
        bind_args(args, "")
    with pytest.raises(ArgError, match="编号"):
        bind_args(args, "三")


def test_bind_args_refuses_extra_words():
    with pytest.raises(ArgError, match="多了内容"):
        bind_args((Arg("userid"),), "a b")


def test_usage_line():
    cmd = make_registry().find("授权")
    assert cmd.usage() == "授权 <userid> <role>"
    assert cmd.audited


def test_free_sentences_find_commands_by_shared_words():
    group = CommandGroup("demo", title="演示")
    group.command("打卡", summary="今日打卡，可附一句学习心得")(_noop)
    group.command("我的", summary="查看我的信息、所属人群和本月情况")(_noop)
    registry = CommandRegistry()
    registry.include(group)
    assert registry.suggestions("怎么查看个人信息")[0].name == "我的"
    assert registry.suggestions("学习心得写在哪里")[0].name == "打卡"


def test_listeners_are_collected_in_order():
    first, second = CommandGroup("a", title="a"), CommandGroup("b", title="b")

    @first.listener
    def one(ctx, text):
        return None

    @second.listener
    def two(ctx, text):
        return "ok"

    registry = CommandRegistry()
    registry.include(first)
    registry.include(second)
    assert registry.listeners == [one, two]
