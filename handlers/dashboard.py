"""看板: leaders and admins get a one-time sign-in link to the dashboard (bot/dashboard), in private."""
from __future__ import annotations

from bot import redis_store
from bot.acl import Role, Where
from bot.dashboard import signin
from bot.dashboard.source import ReportSource, install
from bot.messages import Reply
from bot.router import CommandGroup
from handlers._services import reports

group = CommandGroup("dashboard", title="看板")


@group.on_init
def install_reports(app) -> None:
    install(app, ReportSource(
        scope_for=reports.report_scope_for,
        period=lambda text, today: reports.month_period(text, today=today),
        report=lambda session, scope, period, unit: reports.monthly_report(session, scope, period, department=unit),
        charts=_chart_pngs,
        workbook=_workbook_bytes,
        refusal=reports.ReportError,
    ))


# matplotlib and openpyxl are imported on first use: the web workers that answer callbacks never need them
def _chart_pngs(report, **kwargs):
    from handlers._services.report_charts import chart_pngs

    return chart_pngs(report, **kwargs)


def _workbook_bytes(report):
    from handlers._services.report_workbook import workbook_bytes

    return workbook_bytes(report)


@group.command("看板", aliases=("报表看板", "数据看板", "dashboard"), role=Role.LEADER, where=Where.SINGLE,
               summary="获取看板登录链接：用图表查看本单位的学习、打卡和知晓率（链接 10 分钟内有效）")
def send_dashboard_link(ctx):
    # the demo serves everything on this machine; a real tenant names its public address
    base = ctx.config.get("PUBLIC_URL") or (f"http://127.0.0.1:{ctx.config['PORT']}" if ctx.config.get("DEMO_MODE")
                                            else None)
    if base is None:
        return Reply("看板的网址还没有配置（PUBLIC_URL），暂时无法登录。请联系管理员。")
    token = signin.issue_link(redis_store.get_redis(ctx.app), ctx.user_id, now=ctx.now)
    return Reply(f"您的看板登录链接（10 分钟内有效，只能使用一次，请勿转发）：\n"
                 f"{base.rstrip('/')}/dashboard/signin/{token}")
