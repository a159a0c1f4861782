"""One pipeline for every channel: Inbound → (event handler | command) → Reply, in one transaction."""
from __future__ import annotations

import logging

from flask import Flask
from sqlalchemy import select

from bot import audit, flows, texts
from bot.acl import Role, check
from bot.context import Context
from bot.messages import Kind, Reply
from bot.models import Member, RoleGrant, UnknownSender
from bot.router import ArgError, Command, bind_args, get_registry
from bot.textnorm import normalize

log = logging.getLogger(__name__)
DEFAULT_BOT_NAMES = ("思政助手", "机器人")


def handle(inbound, app: Flask, *, flow_raw=flows.UNREAD) -> Reply | None:
    """Answer one inbound message or event. Never raises: failures are logged with the message id.

    ``flow_raw`` is the member's stored conversation when the caller already read it (the
    callback fetches it in the same Redis round trip as the de-duplication claim).
    """
    if inbound.kind is Kind.OTHER:
        return None
    ctx = Context(inbound, app, flow_raw=flow_raw)
    try:
        reply = _event(ctx) if inbound.kind is Kind.EVENT else _message(ctx)
        if "conversation" in ctx.__dict__:       # saved before the commit: a lost race rolls back
            ctx.conversation.save()
        ctx.session.commit()
        return reply
    except flows.StaleFlow:
        log.info("%s message %s from %s raced another message of the same conversation",
                 inbound.channel, inbound.msg_id, inbound.sender_id)
        ctx.session.rollback()
        return Reply(texts.TOO_FAST)
    except Exception:
        log.exception("handling %s message %s from %s failed", inbound.channel, inbound.msg_id, inbound.sender_id)
        ctx.session.rollback()
        return Reply(texts.SORRY)


def _event(ctx: Context) -> Reply | None:
    func = get_registry(ctx.app).events.get(ctx.inbound.event)
    return _as_reply(func(ctx)) if func else None


def _message(ctx: Context) -> Reply:
    bot_names = tuple(ctx.config.get("BOT_NAMES") or DEFAULT_BOT_NAMES)
    text = normalize(ctx.inbound.text, bot_names=bot_names)
    if not text:
        return Reply(texts.GREETING)
    if not ctx.on_roster and ctx.role < Role.ADMIN:
        return _not_on_roster(ctx, text)
    registry = get_registry(ctx.app)
    if registry.flows:
        reply = _continue_flow(ctx, text)
        if reply is not None:
            return reply
    cmd, rest = registry.match(text)
    if cmd is not None:
        return _run(ctx, cmd, rest)
    for listener in registry.listeners:       # free sentences a capability understands; first match wins
        reply = _as_reply(listener(ctx, text))
        if reply is not None:
            return reply
    return _unknown(text, registry.suggestions(text))


def _continue_flow(ctx: Context, text: str) -> Reply | None:
    """Give the text to the member's conversation in this chat; None when there is none or it declines."""
    conversation = ctx.conversation
    flow, state = conversation.flow, conversation.state
    if flow is None:
        return None
    if flows.is_cancel(text):
        farewell = flow.on_cancel(ctx, state.data) if flow.on_cancel else None
        conversation.end()
        return _as_reply(farewell) or Reply(texts.FLOW_CANCELLED)
    step = flow.steps[state.step]
    turn = step(ctx, state.data, text)
    if turn is None:
        return None
    if conversation.state is state:        # the step did not start or end a flow itself
        conversation.advance(turn.next)
    return _as_reply(turn.reply) or Reply(texts.GREETING)


def _run(ctx: Context, cmd: Command, rest: str) -> Reply:
    # a member's own command needs no role lookup: that keeps 打卡 to a couple of queries
    role = ctx.role if cmd.role > Role.MEMBER else Role.MEMBER
    denied = check(role, ctx.is_group, required=cmd.role, where=cmd.where)
    if denied:
        _audit(ctx, cmd, rest, "denied", denied)
        return Reply(denied)
    try:
        values = bind_args(cmd.args, rest)
    except ArgError as exc:
        _audit(ctx, cmd, rest, "bad_args", str(exc))
        return bad_arguments(cmd, exc)
    reply = _as_reply(cmd.func(ctx, **values))
    _audit(ctx, cmd, rest, "ok", reply.text if reply else "")
    return reply or Reply(texts.GREETING)


def bad_arguments(cmd: Command, exc: ArgError) -> Reply:
    """What was wrong with the arguments, the command's usage and its example."""
    lines = [str(exc), texts.USAGE.format(usage=cmd.usage())]
    if cmd.example:
        lines.append(texts.EXAMPLE.format(example=cmd.example))
    return Reply("\n".join(lines))


def _audit(ctx: Context, cmd: Command, rest: str, result: str, detail: str) -> None:
    if cmd.audited:
        audit.record(ctx.session, actor=ctx.user_id, command=cmd.name, arguments=rest, result=result,
                     at=ctx.now, detail=detail)


def _unknown(text: str, suggestions: list[Command]) -> Reply:
    lines = [texts.UNKNOWN_COMMAND.format(text=text[:30])]
    if suggestions:
        lines.append(texts.SUGGEST.format(names="、".join(f"「{c.usage()}」" for c in suggestions)))
    lines.append(texts.SEE_HELP)
    return Reply("\n".join(lines))


def _not_on_roster(ctx: Context, text: str) -> Reply:
    seen = ctx.session.get(UnknownSender, ctx.user_id)
    if seen is None:
        ctx.session.add(UnknownSender(userid=ctx.user_id, name=ctx.inbound.sender_name, channel=ctx.inbound.channel,
                                      first_seen=ctx.now, last_seen=ctx.now, times=1, last_text=text[:200]))
    else:
        seen.times, seen.last_seen, seen.last_text = seen.times + 1, ctx.now, text[:200]
    name = f"，{ctx.inbound.sender_name}" if ctx.inbound.sender_name else ""
    admins = _admin_names(ctx)
    if not admins:
        return Reply(texts.NOT_ON_ROSTER_NO_ADMIN.format(name=name))
    return Reply(texts.NOT_ON_ROSTER.format(name=name, admins="管理员" + "、".join(admins)))


def _admin_names(ctx: Context) -> list[str]:
    ids = set(ctx.config.get("BOT_ADMINS", ()))
    ids |= set(ctx.session.scalars(select(RoleGrant.userid).where(RoleGrant.role == "admin")))
    names = ctx.session.scalars(select(Member.name).where(Member.userid.in_(ids)).order_by(Member.name))
    return list(names)[:3]


def _as_reply(result) -> Reply | None:
    if result is None or isinstance(result, Reply):
        return result
    return Reply(str(result))
