"""发布活动 (a guided dialogue), 签到码, 回放 and 活动统计: what organisers do around an activity.

The dialogue asks one thing at a time (title → kind → time → place/link → audience → capacity →
study time → confirm); bad input gets the reason and the same question again, 上一步 goes back,
取消 ends it. Nothing is stored until the admin confirms.
"""
from __future__ import annotations

import hashlib
import re
from datetime import datetime, timezone

from bot import cohorts, redis_store
from bot.acl import Role
from bot.flows import END, Flow, Turn
from bot.messages import Reply
from bot.models.activities import Activity, RegistrationStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.router import Arg, CommandGroup
from bot.sqlutil import chunks
from handlers._format import hours
from handlers._services import activities, activity_parse, activity_signin, push_audience
from handlers._services.activity_parse import KINDS, parse_number
from handlers._services.activity_text import describe, when, where
from jobs.activities import expect_reminders

group = CommandGroup("activity_admin", title="活动管理")
FLOW_NAME = "publish_activity"
BACK_WORDS = frozenset({"上一步", "返回", "返回上一步", "后退"})
CONFIRM_WORDS = frozenset({"确认", "确定", "发布", "确认发布", "是", "好", "好的", "对", "没问题", "ok"})
NOTICE_BATCH = 1000
_KIND_MENU = "  ".join(f"{n}.{kind}" for n, kind in enumerate(KINDS, start=1))
CANCELLED = "好的，已取消发布，什么都没有保存。"


def _ask(step: str, data: dict) -> str:
    if step == "confirm":
        return _summary(data)
    online = activity_parse.is_online(data.get("kind", ""))
    return {
        "title": "请发活动名称（2–40 个字），如「防汛应急演练」。",
        "kind": f"请选择活动类型，回编号或名称：\n{_KIND_MENU}\n（防汛演练、大坝岁修、库区清淤等属于「实践体验」）",
        "time": f"活动什么时候开始？{activity_parse.TIME_EXAMPLES}。",
        "place": "请发线上参加的链接（http:// 或 https:// 开头）。" if online else "活动在哪里举行？请发地点。",
        "audience": ("面向哪些人？回「全体」，或写人群、部门、班组名，多个用顿号隔开。\n"
                     f"可选的人群：{'、'.join(cohorts.get_rules().names)}"),
        "capacity": "名额多少人？回人数，如「30」；不限名额回「不限」。",
        "minutes": "签到后计入多少学习时长？如「1小时」「90分钟」「半小时」。",
    }[step]


def _summary(data: dict) -> str:
    link_or_place = f"链接：{data.get('link')}" if data.get("link") else f"地点：{data.get('place')}"
    capacity = "不限" if data.get("capacity") is None else f"{data['capacity']} 人"
    practice = "计入" if data.get("practice") else "不计入"
    return "\n".join([
        "请核对活动信息：", f"名称：{data['title']}（{data['kind']}）", f"时间：{data['when']}", link_or_place,
        f"面向：{data['audience_shown']}", f"名额：{capacity}",
        f"签到后计学习 {hours(data['minutes'])} 小时；{practice}本季度实践活动",
        "无误请回「确认」发布；回「计入实践」或「不计实践」可以修改；回「上一步」修改学时；回「取消」放弃。"])


def _take_title(ctx, data: dict, text: str) -> None:
    if not 2 <= len(text.strip()) <= 40:
        raise ValueError("活动名称请写 2–40 个字。")
    data["title"] = text.strip()


def _take_kind(ctx, data: dict, text: str) -> None:
    data["kind"] = activity_parse.parse_kind(text)
    data["practice"] = data["kind"] in activities.PRACTICE_BY_DEFAULT


def _take_time(ctx, data: dict, text: str) -> None:
    start = activity_parse.parse_time(text, now=ctx.now)
    data["starts_at"], data["when"] = start.isoformat(), f"{start:%Y-%m-%d %H:%M}"


def _take_place(ctx, data: dict, text: str) -> None:
    online = activity_parse.is_online(data["kind"])
    data["link"], data["place"] = (activity_parse.parse_link(text), "") if online else \
        ("", activity_parse.parse_place(text))


def _take_audience(ctx, data: dict, text: str) -> None:
    words = [w for w in re.split(r"[\s,，、;；]+", text.strip()) if w]
    if not words:
        raise ValueError("请写面向的人群或部门。")
    rules = cohorts.get_rules(ctx.app)
    try:
        chosen = list(dict.fromkeys(push_audience.resolve(ctx.session, word, rules=rules) for word in words))
    except push_audience.AudienceError as exc:
        raise ValueError(str(exc)) from None
    if any(a.kind == push_audience.EVERYONE for a in chosen):
        chosen = [push_audience.Audience(push_audience.EVERYONE, push_audience.EVERYONE)]
    data["audience"], data["audience_shown"] = [a.label for a in chosen], "、".join(a.shown for a in chosen)


def _take_capacity(ctx, data: dict, text: str) -> None:
    data["capacity"] = activity_parse.parse_capacity(text)


def _take_minutes(ctx, data: dict, text: str) -> None:
    data["minutes"] = activity_parse.parse_minutes(text)


ORDER = ("title", "kind", "time", "place", "audience", "capacity", "minutes", "confirm")
TAKERS = {"title": _take_title, "kind": _take_kind, "time": _take_time, "place": _take_place,
          "audience": _take_audience, "capacity": _take_capacity, "minutes": _take_minutes}


def _step(name: str):
    """The flow step for ``name``: read the answer, or say why not and ask again, or go back."""

    def step(ctx, data: dict, text: str) -> Turn:
        word = text.strip()
        index = ORDER.index(name)
        if word in BACK_WORDS:
            if index == 0:
                return Turn(f"已经是第一步了。{_ask(name, data)}", name)
            return Turn(_ask(ORDER[index - 1], data), ORDER[index - 1])
        if name == "confirm":
            return _confirm(ctx, data, word)
        try:
            TAKERS[name](ctx, data, word)
        except ValueError as exc:
            return Turn(f"{exc}\n{_ask(name, data)}", name)
        return Turn(_ask(ORDER[index + 1], data), ORDER[index + 1])

    return step


def _confirm(ctx, data: dict, word: str) -> Turn:
    if word in ("计入实践", "计入实践活动", "不计实践", "不计入实践", "不计实践活动"):
        data["practice"] = not word.startswith("不")
        return Turn(_ask("confirm", data), "confirm")
    if word.lower() not in CONFIRM_WORDS:
        return Turn(f"没看懂「{word[:20]}」。\n{_ask('confirm', data)}", "confirm")
    activity, notified = _publish(ctx, data)
    return Turn("\n".join(["活动已发布：", *describe(activity, ctx.now),
                           f"面向：{data['audience_shown']}，已通知 {notified} 人。"]), END)


PUBLISH = group.flow(Flow(FLOW_NAME, {name: _step(name) for name in ORDER}, on_cancel=lambda ctx, data: CANCELLED))


@group.command("发布活动", aliases=("新建活动", "创建活动", "publishactivity"), role=Role.ADMIN,
               summary="一步步发布一场线上或线下活动，并通知面向的同事")
def publish_activity(ctx):
    ctx.conversation.start(PUBLISH, "title", {})
    return Reply("好的，我们一步步来发布活动（随时回「取消」放弃，回「上一步」修改上一项）。\n" + _ask("title", {}))


def _publish(ctx, data: dict) -> tuple[Activity, int]:
    activity = Activity(
        title=data["title"], kind=data["kind"], online=activity_parse.is_online(data["kind"]),
        starts_at=datetime.fromisoformat(data["starts_at"]).astimezone(timezone.utc),
        place=data["place"], link=data["link"], audience=data["audience"], capacity=data["capacity"],
        seats_taken=0, counts_as_practice=data["practice"], study_minutes=data["minutes"],
        created_by=ctx.user_id, created_at=ctx.now)
    ctx.session.add(activity)
    ctx.session.flush()
    userids = activities.audience_userids(ctx.session, activity, rules=cohorts.get_rules(ctx.app),
                                          today=ctx.now.date())
    notice = Text("\n".join(["【活动通知】", *describe(activity, ctx.now),
                             f"想参加请回复「报名 {activity.id}」；发「活动」查看近期全部活动。"]))
    expect_reminders(activity)
    for batch in chunks(userids, NOTICE_BATCH):
        enqueue_to_members(f"activity-{activity.id}-notice", batch, notice)
    return activity, len(userids)


@group.command("签到码", aliases=("活动签到码", "signincode"), role=Role.ADMIN,
               summary="显示活动的签到码（4 位数字，30 分钟内有效），请参加者发「签到 编号 签到码」",
               args=[Arg("number", label="编号", type=parse_number, rest=True)], example="签到码 3")
def show_signin_code(ctx, number):
    activity = activities.find(ctx.session, number)
    if activity is None:
        return Reply(f"没有编号为 {number} 的活动。")
    opens, closes = activity_signin.window(activity.start)
    if ctx.now < opens:
        return Reply(f"「{activity.title}」的签到从 {opens.astimezone(ctx.now.tzinfo):%m-%d %H:%M} 开始（开始前 30 分钟）。")
    if ctx.now > closes:
        return Reply(f"「{activity.title}」的签到已经结束（活动开始 3 小时后截止）。")
    code = activity_signin.issue(redis_store.get_redis(ctx.app), activity.id, now=ctx.now)
    return Reply(f"「{activity.title}」签到码：{code.code}\n有效至 {code.valid_until.astimezone(ctx.now.tzinfo):%H:%M}，"
                 f"请参加的同事发「签到 {activity.id} {code.code}」。过期后再发「签到码 {activity.id}」换新码。")


@group.command("回放", aliases=("活动回放", "replay"), role=Role.ADMIN,
               summary="保存线上活动的回放链接，并发给报名了但没有签到的同事",
               args=[Arg("number", label="编号", type=parse_number), Arg("link", label="链接")],
               example="回放 3 https://live.example.cn/replay/3")
def send_replay(ctx, number, link):
    activity = activities.find(ctx.session, number)
    if activity is None:
        return Reply(f"没有编号为 {number} 的活动。")
    if not activity.online:
        return Reply(f"「{activity.title}」是线下活动，没有回放。")
    if activity.start > ctx.now:
        return Reply(f"「{activity.title}」还没有开始（{when(activity, ctx.now)}），结束后再发回放。")
    try:
        activity.replay_link = activity_parse.parse_link(link)
    except ValueError as exc:
        return Reply(str(exc))
    missed = activities.userids_with(ctx.session, activity.id, RegistrationStatus.REGISTERED, attended=False)
    if missed:
        digest = hashlib.sha256(activity.replay_link.encode()).hexdigest()[:10]
        text = (f"【活动回放】您报名的「{activity.title}」回放已上线，错过直播也可以补看：\n{activity.replay_link}\n"
                "看完可以发「学习 1小时 活动回放」记录学习时长。")
        enqueue_to_members(f"activity-{activity.id}-replay-{digest}", missed, Text(text))
    return Reply(f"已保存「{activity.title}」的回放链接，并发给 {len(missed)} 位报名了但没有签到的同事。")


@group.command("活动统计", aliases=("活动数据", "activitystats"), role=Role.ADMIN,
               summary="活动的报名、候补、签到人数，按部门列出；不写编号时列出最近的活动",
               args=[Arg("number", label="编号", type=parse_number, required=False, rest=True)], example="活动统计 3")
def activity_stats(ctx, number):
    if number is None:
        return Reply(_recent_stats(ctx))
    activity = activities.find(ctx.session, number)
    if activity is None:
        return Reply(f"没有编号为 {number} 的活动。")
    total = activities.counts(ctx.session, activity.id)
    lines = [f"【{activity.id}】{activity.title}（{when(activity, ctx.now)}，{where(activity)}）",
             f"报名 {total.registered} 人，候补 {total.waiting} 人，签到 {total.attended} 人"]
    for name, part in activities.by_department(ctx.session, activity.id).items():
        lines.append(f"· {name}：报名 {part.registered}，候补 {part.waiting}，签到 {part.attended}")
    average = activities.satisfaction_average(ctx.session, activity.id)
    answers = len(activities.satisfaction_scores(ctx.session, activity.id))
    lines.append(f"满意度：{average:.1f} 分（{answers} 人评价）" if average is not None else "满意度：暂无问卷结果")
    lines += [f"· 意见：{comment[:60]}" for comment in activities.satisfaction_comments(ctx.session, activity.id)]
    return Reply("\n".join(lines))


def _recent_stats(ctx) -> str:
    recent = activities.recent(ctx.session, limit=10)
    if not recent:
        return "还没有发布过活动。发「发布活动」开始。"
    lines = ["最近的活动（发「活动统计 <编号>」看详情）："]
    for activity in recent:
        total = activities.counts(ctx.session, activity.id)
        lines.append(f"【{activity.id}】{activity.title} {when(activity, ctx.now)}：报名 {total.registered}，"
                     f"候补 {total.waiting}，签到 {total.attended}")
    return "\n".join(lines)
