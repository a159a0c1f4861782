"""Roster import: file formats, header spellings, validation, idempotency, the org tree and the CLI."""
from __future__ import annotations

from datetime import datetime, timedelta

import openpyxl
import pytest
from sqlalchemy import func, select

from bot import db
from bot.cli import register_cli
from bot.models import AuditEntry, Member, OrgUnit
from bot.roster import import_roster

UNIT = "水库管理所"
HEADER_ZH = "工号,姓名,部门,班组,岗位,岗位类别,出生年份,状态,手机"
ROWS_ZH = [
    "zhangwei,张伟,工程管理科,大坝巡查班组,大坝巡查岗,工程运维,1991,在职,13905710001",
    "lina,李娜,水情调度科,水情监测班组,水情监测岗,调度管理,1995,,",
    "wangjianguo,王建国,领导班子,,所长,综合管理,1970,在岗,139-0571-0003",
    "duchangqing,杜长青,领导班子,,所长,综合管理,1953,退休人员,",
    "sunlijun,孙立军,工程管理科,,科长,工程运维,1976,在职,13905710005",
]


def write_csv(tmp_path, lines, *, encoding="utf-8", name="roster.csv"):
    path = tmp_path / name
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def department_of(team, departments) -> str:
    return next(name for name, unit in departments.items() if unit.id == team.parent_id)


@pytest.fixture
def session(app):
    return db.get_session()


@pytest.fixture
def now(clock):
    return clock()


def test_csv_with_chinese_headers(tmp_path, session, now):
    report = import_roster(session, write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH]), unit_name=UNIT, now=now)

    assert report.errors == [] and (report.added, report.updated, report.unchanged) == (5, 0, 0)
    zhang = session.get(Member, "zhangwei")
    assert (zhang.name, zhang.department.name, zhang.team.name) == ("张伟", "工程管理科", "大坝巡查班组")
    assert (zhang.post, zhang.post_category, zhang.birth_year, zhang.phone) == ("大坝巡查岗", "工程运维", 1991,
                                                                                "13905710001")
    assert session.get(Member, "lina").status == "在职"            # empty → 在职
    assert session.get(Member, "lina").phone is None
    assert session.get(Member, "wangjianguo").status == "在职"     # 在岗 → 在职
    assert session.get(Member, "wangjianguo").phone == "13905710003"
    assert session.get(Member, "duchangqing").status == "退休"     # 退休人员 → 退休
    assert session.get(Member, "wangjianguo").team is None


def test_csv_with_utf8_bom(tmp_path, session, now):
    path = write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH], encoding="utf-8-sig")
    report = import_roster(session, path, unit_name=UNIT, now=now)
    assert report.ok and report.added == 5


def test_csv_in_gb18030_as_excel_saves_it(tmp_path, session, now):
    path = write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH], encoding="gb18030")
    report = import_roster(session, path, unit_name=UNIT, now=now)
    assert report.ok and report.added == 5
    assert session.get(Member, "lina").department.name == "水情调度科"


def test_english_headers(tmp_path, session, now):
    header = "userid,name,department,team,post,post_category,birth_year,status,phone"
    report = import_roster(session, write_csv(tmp_path, [header, *ROWS_ZH]), unit_name=UNIT, now=now)
    assert report.ok and report.added == 5
    assert session.get(Member, "duchangqing").status == "退休"


def test_xlsx_with_title_row_odd_headers_and_full_width_values(tmp_path, session, now):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["水库管理所职工花名册"])                      # a title above the header is common
    sheet.append([" 工号 ", "姓　名", "部门", "班组", "岗位", "岗位类别", "出生年份", "状态", "手机号", "备注"])
    sheet.append(["zhangwei", "张伟", "工程管理科", "大坝巡查班组", "大坝巡查岗", "工程运维", 1991, "在职",
                  13905710001, "班组骨干"])
    sheet.append([])                                              # blank rows are skipped
    sheet.append(["ｌｉｎａ", " 李娜 ", "水情调度科", "水情监测班组", "水情监测岗", "调度管理", "１９９５", "已退休",
                  None, None])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)

    report = import_roster(session, path, unit_name=UNIT, now=now)

    assert report.errors == [] and report.added == 2
    assert session.get(Member, "zhangwei").phone == "13905710001"
    lina = session.get(Member, "lina")
    assert (lina.name, lina.birth_year, lina.status) == ("李娜", 1995, "退休")


def test_xlsx_bad_row_numbers_match_the_sheet(tmp_path, session, now):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["工号", "姓名", "部门", "出生年份"])
    sheet.append(["zhangwei", "张伟", "工程管理科", 1991])
    sheet.append(["lina", "李娜", "水情调度科", "19x5"])
    path = tmp_path / "roster.xlsx"
    workbook.save(path)
    report = import_roster(session, path, unit_name=UNIT, now=now)
    assert report.errors == ["第 3 行「出生年份」应为四位年份，实际为「19x5」"]


def test_rows_can_be_given_directly(session, now):
    rows = [{"工号": "zhangwei", "姓名": "张伟", "部门": "工程管理科", "出生年份": 1991}]
    report = import_roster(session, rows, unit_name=UNIT, now=now)
    assert report.ok and session.get(Member, "zhangwei").birth_year == 1991


def test_two_bad_rows_write_nothing_and_both_are_reported(tmp_path, session, now):
    lines = [HEADER_ZH, ROWS_ZH[0],
             "lina,李娜,水情调度科,水情监测班组,水情监测岗,调度管理,19x5,在职,",
             ROWS_ZH[2],
             "duchangqing,杜长青,领导班子,,所长,综合管理,1953,离职,",
             ROWS_ZH[4]]
    report = import_roster(session, write_csv(tmp_path, lines), unit_name=UNIT, now=now)

    assert report.errors == [
        "第 3 行「出生年份」应为四位年份，实际为「19x5」",
        "第 5 行「状态」应为「在职」或「退休」，实际为「离职」",
    ]
    assert (report.added, report.updated, report.unchanged) == (0, 0, 0)
    assert count(session, Member) == 0 and count(session, OrgUnit) == 0
    assert "没有导入任何数据" in report.summary() and "第 5 行" in report.summary()


@pytest.mark.parametrize(("row", "expected"), [
    (",张伟,工程管理科,,,,1991,在职,", "第 2 行「工号」不能为空"),
    ("张 伟,张伟,工程管理科,,,,1991,在职,", "第 2 行「工号」只能包含字母、数字和 _ . @ -，最长 64 位，实际为「张 伟」"),
    ("zhangwei,,工程管理科,,,,1991,在职,", "第 2 行「姓名」不能为空"),
    ("zhangwei,张伟,,,,,1991,在职,", "第 2 行「部门」不能为空"),
    ("zhangwei,张伟,工程管理科,,,,1925,在职,", "第 2 行「出生年份」应在 1930 到 2026 之间，实际为「1925」"),
    ("zhangwei,张伟,工程管理科,,,,2031,在职,", "第 2 行「出生年份」应在 1930 到 2026 之间，实际为「2031」"),
    ("zhangwei,张伟,工程管理科,,,,1991,在职,138abc", "第 2 行「手机」只能填数字，实际为「138abc」"),
])
def test_each_bad_cell_is_named(tmp_path, session, now, row, expected):
    report = import_roster(session, write_csv(tmp_path, [HEADER_ZH, row]), unit_name=UNIT, now=now)
    assert report.errors == [expected]
    assert count(session, Member) == 0


def test_duplicate_userid_in_file(tmp_path, session, now):
    lines = [HEADER_ZH, ROWS_ZH[0], ROWS_ZH[1], ROWS_ZH[0].replace("张伟", "张维")]
    report = import_roster(session, write_csv(tmp_path, lines), unit_name=UNIT, now=now)
    assert report.errors == ["第 4 行「工号」「zhangwei」与第 2 行重复"]
    assert count(session, Member) == 0


def test_missing_required_column(tmp_path, session, now):
    report = import_roster(session, write_csv(tmp_path, ["工号,姓名,班组", "zhangwei,张伟,"]), unit_name=UNIT,
                           now=now)
    assert len(report.errors) == 1 and "缺少列：部门" in report.errors[0]


def test_old_xls_is_refused_with_advice(tmp_path, session, now):
    path = tmp_path / "roster.xls"
    path.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    report = import_roster(session, path, unit_name=UNIT, now=now)
    assert "另存为 .xlsx 或 CSV" in report.errors[0]


def test_reimport_is_idempotent(tmp_path, session, now, clock):
    path = write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH])
    import_roster(session, path, unit_name=UNIT, now=now)
    units_before = count(session, OrgUnit)
    clock.set(now + timedelta(days=1))

    report = import_roster(session, path, unit_name=UNIT, now=clock())

    assert (report.added, report.updated, report.unchanged) == (0, 0, 5)
    assert report.missing == [] and count(session, OrgUnit) == units_before
    assert session.get(Member, "zhangwei").updated_at.date() == now.date()
    assert "新增 0 人，更新 0 人，未变 5 人" in report.summary()


def test_changed_row_is_updated(tmp_path, session, now):
    import_roster(session, write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH]), unit_name=UNIT, now=now)
    moved = ROWS_ZH[0].replace("大坝巡查班组,大坝巡查岗", "防汛抢险班组,防汛抢险岗")
    later = now + timedelta(days=3)

    report = import_roster(session, write_csv(tmp_path, [HEADER_ZH, moved, *ROWS_ZH[1:]]), unit_name=UNIT,
                           now=later)

    assert (report.added, report.updated, report.unchanged) == (0, 1, 4)
    zhang = session.get(Member, "zhangwei")
    assert (zhang.team.name, zhang.post) == ("防汛抢险班组", "防汛抢险岗")
    assert zhang.updated_at.date() == later.date()


def test_members_absent_from_the_file_are_kept_and_listed(tmp_path, session, now):
    import_roster(session, write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH]), unit_name=UNIT, now=now)
    report = import_roster(session, write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH[:3]]), unit_name=UNIT, now=now)

    assert report.missing == ["duchangqing", "sunlijun"]
    assert count(session, Member) == 5
    assert "不在本次名单里（未删除" in report.summary()


def test_a_column_the_file_lacks_keeps_stored_values(tmp_path, session, now):
    import_roster(session, write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH]), unit_name=UNIT, now=now)
    report = import_roster(session, write_csv(tmp_path, ["工号,姓名,部门,班组", "zhangwei,张伟,工程管理科,大坝巡查班组"]),
                           unit_name=UNIT, now=now)
    assert report.unchanged == 1
    assert session.get(Member, "zhangwei").phone == "13905710001"


def test_org_tree_shape(tmp_path, session, now):
    lines = [HEADER_ZH, *ROWS_ZH, "xugang,许刚,水情调度科,大坝巡查班组,大坝巡查岗,工程运维,1985,在职,"]
    import_roster(session, write_csv(tmp_path, lines), unit_name=UNIT, now=now)

    units = session.scalars(select(OrgUnit)).all()
    roots = [u for u in units if u.parent_id is None]
    assert [(r.name, r.kind) for r in roots] == [(UNIT, "unit")]
    departments = {u.name: u for u in units if u.kind == "department"}
    assert set(departments) == {"工程管理科", "水情调度科", "领导班子"}
    assert all(d.parent_id == roots[0].id for d in departments.values())
    teams = sorted((department_of(u, departments), u.name) for u in units if u.kind == "team")
    # a team name is unique within its department only, so the same name makes two teams
    assert teams == [("工程管理科", "大坝巡查班组"), ("水情调度科", "大坝巡查班组"), ("水情调度科", "水情监测班组")]



def test_cli_import_prints_report_and_audits(app, tmp_path, session):
    register_cli(app)
    runner = app.test_cli_runner()

    result = runner.invoke(args=["members", "import", str(write_csv(tmp_path, [HEADER_ZH, *ROWS_ZH])),
                                 "--unit-name", UNIT])

    assert result.exit_code == 0, result.output
    assert "新增 5 人" in result.output
    assert count(session, Member) == 5
    entry = session.scalars(select(AuditEntry)).one()
    assert (entry.actor, entry.command, entry.result) == ("cli", "members import", "ok")


def test_cli_import_of_a_bad_file_exits_1(app, tmp_path, session):
    register_cli(app)
    bad = write_csv(tmp_path, [HEADER_ZH, "lina,李娜,水情调度科,,,,19x5,在职,"])

    result = app.test_cli_runner().invoke(args=["members", "import", str(bad)])

    assert result.exit_code == 1
    assert "第 2 行「出生年份」应为四位年份，实际为「19x5」" in result.output
    assert count(session, Member) == 0


def test_import_uses_the_unit_name_as_root(tmp_path, session):
    import_roster(session, write_csv(tmp_path, [HEADER_ZH, ROWS_ZH[0]]), unit_name="  某某水库管理所 ",
                  now=datetime(2026, 1, 1).astimezone())
    assert session.scalars(select(OrgUnit.name).where(OrgUnit.kind == "unit")).all() == ["某某水库管理所"]
