"""Admin commands for the shell: `flask --app bot members import|list` and `flask --app bot roles grant`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import audit, clock, cohorts, db, org, roles
from bot.models import Member
from bot.roster import import_roster

DEFAULT_UNIT_NAME = "水库管理所"
ACTOR = "cli"

members_cli = AppGroup("members", help="职工名单：导入、查看。")
roles_cli = AppGroup("roles", help="角色：授予管理员或部门、班组负责人。")


def register_cli(app: Flask) -> None:
    """Add the ``members`` and ``roles`` command groups to ``flask``."""
    app.cli.add_command(members_cli)
    app.cli.add_command(roles_cli)


@members_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--unit-name", default=DEFAULT_UNIT_NAME, show_default=True, help="单位名称（组织树的根）")
def import_command(file: Path, unit_name: str) -> None:
    """导入职工名单（CSV 或 XLSX）；有任何错误则不导入，退出码为 1。"""
    session = db.get_session()
    now = clock.now()
    report = import_roster(session, file, unit_name=unit_name, now=now)
    audit.record(session, actor=ACTOR, command="members import", arguments=f"{file} --unit-name {unit_name}",
                 result="ok" if report.ok else "rejected", at=now, detail=report.summary())
    session.commit()
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


@members_cli.command("list")
@click.option("--unit", "unit_name", help="只列出这个部门或班组（同名班组写成 部门/班组）")
@click.option("--cohort", help="只列出这个人群，如 青年")
def list_command(unit_name: str | None, cohort: str | None) -> None:
    """列出职工：工号、姓名、部门 / 班组、岗位、状态、出生年份、所属人群。"""
    session = db.get_session()
    rules, today = cohorts.get_rules(), clock.now()
    if cohort is not None and cohort not in rules.names:
        raise click.ClickException(f"没有人群「{cohort}」。可用：{'、'.join(rules.names)}")
    members = _members(session, unit_name)
    if cohort is not None:
        members = rules.members_of(cohort, members, today=today)
    for member in members:
        click.echo("\t".join([member.userid, member.name, org.org_path(member), member.post or "-",
                              member.status, str(member.birth_year or "-"),
                              "、".join(rules.cohorts_of(member, today=today)) or "-"]))
    click.echo(f"共 {len(members)} 人")


@roles_cli.command("grant")
@click.argument("userid")
@click.argument("role", type=click.Choice([roles.ADMIN, roles.LEADER]))
@click.option("--unit", "unit_name", help="负责人所负责的部门或班组（同名班组写成 部门/班组）")
def grant_command(userid: str, role: str, unit_name: str | None) -> None:
    """授予 USERID 管理员（admin）或负责人（leader，需 --unit）角色。"""
    session = db.get_session()
    now = clock.now()
    arguments = " ".join(part for part in (userid, role, unit_name and f"--unit {unit_name}") if part)
    try:
        unit_id = _check_grant(session, userid, role, unit_name)
    except click.ClickException as exc:
        audit.record(session, actor=ACTOR, command="roles grant", arguments=arguments, result="rejected",
                     at=now, detail=exc.message)
        session.commit()
        raise
    created = roles.grant(session, userid, role, org_unit_id=unit_id, by=ACTOR, at=now)
    detail = "已授予" if created else "已有此角色，未改变"
    audit.record(session, actor=ACTOR, command="roles grant", arguments=arguments, result="ok", at=now,
                 detail=detail)
    session.commit()
    click.echo(f"{detail}：{userid} {role}" + (f"（{unit_name}）" if unit_name else ""))


def _check_grant(session: Session, userid: str, role: str, unit_name: str | None) -> int | None:
    """The org unit id the grant applies to; ClickException with a Chinese reason when it cannot."""
    if org.find_member(session, userid) is None:
        raise click.ClickException(f"名单中没有「{userid}」，请先用 members import 导入名单")
    if role == roles.ADMIN:
        if unit_name:
            raise click.ClickException("管理员不分部门，请去掉 --unit")
        return None
    if not unit_name:
        raise click.ClickException("负责人需要用 --unit 指定部门或班组")
    units = org.find_unit_by_name(session, unit_name)
    if not units:
        raise click.ClickException(f"没有找到部门或班组「{unit_name}」")
    if len(units) > 1:
        paths = "、".join(org.unit_path(unit) for unit in units)
        raise click.ClickException(f"「{unit_name}」有 {len(units)} 个：{paths}。请写成 部门/班组")
    return units[0].id


def _members(session: Session, unit_name: str | None) -> list[Member]:
    if unit_name is None:
        return list(session.scalars(select(Member).order_by(Member.userid)))
    units = org.find_unit_by_name(session, unit_name)
    if not units:
        raise click.ClickException(f"没有找到部门或班组「{unit_name}」")
    found = {member.userid: member for unit in units for member in org.members_in(session, unit.id)}
    return [found[userid] for userid in sorted(found)]
