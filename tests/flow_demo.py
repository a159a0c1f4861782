"""A tiny handler module for the flow tests: `点餐` asks for a dish, then a count, then confirms."""
from bot.flows import Flow, Turn
from bot.router import CommandGroup

group = CommandGroup("flow_demo", title="流程演示")


def _dish(ctx, data, text):
    if text == "看菜":
        return None                                   # declined: routed as a command
    data["dish"] = text
    return Turn(f"要几份{text}？", next="count")


def _count(ctx, data, text):
    if not text.isdigit():
        return Turn("请回复数字，例如 2。", next="count")
    data["count"] = int(text)
    return Turn(f"好的，{data['dish']} × {text}。", next="__end__")


ORDER = group.flow(Flow("order", {"dish": _dish, "count": _count}, ttl_seconds=600,
                        on_cancel=lambda ctx, data: f"已取消点餐{('（' + data['dish'] + '）') if 'dish' in data else ''}。"))


@group.command("点餐", summary="开始点餐")
def start(ctx):
    ctx.conversation.start(ORDER, "dish")
    return "想吃什么？"


@group.command("看菜", summary="看看菜")
def menu(ctx):
    return "今天有：面条、米饭。"
