"""推送, 预约, 取消推送, 推送记录: admins push an item of a push pack to an audience, now or at a time.

The command only decides and records (a Push row) and queues the fan-out job (jobs/pushes.py); the
rendering, voice synthesis and sending happen in workers. The reply tells the admin the 推送号, how
many members will get it and in which forms, as the fan-out will choose them.

A group audience (``推送 群 <群名或chatid> <条目>``, ``推送 工作群 <条目>`` for every configured group,
``推送 本群 <条目>`` inside a group) is posted through the group's robot webhook, once per group, in the
group form (news card or markdown first); members' 免打扰 does not apply to group posts.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select

import content_packs
from bot import cohorts
from bot.acl import Role
from bot.messages import Reply
from bot.models.messaging import Delivery, DeliveryStatus
from bot.models.pushes import ItemReceipt, Push, PushOrigin, PushStatus
from bot.router import Arg, CommandGroup
from bot.sqlutil import chunks
from content_packs.schema import Pack, PushItem
from handlers._services import push_audience
from handlers._services.push_policy import FORM_NAMES
from handlers._services.push_render import group_form
from handlers._services.push_time import EXAMPLES, split_when
from jobs.pushes import enqueue_fan_out, plan, read_detail

group = CommandGroup("pushes", title="内容推送")
USAGE = ("用法：推送 <人群|部门|全体> <条目|内容包> [时间]；发到群里：推送 群 <群名或chatid> <条目> [时间]、"
         "推送 工作群 <条目>（所有已配置的群）或在群里发「推送 本群 <条目>」\n"
         f"例如「推送 青年 防汛值班故事」「推送 全体 push_policy_readings/river-chief 明天 9:00」；时间可写{EXAMPLES}。")
RECENT = 10
MAX_CHOICES = 8


class Ambiguous(ValueError):
    """Several items match; the message lists them so the admin can pick one."""


@group.command("推送", role=Role.ADMIN, summary="把内容推送给人群、部门、全体或群，可以预约时间",
               args=[Arg("what", label="人群|部门|全体|群 <群名>|工作群|本群 条目|内容包 [时间]", rest=True)],
               example="推送 青年 青年水利人 明天 9:00")
def push(ctx, what):
    words = what.split()
    try:
        words, when = split_when(words, now=ctx.now)
    except ValueError as exc:
        return Reply(f"{exc}\n{USAGE}")
    if len(words) < 2:
        return Reply(f"请写明推送给谁、推送什么。\n{USAGE}")
    if words[0] in push_audience.GROUP_WORDS:
        return _push_to_groups(ctx, words, when)
    rules = cohorts.get_rules(ctx.app)
    try:
        audience = push_audience.resolve(ctx.session, words[0], rules=rules)
    except push_audience.AudienceError as exc:
        return Reply(f"{exc}\n这次没有推送。")
    userids = push_audience.userids_of(ctx.session, audience, rules=rules, today=ctx.now.date())
    if not userids:
        return Reply(f"{audience.shown}目前没有成员，这次没有推送。")
    try:
        pack, item = _find_item(ctx.session, " ".join(words[1:]), userids)
    except Ambiguous as exc:
        return Reply(str(exc))
    except LookupError as exc:
        return Reply(f"{exc.args[0]}\n这次没有推送。")
    the_plan = plan(ctx.session, item, userids, today=ctx.now.date())
    if not the_plan.size:
        return Reply(f"{audience.shown}的 {len(userids)} 人都设了免打扰，这次没有推送。")
    row = _queue_push(ctx, pack, item, audience, when)
    return Reply(_created(row, item, audience, the_plan, when))


def _queue_push(ctx, pack, item, audience, when: datetime | None) -> Push:
    """Store the push (scheduled, or sending now) and queue its fan-out."""
    row = Push(item_ref=f"{pack.id}/{item.id}", pack_version=pack.version, audience=audience.label,
               origin=PushOrigin.ADMIN.value, status=(PushStatus.SCHEDULED if when else PushStatus.SENDING).value,
               scheduled_for=when or ctx.now, created_by=ctx.user_id, created_at=ctx.now, detail="")
    ctx.session.add(row)
    ctx.session.commit()          # the worker reads the row from its own session
    enqueue_fan_out(row, at=when)
    return row


def _push_to_groups(ctx, words: list[str], when: datetime | None) -> Reply:
    webhooks = ctx.config.get("WECOM_GROUP_WEBHOOKS") or {}
    try:
        audience, used = push_audience.resolve_group(words, webhooks=webhooks,
                                                     chat_id=ctx.inbound.chat_id if ctx.is_group else None)
    except push_audience.AudienceError as exc:
        return Reply(f"{exc}\n这次没有推送。")
    if len(words) <= used:
        return Reply(f"请写明推送什么。\n{USAGE}")
    try:
        pack, item = _find_item(ctx.session, " ".join(words[used:]), [], posted_to=audience.label)
    except Ambiguous as exc:
        return Reply(str(exc))
    except LookupError as exc:
        return Reply(f"{exc.args[0]}\n这次没有推送。")
    chats = push_audience.group_chats(audience, webhooks)
    row = _queue_push(ctx, pack, item, audience, when)
    form = group_form(item)
    lines = [f"已创建推送（推送号 {row.id}）：《{item.title}》→ {audience.shown}，共 {len(chats)} 个群"
             f"（{'、'.join(chats)}）。",
             f"发送形式：{FORM_NAMES.get(form, form)}，由群机器人发到群里；成员的免打扰不影响群消息。",
             _when_line(row, when)]
    return Reply("\n".join(lines))


def _created(row: Push, item: PushItem, audience, the_plan, when: datetime | None) -> str:
    forms = "、".join(f"{FORM_NAMES.get(form, form)} {count} 人" for form, count in the_plan.forms().items())
    lines = [f"已创建推送（推送号 {row.id}）：《{item.title}》→ {audience.shown}，共 {the_plan.size} 人。",
             f"发送形式：{forms}。"]
    if the_plan.muted:
        lines.append(f"另有 {the_plan.muted} 人设了免打扰，不会收到。")
    lines.append(_when_line(row, when))
    return "\n".join(lines)


def _when_line(row: Push, when: datetime | None) -> str:
    if when:
        return f"将于 {when:%Y-%m-%d %H:%M} 发送；要取消请发「取消推送 {row.id}」。"
    return "正在发送，稍后可发「推送记录」查看送达情况。"


@group.command("预约", aliases=("预约推送",), role=Role.ADMIN, summary="查看还没到时间的预约推送")
def scheduled(ctx):
    rows = ctx.session.scalars(select(Push).where(Push.status == PushStatus.SCHEDULED.value)
                               .order_by(Push.scheduled_for, Push.id)).all()
    if not rows:
        return Reply("目前没有预约推送。")
    lines = ["预约推送："]
    for row in rows:
        lines.append(f"{row.id}. {_local(row.scheduled_for, ctx.now):%m-%d %H:%M} 《{_title(row.item_ref)}》"
                     f"→ {_audience_shown(row.audience)}")
    lines.append("取消请发「取消推送 <推送号>」。")
    return Reply("\n".join(lines))


def _push_number(text: str) -> int:
    text = text.strip().lstrip("#")
    if not text.isdigit():
        raise ValueError(f"推送号应是数字，「{text}」不是。可以先发「预约」查看。")
    return int(text)


@group.command("取消推送", role=Role.ADMIN, summary="取消一条还没发送的预约推送",
               args=[Arg("number", label="推送号", type=_push_number)], example="取消推送 12")
def cancel(ctx, number):
    row = ctx.session.get(Push, number)
    if row is None:
        return Reply(f"没有推送号为 {number} 的推送。可以发「预约」查看预约中的推送。")
    if row.status == PushStatus.CANCELLED.value:
        return Reply(f"推送 {number} 已经取消过了。")
    if row.status != PushStatus.SCHEDULED.value:
        return Reply(f"推送 {number} 已经开始发送，不能取消了。")
    row.status = PushStatus.CANCELLED.value
    return Reply(f"已取消推送 {number}（《{_title(row.item_ref)}》，原定 "
                 f"{_local(row.scheduled_for, ctx.now):%m-%d %H:%M} 发送）。")


@group.command("推送记录", role=Role.ADMIN, summary="最近的推送及送达、失败、待发人数")
def history(ctx):
    rows = ctx.session.scalars(select(Push).order_by(Push.id.desc()).limit(RECENT)).all()
    if not rows:
        return Reply("还没有推送过内容。")
    lines = [f"最近 {len(rows)} 条推送："]
    for row in rows:
        head = (f"{row.id}. {_local(row.scheduled_for, ctx.now):%m-%d %H:%M} 《{_title(row.item_ref)}》"
                f"→ {_audience_shown(row.audience)}{'（定时）' if row.origin == PushOrigin.SCHEDULE.value else ''}")
        lines.append(f"{head}：{_status(ctx.session, row)}")
    return Reply("\n".join(lines))


def _status(session, row: Push) -> str:
    if row.status == PushStatus.SCHEDULED.value:
        return "预约中"
    if row.status == PushStatus.CANCELLED.value:
        return "已取消"
    delivered, failed, seen = delivery_counts(session, row)
    expected = max(int(read_detail(row.detail).get("recipients", seen)), seen)
    unit = "个群" if push_audience.Audience.from_label(row.audience).kind == push_audience.GROUP else "人"
    return f"送达 {delivered} {unit}，失败 {failed} {unit}，待发 {expected - delivered - failed} {unit}"


def delivery_counts(session, row: Push) -> tuple[int, int, int]:
    """(recipients with every message sent, with a failed message, in the ledger); a recipient is a member,
    or a group for a group push."""
    query = (select(Delivery.recipient, Delivery.status, func.count())
             .where(Delivery.push_id.like(row.ledger_pattern)).group_by(Delivery.recipient, Delivery.status))
    statuses: dict[str, set[str]] = {}
    for recipient, status, _ in session.execute(query):
        statuses.setdefault(recipient, set()).add(status)
    failed = sum(1 for s in statuses.values() if DeliveryStatus.FAILED.value in s)
    delivered = sum(1 for s in statuses.values() if s == {DeliveryStatus.SENT.value})
    return delivered, failed, len(statuses)


# -- finding the item ----------------------------------------------------------------------------

def _find_item(session, text: str, audience: list[str], *, posted_to: str | None = None) -> tuple[Pack, PushItem]:
    """``pack/item``, an item id, a pack (id or title), or (part of) an item title.

    A pack means its first item, in pack order, that not every member of the audience has received;
    for a group audience (``posted_to``, its label), the first item not pushed to it before.

    Raises:
        Ambiguous: several titles match.
        LookupError: nothing matches, or every item of the pack was received by everyone.
    """
    packs = [p for p in content_packs.get_packs().values() if p.kind == "push"]
    text = text.strip()
    pack_id, slash, item_id = text.partition("/")
    if slash:
        pack = next((p for p in packs if p.id == pack_id), None)
        if pack is None or item_id not in {i.id for i in pack.items}:
            raise LookupError(f"没有找到条目「{text}」。")
        return pack, pack.item(item_id)
    exact = [(p, i) for p in packs for i in p.items if text in (i.id, i.title)]
    if len(exact) == 1:
        return exact[0]
    pack = next((p for p in packs if text in (p.id, p.title)), None)
    if pack is not None and not exact:
        if posted_to is not None:
            return pack, _first_not_posted(session, pack, posted_to)
        return pack, _first_not_received(session, pack, audience)
    found = exact or [(p, i) for p in packs for i in p.items if text.lower() in i.title.lower()]
    if not found:
        names = "、".join(f"{p.title}（{p.id}）" for p in packs)
        raise LookupError(f"没有找到标题含「{text}」的条目或内容包。现有推送内容包：{names}。")
    if len(found) > 1:
        shown = "\n".join(f"· {p.id}/{i.id}《{i.title}》" for p, i in found[:MAX_CHOICES])
        more = f"\n……共 {len(found)} 条，请写得更具体些。" if len(found) > MAX_CHOICES else ""
        raise Ambiguous(f"有 {len(found)} 条内容符合「{text}」，请用「内容包/条目」写明要推送哪一条：\n{shown}{more}")
    return found[0]


def _first_not_received(session, pack: Pack, audience: list[str]) -> PushItem:
    refs = [f"{pack.id}/{item.id}" for item in pack.items]
    counts: dict[str, int] = {}
    for part in chunks(audience):
        for ref, count in session.execute(select(ItemReceipt.item_ref, func.count()).where(
                ItemReceipt.item_ref.in_(refs), ItemReceipt.userid.in_(part)).group_by(ItemReceipt.item_ref)):
            counts[ref] = counts.get(ref, 0) + count
    for ref, item in zip(refs, pack.items):
        if counts.get(ref, 0) < len(audience):
            return item
    raise LookupError(f"内容包《{pack.title}》的条目这些成员都已收到过了，请指定具体条目再推送。")


def _first_not_posted(session, pack: Pack, label: str) -> PushItem:
    posted = set(session.scalars(select(Push.item_ref).where(Push.audience == label,
                                                             Push.status != PushStatus.CANCELLED.value)))
    for item in pack.items:
        if f"{pack.id}/{item.id}" not in posted:
            return item
    raise LookupError(f"内容包《{pack.title}》的条目都已推送到这里过了，请指定具体条目再推送。")


# -- showing -------------------------------------------------------------------------------------

def _title(item_ref: str) -> str:
    pack_id, _, item_id = item_ref.partition("/")
    try:
        return content_packs.get(pack_id).item(item_id).title
    except KeyError:
        return item_ref


def _audience_shown(label: str) -> str:
    return push_audience.Audience.from_label(label).shown


def _local(at: datetime, now: datetime) -> datetime:
    # SQLite returns naive datetimes: they were stored in UTC by the aware column
    return (at if at.tzinfo else at.replace(tzinfo=now.tzinfo)).astimezone(now.tzinfo)
