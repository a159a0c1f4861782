"""Report jobs: draw the month's charts or build its workbook, tell the person how far along it is, send it.

Progress messages ("正在生成… 60%") go out from inside the job, through the same delivery function the
outbox queue runs: queued on the outbox they would wait behind this very job on a one-worker setup.
They start only once the job has taken more than ``REPORT_PROGRESS_AFTER_SECONDS`` (3 s by default),
so a quick report arrives without chatter.
"""
from __future__ import annotations

import hashlib
import logging
import re
import time
from datetime import datetime

from flask import current_app

from bot import clock, db
from bot.outbox import deliver_to_members, enqueue_to_group, enqueue_to_members
from bot.outgoing import File, Image, Message, Text
from bot.tasks import app_job
from bot.wecom.errors import WeComError
from handlers._services import reports

log = logging.getLogger(__name__)

PROGRESS_AFTER_SECONDS = 3.0
PROGRESS_TEXT = "正在生成… {percent}%"
CHART_CAPTION = "【统计图】{title}（统计至 {as_of:%m-%d}）：学习时长、每日打卡率、政策知晓率"
WORKBOOK_CAPTION = "【报表】{title}（统计至 {as_of:%m-%d}）已生成，请查收下面的 Excel 文件。"
NO_LONGER_ALLOWED = "抱歉，您现在没有查看报表的权限，报表没有生成。如有需要，请联系管理员。"
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def job_id(kind: str, userid: str, month: str, department: str | None, now: datetime) -> str:
    """One job per person, kind, month, department and minute: a repeated command is not queued twice."""
    digest = hashlib.sha256(f"{userid}\x1f{department or ''}".encode("utf-8")).hexdigest()[:10]
    return f"report-{kind}-{_UNSAFE.sub('_', userid)[:32]}-{month}-{digest}-{now:%Y%m%d%H%M}"


@app_job
def send_chart(*, userid: str, month: str, department: str | None, group_chat: str | None,
               requested_at: str) -> int:
    """Draw the month's charts and send the combined PNG into ``group_chat`` (its robot) or to ``userid``.

    Args:
        userid: who asked; the report covers what he may see when the job runs.
        month: ``YYYY-MM``.
        department: a department or team inside his scope, or None for all of it.
        group_chat: the group (chat id in ``WECOM_GROUP_WEBHOOKS``) to post in, or None for one-to-one.
        requested_at: ISO time of the request (names the deliveries).

    Returns:
        The PNG's size in bytes (0 when nothing was made).
    """
    push_id, progress, report = _start("chart", userid, month, department, requested_at)
    if report is None:
        return 0
    progress(20)
    from handlers._services.report_charts import COMBINED, chart_pngs    # matplotlib: only where charts are drawn

    # only the combined image is sent: its three panels, then the image, take the progress from 20 % to 95 %
    png = chart_pngs(report, keys=(COMBINED,),
                     on_progress=lambda p: progress(round((20 + 0.75 * p) / 10) * 10))[COMBINED]
    caption = Text(CHART_CAPTION.format(title=report.title, as_of=report.as_of))
    _send_all(push_id, userid, group_chat, [caption, Image(png)])
    return len(png)


@app_job
def send_workbook(*, userid: str, month: str, department: str | None, requested_at: str) -> int:
    """Build the month's workbook and send it to ``userid`` one-to-one (it names every member).

    Returns:
        The workbook's size in bytes (0 when nothing was made).
    """
    push_id, progress, report = _start("workbook", userid, month, department, requested_at)
    if report is None:
        return 0
    progress(50)
    from handlers._services.report_workbook import workbook_bytes       # openpyxl: only where workbooks are made

    data = workbook_bytes(report)
    progress(90)
    caption = Text(WORKBOOK_CAPTION.format(title=report.title, as_of=report.as_of))
    _send_all(push_id, userid, None, [caption, File(workbook_name(report), data)])
    return len(data)


def workbook_name(report: reports.MonthlyReport) -> str:
    """E.g. ``学习统计-2026年11月.xlsx``: the name people see on the file in WeCom."""
    return f"学习统计-{report.period.first.year}年{report.period.first.month}月.xlsx"


def _start(kind: str, userid: str, month: str, department: str | None,
           requested_at: str) -> tuple[str, "_Progress", reports.MonthlyReport | None]:
    """The push id naming this request's messages, its progress reporter, and the report (None when
    there is none; the person has been told why)."""
    push_id = _push_id(kind, userid, month, department, requested_at)
    return push_id, _Progress(userid, push_id), _report(userid, month, department, push_id)


def _report(userid: str, month: str, department: str | None, push_id: str) -> reports.MonthlyReport | None:
    """The report, or None after telling the person why there is none."""
    session = db.get_session()
    scope = reports.report_scope_for(session, userid)
    if scope is None:
        _send(f"{push_id}-refused", userid, None, Text(NO_LONGER_ALLOWED))
        return None
    try:
        period = reports.month_period(month, today=clock.now().date())
        return reports.monthly_report(session, scope, period, department=department)
    except reports.ReportError as exc:
        _send(f"{push_id}-error", userid, None, Text(str(exc)))
        return None


def _send_all(push_id: str, userid: str, group_chat: str | None, messages: list[Message]) -> None:
    for index, message in enumerate(messages):
        _send(f"{push_id}-{index}", userid, group_chat, message)


def _send(push_id: str, userid: str, group_chat: str | None, message: Message) -> None:
    if group_chat:
        enqueue_to_group(push_id, group_chat, message)
    else:
        enqueue_to_members(push_id, [userid], message)


def _push_id(kind: str, userid: str, month: str, department: str | None, requested_at: str) -> str:
    # fits the ledger's 128 characters with room for the message suffix (-0, -p60 …)
    stamp = re.sub(r"\D", "", requested_at)[:14]
    digest = hashlib.sha256(f"{userid}\x1f{department or ''}".encode("utf-8")).hexdigest()[:8]
    return f"report-{kind}-{userid[:40]}-{month}-{digest}-{stamp}"


class _Progress:
    """Sends "正在生成… N%" to the person once the job has run longer than the configured threshold."""

    def __init__(self, userid: str, push_id: str):
        self._userid, self._push_id = userid, push_id
        self._after = float(current_app.config.get("REPORT_PROGRESS_AFTER_SECONDS", PROGRESS_AFTER_SECONDS))
        self._started = time.monotonic()
        self._sent: set[int] = set()

    def __call__(self, percent: int) -> None:
        if percent >= 100 or percent in self._sent or time.monotonic() - self._started < self._after:
            return
        self._sent.add(percent)
        try:
            deliver_to_members(push_id=f"{self._push_id}-p{percent}", userids=[self._userid],
                               message=Text(PROGRESS_TEXT.format(percent=percent)).to_dict())
        except WeComError as exc:       # progress is a courtesy: the report itself still goes out
            log.warning("report %s: progress message not sent (%s)", self._push_id, exc)
