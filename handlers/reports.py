"""统计图 and 导出: leaders and admins get their unit's month as a chart image or an Excel workbook."""
from __future__ import annotations

from bot.acl import Role
from bot.messages import Reply
from bot.router import Arg, CommandGroup
from bot.tasks import Enqueued, get_jobs
from handlers._services import reports
from handlers._services.dates import Period
from jobs.reports import job_id, send_chart, send_workbook

group = CommandGroup("reports", title="报表")

NOT_ALLOWED = "抱歉，统计图和报表只对负责人和管理员开放。如有需要，请联系管理员。"
CHART_TO_GROUP = "好的，正在生成{scope} {month}的统计图，稍后发到本群。"
CHART_TO_YOU = "好的，正在生成{scope} {month}的统计图，稍后发给您。"
CHART_NO_ROBOT = "好的，正在生成{scope} {month}的统计图。本群没有配置群机器人，稍后私信发给您。"
WORKBOOK_QUEUED = "好的，正在生成{scope} {month}的 Excel 报表，稍后私信发给您。"
WORKBOOK_IN_GROUP = "（报表含每个人的明细，只私信发给您，不发到群里。）"
ALREADY_QUEUED = "这份报表刚刚已经安排生成了，请留意稍后的消息；如需重新生成，请过一分钟再发。"
MONTH_ARG = Arg("month", label="本月|上月|YYYY-MM", required=False)
UNIT_ARG = Arg("unit", label="部门", required=False, help="部门或班组，只能是您负责的范围；不写就是全部")


@group.command("统计图", aliases=("图表", "统计图表", "charts"), role=Role.LEADER, args=[MONTH_ARG, UNIT_ARG],
               summary="负责人和管理员：本单位的学习时长、打卡率、知晓率统计图（图片）",
               example="统计图 上月 工程管理科")
def send_chart_image(ctx, month=None, unit=None):
    request, problem = _understand(ctx, month, unit)
    if problem:
        return Reply(problem)
    period, department, scope = request
    webhooks = ctx.config.get("WECOM_GROUP_WEBHOOKS") or {}
    group_chat = ctx.inbound.chat_id if ctx.is_group and ctx.inbound.chat_id in webhooks else None
    if _enqueue(ctx, send_chart, "chart", period, department, group_chat=group_chat).duplicate:
        return Reply(ALREADY_QUEUED)
    template = CHART_TO_GROUP if group_chat else CHART_NO_ROBOT if ctx.is_group else CHART_TO_YOU
    return Reply(template.format(scope=scope, month=period.label))


@group.command("导出", aliases=("导出报表", "导出表格", "export"), role=Role.LEADER, args=[MONTH_ARG, UNIT_ARG],
               summary="负责人和管理员：把本单位一个月的学习情况导出为 Excel（私信发送）",
               example="导出 2026-10")
def send_workbook_file(ctx, month=None, unit=None):
    request, problem = _understand(ctx, month, unit)
    if problem:
        return Reply(problem)
    period, department, scope = request
    if _enqueue(ctx, send_workbook, "workbook", period, department).duplicate:
        return Reply(ALREADY_QUEUED)
    text = WORKBOOK_QUEUED.format(scope=scope, month=period.label)
    return Reply(text + (WORKBOOK_IN_GROUP if ctx.is_group else ""))


def _enqueue(ctx, job, kind: str, period: Period, department: str | None, **extra) -> Enqueued:
    month = f"{period.first:%Y-%m}"
    return get_jobs(ctx.app).enqueue(job, job_id=job_id(kind, ctx.user_id, month, department, ctx.now),
                                     userid=ctx.user_id, month=month, department=department,
                                     requested_at=ctx.now.isoformat(), **extra)


def _understand(ctx, month: str | None, unit: str | None) -> tuple[tuple[Period, str | None, str] | None, str | None]:
    """((period, department or None, scope label), None), or (None, what was wrong) in Chinese."""
    if month and unit is None and not _names_a_month(month, ctx):
        month, unit = None, month
    scope = reports.scope_of(ctx.session, ctx.user_id, ctx.standing)
    if scope is None:
        return None, NOT_ALLOWED
    try:
        period = reports.month_period(month, today=ctx.now.date())
        covered = reports.check_request(ctx.session, scope, period, department=unit)
    except reports.ReportError as exc:
        return None, str(exc)
    return (period, unit, covered), None


def _names_a_month(word: str, ctx) -> bool:
    """本月, 上月, 2026-10, 10月 … and anything starting with a digit (so 13月 is a bad month, not a unit)."""
    if word[:1].isdigit():
        return True
    try:
        reports.month_period(word, today=ctx.now.date())
    except reports.ReportError:
        return False
    return True
