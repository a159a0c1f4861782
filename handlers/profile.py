"""我的: the sender's profile, cohorts, role and this month's numbers."""
from __future__ import annotations

from bot import cohorts, org
from bot.acl import ROLE_NAMES
from bot.messages import Reply
from bot.router import CommandGroup
from handlers import awareness
from handlers._services import checkins, progress
from handlers._services.goals import get_goals
from handlers.progress import describe

group = CommandGroup("profile", title="个人信息")


@group.command("我的", aliases=("我", "个人信息", "me", "profile"), summary="查看我的信息、所属人群和本月学习情况")
def my_profile(ctx):
    member = ctx.member
    if member is None:
        return Reply(f"{ctx.display_name}，您是管理员，但还不在名册中，所以没有个人学习记录。")
    today = ctx.now.date()
    days = checkins.recent_days(ctx.session, member.userid, today)
    rules = cohorts.get_rules(ctx.app)
    groups = rules.cohorts_of(member, today=today)
    lines = [
        f"{member.name}（工号 {member.userid}）",
        f"所在单位：{org.org_path(member)}",
        f"岗位：{member.post or '未填写'}" + (f"（{member.post_category}）" if member.post_category else ""),
        f"所属人群：{'、'.join(groups) if groups else '暂无'}",
        f"角色：{ROLE_NAMES[ctx.role]}",
        f"本月（{today.month} 月）打卡 {checkins.month_count(days, today)} 次，"
        f"已连续打卡 {checkins.streak_of(days, today)} 天。",
    ]
    mine = progress.measure(ctx.session, [member], day=today, goals=get_goals(ctx.app), rules=rules)[0]
    lines += describe(mine)[:2]
    lines.append(awareness.member_line(ctx, member, mine.goal.awareness_percent))
    if today not in days:
        lines.append("今天还没打卡，发送「打卡」就行。")
    return Reply("\n".join(lines))
