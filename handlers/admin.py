"""Admin commands for roles, unknown senders and the audit log; all audited by the router."""
from __future__ import annotations

from sqlalchemy import select

from bot import audit, org, roles
from bot.acl import Role
from bot.messages import Reply
from bot.models import Member, OrgUnit, RoleGrant, UnknownSender
from bot.router import Arg, CommandGroup

group = CommandGroup("admin", title="管理")
ROLE_WORDS = {"管理员": roles.ADMIN, "admin": roles.ADMIN, "负责人": roles.LEADER, "领导": roles.LEADER,
              "leader": roles.LEADER}


def role_word(text: str) -> str:
    if text.lower() not in ROLE_WORDS:
        raise ValueError("只能是「管理员」或「负责人」。")
    return ROLE_WORDS[text.lower()]


def positive_count(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) <= 100:
        raise ValueError("应为 1 到 100 之间的数字。")
    return int(text)


GRANT_ARGS = [Arg("userid", label="工号"), Arg("role", label="角色", type=role_word, help="管理员 或 负责人"),
              Arg("unit", label="部门或班组", required=False, help="设负责人时必填")]


@group.command("授权", aliases=("grant",), summary="授予管理员或部门/班组负责人角色", args=GRANT_ARGS,
               role=Role.ADMIN, example="授权 liuqiang 负责人 大坝巡查班组")
def grant_role(ctx, userid, role, unit=None):
    target, unit_row, problem = _target_and_unit(ctx, userid, role, unit)
    if problem:
        return Reply(problem)
    unit_id = unit_row.id if unit_row else None
    if not roles.grant(ctx.session, userid, role, org_unit_id=unit_id, by=ctx.user_id, at=ctx.now):
        return Reply(f"{target.name} 已经是{_role_label(role, unit_row)}了，无需重复授权。")
    return Reply(f"已授予 {target.name}（{userid}）{_role_label(role, unit_row)}角色。")


@group.command("撤权", aliases=("revoke",), summary="撤销管理员或负责人角色", args=GRANT_ARGS,
               role=Role.ADMIN, example="撤权 liuqiang 负责人 大坝巡查班组")
def revoke_role(ctx, userid, role, unit=None):
    target, unit_row, problem = _target_and_unit(ctx, userid, role, unit)
    if problem:
        return Reply(problem)
    removed = roles.revoke(ctx.session, userid, role, org_unit_id=unit_row.id if unit_row else None)
    if not removed:
        return Reply(f"{target.name} 没有{_role_label(role, unit_row)}角色，无需撤销。")
    return Reply(f"已撤销 {target.name}（{userid}）的{_role_label(role, unit_row)}角色。")


@group.command("角色", aliases=("roles",), summary="列出管理员和各部门、班组负责人", role=Role.ADMIN)
def list_roles(ctx):
    rows = ctx.session.execute(
        select(RoleGrant.role, RoleGrant.userid, Member.name, OrgUnit.name)
        .join(Member, Member.userid == RoleGrant.userid, isouter=True)
        .join(OrgUnit, OrgUnit.id == RoleGrant.org_unit_id, isouter=True)
        .order_by(RoleGrant.role, OrgUnit.name)).all()
    lines = ["配置文件中的管理员：" + ("、".join(ctx.config.get("BOT_ADMINS", ())) or "无")]
    lines += [f"· {name or userid}：{_role_label(role, unit_name)}" for role, userid, name, unit_name in rows]
    return Reply("\n".join(lines))


@group.command("未登记", aliases=("unknown",), summary="查看给我发过消息但不在名册中的人", role=Role.ADMIN)
def list_unknown(ctx):
    rows = ctx.session.scalars(select(UnknownSender).order_by(UnknownSender.last_seen.desc()).limit(20)).all()
    if not rows:
        return Reply("没有未登记的人给我发过消息。")
    lines = ["以下人员不在名册中（最近 20 位）："]
    lines += [f"· {r.name or '未知姓名'}（{r.userid}），{r.times} 次，最近 {r.last_seen:%m-%d %H:%M}" for r in rows]
    lines.append("可用「flask --app bot members import 名册文件」把他们加入名册。")
    return Reply("\n".join(lines))


@group.command("审计", aliases=("audit",), summary="查看最近的管理操作记录", role=Role.ADMIN,
               args=[Arg("count", label="条数", type=positive_count, required=False)], example="审计 10")
def show_audit(ctx, count=None):
    entries = audit.recent(ctx.session, count or 10)
    if not entries:
        return Reply("还没有管理操作记录。")
    results = {"ok": "完成", "denied": "被拒绝", "bad_args": "参数有误", "error": "出错"}
    lines = [f"· {e.at:%m-%d %H:%M} {e.actor}：{e.command} {e.arguments}（{results.get(e.result, e.result)}）"
             for e in entries]
    return Reply("最近的管理操作：\n" + "\n".join(lines))


def _target_and_unit(ctx, userid, role, unit):
    target = ctx.session.get(Member, userid)
    if target is None:
        return None, None, f"名册中没有工号为「{userid}」的人员，请先核对工号。"
    if role == roles.ADMIN:
        return target, None, None
    if not unit:
        return target, None, "设负责人时请写明部门或班组，例如「授权 liuqiang 负责人 大坝巡查班组」。"
    matches = org.find_unit_by_name(ctx.session, unit)
    if len(matches) != 1:
        return target, None, (f"没有找到名为「{unit}」的部门或班组。" if not matches
                              else f"有多个名为「{unit}」的班组，请改用所在部门的名称。")
    return target, matches[0], None


def _role_label(role: str, unit) -> str:
    if role == roles.ADMIN:
        return "管理员"
    unit_name = unit.name if hasattr(unit, "name") else unit
    return f"{unit_name or ''}负责人"
