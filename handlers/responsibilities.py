"""责任清单: each member's responsibility list, confirming the yearly target letter, and who has not yet."""
from __future__ import annotations

from datetime import datetime
from itertools import groupby, repeat

from bot import org
from bot.acl import Role, Where
from bot.messages import Reply
from bot.models import OrgUnit
from bot.router import Arg, CommandGroup
from handlers._services import responsibilities as service
from handlers._services.responsibilities import Level

group = CommandGroup("responsibilities", title="责任清单")
group.on_init(service.init_app)

LEVEL_NAMES = {Level.LEADERSHIP: "领导班子成员", Level.DEPARTMENT: "部门负责人", Level.TEAM: "班组负责人"}
NOT_ON_ROSTER = "您还不在名册中，所以没有个人责任清单。"
NOT_SET_UP = "本单位还没有制定责任清单，暂时无需确认目标责任书。"
NO_LIST = "您的岗位「{post}」还没有配置责任清单，暂时无需确认。请联系管理员补充。"
NO_POST_ITEMS = "岗位「{post}」还没有配置责任清单，请联系管理员补充。"
NO_LEVEL = "暂无（不是领导班子成员，也不负责部门或班组）。"
HOW_TO_CONFIRM = "核对无误后，请发送「确认责任书」确认今年的目标责任书。"
UNCONFIRMED = "目标责任书：{year} 年尚未确认。" + HOW_TO_CONFIRM
CHANGED = "目标责任书：您在 {at:%m月%d日} 确认过旧版清单，清单已有更新。" + HOW_TO_CONFIRM
CONFIRMED_ON = "目标责任书：已于 {at:%Y年%m月%d日} 确认。"
JUST_CONFIRMED = "{name}，已确认 {year} 年目标责任书（清单 {version} 版，共 {count} 条职责）。请对照清单认真履职！"
ALREADY = "{name}，您已于 {at:%Y年%m月%d日} 确认过 {year} 年目标责任书，无需重复确认。发送「责任」可再看清单。"
ALL_DONE = "{scope}在职人员 {year} 年的目标责任书已全部确认。"
PENDING_HEAD = "{scope}还有 {count} 人未确认 {year} 年目标责任书："
PENDING_TAIL = "可提醒他们发送「责任」查看清单，再发送「确认责任书」确认。"
MARK_NO_LIST = "（岗位未配置清单）"
WHOLE_UNIT = "全单位"
VIEWS = ("未确认", "未签", "没确认")


def pending_view(text: str) -> str:
    if text not in VIEWS:
        raise ValueError("目前只能查看「未确认」名单。")
    return text


@group.command("责任", aliases=("责任清单", "我的责任", "zeren"), summary="查看我的岗位职责和层级职责")
def show_my_list(ctx):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    system = service.get_system(ctx.app)
    if not system.goals:
        return Reply(NOT_SET_UP)
    mine = service.my_list(ctx.session, system, ctx.member)
    status = service.letter_status(ctx.session, ctx.member.userid, ctx.now.year, mine.digest)
    lines = [f"{ctx.member.name}的责任清单（{system.version} 版）",
             f"所在：{org.org_path(ctx.member)} · {ctx.member.post or '岗位未填写'}"]
    lines += _post_section(system, ctx.member.post) + _level_sections(system, mine.levels)
    if status.confirmed_at:
        lines.append(CONFIRMED_ON.format(at=_local(ctx, status.confirmed_at)))
    elif mine.items:
        lines.append(CHANGED.format(at=_local(ctx, status.earlier_at)) if status.earlier_at
                     else UNCONFIRMED.format(year=ctx.now.year))
    return Reply("\n".join(lines))


@group.command("确认责任书", aliases=("签订责任书", "确认责任"), summary="确认今年的目标责任书（对照我的责任清单）")
def confirm_letter(ctx):
    if ctx.member is None:
        return Reply(NOT_ON_ROSTER)
    system = service.get_system(ctx.app)
    if not system.goals:
        return Reply(NOT_SET_UP)
    result = service.confirm(ctx.session, ctx.member, ctx.now, system=system)
    if not result.item_count:
        return Reply(NO_LIST.format(post=ctx.member.post or "未填写"))
    if not result.recorded:
        return Reply(ALREADY.format(name=ctx.member.name, at=_local(ctx, result.confirmed_at), year=ctx.now.year))
    return Reply(JUST_CONFIRMED.format(name=ctx.member.name, year=ctx.now.year, version=system.version,
                                       count=result.item_count))


@group.command("责任书", summary="查看本部门或班组谁还没确认目标责任书", role=Role.LEADER, where=Where.SINGLE,
               args=[Arg("view", label="未确认", type=pending_view, required=False, help="查看未确认的名单")],
               example="责任书 未确认")
def list_unconfirmed(ctx, view=None):     # 未确认 is the only view so far, and the default
    unit_ids, scope = _scope(ctx)
    pending = service.unconfirmed_in(ctx.session, unit_ids, ctx.now.year, system=service.get_system(ctx.app))
    if not pending:
        return Reply(ALL_DONE.format(scope=scope, year=ctx.now.year))
    lines = [PENDING_HEAD.format(scope=scope, count=len(pending), year=ctx.now.year)]
    for place, people in groupby(pending, key=lambda p: org.org_path(p.member)):
        names = "、".join(p.member.name + ("" if p.has_list else MARK_NO_LIST) for p in people)
        lines.append(f"【{place}】{names}")
    lines.append(PENDING_TAIL)
    return Reply("\n".join(lines))


def _scope(ctx) -> tuple[set[int] | None, str]:
    """The org units the sender may look into, and how to name them: admins see everyone."""
    if ctx.role >= Role.ADMIN:
        return None, WHOLE_UNIT
    units = [unit for unit in map(ctx.session.get, repeat(OrgUnit), sorted(ctx.scope)) if unit]
    return org.units_within(ctx.session, ctx.scope), "、".join(org.unit_path(unit) for unit in units)


def _local(ctx, at: datetime) -> datetime:
    # PostgreSQL hands back UTC; SQLite the local time we stored, without a zone
    return at.astimezone(ctx.now.tzinfo) if at.tzinfo else at


def _post_section(system, post: str) -> list[str]:
    items = system.post_items(post)
    if not items:
        return ["【岗位职责】", NO_POST_ITEMS.format(post=post or "未填写")]
    return [f"【岗位职责 · {post}】", *_numbered(items)]


def _level_sections(system, levels) -> list[str]:
    if not levels:
        return ["【层级职责】" + NO_LEVEL]
    lines = []
    for level in Level:
        if level in levels:
            lines += [f"【层级职责 · {LEVEL_NAMES[level]}】", *_numbered(system.levels[level])]
    return lines


def _numbered(items) -> list[str]:
    return [f"{number}. {item.text}（服务目标：{item.goal.title}）" for number, item in enumerate(items, start=1)]
