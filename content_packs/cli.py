"""`flask --app bot packs check | import-questions FILE --pack DIR | export-questions PACK_ID OUT.xlsx |
import-items SOURCE… --pack DIR`."""
from __future__ import annotations

from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, ScriptInfo

import content_packs
from content_packs.push_import import import_items
from content_packs.quiz_import import export_questions, import_questions

packs_cli = AppGroup("packs", help="内容包：校验、导入题目、导出题目、导入推送条目。")


def register_cli(app: Flask) -> None:
    """Add the ``packs`` command group to ``flask``."""
    app.cli.add_command(packs_cli)


def exit_under_flask_cli(error: content_packs.PackError) -> None:
    """Under ``flask --app bot …`` an invalid pack ends the command like ``packs check`` does: every error, one
    per line, and exit code 1 instead of a traceback. Anywhere else (gunicorn, workers, tests) it returns and the
    caller raises ``error`` itself."""
    context = click.get_current_context(silent=True)
    if context is None or context.find_object(ScriptInfo) is None:
        return
    _echo_errors(error.errors)
    raise click.exceptions.Exit(1)


@packs_cli.command("check")
@click.option("--root", type=click.Path(file_okay=False, path_type=Path),
              help="内容包所在目录（默认为配置 CONTENT_PACKS_DIR 或 content_packs/）")
def check_command(root: Path | None) -> None:
    """校验全部内容包，列出每处错误（文件:行号）；有错误时退出码为 1。"""
    root = root or content_packs.packs_root(current_app)
    errors = content_packs.check_all(root, cohorts=_cohort_names())
    if errors:
        _echo_errors(errors)
        raise click.exceptions.Exit(1)
    count = len(content_packs.load_all(root))
    click.echo(f"全部 {count} 个内容包校验通过")


@packs_cli.command("import-questions")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pack", "pack_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="要导入到的内容包目录，如 content_packs/quiz_dam_safety")
def import_command(file: Path, pack_dir: Path) -> None:
    """从 Excel/CSV（题型、题目、选项A…F、答案、知识点、难度、解析、出处）或 GIFT 文本导入题目。

    有任何一行出错则不导入；导入后内容包版本号加 1。
    """
    report = import_questions(file, pack_dir)
    _audit(f"{file} --pack {pack_dir}", report.ok, report.summary())
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


@packs_cli.command("import-items")
@click.argument("sources", nargs=-1, required=True, type=click.Path(exists=True, path_type=Path))
@click.option("--pack", "pack_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="推送包目录，如 content_packs/push_notice_board；不存在时新建草稿")
@click.option("--title", help="内容包标题（新建时默认用第一个来源的名字）")
@click.option("--audience", help="人群，多个用顿号或逗号分隔，如 青年、工程运维；不写则新包面向全体")
def import_items_command(sources: tuple[Path, ...], pack_dir: Path, title: str | None, audience: str | None) -> None:
    """把 Markdown/TXT 文件夹和 Excel/CSV 链接表（标题、链接、简介、主题、形式）导入为推送包草稿。

    有任何一个文件或一行出错则什么都不写；导入已有的包时版本号加 1，没有重新导入的条目保留。
    """
    report = import_items(sources, pack_dir, title=title, audience=audience, cohorts=_cohort_names())
    arguments = " ".join([*map(str, sources), "--pack", str(pack_dir)])
    _audit(arguments, report.ok, report.summary(), command="packs import-items")
    click.echo(report.summary())
    if not report.ok:
        raise click.exceptions.Exit(1)


@packs_cli.command("export-questions")
@click.argument("pack_id")
@click.argument("out", type=click.Path(dir_okay=False, writable=True, path_type=Path))
def export_command(pack_id: str, out: Path) -> None:
    """把题库 PACK_ID 导出为 Excel（与导入的格式相同，可审阅后再导入）。"""
    packs = content_packs.load_all(content_packs.packs_root(current_app))
    pack = packs.get(pack_id)
    if pack is None or pack.kind != "quiz":
        quizzes = "、".join(sorted(p.id for p in packs.values() if p.kind == "quiz"))
        raise click.ClickException(f"没有题库「{pack_id}」。可用：{quizzes}")
    count = export_questions(pack, out)
    click.echo(f"已导出 {count} 道题（{pack.ref}）到 {out}")


def _echo_errors(errors: list[str]) -> None:
    for error in errors:
        click.echo(error)
    click.echo(f"共 {len(errors)} 处错误", err=True)


def _cohort_names() -> list[str] | None:
    rules = current_app.extensions.get(content_packs.COHORTS_EXTENSION)
    return getattr(rules, "names", None)


def _audit(arguments: str, ok: bool, detail: str, *, command: str = "packs import-questions") -> None:
    """Record the import in the audit log when the app has a database (it has under `flask --app bot`)."""
    if "szzs.db" not in current_app.extensions:
        return
    from sqlalchemy.exc import SQLAlchemyError

    from bot import audit, clock, db

    session = db.get_session()
    try:
        audit.record(session, actor="cli", command=command, arguments=arguments,
                     result="ok" if ok else "rejected", at=clock.now(), detail=detail)
        session.commit()
    except SQLAlchemyError as exc:
        session.rollback()
        click.echo(f"注意：审计日志没有记录成功（{exc.__class__.__name__}），请检查数据库", err=True)
