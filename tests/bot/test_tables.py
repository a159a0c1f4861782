"""bot.tables on its own: CSV encodings, XLSX, cell text, finding the header and matching its columns."""
from __future__ import annotations

import re
from datetime import date, datetime

import openpyxl
import pytest

from bot import tables


class SheetError(ValueError):
    pass


def describe_missing(line: int, missing: list[str]) -> str:
    return f"第 {line} 行缺少：{'、'.join(missing)}"


SPEC = tables.HeaderSpec(
    names={"code": "编码", "title": "名称", "note": "备注", "phone": "手机"},
    headers={"编码": "code", "code": "code", "名称": "title", "备注": "note", "手机": "phone"},
    fallback_headers={"电话": "phone"},
    required=("code", "title"),
    is_header=lambda fields: "code" in fields,
    key=lambda cell: re.sub(r"\s", "", cell).lower(),
    error=SheetError,
    empty="空文件",
    describe_missing=describe_missing,
)
ROWS = [["编码", "名称"], ["a1", "闸门"], ["a2", "水泵"]]


def read(path):
    return tables.read_rows(path, clean=tables.cell_text, error=SheetError, undecodable="编码不认识")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gb18030", "utf-16"])
def test_csv_in_each_encoding(tmp_path, encoding):
    path = tmp_path / "t.csv"
    path.write_bytes("编码,名称\na1,闸门\na2,水泵\n".encode(encoding))

    assert read(path) == ROWS


def test_tab_separated_text(tmp_path):
    path = tmp_path / "t.txt"
    path.write_bytes("编码\t名称\na1\t闸门\na2\t水泵\n".encode("utf-8"))

    assert read(path) == ROWS


def test_undecodable_csv_uses_the_callers_message_and_error(tmp_path):
    path = tmp_path / "t.csv"
    path.write_bytes(b"\x81\x30\xff\xff")

    with pytest.raises(SheetError, match="^编码不认识$"):
        read(path)


def test_xlsx_cells_become_text(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["编码", "名称", "数量", "日期"])
    workbook.active.append(["a1", " 闸门\u200b ", 3.0, datetime(2026, 5, 1, 8, 30)])
    path = tmp_path / "t.xlsx"
    workbook.save(path)

    assert read(path) == [["编码", "名称", "数量", "日期"], ["a1", "闸门", "3", "2026-05-01T08:30:00"]]


def test_xlsx_is_recognised_by_content_whatever_the_name(tmp_path):
    workbook = openpyxl.Workbook()
    workbook.active.append(["编码", "名称"])
    path = tmp_path / "t.csv"
    workbook.save(path)

    assert read(path) == [["编码", "名称"]]


def test_old_xls_and_broken_xlsx_are_refused(tmp_path):
    old = tmp_path / "t.xls"
    old.write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 60)
    broken = tmp_path / "t.xlsx"
    broken.write_bytes(b"not a workbook")

    with pytest.raises(SheetError, match="旧版 .xls"):
        read(old)
    with pytest.raises(SheetError, match="无法读取这个 Excel 文件"):
        read(broken)


def test_cell_text():
    assert tables.cell_text(None) == ""
    assert tables.cell_text(12.0) == "12" and tables.cell_text(1.5) == "1.5"
    assert tables.cell_text(date(2026, 1, 2)) == "2026-01-02"
    assert tables.cell_text("\ufeff ＡＢ：\u200b ") == "ＡＢ："
    assert tables.cell_text("\ufeff ＡＢ：\u200b ", fold_width=True) == "AB:"


def test_header_found_after_blank_and_title_rows():
    table = [["", ""], ["2026 年设备清单"], [], ["序号", " 编码 ", "名称", "备注"], ["1", "a1", "闸门", ""]]

    assert tables.find_header(table, SPEC) == (3, {1: "code", 2: "title", 3: "note"})


def test_header_only_looked_for_in_the_first_rows():
    table = [[f"标题 {n}"] for n in range(10)] + [["编码", "名称"]]

    with pytest.raises(SheetError, match="^第 1 行缺少：编码、名称$"):
        tables.find_header(table, SPEC)


def test_duplicate_column_refused():
    with pytest.raises(SheetError, match="^表头中「名称」列出现了不止一次（第 3 列重复）$"):
        tables.find_header([["编码", "名称", "名称"]], SPEC)


def test_missing_required_column_message_names_the_line():
    with pytest.raises(SheetError, match="^第 2 行缺少：名称$"):
        tables.find_header([["清单"], ["编码", "备注"]], SPEC)


def test_empty_table_uses_the_empty_message():
    with pytest.raises(SheetError, match="^空文件$"):
        tables.find_header([[], ["", ""]], SPEC)


def test_fallback_header_only_when_the_main_one_is_absent():
    assert tables.find_header([["编码", "名称", "电话"]], SPEC)[1] == {0: "code", 1: "title", 2: "phone"}
    assert tables.find_header([["编码", "电话", "名称", "手机"]], SPEC)[1] == {0: "code", 2: "title", 3: "phone"}
