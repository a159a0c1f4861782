"""积分 and 排行: a member's points this month (week, last month) and the leaderboards, size-neutral for departments."""
from __future__ import annotations

from bot import org
from bot.acl import Role
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from handlers._services import points
from handlers._services.dates import PERIOD_WORDS, Period, period_named
from handlers._services.points import Points
from handlers.study import NOT_ON_ROSTER

group = CommandGroup("points", title="积分排行")
group.on_init(points.get_rules)       # a malformed points.yaml stops the start
TOP = 10

MY_HEAD = "{name} · {period}积分：{total} 分"
MY_KINDS = "打卡 {checkin} 分 · 学习 {study} 分 · 答题 {quiz_right} 分 · 活动 {activity} 分"
MY_PLACE = "在{department}（{people} 人）中排第 {place} 名。"
NOT_RANKED = "退休同志不参加排名，积分照常累计。"
RULES = ("积分规则：打卡每天 {c.points} 分；学习每 {s.per_minutes} 分钟 {s.points} 分，每天最多 {s.daily_cap} 分；"
         "答对一题 {q.points} 分，每天最多 {q.daily_cap} 分；参加活动每次 {a.points} 分，每天最多 {a.daily_cap} 分。")
BOARD_HEAD = "{period}积分排行 · {scope}（前 {top} 名）"
BOARD_LINE = "{place}. {name}（{department}）{points} 分"
BOARD_EMPTY = "还没有人得分，发送「打卡」「学习 半小时」或「答题」就能开始积分。"
DEPARTMENTS_HEAD = "部门排名（按人均积分，与人数多少无关）："
DEPARTMENT_LINE = "{place}. {name} {score} 分（{people} 人）"
EVERYONE, OWN_DEPARTMENT = "全体", "部门"
SCOPE_WORDS = {"全体": EVERYONE, "全部": EVERYONE, "全单位": EVERYONE, "全所": EVERYONE, "所有人": EVERYONE,
               "部门": OWN_DEPARTMENT, "本部门": OWN_DEPARTMENT, "我的部门": OWN_DEPARTMENT, "科室": OWN_DEPARTMENT}


def period_word(text: str) -> str:
    if text not in PERIOD_WORDS:
        raise ValueError(f"看不懂「{text}」，可以写「本月」「本周」或「上月」。")
    return text


@group.command("积分", aliases=("我的积分", "积分查询", "points"), summary="查看我的积分和在本部门的名次",
               args=[Arg("period", label="本月|本周|上月", type=period_word, required=False)], example="积分 本周")
def my_points(ctx, period=None):
    member = ctx.member
    if member is None:
        return Reply(NOT_ON_ROSTER)
    chosen = period_named(period, today=ctx.now.date())
    rules = points.get_rules(ctx.app)
    mine = points.points_of(ctx.session, rules, chosen, org.only(member.userid)).get(member.userid, Points())
    lines = [MY_HEAD.format(name=member.name, period=chosen.label, total=mine.total),
             MY_KINDS.format(checkin=mine.checkin, study=mine.study, quiz_right=mine.quiz_right, activity=mine.activity)]
    colleagues = org.active_userids_within(ctx.session, {member.department_id})
    ranked = points.rank_members(ctx.session, points.points_of(ctx.session, rules, chosen, colleagues), colleagues)
    place = next((r.place for r in ranked if r.userid == member.userid), None)
    lines.append(NOT_RANKED if place is None else
                 MY_PLACE.format(department=member.department.name, people=len(ranked), place=place))
    lines.append(RULES.format(c=rules.checkin, s=rules.study, q=rules.quiz_right, a=rules.activity))
    return Reply("\n".join(lines))


@group.command("排行", aliases=("排行榜", "积分排行", "ranking"), summary="积分排行榜：前 10 名和部门排名",
               args=[Arg("words", label="本月|本周 部门|全体", required=False, rest=True,
                         help="负责人和管理员也可以写自己负责的部门或班组名")],
               example="排行 本周 部门")
def leaderboard(ctx, words=None):
    tokens = (words or "").split()
    period_words = [w for w in tokens if w in PERIOD_WORDS]
    scope_words = [w for w in tokens if w not in PERIOD_WORDS]
    if len(period_words) > 1 or len(scope_words) > 1:
        return Reply("请只写一个时间和一个范围，例如「排行 本周 部门」。")
    scope, problem = _scope(ctx, scope_words[0] if scope_words else None)
    if problem:
        return Reply(problem)
    label, who = scope
    period = period_named(period_words[0] if period_words else None, today=ctx.now.date())
    rules = points.get_rules(ctx.app)
    everyone = points.points_of(ctx.session, rules, period, org.active_userids())
    return Reply("\n".join(board_lines(ctx, period, label, who, everyone)))


def board_lines(ctx, period: Period, label: str, who, earned: dict[str, Points]) -> list[str]:
    top = [r for r in points.rank_members(ctx.session, earned, who, limit=TOP) if r.points > 0]
    lines = [BOARD_HEAD.format(period=period.label, scope=label, top=TOP)]
    lines += [BOARD_LINE.format(place=r.place, name=r.name, department=r.department, points=r.points)
              for r in top] or [BOARD_EMPTY]
    lines.append(DEPARTMENTS_HEAD)
    lines += [DEPARTMENT_LINE.format(place=d.place, name=d.name, score=f"{round(d.score, 1):g}", people=d.people)
              for d in points.rank_departments(ctx.session, earned)]
    return lines


def _scope(ctx, word: str | None):
    """((label, SELECT of userids), None) or (None, a polite refusal)."""
    kind = SCOPE_WORDS.get(word or EVERYONE)
    if kind == EVERYONE:
        return (EVERYONE, org.active_userids()), None
    if kind == OWN_DEPARTMENT:
        if ctx.member is None:
            return None, NOT_ON_ROSTER
        department = ctx.member.department
        return (department.name, org.active_userids_within(ctx.session, {department.id})), None
    return _named_unit(ctx, word)


def _named_unit(ctx, name: str):
    if ctx.role < Role.LEADER:
        return None, (f"看不懂「{name}」。可以写「部门」（本部门）或「全体」；"
                      "查看指定部门的排行需要负责人权限。")
    found = org.find_unit_by_name(ctx.session, name)
    if len(found) != 1:
        return None, (f"没有找到名为「{name}」的部门或班组。" if not found
                      else f"有多个「{name}」，请写成「部门/班组」。")
    if found[0].id not in org.units_within(ctx.session, ctx.scope):
        return None, f"抱歉，「{name}」不在您负责的范围内。"
    return (org.unit_path(found[0]), org.active_userids_within(ctx.session, {found[0].id})), None
