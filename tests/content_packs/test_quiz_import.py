"""Import from the authors' Excel/CSV form and Moodle GIFT (all or nothing), export to Excel, round trip."""
from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

import content_packs
from content_packs import PACKS_ROOT
from content_packs.quiz_import import export_questions, id_prefix, import_questions

MANIFEST = """\
# 测试题库（这行注释在导入后应当还在）
id: quiz_duty_test
version: 3    # 每次导入加 1
title: 值班测试题库
kind: quiz
topics: [防汛]
description: 导入测试
"""
# a title row above the header, spaces and full-width letters in headers, an unknown column (序号)
TITLE_ROW = ["2026 年防汛值班题库"]
HEADER = ["序号", "题 型", "题目", "选项Ａ", "选项 B", "选项C", "选项D", "答案", "知识点", "难度", "解析", "出处"]
ROWS = [
    [1, "单选题", "防汛工作的方针第一句是（  ）。", "效益优先", "安全第一", "以用为主", "", "ｂ", "防汛方针",
     "易", "《防汛条例》规定的方针是安全第一，常备不懈，以防为主，全力抢险。", "《中华人民共和国防汛条例》"],
    [2, "多选", "值班记录应写清（  ）。", "雨情水情", "个人猜测", "指令及处理", "交接签字", "A，C，D",
     "值班制度、险情报告", 2, "记录事实：雨水工险情、指令处理、交接情况。", "防汛值班通用要求"],
    [3, "判断", "值班时只要电话畅通就可以回家休息。", "", "", "", "", "×", "值班制度", "中",
     "不可以，值班人员必须在岗在位。", "防汛值班通用要求"],
    [4, "判断题", "汛期综合利用水库的调度运用必须服从防汛指挥机构的统一指挥。", "", "", "", "", "正确",
     "调度纪律", 3, "《水库大坝安全管理条例》有明确规定。", "《水库大坝安全管理条例》"],
    [5, "填空", "防汛“四预”：预报、预警、预演、____。", "", "", "", "", "预案｜预案措施", "应急响应,防汛方针",
     "难", "“四预”最后一项是预案。", "水利部防汛“四预”工作要求"],
    ["", "", "", "", "", "", "", "", "", "", "", ""],
    [6, " 填空 ", "汛期实行领导带班、____小时值班。", "", "", "", "", "24；二十四", "值班制度", "",
     "24 小时值班、领导带班。", "防汛值班通用要求"],
]

GIFT = """\
// 由 Moodle 导出后补上了出处
$CATEGORY: $course$/top/防汛/值班制度

// 出处：《中华人民共和国防汛条例》
::方针::防汛工作的方针是（  ）。{
  =安全第一，常备不懈，以防为主，全力抢险#对，这是《防汛条例》规定的方针。
  ~节水优先，空间均衡，系统治理，两手发力#这是治水思路。
  ~谁主管，谁负责
}

// 出处：《水库大坝安全管理条例》
::检查::除汛前汛后外，发生哪些情况后要检查大坝？{~%50%暴雨 ~%50%强烈地震 ~%-100%节假日####条例要求暴风、暴雨、特大洪水或强烈地震后检查。}

// 出处：防汛值班通用要求
值班人员可以离岗回家休息。{F#错了，值班必须在岗。#对，值班人员不得擅离职守。}

// 出处：水利部防汛“四预”工作要求
防汛“四预”：预报、预警、预演、{=预案 =预案措施####“四预”最后一项是预案。}。

$CATEGORY: 水法
// 出处：《中华人民共和国水法》
::所有权::[html]<p>水资源属于国家所有\\: 对吗？</p>{TRUE####《水法》规定水资源属于国家所有。}
"""


@pytest.fixture
def pack_dir(tmp_path) -> Path:
    folder = tmp_path / "quiz_duty_test"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    return folder


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def questions_of(folder: Path):
    return content_packs.load_pack(folder).questions


def test_xlsx_in_the_authors_form(pack_dir, tmp_path):
    report = import_questions(write_xlsx(tmp_path / "题库.xlsx", [TITLE_ROW, HEADER, *ROWS]), pack_dir)
    assert report.ok, report.summary()
    assert (report.added, report.updated, report.version) == (6, 0, 4)
    pack = content_packs.load_pack(pack_dir)
    assert pack.version == 4
    assert "这行注释在导入后应当还在" in (pack_dir / "pack.yaml").read_text("utf-8")
    single, multiple, wrong, right, fill, hours = pack.questions
    assert [q.id for q in pack.questions] == [f"duty-test-{n:03d}" for n in range(1, 7)]
    assert (single.type, single.answer, single.options["B"], single.difficulty) == ("single", "B", "安全第一", 1)
    assert (multiple.type, multiple.answer, multiple.topics) == ("multiple", "ACD", ("值班制度", "险情报告"))
    assert (wrong.type, wrong.answer, wrong.options, wrong.difficulty) == ("truefalse", False, {}, 2)
    assert (right.answer, right.difficulty) == (True, 3)
    assert (fill.type, fill.answer, fill.topics, fill.difficulty) == ("fill", ("预案", "预案措施"),
                                                                     ("应急响应", "防汛方针"), 3)
    assert (hours.answer, hours.difficulty) == (("24", "二十四"), 2)      # empty 难度 → 中
    assert single.text == "防汛工作的方针第一句是（  ）。"                  # prose keeps full-width punctuation


def test_csv_in_gb18030_reads_like_the_xlsx(pack_dir, tmp_path):
    xlsx_pack = tmp_path / "from_xlsx"
    shutil.copytree(pack_dir, xlsx_pack)
    import_questions(write_xlsx(tmp_path / "题库.xlsx", [HEADER, *ROWS]), xlsx_pack)
    csv_file = tmp_path / "题库.csv"
    with csv_file.open("w", encoding="gb18030", newline="") as file:
        csv.writer(file).writerows([TITLE_ROW, HEADER, *ROWS])
    report = import_questions(csv_file, pack_dir)
    assert report.ok, report.summary()
    assert questions_of(pack_dir) == questions_of(xlsx_pack)


def test_csv_in_utf8_with_bom(pack_dir, tmp_path):
    csv_file = tmp_path / "题库.csv"
    with csv_file.open("w", encoding="utf-8-sig", newline="") as file:
        csv.writer(file).writerows([HEADER, ROWS[0]])
    assert import_questions(csv_file, pack_dir).added == 1
    assert questions_of(pack_dir)[0].answer == "B"


def test_gift_with_each_construct(pack_dir, tmp_path):
    gift = tmp_path / "题库.gift"
    gift.write_text(GIFT, "utf-8")
    report = import_questions(gift, pack_dir)
    assert report.ok, report.summary()
    single, multiple, truefalse, fill, html = questions_of(pack_dir)
    assert single.type == "single" and single.answer == "A" and len(single.options) == 3
    assert single.explanation == "对，这是《防汛条例》规定的方针。"          # feedback on the right answer
    assert single.topics == ("值班制度",) and single.source == "《中华人民共和国防汛条例》"
    assert (multiple.type, multiple.answer, multiple.options["C"]) == ("multiple", "AB", "节假日")
    assert multiple.explanation.startswith("条例要求")                      # #### general feedback
    assert (truefalse.type, truefalse.answer) == ("truefalse", False)
    assert truefalse.explanation == "对，值班人员不得擅离职守。"
    assert (fill.type, fill.answer, fill.text) == ("fill", ("预案", "预案措施"), "防汛“四预”：预报、预警、预演、____。")
    assert (html.answer, html.text, html.topics) == (True, "水资源属于国家所有: 对吗？", ("水法",))
    assert all(q.difficulty == 2 for q in questions_of(pack_dir))


def test_gift_problems_name_the_line_and_title(pack_dir, tmp_path):
    gift = tmp_path / "bad.gift"
    gift.write_text("""\
$CATEGORY: 防汛
// 出处：测试
::问答::谈谈你对防汛的认识。{}

// 出处：测试
::数值::水库有几个汛限水位？{#1}

::没出处::汛期要值班。{T####对。}

// 出处：测试
::没解析::值班可以离岗。{F}
""", "utf-8")
    report = import_questions(gift, pack_dir)
    assert report.errors == [
        "第 3 行（::问答::）「答案」不支持问答题（{} 中没有答案）",
        "第 6 行（::数值::）「答案」不支持数值题（{#…}）",
        "第 8 行（::没出处::）「出处」缺少出处：请在题目前一行写 // 出处：…",
        "第 11 行（::没解析::）「解析」缺少解析：请在答案后写 ####解析，或在正确答案后写 #反馈",
    ]
    assert not (pack_dir / "questions.yaml").exists()


def test_two_bad_rows_write_nothing_and_are_both_reported(pack_dir, tmp_path):
    import_questions(write_xlsx(tmp_path / "first.xlsx", [HEADER, ROWS[0]]), pack_dir)
    before = {name: (pack_dir / name).read_bytes() for name in ("pack.yaml", "questions.yaml")}
    bad_answer = ROWS[1][:7] + ["AB"] + ROWS[1][8:]
    bad_answer[1] = "单选"
    bad_difficulty = ROWS[2][:9] + ["特难"] + ROWS[2][10:]
    report = import_questions(write_xlsx(tmp_path / "bad.xlsx", [HEADER, ROWS[3], bad_answer, bad_difficulty]), pack_dir)
    assert report.errors == ["第 3 行「答案」单选题的答案只能是一个选项字母",
                             "第 4 行「难度」应为 易、中、难 或 1、2、3，实际为「特难」"]
    assert report.summary().startswith("有 2 处问题，本次没有导入任何题目")
    assert {name: (pack_dir / name).read_bytes() for name in before} == before
    assert sorted(path.name for path in pack_dir.iterdir()) == ["pack.yaml", "questions.yaml"]


def test_row_mistakes_are_named_by_column(pack_dir, tmp_path):
    rows = [HEADER,
            [1, "问答", "谈谈认识", "", "", "", "", "无", "防汛", "易", "略", "无"],
            [2, "单选", "", "甲", "乙", "", "", "C", "防汛", "易", "", "出处"],
            [3, "判断", "对吗", "", "", "", "", "也许", "", "易", "解析", "出处"],
            [4, "填空", "防汛“四预”：预报、预警、预演、____。", "", "", "", "", "预案", "防汛", "易", "解析", "出处"],
            [5, "填空", "防汛“四预”：预报、预警、预演、____。", "", "", "", "", "预案", "防汛", "易", "解析", "出处"]]
    report = import_questions(write_xlsx(tmp_path / "bad.xlsx", rows), pack_dir)
    assert report.errors == [
        "第 2 行「题型」应为 单选、多选、判断 或 填空，实际为「问答」",
        "第 3 行「题目」不能为空",
        "第 3 行「答案」答案中的「C」不是本题的选项（可选：A、B）",
        "第 3 行「解析」不能为空",
        "第 4 行「答案」判断题的答案应为 true（正确）或 false（错误），实际为「也许」",
        "第 4 行「知识点」至少要写 1 项",
        "第 6 行「题目」与第 5 行的题目相同",
    ]


def test_a_table_without_the_needed_columns(pack_dir, tmp_path):
    report = import_questions(write_xlsx(tmp_path / "x.xlsx", [["题型", "题目", "答案"], ["单选", "x", "A"]]), pack_dir)
    assert report.errors == ["第 1 行表头缺少列：知识点、解析、出处（表头应为：编号、题型、题目、选项A、选项B、选项C、"
                             "选项D、选项E、选项F、答案、知识点、难度、解析、出处；编号、难度可省略）"]


def test_an_invalid_pack_is_not_imported_into(pack_dir, tmp_path):
    (pack_dir / "pack.yaml").write_text(MANIFEST.replace("kind: quiz", "kind: poll"), "utf-8")
    report = import_questions(write_xlsx(tmp_path / "x.xlsx", [HEADER, ROWS[0]]), pack_dir)
    assert report.errors[0] == "内容包本身有错误，请先改正："
    assert "不认识的内容包类型「poll」" in report.errors[1]


@pytest.mark.parametrize("pack_id", ["quiz_water_policy", "quiz_dam_safety", "quiz_flood_duty",
                                     "quiz_reservoir_ecology", "quiz_responsibilities"])
def test_export_then_import_gives_the_same_questions(pack_id, tmp_path):
    original = content_packs.load_pack(PACKS_ROOT / pack_id)
    exported = tmp_path / f"{pack_id}.xlsx"
    assert export_questions(original, exported) == len(original.questions)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    shutil.copy(original.folder / "pack.yaml", fresh / "pack.yaml")
    report = import_questions(exported, fresh)
    assert report.ok and report.added == len(original.questions), report.summary()
    assert questions_of(fresh) == original.questions
    same = tmp_path / "same"
    shutil.copytree(original.folder, same)
    again = import_questions(exported, same)
    assert (again.unchanged, again.changed, again.version) == (len(original.questions), False, original.version)
    assert (same / "questions.yaml").read_bytes() == (original.folder / "questions.yaml").read_bytes()


def test_reviewed_export_updates_in_place(tmp_path):
    folder = tmp_path / "quiz_dam_safety"
    shutil.copytree(PACKS_ROOT / "quiz_dam_safety", folder)
    original = content_packs.load_pack(folder)
    exported = tmp_path / "review.xlsx"
    export_questions(original, exported)
    workbook = load_workbook(exported)
    sheet = workbook.active
    header = [cell.value for cell in sheet[1]]
    sheet.cell(row=2, column=header.index("解析") + 1, value="审阅后改写的解析。")
    sheet.cell(row=3, column=header.index("编号") + 1, value=None)          # matched again by its text
    sheet.append(["", "判断", "巡查发现异常要当天记录并报告。", None, None, None, None, None, None, "对",
                  "巡视检查", "易", "如实记录、及时报告。", "责任清单·岗位职责·大坝巡查岗"])
    workbook.save(exported)
    report = import_questions(exported, folder)
    assert (report.added, report.updated, report.unchanged) == (1, 1, len(original.questions) - 1)
    pack = content_packs.load_pack(folder)
    assert pack.version == original.version + 1
    assert pack.questions[0].explanation == "审阅后改写的解析。"
    assert pack.questions[1] == original.questions[1]
    assert pack.questions[-1].id == f"dam-safety-{len(original.questions) + 1:03d}"


def test_exported_sheet_uses_the_authors_columns(tmp_path):
    pack = content_packs.load_pack(PACKS_ROOT / "quiz_flood_duty")
    export_questions(pack, tmp_path / "out.xlsx")
    sheet = load_workbook(tmp_path / "out.xlsx").active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert rows[0] == ["编号", "题型", "题目", "选项A", "选项B", "选项C", "选项D", "选项E", "选项F", "答案",
                       "知识点", "难度", "解析", "出处"]
    labels = {row[1] for row in rows[1:]}
    assert labels == {"单选", "多选", "判断", "填空"}
    assert {row[11] for row in rows[1:]} == {"易", "中", "难"}


def test_id_prefix():
    assert id_prefix("quiz_dam_safety") == "dam-safety"
    assert id_prefix("morning-quiz") == "morning-quiz"
