"""活动, 报名, 取消报名 and 签到: members find activities they can join, take a seat and sign in.

``签到`` on its own is the daily check-in (打卡); ``签到 <编号> <签到码>`` is handed here by the
check-in command, and ``活动签到 <编号> <签到码>`` says the same unambiguously.
"""
from __future__ import annotations

from bot import cohorts, redis_store
from bot.messages import Reply
from bot.models.activities import Activity
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.router import Arg, CommandGroup
from handlers._format import hours
from handlers._services import activities, activity_signin
from handlers._services.activity_text import describe, details, when, where
from handlers._services.activity_parse import parse_number
from handlers._services.activity_signin import Check

group = CommandGroup("activities", title="活动")
NOT_ON_ROSTER = "您是管理员，但不在名册中，所以不能报名或签到活动。"
NUMBER = Arg("number", label="编号", type=parse_number, rest=True, help="活动列表里的编号，如 3")


@group.command("活动", aliases=("活动列表", "近期活动", "最近活动", "activities"),
               summary="看看近期可以报名的活动；活动 <编号> 查看一场的详情",
               args=[Arg("number", label="编号", type=parse_number, required=False, rest=True)], example="活动")
def list_activities(ctx, number):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    if number is not None:
        activity = _joinable(ctx, number)
        return activity if isinstance(activity, Reply) else Reply("\n".join(details(activity, ctx.now)))
    found = activities.upcoming_for(ctx.session, ctx.member, now=ctx.now, rules=cohorts.get_rules(ctx.app))
    if not found:
        return Reply("近期没有您可以报名的活动。新活动发布时我会通知您。")
    blocks = []
    for activity in found:
        mine = activities.registration_of(ctx.session, activity.id, ctx.user_id)
        status = {"registered": "（您已报名）", "waiting": "（您在候补名单中）"}.get(mine.status if mine else "", "")
        blocks.append("\n".join(describe(activity, ctx.now)) + status)
    return Reply("近期活动：\n\n" + "\n\n".join(blocks) + "\n\n发「报名 <编号>」报名，如「报名 3」；"
                 "「取消报名 <编号>」取消。")


@group.command("报名", aliases=("报名活动", "参加活动", "signup"), summary="报名参加一场活动（满员时进入候补）",
               args=[NUMBER], example="报名 3")
def sign_up(ctx, number):
    activity = _joinable(ctx, number)
    if isinstance(activity, Reply):
        return activity
    outcome = activities.register(ctx.session, activity, ctx.user_id, now=ctx.now)
    ctx.session.refresh(activity)
    head = f"「{activity.title}」（{when(activity, ctx.now)}）"
    if outcome is activities.Outcome.ALREADY_REGISTERED:
        return Reply(f"您已经报名了{head}，不用重复报名。")
    row = activities.registration_of(ctx.session, activity.id, ctx.user_id)
    position = activities.waiting_position(ctx.session, activity.id, row)
    if outcome is activities.Outcome.ALREADY_WAITING:
        return Reply(f"您已在{head}的候补名单中，目前排第 {position} 位。")
    if outcome is activities.Outcome.WAITING:
        return Reply(f"{head}名额已满，已为您登记候补，目前排第 {position} 位。有人取消时会自动为您补上并通知您。")
    return Reply(f"报名成功：{head}\n{'链接' if activity.online else '地点'}：{where(activity)}\n"
                 "活动前一天和开始前 30 分钟我会提醒您。不能参加请发「取消报名 "
                 f"{activity.id}」，把名额让给别人。")


@group.command("取消报名", aliases=("退出报名", "不去了", "cancelsignup"), summary="取消活动报名或候补",
               args=[NUMBER], example="取消报名 3")
def cancel_sign_up(ctx, number):
    activity = activities.find(ctx.session, number)
    if activity is None:
        return Reply(f"没有编号为 {number} 的活动。发「活动」查看近期活动。")
    if activity.start <= ctx.now:
        return Reply(f"「{activity.title}」已经开始了，不能再取消报名。")
    result = activities.cancel(ctx.session, activity, ctx.user_id, now=ctx.now)
    if result.outcome is activities.Outcome.NOT_REGISTERED:
        return Reply(f"您没有报名「{activity.title}」，不需要取消。")
    if result.promoted:
        text = (f"好消息：您候补的活动「{activity.title}」有空位了，已为您报上名。\n时间：{when(activity, ctx.now)}\n"
                f"{'链接' if activity.online else '地点'}：{where(activity)}\n不能参加请发「取消报名 {activity.id}」。")
        for userid in result.promoted:
            enqueue_to_members(f"activity-{activity.id}-promoted-{userid}-{ctx.now:%Y%m%d%H%M%S%f}", [userid],
                               Text(text))
    return Reply(f"已取消「{activity.title}」的报名。")


@group.command("活动签到", aliases=("签到活动", "活动打卡"), summary="在活动现场或直播中，用组织者给的签到码签到",
               args=[Arg("number", label="编号", type=parse_number), Arg("code", label="签到码")],
               example="活动签到 3 1234")
def sign_in(ctx, number, code):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    activity = activities.find(ctx.session, number)
    if activity is None or not activities.is_for(ctx.session, activity, ctx.member,
                                                 rules=cohorts.get_rules(ctx.app), today=ctx.now.date()):
        return Reply(f"没有您可以参加的编号为 {number} 的活动。发「活动」查看近期活动。")
    row = activities.registration_of(ctx.session, activity.id, ctx.user_id)
    if row is not None and row.attended_at is not None:
        return Reply(f"您已经签到过「{activity.title}」了，不用重复签到。")
    checked = activity_signin.check(redis_store.get_redis(ctx.app), activity.id, code, now=ctx.now)
    if checked is not Check.OK:
        return Reply({Check.WRONG: "签到码不对，请核对组织者给出的 4 位数字后重发。",
                      Check.EXPIRED: "这个签到码已经过期了，请向组织者要新的签到码。",
                      Check.NO_CODE: "这场活动还没有开始签到，请等组织者公布签到码。"}[checked])
    if not activities.mark_attended(ctx.session, activity, ctx.user_id, now=ctx.now):
        return Reply(f"您已经签到过「{activity.title}」了，不用重复签到。")
    practice = "，并计入本季度的实践活动" if activity.counts_as_practice else ""
    return Reply(f"签到成功：「{activity.title}」。已为您记学习 {hours(activity.study_minutes)} 小时{practice}。")


def _joinable(ctx, number: int) -> Activity | Reply:
    """The activity if the member may still register for it, else the reason as a reply."""
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    activity = activities.find(ctx.session, number)
    if activity is None or not activities.is_for(ctx.session, activity, ctx.member,
                                                 rules=cohorts.get_rules(ctx.app), today=ctx.now.date()):
        return Reply(f"没有您可以报名的编号为 {number} 的活动。发「活动」查看近期活动。")
    if activity.start <= ctx.now:
        return Reply(f"「{activity.title}」已经开始或结束了，不能再报名。")
    return activity
