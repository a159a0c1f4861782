"""进度, 部门进度 and 统计: each person, each leader and the admins see progress against the month's goals."""
from __future__ import annotations

from bot import cohorts, org
from bot.acl import Role
from bot.messages import Reply
from bot.models import OrgUnit
from bot.router import Arg, CommandGroup
from handlers import awareness
from handlers._format import hours, percent
from handlers._services import checkins, progress
from handlers._services.dates import parse_month
from handlers._services.goals import Month, get_goals
from handlers.study import NOT_ON_ROSTER

group = CommandGroup("progress", title="学习进度")
group.on_init(get_goals)          # a malformed goals.yaml stops the start
BEHIND_LISTED = 10


@group.command("进度", aliases=("我的进度", "学习进度", "progress"), summary="看看我本月的学习进度")
def my_progress(ctx):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    today = ctx.now.date()
    mine = _measure(ctx, [ctx.member], today)[0]
    days = checkins.recent_days(ctx.session, ctx.user_id, today)
    return Reply("\n".join([f"{ctx.member.name} · {Month.of(today).label}学习进度", *describe(mine),
                            awareness.member_line(ctx, ctx.member, mine.goal.awareness_percent),
                            f"打卡：已连续 {checkins.streak_of(days, today)} 天，本月 {checkins.month_count(days, today)} 次"]))


def describe(mine: progress.Progress) -> list[str]:
    """A member's study progress in a few lines (also used by 我的); awareness has its own line."""
    lines = [f"学习时长：{hours(mine.done_minutes)} / {hours(mine.goal_minutes)} 小时"
             f"（自报 {hours(mine.totals.self_minutes)}，系统记录 {hours(mine.totals.vouched_minutes)}）"]
    if mine.reached:
        lines.append("本月目标已完成 ✓")
    elif mine.behind_minutes:
        lines.append(f"按进度落后 {hours(mine.behind_minutes)} 小时，还差 "
                     f"{hours(mine.goal_minutes - mine.done_minutes)} 小时完成本月目标")
    else:
        lines.append("进度正常，继续保持")
    if mine.leave_days:
        lines.append(f"（本月请假 {mine.leave_days} 天，目标已按出勤折算）")
    lines.append(f"实践活动：本季度 {mine.activities} / {mine.goal.practice_activities_per_quarter} 次")
    return lines


@group.command("部门进度", aliases=("单位进度", "班组进度", "本部门进度"), role=Role.LEADER,
               summary="负责人查看本部门（班组）本月的学习进度")
def unit_progress(ctx):
    today = ctx.now.date()
    sections = []
    for unit_id in sorted(ctx.scope):
        unit = ctx.session.get(OrgUnit, unit_id)
        items = _measure(ctx, progress.members_under(ctx.session, {unit_id}), today)
        if items:
            sections.append(_unit_section(unit, items, today))
    return Reply("\n\n".join(sections) or "您负责的单位里还没有人员。")


def _unit_section(unit: OrgUnit, items: list[progress.Progress], today) -> str:
    total = progress.summarise(unit.name, items)
    goal = max((p.goal_minutes for p in items), default=0)
    lines = [f"{org.unit_path(unit)} · {today.month} 月学习进度（截至 {today:%m-%d}）",
             f"已达标 {total.reached}/{total.people} 人（{percent(total.reached / total.people)}），"
             f"人均 {hours(total.average_minutes)} 小时，月目标 {hours(goal)} 小时"]
    behind = sorted((p for p in items if p.behind_minutes), key=lambda p: -p.behind_minutes)
    if behind:
        names = "、".join(f"{p.member.name}（{hours(p.done_minutes)}/{hours(p.goal_minutes)}）"
                         for p in behind[:BEHIND_LISTED])
        more = f" 等 {len(behind)} 人" if len(behind) > BEHIND_LISTED else ""
        lines.append(f"按进度落后：{names}{more}")
    else:
        lines.append("没有人落后于进度。")
    teams = progress.by_unit([p for p in items if p.member.team_id], key=lambda m: m.team.name)
    if len(teams) > 1:
        ranked = sorted((progress.summarise(name, rows) for name, rows in teams.items()),
                        key=lambda s: -s.average_completion)
        lines.append("班组排名（按人均完成度）：")
        lines += [f"{i}. {s.name} {percent(s.average_completion)}" for i, s in enumerate(ranked, 1)]
    return "\n".join(lines)


@group.command("统计", aliases=("月度统计", "stats"), role=Role.ADMIN, summary="全单位按部门的学习统计",
               args=[Arg("month", label="本月|上月|YYYY-MM", required=False),
                     Arg("unit", label="部门", required=False)], example="统计 上月 工程管理科")
def unit_statistics(ctx, month=None, unit=None):
    today = ctx.now.date()
    if month and unit is None and not _looks_like_month(month):
        month, unit = None, month
    try:
        chosen = parse_month(month, today=today)
    except ValueError as exc:
        return Reply(str(exc))
    day = min(chosen.last, today)
    if chosen.first > today:
        return Reply(f"{chosen.label}还没有开始。")
    scope, problem = _scope(ctx, unit)
    if problem:
        return Reply(problem)
    items = _measure(ctx, progress.members_under(ctx.session, scope), day)
    return Reply(_table(chosen, day, items))


def _table(month: Month, day, items: list[progress.Progress]) -> str:
    groups = progress.by_unit(items, key=lambda m: m.department.name)
    lines = [f"{month.label}学习统计（截至 {day:%m-%d}）", "部门｜人数｜达标｜人均小时｜自报/系统（小时）"]
    for name, rows in groups.items():
        s = progress.summarise(name, rows)
        lines.append(f"{s.name}｜{s.people}｜{s.reached}｜{hours(s.average_minutes)}｜"
                     f"{hours(s.self_minutes)}/{hours(s.vouched_minutes)}")
    total = progress.summarise("合计", items)
    lines.append(f"合计｜{total.people}｜{total.reached}｜{hours(total.average_minutes)}｜"
                 f"{hours(total.self_minutes)}/{hours(total.vouched_minutes)}")
    return "\n".join(lines)


def _scope(ctx, unit: str | None) -> tuple[set[int], str | None]:
    if not unit:
        return org.root_units(ctx.session), None
    found = org.find_unit_by_name(ctx.session, unit)
    if len(found) != 1:
        return set(), (f"没有找到名为「{unit}」的部门或班组。" if not found
                       else f"有多个「{unit}」，请写成「部门/班组」。")
    return {found[0].id}, None


def _looks_like_month(word: str) -> bool:
    return word in ("本月", "这个月", "当月", "上月", "上个月") or word[:1].isdigit()


def _measure(ctx, members, day) -> list[progress.Progress]:
    return progress.measure(ctx.session, members, day=day, goals=get_goals(ctx.app), rules=cohorts.get_rules(ctx.app))
