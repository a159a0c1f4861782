"""Import Markdown/TXT folders and Excel/CSV link sheets into a push-pack draft (all or nothing)."""
from __future__ import annotations

import shutil
from pathlib import Path

from flask import Flask
from openpyxl import Workbook

from content_packs import PACKS_ROOT, load_pack
from content_packs.__main__ import main as module_main
from content_packs.cli import register_cli
from content_packs.push_import import import_items

COHORTS = ["青年", "临退休", "退休", "工程运维", "调度管理"]
NOTICE = """\
# 汛期值班须知

主题：值班制度、防汛

1. 值班人员不得擅离岗位。
2. 发现异常立即报告。
"""
LECTURE = "大坝巡查要看坝坡、排水沟和溢洪道。\n"      # no heading, no 主题: title and topics from the names
SHEET = [
    ["2026 年学习资料清单"],                            # a title row above the header
    ["标题", "链接", "简介", "主题", "形式"],
    ["节水小课堂", "https://example.org/v/water", "一分钟看懂家庭节水", "节水", "视频"],
    ["河长制问答", "https://example.org/n/river", "河长制的六项任务", "河长制、河湖管理", "news"],
]


def make_notes(root: Path) -> Path:
    notes = root / "讲座笔记"
    (notes / "大坝巡查").mkdir(parents=True)
    (notes / "01-值班须知.md").write_text(NOTICE, "utf-8")
    (notes / "大坝巡查" / "巡查要点.txt").write_bytes(LECTURE.encode("gb18030"))
    (notes / "~$草稿.md").write_text("Excel/Word lock files are skipped", "utf-8")
    return notes


def make_sheet(path: Path, rows=SHEET) -> Path:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    workbook.save(path)
    return path


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()} if folder.exists() else {}


def test_folder_and_sheet_become_a_draft_that_loads(tmp_path):
    pack_dir = tmp_path / "push_notice_board"
    report = import_items([make_notes(tmp_path), make_sheet(tmp_path / "链接.xlsx")], pack_dir,
                          title="宣传栏和讲座", audience="青年、工程运维", cohorts=COHORTS)
    assert report.ok, report.errors
    assert (report.created, report.added, report.version) == (True, 4, 1)
    pack = load_pack(pack_dir, cohorts=COHORTS)
    assert (pack.id, pack.version, pack.kind, pack.title) == ("push_notice_board", 1, "push", "宣传栏和讲座")
    assert pack.audience == ("青年", "工程运维")
    by_title = {item.title: item for item in pack.items}
    assert set(by_title) == {"汛期值班须知", "巡查要点", "节水小课堂", "河长制问答"}
    notice = by_title["汛期值班须知"]
    assert notice.topics == ("值班制度", "防汛") and notice.forms == ("text",)
    assert notice.text.body.startswith("1. 值班人员不得擅离岗位。") and "主题" not in notice.text.body
    assert by_title["巡查要点"].topics == ("大坝巡查",)          # the folder's name
    assert by_title["巡查要点"].text.body == LECTURE.strip()       # GB18030 decoded
    video = by_title["节水小课堂"]
    assert video.forms == ("text", "video") and video.video.summary == "一分钟看懂家庭节水"
    news = by_title["河长制问答"]
    assert news.forms == ("text", "news") and news.news.url == "https://example.org/n/river"
    assert news.topics == ("河长制", "河湖管理") and "https://example.org/n/river" in news.text.body


def test_a_bad_row_names_file_and_row_and_nothing_is_written(tmp_path):
    rows = [*SHEET, ["", "ftp://example.org/x", "", "节水", "图片"]]
    sheet = make_sheet(tmp_path / "链接.xlsx", rows)
    pack_dir = tmp_path / "push_new"
    report = import_items([make_notes(tmp_path), sheet], pack_dir)
    assert not report.ok
    assert not pack_dir.exists()
    where = f"{sheet} 第 5 行"
    assert f"{where}: 形式: 应为 news（图文）或 video（视频），实际为「图片」" in report.errors
    assert f"{where}: 标题: 不能为空" in report.errors
    assert f"{where}: 链接: 应为 http:// 或 https:// 开头的链接" in report.errors
    assert "本次没有写入任何文件" in report.summary()


def test_errors_in_an_existing_pack_leave_it_untouched(tmp_path):
    pack_dir = tmp_path / "push_flood_duty_stories"
    shutil.copytree(PACKS_ROOT / "push_flood_duty_stories", pack_dir)
    before = snapshot(pack_dir)
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "空白.md").write_text("# 只有标题\n主题：防汛\n", "utf-8")
    (notes / "a.md").write_text("编号: same\n正文一", "utf-8")
    (notes / "b.md").write_text("编号: same\n正文二", "utf-8")
    report = import_items([notes], pack_dir, audience="外星人", cohorts=COHORTS)
    assert report.errors == [f"{notes / '空白.md'}: 正文是空的",
                             f"{notes / 'b.md'}: 编号「same」与 {notes / 'a.md'} 相同，请用「编号」区分",
                             f"--audience: 没有人群「外星人」，可用：{'、'.join(sorted(COHORTS))}"]
    assert snapshot(pack_dir) == before


def test_reimport_bumps_version_updates_items_and_keeps_the_others(tmp_path):
    notes = make_notes(tmp_path)
    pack_dir = tmp_path / "push_notice_board"
    assert import_items([notes], pack_dir).ok
    first = load_pack(pack_dir)
    notice_id = next(item.id for item in first.items if item.title == "汛期值班须知")
    # an author adds a voice script and a hand-written item, and marks the notice mandatory
    text = (pack_dir / "items.yaml").read_text("utf-8").replace(
        f"- id: {notice_id}\n", f"- id: {notice_id}\n  mandatory: true\n  voice:\n    script: 值班不离岗。\n")
    text += "\n- id: hand-written\n  title: 手写条目\n  topics: [防汛]\n  text:\n    body: 手写的正文\n"
    (pack_dir / "items.yaml").write_text(text, "utf-8")

    (notes / "01-值班须知.md").write_text(NOTICE.replace("立即报告", "立即报告值班领导"), "utf-8")
    report = import_items([notes / "01-值班须知.md", make_sheet(tmp_path / "链接.xlsx")], pack_dir)
    assert report.ok, report.errors
    assert (report.added, report.updated, report.kept, report.version) == (2, 1, 2, 2)
    pack = load_pack(pack_dir)
    assert pack.version == 2
    notice = pack.item(notice_id)
    assert "立即报告值班领导" in notice.text.body
    assert notice.mandatory and notice.voice.script == "值班不离岗。"      # hand edits survive
    assert pack.item("hand-written").title == "手写条目"
    assert len(pack.items) == 5 and [item.id for item in pack.items[:3]] == [i.id for i in first.items] + [
        "hand-written"]


def test_reimporting_the_same_material_changes_nothing(tmp_path):
    notes = make_notes(tmp_path)
    pack_dir = tmp_path / "push_notice_board"
    assert import_items([notes], pack_dir).ok
    before = snapshot(pack_dir)
    report = import_items([notes], pack_dir)
    assert report.ok and (report.unchanged, report.version) == (2, 1)
    assert "仍为第 1 版" in report.summary()
    assert snapshot(pack_dir) == before


def test_new_title_on_reimport_keeps_comments_in_pack_yaml(tmp_path):
    pack_dir = tmp_path / "push_unit_history"
    shutil.copytree(PACKS_ROOT / "push_unit_history", pack_dir)
    report = import_items([make_sheet(tmp_path / "links.xlsx")], pack_dir, title="所史与链接")
    assert report.ok and report.version == 2
    manifest = (pack_dir / "pack.yaml").read_text("utf-8")
    assert manifest.startswith("# 演示推送包：所史回顾。") and "version: 2\n" in manifest
    assert load_pack(pack_dir).title == "所史与链接"


def test_only_push_packs_take_items(tmp_path):
    pack_dir = tmp_path / "quiz_dam_safety"
    shutil.copytree(PACKS_ROOT / "quiz_dam_safety", pack_dir)
    report = import_items([make_notes(tmp_path)], pack_dir)
    assert not report.ok and "只能往 push 类型的包导入条目" in report.errors[-1]


def test_cli_command_and_module_entry_point(tmp_path, capsys):
    app = Flask(__name__)
    register_cli(app)
    sheet = make_sheet(tmp_path / "链接.xlsx")
    result = app.test_cli_runner().invoke(args=["packs", "import-items", str(make_notes(tmp_path)), str(sheet),
                                                "--pack", str(tmp_path / "push_board"), "--title", "宣传栏"])
    assert result.exit_code == 0, result.output
    assert "已生成内容包草稿「push_board」第 1 版，共 4 条" in result.output
    assert module_main(["import-items", str(sheet), "--pack", str(tmp_path / "push_board"),
                        "--audience", "退休"]) == 0
    assert load_pack(tmp_path / "push_board").audience == ("退休",)
    assert module_main(["import-items", str(sheet), "--pack", str(tmp_path / "push_board"),
                        "--audience", "外星人"]) == 1
    assert "没有人群「外星人」" in capsys.readouterr().out
    assert module_main(["import-items", str(sheet)]) == 2


def test_cli_rejects_bad_rows_with_exit_code_1(tmp_path):
    app = Flask(__name__)
    register_cli(app)
    csv = tmp_path / "links.csv"
    csv.write_text("标题,链接,简介,主题,形式\n节水,https://example.org/a,,节水,video\n", "utf-8")
    result = app.test_cli_runner().invoke(args=["packs", "import-items", str(csv), "--pack",
                                                str(tmp_path / "push_x")])
    assert result.exit_code == 1
    assert f"{csv} 第 2 行: 简介: 不能为空" in result.output
    assert not (tmp_path / "push_x").exists()
