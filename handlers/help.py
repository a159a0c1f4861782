"""帮助: the command list generated from the registry, one command's usage, and the welcome."""
from __future__ import annotations

from bot.acl import Role, Where
from bot.messages import Reply
from bot.router import Arg, Command, CommandGroup, get_registry

group = CommandGroup("help", title="帮助")
WELCOME_COMMANDS = ("打卡", "我的", "帮助")


@group.command("帮助", aliases=("菜单", "help", "?", "功能", "怎么用"), summary="看看我能做什么；帮助 <命令> 查看用法",
               args=[Arg("topic", label="命令", required=False)], example="帮助 打卡")
def show_help(ctx, topic=None):
    registry = get_registry(ctx.app)
    if topic:
        cmd = registry.find(topic)
        if cmd is None:
            hints = "、".join(f"「{c.name}」" for c in registry.suggestions(topic))
            return Reply(f"没有找到「{topic}」这个命令。" + (f"您是不是想找：{hints}？" if hints else "发送「帮助」查看全部命令。"))
        return Reply(_describe(cmd))
    # names only, one line per capability: the whole list must fit one message (2048 bytes)
    lines = ["思政助手可以帮您："]
    for grp in registry.groups:
        usable = [_listed_name(ctx, c) for c in grp.commands if _permitted(ctx, c)]
        if usable:
            lines.append(f"【{grp.title}】" + "、".join(usable))
    lines.append("发送「帮助 命令名」查看用法和例子，例如「帮助 学习」。在群里请先 @我。")
    return Reply("\n".join(lines))


@group.on_event("enter_chat", "add_to_chat", "enter_agent")
def welcome(ctx):
    registry = get_registry(ctx.app)
    lines = ["您好，我是思政助手，陪大家一起学习、打卡、参加活动。最常用的三个命令："]
    for name in WELCOME_COMMANDS:
        cmd = registry.find(name)
        if cmd is not None:
            lines.append(f"· {cmd.usage()} — {cmd.summary}")
    lines.append("在群里使用时请先 @我，例如「@思政助手 打卡」。")
    return Reply("\n".join(lines))


def _describe(cmd: Command) -> str:
    lines = [f"「{cmd.name}」：{cmd.summary}", f"用法：{cmd.usage()}"]
    lines += [f"  {a.shown}：{a.help}" for a in cmd.args if a.help]
    if cmd.example:
        lines.append(f"例如：{cmd.example}")
    if cmd.aliases:
        lines.append("也可以说：" + "、".join(cmd.aliases))
    if cmd.role > Role.MEMBER:
        lines.append("（仅限负责人或管理员）" if cmd.role == Role.LEADER else "（仅限管理员）")
    return "\n".join(lines)


def _permitted(ctx, cmd: Command) -> bool:
    """The person's role allows the command (where it may be used is shown, not hidden)."""
    role = ctx.role if cmd.role > Role.MEMBER else Role.MEMBER
    return role >= cmd.role


def _listed_name(ctx, cmd: Command) -> str:
    if cmd.where is Where.GROUP and not ctx.is_group:
        return f"{cmd.name}（群里用）"
    if cmd.where is Where.SINGLE and ctx.is_group:
        return f"{cmd.name}（私聊用）"
    return cmd.name
