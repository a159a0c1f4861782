"""学习 and 撤销: members log study time in their own words; self-reports are capped per day."""
from __future__ import annotations

from bot import cohorts, org
from bot.acl import Role
from bot.messages import Reply
from bot.models.study import StudySource
from bot.router import Arg, CommandGroup
from handlers._format import hours
from handlers._services import progress, study
from handlers._services.goals import get_goals
from handlers._services.study_parse import StudyInput, mentions_study, parse_study

group = CommandGroup("study", title="学习记录")
NOT_ON_ROSTER = "您是管理员，但不在名册中，所以没有个人学习记录。"
EXAMPLES = "例如「学习 2小时」「学习 1.5h 防汛政策」「学习 90分钟」「学习 半小时 水利精神」"


@group.command("学习", aliases=("学了", "学习了", "study"), summary="记录学习时长，可以写上学习主题",
               args=[Arg("what", label="时长 主题", rest=True, help="如 2小时、90分钟、半小时；主题可不写")],
               example="学习 1.5小时 防汛政策")
def log_study(ctx, what):
    parsed = parse_study(what)
    if parsed is None:
        return Reply(f"没看懂学习了多长时间：「{what[:30]}」。\n用法：学习 <时长> [主题]\n{EXAMPLES}。")
    return _record(ctx, parsed, what)


@group.listener
def study_sentence(ctx, text):
    """「今天学习了2个小时的防汛知识」: a sentence about studying, without the command word."""
    if not mentions_study(text):
        return None
    parsed = parse_study(text)
    return _record(ctx, parsed, text) if parsed else None


@group.command("撤销", aliases=("撤回", "撤销学习", "undo"), summary="撤销今天最后一条自报的学习记录")
def undo_study(ctx):
    entry = study.revoke_last_today(ctx.session, userid=ctx.user_id, now=ctx.now)
    if entry is None:
        return Reply("今天还没有可以撤销的自报学习记录。（答题、活动等系统记录的时长不能撤销）")
    topic = f"（{entry.topic}）" if entry.topic else ""
    return Reply(f"已撤销今天 {entry.created_at.astimezone(ctx.now.tzinfo):%H:%M} 记录的 "
                 f"{hours(entry.minutes)} 小时学习{topic}。")


@group.command("登记学习", aliases=("补记学习",), role=Role.ADMIN,
               summary="管理员登记集体学习（如观看直播、回放），按系统记录计入，不受每日上限",
               args=[Arg("who", label="工号/姓名/部门", help="多人用逗号分隔，也可写部门或班组名"),
                     Arg("what", label="时长 主题", rest=True)],
               example="登记学习 工程管理科 1.5小时 防汛政策直播")
def register_group_study(ctx, who, what):
    parsed = parse_study(what)
    if parsed is None:
        return Reply(f"没看懂时长：「{what[:30]}」。{EXAMPLES}。")
    members, unknown = _resolve_people(ctx, who)
    if unknown:
        return Reply(f"名册里找不到：{'、'.join(unknown)}。请核对后重发，这次没有登记。")
    for member in members:
        study.record_vouched(ctx.session, userid=member.userid, day=ctx.now.date(), minutes=parsed.minutes,
                             source=StudySource.ADMIN, ref=f"admin:{ctx.inbound.channel}:{ctx.inbound.msg_id}:"
                             f"{member.userid}", topic=parsed.topic, recorded_by=ctx.user_id, now=ctx.now)
    topic = f"「{parsed.topic}」" if parsed.topic else ""
    return Reply(f"已为 {len(members)} 人登记{topic}学习 {hours(parsed.minutes)} 小时（系统记录）。")


def _resolve_people(ctx, who: str):
    """Userids, names, or department/team names, comma separated → (members, words not found)."""
    members, unknown = {}, []
    for word in filter(None, (w.strip() for w in who.replace("，", ",").replace("、", ",").split(","))):
        units = org.find_unit_by_name(ctx.session, word)
        found = progress.members_under(ctx.session, {u.id for u in units}) if units else \
            [m for m in [org.find_member(ctx.session, word)] if m] or org.members_named(ctx.session, word)
        if not found:
            unknown.append(word)
        members.update({m.userid: m for m in found})
    return list(members.values()), unknown


def _record(ctx, parsed: StudyInput, text: str) -> Reply:
    member = ctx.member
    if member is None:
        return Reply(NOT_ON_ROSTER)
    rules, goals = cohorts.get_rules(ctx.app), get_goals(ctx.app)
    goal = goals.for_member(post=member.post, cohorts=rules.cohorts_of(member, today=ctx.now.date()))
    result = study.record_self(ctx.session, userid=ctx.user_id, now=ctx.now, minutes=parsed.minutes,
                               topic=parsed.topic, text=text, cap_minutes=round(goal.self_report_cap_hours_per_day * 60),
                               ref=f"{ctx.inbound.channel}:{ctx.inbound.msg_id}")
    ctx.session.flush()
    mine = progress.measure(ctx.session, [member], day=ctx.now.date(), goals=goals, rules=rules)[0]
    month = f"本月累计 {hours(mine.done_minutes)} / {hours(mine.goal_minutes)} 小时。"
    if result.minutes == 0:
        return Reply(f"今天自报的学习已满 {hours(result.cap)} 小时的上限，这次没有再计入。{month}\n"
                     "参加答题、活动等由系统记录的学习不受这个上限限制。")
    topic = f"「{parsed.topic}」" if parsed.topic else ""
    lines = [f"已记录{topic}学习 {hours(result.minutes)} 小时。{month}"]
    if result.capped:
        lines.append(f"（自报学习每天最多计 {hours(result.cap)} 小时，这次只计入了 {hours(result.minutes)} 小时）")
    if mine.reached:
        lines.append("本月学习目标已完成，继续保持！")
    lines.append("记错了可以发「撤销」。")
    return Reply("\n".join(lines))
