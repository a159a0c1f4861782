"""绑定: a long-connection sender whose WeCom id is not on the roster asks to be bound to a 工号; an admin decides.

The long connection turns such a sender's text into the ``unbound_sender`` event (bot/longconn/identity.py):
the first time they are told how to bind, ``绑定 <工号>`` files a request, later messages hear where it stands.
"""
from __future__ import annotations

from bot.acl import Role
from bot.longconn.identity import UNBOUND_EVENT
from bot.messages import Reply
from bot.models import Member
from bot.models.bindings import SenderBinding
from bot.outgoing import Text
from bot.pipeline import DEFAULT_BOT_NAMES, bad_arguments
from bot.router import Arg, ArgError, CommandGroup, bind_args, get_registry
from bot.textnorm import normalize
from handlers._services import binding as service
from handlers._services.binding import Requested

group = CommandGroup("binding", title="帐号绑定")

ASK = ("您好！您的企业微信帐号还没有和单位名册对应起来，暂时无法使用思政助手。"
       "请发送「绑定 <工号>」，例如「绑定 zhangwei」，管理员确认后就可以正常使用了。")
REMIND = "您的帐号还没有绑定工号。请发送「绑定 <工号>」提出申请，例如「绑定 zhangwei」。"
WAITING = "您申请绑定工号 {userid}，正在等待管理员确认，请耐心等候。"
REQUESTED = "已收到您绑定工号 {userid}（{name}）的申请，管理员确认后会通知您。也可以提醒管理员发送「确认绑定 {userid}」。"
NO_SUCH_MEMBER = "名册中没有工号「{userid}」，请核对后重新发送「绑定 <工号>」。"
TAKEN = "工号 {userid} 已经绑定了别的帐号。如有疑问，请联系管理员。"
NOT_NEEDED = "您的帐号已经可以正常使用，不需要绑定。"
NO_REQUESTS = "目前没有等待确认的绑定申请。"
NO_REQUEST_FOR = "没有工号 {userid} 的待确认绑定申请。发送「绑定申请」查看全部。"
SEVERAL = "工号 {userid} 有 {count} 个帐号申请绑定：{accounts}。请写明帐号，例如「{command} {userid} {first}」。"
CONFIRMED = "已确认：帐号 {account} 绑定到 {name}（{userid}）。"
REJECTED = "已拒绝帐号 {account} 绑定到 {name}（{userid}）的申请。"
TOLD_CONFIRMED = "管理员已确认您的帐号绑定到 {name}（{userid}），现在可以正常使用思政助手了。发送「帮助」看看能做什么。"
TOLD_REJECTED = "管理员没有通过您绑定工号 {userid} 的申请。如有疑问，请联系管理员。"


@group.command("绑定", aliases=("bind",), args=(Arg("userid", label="工号"),),
               summary="企业微信帐号和名册对不上时，申请绑定到自己的工号", example="绑定 zhangwei")
def request_binding(ctx, userid: str):
    return Reply(NOT_NEEDED)        # the sender is known; unbound senders arrive as UNBOUND_EVENT


@group.on_event(UNBOUND_EVENT)
def unbound_sender(ctx):
    text = normalize(ctx.inbound.text, bot_names=tuple(ctx.config.get("BOT_NAMES") or DEFAULT_BOT_NAMES))
    cmd, rest = get_registry(ctx.app).match(text)
    if cmd is not None and cmd.func is request_binding:
        return _file_request(ctx, cmd, rest)
    if service.first_contact(ctx.session, ctx.user_id, ctx.now) is not None:
        return Reply(ASK)
    binding = ctx.session.get(SenderBinding, ctx.user_id)
    if binding.status == service.PENDING:
        return Reply(WAITING.format(userid=binding.userid))
    return Reply(REMIND)


def _file_request(ctx, cmd, rest: str) -> Reply:
    try:
        userid = bind_args(cmd.args, rest)["userid"]
    except ArgError as exc:
        return bad_arguments(cmd, exc)
    outcome = service.request(ctx.session, ctx.user_id, userid, ctx.now)
    if outcome is Requested.NOT_ON_ROSTER:
        return Reply(NO_SUCH_MEMBER.format(userid=userid))
    if outcome is Requested.TAKEN:
        return Reply(TAKEN.format(userid=userid))
    if outcome is Requested.SAME:
        return Reply(WAITING.format(userid=userid))
    name = ctx.session.get(Member, userid).name
    return Reply(REQUESTED.format(userid=userid, name=name))


@group.command("绑定申请", aliases=("待确认绑定",), role=Role.ADMIN, summary="查看等待确认的帐号绑定申请")
def list_requests(ctx):
    rows = service.pending(ctx.session)
    if not rows:
        return Reply(NO_REQUESTS)
    lines = [f"待确认的绑定申请 {len(rows)} 条（发送「确认绑定 <工号>」或「拒绝绑定 <工号>」）："]
    lines += [f"{p.binding.requested_at:%m-%d %H:%M} 帐号 {p.binding.external_id} → {p.name}（{p.binding.userid}）"
              for p in rows[:20]]
    return Reply("\n".join(lines))


@group.command("确认绑定", role=Role.ADMIN, args=(Arg("userid", label="工号"), Arg("account", label="帐号", required=False)),
               summary="确认一条帐号绑定申请", example="确认绑定 zhangwei")
def confirm_binding(ctx, userid: str, account: str | None = None):
    return _decide(ctx, "确认绑定", userid, account, confirm=True)


@group.command("拒绝绑定", role=Role.ADMIN, args=(Arg("userid", label="工号"), Arg("account", label="帐号", required=False)),
               summary="拒绝一条帐号绑定申请", example="拒绝绑定 zhangwei")
def reject_binding(ctx, userid: str, account: str | None = None):
    return _decide(ctx, "拒绝绑定", userid, account, confirm=False)


def _decide(ctx, command: str, userid: str, account: str | None, *, confirm: bool) -> Reply:
    rows = service.pending_for(ctx.session, userid, account)
    if not rows:
        return Reply(NO_REQUEST_FOR.format(userid=userid))
    if len(rows) > 1:
        accounts = "、".join(b.external_id for b in rows)
        return Reply(SEVERAL.format(userid=userid, count=len(rows), accounts=accounts, command=command,
                                    first=rows[0].external_id))
    binding = rows[0]
    if confirm and service.is_taken(ctx.session, userid, other_than=binding.external_id):
        return Reply(TAKEN.format(userid=userid))
    service.decide(binding, confirm=confirm, by=ctx.user_id, now=ctx.now)
    name = ctx.session.get(Member, userid).name
    _tell_sender(ctx, binding, name)
    template = CONFIRMED if confirm else REJECTED
    return Reply(template.format(account=binding.external_id, name=name, userid=userid))


def _tell_sender(ctx, binding, name: str) -> None:
    """The sender hears the decision in their own conversation (only the long connection reaches them)."""
    if not ctx.config.get("WECOM_BOT_ID"):
        return
    from bot.longconn.outbound import SINGLE, enqueue_to_conversation   # the socket's code: only where it is used

    confirmed = binding.status == service.CONFIRMED
    text = (TOLD_CONFIRMED if confirmed else TOLD_REJECTED).format(name=name, userid=binding.userid)
    enqueue_to_conversation(f"binding-{binding.status}-{binding.external_id}-{ctx.now:%Y%m%d%H%M%S}",
                            binding.external_id, Text(text), chat_type=SINGLE)
