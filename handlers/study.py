"""学习 and 撤销: members log study time in their own words; self-reports are capped per day."""
from __future__ import annotations

from bot import cohorts
from bot.messages import Reply
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
