"""发布活动 (a guided dialogue), 签到码, 回放 and 活动统计: what organisers do around an activity.

The dialogue asks one thing at a time (title → kind → time → place/link → audience → capacity →
study time → confirm); bad input gets the reason and the same question again, 上一步 goes back,
取消 ends it. Nothing is stored until the admin confirms; then the activity is committed at once (the
notice job reads it from its own session), and the dialogue's key (``Activity.publish_key``) keeps a
second 确认 of the same dialogue, racing the first or replayed, from publishing it twice.
"""
from __future__ import annotations

import hashlib
import re
import uuid
from datetime import datetime, timezone

from sqlalchemy.exc import IntegrityError

from bot import cohorts, redis_store
from bot.acl import Role
from bot.flows import END, Turn
from bot.messages import Reply
from bot.models.activities import Activity, RegistrationStatus
from bot.outbox import enqueue_to_members
from bot.outgoing import Text
from bot.router import Arg, CommandGroup
from handlers._format import hours
from handlers._guided import CONFIRM_WORDS, guided_flow, is_command
from handlers._services import activities, activity_notice, activity_packs, activity_parse, activity_signin
from handlers._services.activity_parse import KINDS, parse_number
from handlers._services.activity_text import describe, when, where
from handlers._services.push_policy import FORM_NAMES
from jobs.activities import enqueue_notice, expect_reminders
from jobs.pushes import Plan, plan

group = CommandGroup("activity_admin", title="活动管理")
FLOW_NAME = "publish_activity"
_KIND_MENU = "  ".join(f"{n}.{kind}" for n, kind in enumerate(KINDS, start=1))
CANCELLED = "好的，已取消发布，什么都没有保存。"
ALREADY_PUBLISHED = "「{title}」刚刚已经发布过了，没有重复发布。发「活动统计」可以查看。"


def _ask(step: str, data: dict) -> str:
    if step == "confirm":
        return _summary(data)
    online = activity_parse.is_online(data.get("kind", ""))
    return {
        "title": "请发活动名称（2–40 个字），如「防汛应急演练」。",
        "kind": f"请选择活动类型，回编号或名称：\n{_KIND_MENU}\n（防汛演练、大坝岁修、库区清淤等属于「实践体验」）",
        "time": f"活动什么时候开始？{activity_parse.TIME_EXAMPLES}。",
        "place": "请发线上参加的链接（http:// 或 https:// 开头）。" if online else
                 "活动在哪里举行？请发地点。有详情页的，可以在地点后空一格附上链接，通知里会做成图文卡片。",
        "audience": ("面向哪些人？回「全体」，或写人群、部门、班组名，多个用顿号隔开。\n"
                     f"可选的人群：{'、'.join(cohorts.get_rules().names)}"),
        "capacity": "名额多少人？回人数，如「30」；不限名额回「不限」。",
        "minutes": "签到后计入多少学习时长？如「1小时」「90分钟」「半小时」。",
    }[step]


def _summary(data: dict) -> str:
    if activity_parse.is_online(data["kind"]):
        link_or_place = [f"链接：{data['link']}"]
    else:
        link_or_place = [f"地点：{data['place']}", *([f"详情页：{data['link']}"] if data.get("link") else [])]
    capacity = "不限" if data.get("capacity") is None else f"{data['capacity']} 人"
    practice = "计入" if data.get("practice") else "不计入"
    return "\n".join([
        "请核对活动信息：", f"名称：{data['title']}（{data['kind']}）", f"时间：{data['when']}", *link_or_place,
        f"面向：{data['audience_shown']}", f"名额：{capacity}",
        f"签到后计学习 {hours(data['minutes'])} 小时；{practice}本季度实践活动",
        *([f"说明：{data['note']}"] if data.get("note") else []),
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
    if activity_parse.is_online(data["kind"]):
        data["link"], data["place"] = activity_parse.parse_link(text), ""
    else:
        data["place"], data["link"] = activity_parse.parse_place_and_link(text)


def _take_audience(ctx, data: dict, text: str) -> None:
    words = [w for w in re.split(r"[\s,，、;；]+", text.strip()) if w]
    data["audience"], data["audience_shown"] = activity_parse.resolve_audience(ctx.session, words,
                                                                             rules=cohorts.get_rules(ctx.app))


def _take_capacity(ctx, data: dict, text: str) -> None:
    data["capacity"] = activity_parse.parse_capacity(text)


def _take_minutes(ctx, data: dict, text: str) -> None:
    data["minutes"] = activity_parse.parse_minutes(text)


ORDER = ("title", "kind", "time", "place", "audience", "capacity", "minutes", "confirm")
TAKERS = {"title": _take_title, "kind": _take_kind, "time": _take_time, "place": _take_place,
          "audience": _take_audience, "capacity": _take_capacity, "minutes": _take_minutes}


def _confirm(ctx, data: dict, word: str) -> Turn | None:
    if word in ("计入实践", "计入实践活动", "不计实践", "不计入实践", "不计实践活动"):
        data["practice"] = not word.startswith("不")
        return Turn(_ask("confirm", data), "confirm")
    if word.lower() not in CONFIRM_WORDS:
        if is_command(ctx, word):
            return None             # a command (another 发布活动 …): routed as usual, the summary waits
        return Turn(f"没看懂「{word[:20]}」。\n{_ask('confirm', data)}", "confirm")
    published = _publish(ctx, data)
    if published is None:
        return Turn(ALREADY_PUBLISHED.format(title=data["title"]), END)
    activity, the_plan = published
    return Turn("\n".join(["活动已发布：", *describe(activity, ctx.now),
                           f"面向：{data['audience_shown']}，{_notified(the_plan)}。"]), END)


PUBLISH = group.flow(guided_flow(FLOW_NAME, order=ORDER, ask=_ask, takers=TAKERS, special={"confirm": _confirm},
                                 on_cancel=lambda ctx, data: CANCELLED))


@group.command("发布活动", aliases=("新建活动", "创建活动", "publishactivity"), role=Role.ADMIN,
               summary="一步步发布一场线上或线下活动，并按各人群的形式通知面向的同事；"
                       "发布活动 <活动包里的编号或名称> [时间] 直接发布活动包里的活动",
               args=[Arg("ref", label="活动包里的活动", required=False, rest=True,
                         help="活动包里的编号或名称，后面可以写时间（不写按活动包里的时间）")],
               example="发布活动 防汛演练 明天 15:00")
def publish_activity(ctx, ref):
    if ref:
        return _from_pack(ctx, ref)
    ctx.conversation.start(PUBLISH, "title", {"key": uuid.uuid4().hex})
    packed = activity_packs.all_pack_activities(ctx.app)
    hint = (f"（活动包里的活动可以直接发布，如「发布活动 {packed[0].definition.id}」，共 {len(packed)} 个。）\n"
            if packed else "")
    return Reply("好的，我们一步步来发布活动（随时回「取消」放弃，回「上一步」修改上一项）。\n" + hint + _ask("title", {}))


def _from_pack(ctx, ref: str) -> Reply:
    """Load a pack's activity into the dialogue at its confirm step: the admin checks it, then 确认."""
    name, _, when_text = ref.strip().partition(" ")
    found = activity_packs.find_pack_activity(name, ctx.app)
    if found is None:
        return Reply(_no_such_pack_activity(ctx, name))
    definition = found.definition
    try:
        start = activity_packs.start_of(definition, when_text, now=ctx.now)
        data = activity_packs.dialogue_data(ctx.session, definition, start, rules=cohorts.get_rules(ctx.app))
    except ValueError as exc:
        return Reply(str(exc))
    ctx.conversation.start(PUBLISH, "confirm", {**data, "key": uuid.uuid4().hex})
    return Reply(f"已从活动包《{found.pack.title}》载入「{definition.title}」。\n" + _summary(data))


def _no_such_pack_activity(ctx, name: str) -> str:
    available = activity_packs.all_pack_activities(ctx.app)
    if not available:
        return f"活动包里没有「{name[:20]}」：目前没有活动包。发「发布活动」一步步发布。"
    listed = "、".join(f"{a.definition.id}（{a.definition.title}）" for a in available[:10])
    return f"活动包里没有「{name[:20]}」。可以发布的有：{listed}。\n也可以只发「发布活动」一步步填写。"


def _publish(ctx, data: dict) -> tuple[Activity, Plan] | None:
    """Store and announce the activity; None when this dialogue's activity was published already."""
    activity = Activity(
        title=data["title"], kind=data["kind"], online=activity_parse.is_online(data["kind"]),
        starts_at=datetime.fromisoformat(data["starts_at"]).astimezone(timezone.utc),
        place=data["place"], link=data["link"], audience=data["audience"], capacity=data["capacity"],
        seats_taken=0, counts_as_practice=data["practice"], study_minutes=data["minutes"],
        created_by=ctx.user_id, created_at=ctx.now, note=data.get("note", ""), publish_key=data.get("key"))
    ctx.session.add(activity)
    try:
        ctx.session.flush()
    except IntegrityError:          # the same dialogue's 确认, sent twice: the other one published it
        ctx.session.rollback()
        return None
    userids = activities.audience_userids(ctx.session, activity, rules=cohorts.get_rules(ctx.app),
                                          today=ctx.now.date())
    # the same plan the notice job makes, for the reply; the job renders and sends
    the_plan = plan(ctx.session, activity_notice.notice_item(activity, ctx.now), userids, today=ctx.now.date())
    ctx.session.commit()          # the notice job reads the row from its own session
    expect_reminders(activity)
    enqueue_notice(activity)
    return activity, the_plan


def _notified(the_plan: Plan) -> str:
    """「已通知 5 人（文字 3 人、语音 2 人）」, and who was left out for 免打扰."""
    forms = "、".join(f"{FORM_NAMES.get(form, form)} {count} 人" for form, count in the_plan.forms().items())
    muted = f"；{the_plan.muted} 人开启了免打扰，没有通知" if the_plan.muted else ""
    return f"已通知 {the_plan.size} 人" + (f"（{forms}）" if forms else "") + muted


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
    rated = activities.satisfaction(ctx.session, activity.id)
    lines.append(f"满意度：{rated.average:.1f} 分（{len(rated.scores)} 人评价）" if rated.scores
                 else "满意度：暂无问卷结果")
    lines += [f"· 意见：{comment[:60]}" for comment in rated.comments[:3]]
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
