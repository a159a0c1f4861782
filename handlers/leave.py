"""请假: a leader (for his own unit) or an admin records a member's leave; goals are pro-rated for it."""
from __future__ import annotations

from sqlalchemy import select

from bot import org
from bot.acl import Role
from bot.messages import Reply
from bot.models import Leave, Member
from bot.router import Arg, CommandGroup
from handlers._services import progress
from handlers._services.dates import parse_day

group = CommandGroup("leave", title="请假")
MAX_LEAVE_DAYS = 366


@group.command("请假", aliases=("登记请假", "leave"), role=Role.LEADER, summary="登记人员请假，目标按出勤折算",
               args=[Arg("who", label="工号或姓名"), Arg("start", label="开始日期"),
                     Arg("end", label="结束日期", required=False), Arg("reason", label="事由", required=False, rest=True)],
               example="请假 zhangwei 11-20 11-24 病假")
def record_leave(ctx, who, start, end=None, reason=None):
    today = ctx.now.date()
    try:
        first = parse_day(start, today=today)
        last = parse_day(end, today=today) if end else first
    except ValueError as exc:
        return Reply(str(exc))
    if last < first or (last - first).days >= MAX_LEAVE_DAYS:
        return Reply("结束日期应在开始日期之后，且一次请假不超过一年。")
    target, problem = _target(ctx, who)
    if problem:
        return Reply(problem)
    ctx.session.add(Leave(userid=target.userid, start_day=first, end_day=last, reason=(reason or "")[:64],
                          recorded_by=ctx.user_id, created_at=ctx.now))
    days = (last - first).days + 1
    return Reply(f"已登记 {target.name} {first:%m-%d} 至 {last:%m-%d} 请假 {days} 天"
                 f"{'（' + reason + '）' if reason else ''}。期间不再提醒打卡，学习目标按出勤折算。")


@group.command("请假名单", aliases=("请假记录",), role=Role.LEADER, summary="查看本单位本月的请假登记")
def list_leave(ctx):
    today = ctx.now.date()
    members = {m.userid: m for m in progress.members_under(ctx.session, _scope(ctx))}
    month_first = today.replace(day=1)
    rows = ctx.session.scalars(select(Leave).where(Leave.userid.in_(list(members)), Leave.end_day >= month_first)
                               .order_by(Leave.start_day)).all() if members else []
    if not rows:
        return Reply("本月没有请假登记。")
    lines = [f"· {members[r.userid].name}：{r.start_day:%m-%d} 至 {r.end_day:%m-%d}"
             f"{'（' + r.reason + '）' if r.reason else ''}" for r in rows]
    return Reply("本月请假登记：\n" + "\n".join(lines))


def _target(ctx, who: str) -> tuple[Member | None, str | None]:
    found = ctx.session.get(Member, who)
    if found is None:
        named = org.members_named(ctx.session, who)
        if len(named) > 1:
            return None, f"名册里有 {len(named)} 位「{who}」，请改用工号。"
        found = named[0] if named else None
    if found is None:
        return None, f"名册里没有「{who}」，请核对工号或姓名。"
    if ctx.role < Role.ADMIN and not ({found.department_id, found.team_id} & _scope(ctx)):
        return None, f"{found.name} 不在您负责的单位，请联系其所在部门负责人或管理员登记。"
    return found, None


def _scope(ctx) -> set[int]:
    return org.units_within(ctx.session, ctx.scope)
