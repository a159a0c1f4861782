"""`flask packs check | import-questions | export-questions`, and `python -m content_packs check`."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from flask import Flask
from openpyxl import load_workbook

from bot import audit, db
from content_packs import PACKS_ROOT
from content_packs.__main__ import main as module_main
from content_packs.cli import register_cli

from .test_pack_errors import GOOD_QUESTION, make_pack
from .test_quiz_import import GIFT, MANIFEST


def bare_app(root: Path) -> Flask:
    app = Flask(__name__)
    app.config["CONTENT_PACKS_DIR"] = str(root)
    register_cli(app)
    return app


def run(app: Flask, *args: str):
    return app.test_cli_runner().invoke(args=["packs", *args])


def test_check_passes_on_the_real_tree():
    result = run(bare_app(PACKS_ROOT), "check")
    assert result.exit_code == 0, result.output
    assert result.output.strip() == f"全部 {len(list(PACKS_ROOT.glob('*/pack.yaml')))} 个内容包校验通过"


def test_check_lists_every_error_with_file_and_line(tmp_path):
    make_pack(tmp_path, "good")
    make_pack(tmp_path, "bad", GOOD_QUESTION.replace("answer: A", "answer: AB").replace("difficulty: 1", "difficulty: 9"))
    result = run(bare_app(tmp_path), "check")
    assert result.exit_code == 1
    lines = result.stdout.strip().splitlines()
    assert [line.split(": ")[1] for line in lines] == ["questions[0].answer", "questions[0].difficulty"]
    assert all("bad/questions.yaml:" in line for line in lines)


def test_check_uses_the_apps_cohorts(tmp_path):
    make_pack(tmp_path, "aud", audience="[外星人]")
    app = bare_app(tmp_path)
    app.extensions["szzs.cohorts"] = type("Rules", (), {"names": ["青年"]})()
    result = run(app, "check")
    assert result.exit_code == 1 and "没有人群「外星人」" in result.output


def test_import_and_export_commands(tmp_path):
    folder = tmp_path / "quiz_duty_test"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    gift = tmp_path / "q.gift"
    gift.write_text(GIFT, "utf-8")
    app = bare_app(tmp_path)
    result = run(app, "import-questions", str(gift), "--pack", str(folder))
    assert result.exit_code == 0, result.output
    assert "新增 5 题" in result.output and "第 4 版" in result.output
    out = tmp_path / "out.xlsx"
    result = run(app, "export-questions", "quiz_duty_test", str(out))
    assert result.exit_code == 0, result.output
    assert "已导出 5 道题（quiz_duty_test@4）" in result.output
    assert load_workbook(out).active.max_row == 6


def test_import_command_fails_on_bad_rows(tmp_path):
    folder = tmp_path / "quiz_duty_test"
    folder.mkdir()
    (folder / "pack.yaml").write_text(MANIFEST, "utf-8")
    gift = tmp_path / "q.gift"
    gift.write_text("::无解::汛期要值班。{T}\n", "utf-8")
    result = run(bare_app(tmp_path), "import-questions", str(gift), "--pack", str(folder))
    assert result.exit_code == 1
    assert "本次没有导入任何题目" in result.output and "缺少知识点" in result.output


def test_export_of_an_unknown_pack(tmp_path):
    result = run(bare_app(PACKS_ROOT), "export-questions", "quiz_nope", str(tmp_path / "x.xlsx"))
    assert result.exit_code == 1 and "没有题库「quiz_nope」" in result.output and "quiz_dam_safety" in result.output


def test_import_is_audited_when_the_app_has_a_database(app, tmp_path):
    register_cli(app)
    folder = tmp_path / "quiz_duty_test"
    shutil.copytree(PACKS_ROOT / "quiz_flood_duty", folder)
    gift = tmp_path / "q.gift"
    gift.write_text(GIFT, "utf-8")
    result = app.test_cli_runner().invoke(args=["packs", "import-questions", str(gift), "--pack", str(folder)])
    assert result.exit_code == 0, result.output
    [entry] = audit.recent(db.get_session())
    assert (entry.actor, entry.command, entry.result) == ("cli", "packs import-questions", "ok")


@pytest.mark.parametrize(("argv", "code"), [(["check"], 0), ([], 2), (["lint"], 2)])
def test_module_entry_point(argv, code, capsys):
    assert module_main(argv) == code
    if code == 0:
        assert "个内容包校验通过" in capsys.readouterr().out


def test_module_entry_point_reports_errors(tmp_path, capsys):
    make_pack(tmp_path, "bad", GOOD_QUESTION.replace("answer: A", "answer: Q"))
    assert module_main(["check", str(tmp_path)]) == 1
    assert "questions[0].answer" in capsys.readouterr().out
