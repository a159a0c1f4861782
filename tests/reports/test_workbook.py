"""导出's workbook re-opened with openpyxl: every figure checked against the database, formulas worked out.

openpyxl stores formulas without results, so ``evaluate`` below works out the few kinds the workbook
uses (cell and range references across sheets, + and /, comparisons, IF, SUM, AVERAGE, COUNTA,
COUNTIF, MIN, SUMPRODUCT), the way Excel would on opening the file.
"""
from __future__ import annotations

import io
import re
import zipfile
from xml.etree import ElementTree
from collections import Counter
from datetime import date

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from bot import db
from bot.models import ActivityRegistration, CheckIn, Member, QuizAnswer, StudyLog
from handlers._services import report_workbook, reports
from handlers._services.dates import Period

NOVEMBER = Period(date(2026, 11, 1), date(2026, 11, 30), "2026 年 11 月")
AS_OF = date(2026, 11, 25)
CHART_NS = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
REF = re.compile(r"(?:'((?:[^']|'')+)'!)?\b([A-Z]+\d+)(?::([A-Z]+\d+))?\b")


class Number(float):
    """A cell's number; dividing by zero gives NaN instead of raising, because IF's branches are all
    worked out here, and Excel never evaluates the branch IF(B5=0,"",C5/B5) leaves out."""

    def __truediv__(self, other):
        return Number(float(self) / other) if other else Number("nan")

    def __rtruediv__(self, other):
        return Number(other / float(self)) if self else Number("nan")


def number(value):
    return Number(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def evaluate(book, sheet: str, coord: str):
    raw = book[sheet][coord].value
    if not (isinstance(raw, str) and raw.startswith("=")):
        return number(raw)
    expr = re.sub(r"(?<![<>!=])=(?!=)", "==", raw[1:].replace("$", "").replace("<>", "!="))

    def reference(match):
        where = (match[1] or sheet).replace("''", "'")
        return f"_range({where!r}, {match[2]!r}, {match[3]!r})" if match[3] else f"_cell({where!r}, {match[2]!r})"

    cells = lambda where, first, last: [evaluate(book, where, c.coordinate)     # noqa: E731
                                        for row in book[where][f"{first}:{last}"] for c in row]
    numbers = lambda values: [v for v in values if isinstance(v, (int, float))]  # noqa: E731
    names = {"_cell": lambda where, c: evaluate(book, where, c), "_range": cells,
             "IF": lambda test, yes, no: yes if test else no, "MIN": min,
             "SUM": lambda values: number(sum(numbers(values))),
             "AVERAGE": lambda values: sum(numbers(values)) / len(numbers(values)),
             "COUNTA": lambda values: sum(v not in (None, "") for v in values),
             "COUNTIF": lambda values, wanted: sum(v == wanted for v in values),
             "SUMPRODUCT": lambda a, b: sum(x * y for x, y in zip(a, b) if isinstance(x, (int, float))
                                            and isinstance(y, (int, float)))}
    return number(eval(REF.sub(reference, expr), names))     # noqa: S307 - our own workbook, in a test


@pytest.fixture
def book(office):
    session = db.get_session()
    report = reports.monthly_report(session, reports.report_scope_for(session, "admin01"), NOVEMBER)
    return load_workbook(io.BytesIO(report_workbook.workbook_bytes(report)))


def from_database():
    """Each member's November figures, read straight from the tables."""
    session = db.get_session()
    in_month = lambda column: column.between(NOVEMBER.first, AS_OF)      # noqa: E731
    minutes = dict(session.execute(select(StudyLog.userid, func.sum(StudyLog.minutes))
                                   .where(in_month(StudyLog.day), StudyLog.revoked_at.is_(None))
                                   .group_by(StudyLog.userid)).all())
    checkins = Counter(session.scalars(select(CheckIn.userid).where(in_month(CheckIn.day))))
    asked = Counter(session.scalars(select(QuizAnswer.userid).where(in_month(QuizAnswer.day))))
    right = Counter(session.scalars(select(QuizAnswer.userid).where(in_month(QuizAnswer.day),
                                                                    QuizAnswer.outcome == "right")))
    attended = Counter(session.scalars(select(ActivityRegistration.userid).where(
        ActivityRegistration.attended_at.between("2026-11-01", "2026-11-26"))))
    return {m.userid: {"department": m.department.name, "hours": round(minutes.get(m.userid, 0) / 60, 2),
                       "checkins": checkins[m.userid], "asked": asked[m.userid], "right": right[m.userid],
                       "attended": attended[m.userid]}
            for m in session.scalars(select(Member))}


def member_rows(sheet) -> dict[str, int]:
    return {sheet.cell(r, 3).value: r for r in range(report_workbook.FIRST_ROW, sheet.max_row + 1)
            if sheet.cell(r, 1).value is not None}


def test_sheets_and_chinese_headers(book):
    assert book.sheetnames == ["汇总", "工程管理科", "水情调度科", "后勤保障科", "每日打卡", "知晓率"]
    header = [c.value for c in book["工程管理科"][report_workbook.HEADER_ROW]]
    assert header == list(report_workbook.MEMBER_HEADERS) and "学习合计（小时）" in header
    assert [c.value for c in book["汇总"][report_workbook.HEADER_ROW]] == list(report_workbook.SUMMARY_HEADERS)


def test_each_members_figures_match_the_database(book):
    expected = from_database()
    seen = set()
    for department in ("工程管理科", "水情调度科", "后勤保障科"):
        sheet = book[department]
        for userid, r in member_rows(sheet).items():
            mine = expected[userid]
            seen.add(userid)
            assert mine["department"] == department
            assert evaluate(book, department, f"I{r}") == pytest.approx(mine["hours"])        # =G+H
            assert [sheet[f"{c}{r}"].value for c in "LNOR"] == [mine["checkins"], mine["asked"], mine["right"],
                                                               mine["attended"]]
            assert evaluate(book, department, f"M{r}") == pytest.approx(mine["checkins"] / 25)
    assert seen == set(expected)


def test_formulas_total_and_rate_as_a_clerk_expects(book):
    sheet = book["工程管理科"]
    rows = member_rows(sheet)
    total = max(rows.values()) + 1
    assert sheet[f"B{total}"].value == "合计" and sheet[f"I{total}"].value.startswith("=SUM(")
    assert evaluate(book, "工程管理科", f"I{total}") == pytest.approx(2.5 + 8 + 1.5)
    assert evaluate(book, "工程管理科", f"K{total}") == 1                        # only patrol2 reached 8 h
    assert evaluate(book, "工程管理科", f"K{rows['patrol2']}") == "是"
    assert evaluate(book, "工程管理科", f"J{rows['patrol1']}") == pytest.approx(2.5 / 8)
    assert evaluate(book, "工程管理科", f"P{rows['patrol1']}") == pytest.approx(2 / 3)
    assert evaluate(book, "工程管理科", f"I{total + 1}") == pytest.approx(12 / 4)   # 平均


def test_summary_adds_up_the_department_sheets(book):
    expected = from_database()
    per_department = {}
    for row in expected.values():
        figures = per_department.setdefault(row["department"], Counter())
        figures.update(people=1, hours=row["hours"], checkins=row["checkins"], asked=row["asked"],
                       attended=row["attended"])
    for r in range(report_workbook.FIRST_ROW, report_workbook.FIRST_ROW + 3):
        want = per_department[book["汇总"][f"A{r}"].value]
        got = [evaluate(book, "汇总", f"{c}{r}") for c in "BEHJL"]
        assert got == pytest.approx([want["people"], want["hours"], want["checkins"], want["asked"],
                                     want["attended"]])
        assert evaluate(book, "汇总", f"F{r}") == pytest.approx(want["hours"] / want["people"])
        assert evaluate(book, "汇总", f"I{r}") == pytest.approx(want["checkins"] / (want["people"] * 25))
    total = report_workbook.FIRST_ROW + 3
    assert book["汇总"][f"A{total}"].value == "合计"
    assert [evaluate(book, "汇总", f"{c}{total}") for c in "BCEH"] == pytest.approx([7, 1, 15, 9])
    assert evaluate(book, "汇总", f"K{total}") == pytest.approx(3 / 5)             # 3 right of 5 asked


def test_daily_and_awareness_sheets(book):
    daily = book["每日打卡"]
    first = report_workbook.FIRST_ROW
    assert [daily.cell(first + 1, c).value for c in (2, 3)] == [2, 5]          # 11-02: 2 of the 5 expected
    assert evaluate(book, "每日打卡", f"D{first + 1}") == pytest.approx(2 / 5)
    assert daily.max_row == first + 24                                          # 11-01 … 11-25
    aware = book["知晓率"]
    assert [[c.value for c in row[:3]] for row in aware.iter_rows(min_row=first, max_row=first + 1)] == \
        [["水法", 6, 2], ["防洪法", 6, 1]]


def test_native_excel_charts_are_in_the_file(office):
    session = db.get_session()
    report = reports.monthly_report(session, reports.report_scope_for(session, "admin01"), NOVEMBER)
    archive = zipfile.ZipFile(io.BytesIO(report_workbook.workbook_bytes(report)))
    charts = sorted(n for n in archive.namelist() if n.startswith("xl/charts/chart"))
    assert len(charts) == 2                                  # hours per department, daily check-in rate
    summary = ElementTree.fromstring(archive.read(charts[0]))
    assert summary.find(f".//{CHART_NS}barChart") is not None and summary.find(f".//{CHART_NS}lineChart") is not None
    formulas = [f.text for f in summary.iter(f"{CHART_NS}f")]
    assert "'汇总'!$F$5:$F$7" in formulas and "'汇总'!$G$5:$G$7" in formulas        # 人均学习, 月目标
    assert ElementTree.fromstring(archive.read(charts[1])).find(f".//{CHART_NS}lineChart") is not None
