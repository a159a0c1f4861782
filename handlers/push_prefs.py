"""免打扰 and 我要语音 / 我要文字 / 我要默认: members choose whether and how they receive pushes."""
from __future__ import annotations

from bot.messages import Reply
from bot.router import Arg, CommandGroup
from handlers._services import push_prefs

group = CommandGroup("push_prefs", title="推送设置")

NOT_ON_ROSTER = "您不在职工名册中，收不到内容推送，不需要设置。"
MUTE_USAGE = "用法：「免打扰 开」暂停接收内容推送，「免打扰 关」恢复接收。"
ON_WORDS = {"开", "开启", "打开", "启用", "是", "on", "1"}
OFF_WORDS = {"关", "关闭", "取消", "停用", "否", "off", "0"}
FORM_CHOICES = {
    "voice": ("语音", "以后的推送只要有语音版，就给您发语音。"),
    "text": ("文字", "以后的推送只要有文字版，就给您发文字。"),
}


@group.command("免打扰", aliases=("勿扰",), summary="开启或关闭免打扰：开启后不再收到内容推送",
               args=[Arg("switch", label="开|关", required=False, rest=True, help="开 或 关")],
               example="免打扰 开")
def mute(ctx, switch):
    word = (switch or "").strip().lower()
    if word in ON_WORDS:
        return _set_muted(ctx, True)
    if word in OFF_WORDS:
        return _set_muted(ctx, False)
    if not word and ctx.member is not None:
        row = push_prefs.find_preference(ctx.session, ctx.user_id)
        state = "已开启" if row is not None and row.muted else "未开启"
        return Reply(f"您的免打扰目前{state}。{MUTE_USAGE}")
    return Reply(f"没看懂「{switch}」。{MUTE_USAGE}" if word else MUTE_USAGE)


@group.command("开启免打扰", aliases=("打开免打扰", "不要推送", "不要推送了", "暂停推送", "别推送了"),
               summary="不再接收内容推送（随时可以恢复）")
def mute_on(ctx):
    return _set_muted(ctx, True)


@group.command("关闭免打扰", aliases=("取消免打扰", "恢复推送", "继续推送"),
               summary="恢复接收内容推送")
def mute_off(ctx):
    return _set_muted(ctx, False)


@group.command("我要语音", aliases=("要语音", "听语音", "语音推送"),
               summary="推送优先发语音（有语音版的内容）")
def prefer_voice(ctx):
    return _set_form(ctx, "voice")


@group.command("我要文字", aliases=("要文字", "看文字", "文字推送"),
               summary="推送优先发文字（有文字版的内容）")
def prefer_text(ctx):
    return _set_form(ctx, "text")


@group.command("我要默认", aliases=("恢复默认", "默认形式", "推送默认"),
               summary="推送形式恢复为单位的默认安排")
def prefer_default(ctx):
    return _set_form(ctx, None)


def _set_muted(ctx, muted: bool) -> Reply:
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    changed = push_prefs.set_muted(ctx.session, ctx.user_id, muted, now=ctx.now)
    if muted:
        head = "已开启免打扰" if changed else "免打扰本来就是开启的"
        return Reply(f"{head}，之后不再给您发送内容推送。想恢复时发「免打扰 关」或「恢复推送」。")
    head = "已关闭免打扰" if changed else "您没有开启免打扰"
    return Reply(f"{head}，会照常给您发送内容推送。")


def _set_form(ctx, form: str | None) -> Reply:
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    changed = push_prefs.set_preferred_form(ctx.session, ctx.user_id, form, now=ctx.now)
    if form is None:
        head = "好的，推送形式已恢复为单位的默认安排。" if changed else "您的推送形式本来就是单位的默认安排。"
        return Reply(head)
    name, promise = FORM_CHOICES[form]
    head = f"好的，已设为优先{name}。" if changed else f"您已经设为优先{name}了。"
    return Reply(f"{head}{promise}没有{name}版的内容仍按默认形式发送。想恢复默认请发「我要默认」。")
