"""The monthly report as an Excel workbook: a summary sheet with a native chart, one sheet per department.

Figures read from the database are written as numbers; everything a clerk would recompute after
editing a cell (sums, averages, rates, 是否达标) is an Excel formula, so the sheets stay consistent.
"""
from __future__ import annotations

import functools
import io
import re

from openpyxl import Workbook
from openpyxl.chart import BarChart, LineChart, Reference
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from handlers._services.reports import MemberRow, MonthlyReport

SUMMARY = "汇总"
DAILY = "每日打卡"
AWARENESS = "知晓率"
HEADER_ROW = 4
FIRST_ROW = HEADER_ROW + 1
DAYS_CELL = "$B$2"          # 统计天数 on every sheet
GOAL_CELL = "$D$2"          # 月目标（小时）on the summary sheet
MEMBER_HEADERS = ("序号", "姓名", "账号", "班组", "岗位", "月目标（小时）", "自报（小时）", "系统记录（小时）",
                  "学习合计（小时）", "完成率", "是否达标", "打卡天数", "打卡率", "答题数", "答对数", "正确率",
                  "活动报名", "活动参加", "本季度实践活动")
SUMMARY_HEADERS = ("部门", "人数", "达标人数", "达标率", "学习合计（小时）", "人均学习（小时）", "月目标（小时）",
                   "打卡次数", "打卡率", "答题数", "正确率", "活动参加")
PERCENT, HOURS = "0%", "0.00"
_BOLD = Font(bold=True)
_HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
_BAD_TITLE = re.compile(r"[\[\]:*?/\\]")


def workbook_bytes(report: MonthlyReport) -> bytes:
    """The workbook as .xlsx bytes (summary, one sheet per department, daily check-ins, awareness)."""
    book = Workbook()
    summary = book.active
    summary.title = SUMMARY
    totals = {}
    for department, rows in report.by_department().items():
        sheet = book.create_sheet(_sheet_title(department, book))
        totals[department] = (sheet.title, _member_sheet(sheet, department, rows, report))
    _summary_sheet(summary, totals, report)
    _daily_sheet(book.create_sheet(DAILY), report)
    _awareness_sheet(book.create_sheet(AWARENESS), report)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def hours(minutes: int) -> float:
    """Minutes as hours in the workbook (two decimals)."""
    return round(minutes / 60, 2)


def _member_sheet(sheet: Worksheet, department: str, rows: list[MemberRow], report: MonthlyReport) -> int:
    """Fill one department's sheet; returns the row of its 合计 line."""
    _heading(sheet, f"{department} · {report.period.label}学习情况（统计至 {report.as_of:%m-%d}）", report,
             "学习时长单位为小时；打卡率 = 打卡天数 ÷ 统计天数；完成率 = 学习合计 ÷ 月目标（请假已折算）")
    _header_row(sheet, MEMBER_HEADERS)
    for n, row in enumerate(rows):
        r = FIRST_ROW + n
        _put_row(sheet, r, [n + 1, row.name, row.userid, row.team, row.post, hours(row.goal_minutes),
                            hours(row.self_minutes), hours(row.vouched_minutes), f"=G{r}+H{r}",
                            f"=IF(F{r}=0,1,MIN(1,I{r}/F{r}))", f'=IF(I{r}>=F{r},"是","否")', row.checkin_days,
                            f"=L{r}/{DAYS_CELL}", row.quiz_answers, row.quiz_right, f'=IF(N{r}=0,"",O{r}/N{r})',
                            row.activities_signed_up, row.activities_attended, row.practice_this_quarter])
    last = FIRST_ROW + len(rows) - 1
    total, average = last + 1, last + 2
    span = functools.partial(_column, first=FIRST_ROW, last=last)
    _put_row(sheet, total, [None, "合计", None, None, None, *(f"=SUM({span(c)})" for c in "FGHI"), None,
                            f'=COUNTIF({span("K")},"是")', f"=SUM({span('L')})", None, f"=SUM({span('N')})",
                            f"=SUM({span('O')})", f'=IF(N{total}=0,"",O{total}/N{total})',
                            *(f"=SUM({span(c)})" for c in "QRS")])
    _put_row(sheet, average, [None, "平均", None, None, None, *(f"=AVERAGE({span(c)})" for c in "FGHIJ"), None,
                              *(f"=AVERAGE({span(c)})" for c in "LMNO"), f'=IF(N{total}=0,"",O{total}/N{total})',
                              *(f"=AVERAGE({span(c)})" for c in "QRS")])
    for r in (total, average):
        for cell in sheet[r]:
            cell.font = _BOLD
    _formats(sheet, FIRST_ROW, average, hours_cols="FGHI", percent_cols="JMP")
    _widths(sheet, {"B": 10, "C": 12, "D": 14, "E": 14})
    return total


def _summary_sheet(sheet: Worksheet, totals: dict[str, tuple[str, int]], report: MonthlyReport) -> None:
    _heading(sheet, f"{report.scope_label} · {report.period.label}学习情况汇总（统计至 {report.as_of:%m-%d}）",
             report, "各部门明细见同名工作表；打卡率 = 打卡次数 ÷（人数 × 统计天数）；修改明细后，本表和图表随公式自动更新")
    sheet["C2"], sheet[GOAL_CELL.replace("$", "")] = "月目标（小时）", report.goal_minutes / 60
    _header_row(sheet, SUMMARY_HEADERS)
    for n, (department, (title, total)) in enumerate(totals.items()):
        r, ref = FIRST_ROW + n, "'" + title.replace("'", "''") + "'!"
        last = total - 1
        _put_row(sheet, r, [department, f"=COUNTA({ref}B{FIRST_ROW}:B{last})", f"={ref}K{total}",
                            f'=IF(B{r}=0,"",C{r}/B{r})', f"={ref}I{total}", f'=IF(B{r}=0,"",E{r}/B{r})',
                            f"={GOAL_CELL}", f"={ref}L{total}", f'=IF(B{r}=0,"",H{r}/(B{r}*{DAYS_CELL}))',
                            f"={ref}N{total}", f'=IF(J{r}=0,"",{ref}O{total}/J{r})', f"={ref}R{total}"])
    last = FIRST_ROW + len(totals) - 1
    r = last + 1
    span = functools.partial(_column, first=FIRST_ROW, last=last)
    # overall accuracy: Σ asked × accuracy = Σ right, over Σ asked
    accuracy = f'=IF(J{r}=0,"",SUMPRODUCT({span("J")},{span("K")})/J{r})'
    _put_row(sheet, r, ["合计", *(f"=SUM({span(c)})" for c in "BC"), f'=IF(B{r}=0,"",C{r}/B{r})',
                        f"=SUM({span('E')})", f'=IF(B{r}=0,"",E{r}/B{r})', f"={GOAL_CELL}", f"=SUM({span('H')})",
                        f'=IF(B{r}=0,"",H{r}/(B{r}*{DAYS_CELL}))', f"=SUM({span('J')})", accuracy,
                        f"=SUM({span('L')})"])
    for cell in sheet[r]:
        cell.font = _BOLD
    _formats(sheet, FIRST_ROW, r, hours_cols="EFG", percent_cols="DIK")
    _widths(sheet, {"A": 16})
    if totals:
        sheet.add_chart(_hours_chart(sheet, last), f"A{r + 3}")


def _hours_chart(sheet: Worksheet, last: int) -> BarChart:
    """人均学习 per department as bars, the month's goal as a line on the same axis."""
    names = Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=last)
    bars = BarChart()
    bars.title, bars.y_axis.title = "各部门人均学习时长与月目标", "小时"
    bars.add_data(Reference(sheet, min_col=6, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    bars.set_categories(names)
    goal = LineChart()
    goal.add_data(Reference(sheet, min_col=7, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    goal.set_categories(names)
    bars += goal
    bars.width, bars.height = 18, 9
    return bars


def _daily_sheet(sheet: Worksheet, report: MonthlyReport) -> None:
    _heading(sheet, f"{report.scope_label} · {report.period.label}每日打卡", report, "打卡率 = 打卡人数 ÷ 应打卡人数")
    _header_row(sheet, ("日期", "打卡人数", "应打卡人数", "打卡率"))
    for n, day in enumerate(report.days):
        r = FIRST_ROW + n
        _put_row(sheet, r, [day.day, day.checked_in, day.people, f'=IF(C{r}=0,"",B{r}/C{r})'])
        sheet.cell(r, 1).number_format = "yyyy-mm-dd"
    last = FIRST_ROW + len(report.days) - 1
    _formats(sheet, FIRST_ROW, last, hours_cols="", percent_cols="D")
    _widths(sheet, {"A": 12})
    line = LineChart()
    line.title, line.y_axis.title = "每日打卡率", "打卡率"
    line.y_axis.number_format = PERCENT
    line.add_data(Reference(sheet, min_col=4, min_row=HEADER_ROW, max_row=last), titles_from_data=True)
    line.set_categories(Reference(sheet, min_col=1, min_row=FIRST_ROW, max_row=last))
    line.width, line.height = 18, 8
    sheet.add_chart(line, "F4")


def _awareness_sheet(sheet: Worksheet, report: MonthlyReport) -> None:
    _heading(sheet, f"{report.scope_label} · 政策知晓率（{report.awareness_period.label}）", report,
             f"知晓率 = 答对过该主题题目的人数 ÷ 该主题面向的在职人数；目标 {report.awareness_goal_percent}%")
    _header_row(sheet, ("主题", "面向人数", "答对过人数", "知晓率"))
    for n, topic in enumerate(report.topics):
        r = FIRST_ROW + n
        _put_row(sheet, r, [topic.topic, topic.people, topic.knowing, f'=IF(B{r}=0,"",C{r}/B{r})'])
    _formats(sheet, FIRST_ROW, FIRST_ROW + len(report.topics), hours_cols="", percent_cols="D")
    _widths(sheet, {"A": 18})


def _heading(sheet: Worksheet, title: str, report: MonthlyReport, note: str) -> None:
    sheet["A1"] = title
    sheet["A1"].font = Font(bold=True, size=14)
    sheet["A2"], sheet[DAYS_CELL.replace("$", "")] = "统计天数", report.days_counted
    sheet["A3"] = note
    sheet["A3"].font = Font(color="666666")


def _column(col: str, *, first: int, last: int) -> str:
    """A range down one column, e.g. ``F5:F8``."""
    return f"{col}{first}:{col}{last}"


def _put_row(sheet: Worksheet, row: int, values: list) -> None:
    """Write ``values`` into ``row`` from column A (by position: formulas name their own row numbers)."""
    for col, value in enumerate(values, 1):
        sheet.cell(row, col, value)


def _header_row(sheet: Worksheet, headers: tuple[str, ...]) -> None:
    for col, text in enumerate(headers, 1):
        cell = sheet.cell(HEADER_ROW, col, text)
        cell.font, cell.fill = _BOLD, _HEAD_FILL
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
    sheet.freeze_panes = sheet.cell(FIRST_ROW, 1)


def _formats(sheet: Worksheet, first: int, last: int, *, hours_cols: str, percent_cols: str) -> None:
    for cols, fmt in ((hours_cols, HOURS), (percent_cols, PERCENT)):
        for col in cols:
            for r in range(first, last + 1):
                sheet[f"{col}{r}"].number_format = fmt


def _widths(sheet: Worksheet, widths: dict[str, int]) -> None:
    for col in range(1, sheet.max_column + 1):
        letter = get_column_letter(col)
        sheet.column_dimensions[letter].width = widths.get(letter, 11)


def _sheet_title(name: str, book: Workbook) -> str:
    """A legal, unused sheet title for a department (≤31 characters, none of []:*?/\\)."""
    base = _BAD_TITLE.sub("_", name).strip("'")[:28] or "部门"
    title, n = base, 2
    while title in book.sheetnames:
        title, n = f"{base}{n}", n + 1
    return title
