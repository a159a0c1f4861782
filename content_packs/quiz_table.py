"""The quiz authors' table (Excel or CSV): 题型, 题目, 选项A…选项F, 答案, 知识点, 难度, 解析, 出处 (+ 编号)."""
from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from content_packs.answers import LETTERS, AnswerError, fold, parse_truth
from content_packs.quiz_drafts import DIFFICULTY_LABELS, TYPE_LABELS, Draft, parse_difficulty, parse_type, split_topics
from content_packs.schema import Question

# column key → header, in the order export writes them; option columns are keyed by their letter
COLUMNS = {"id": "编号", "type": "题型", "text": "题目", **{letter: f"选项{letter}" for letter in LETTERS},
           "answer": "答案", "topics": "知识点", "difficulty": "难度", "explanation": "解析", "source": "出处"}
REQUIRED = ("type", "text", "answer", "topics", "explanation", "source")
_ALIASES = {
    "题号": "id", "题目编号": "id", "id": "id", "类型": "type", "题目类型": "type", "试题类型": "type",
    "题干": "text", "试题": "text", "题目内容": "text", "试题内容": "text", "正确答案": "answer",
    "参考答案": "answer", "标准答案": "answer", "标签": "topics", "考点": "topics", "知识点标签": "topics",
    "难易程度": "difficulty", "难度等级": "difficulty", "难易度": "difficulty", "答案解析": "explanation",
    "试题解析": "explanation", "解析说明": "explanation", "来源": "source", "依据": "source",
    "出题依据": "source", "题目出处": "source",
}
_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_XLSX_MAGIC, _XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"
_HEADER_SCAN = 10        # a title row ("2026 年防汛知识题库") may sit above the header
_WIDTHS = {"text": 48, "explanation": 48, "source": 28, "topics": 18}


class TableFileError(ValueError):
    """The file cannot be read as a question table at all (format, encoding, header)."""


def read_table(path: Path) -> list[list[str]]:
    """Every row of an .xlsx or .csv file as trimmed strings; row i is line i + 1."""
    data = path.read_bytes()
    if data.startswith(_XLS_MAGIC):
        raise TableFileError("这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    if data.startswith(_XLSX_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(data)
    text = _decode(data)
    first = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = "\t" if "\t" in first and "," not in first else ","
    return [[_cell(value) for value in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def table_drafts(table: list[list[str]]) -> list[Draft]:
    """One Draft per non-empty row under the header.

    Raises:
        TableFileError: no header with the required columns, or nothing under it.
    """
    header_index, columns = _find_header(table)
    drafts = []
    for index in range(header_index + 1, len(table)):
        cells = table[index]
        if any(cells):
            raw = {key: cells[col] if col < len(cells) else "" for col, key in columns.items()}
            drafts.append(_row_draft(index + 1, raw))
    if not drafts:
        raise TableFileError("表格里只有表头，没有题目")
    return drafts


def write_xlsx(questions: Iterable[Question], path: Path, *, sheet_title: str) -> None:
    """Write questions in the authors' form, ready to review in Excel and import again."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = sheet_title[:31]
    sheet.append(list(COLUMNS.values()))
    for question in questions:
        sheet.append([_export_value(question, key) for key in COLUMNS])
    for col, key in enumerate(COLUMNS, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = _WIDTHS.get(key, 12 if len(key) > 1 else 16)
        sheet.cell(row=1, column=col).font = Font(bold=True)
        sheet.cell(row=1, column=col).fill = PatternFill("solid", fgColor="DDEBF7")
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "C2"
    workbook.save(path)


def _export_value(question: Question, key: str) -> Any:
    if key in LETTERS:
        return question.options.get(key)
    if key == "type":
        return TYPE_LABELS[question.type]
    if key == "answer":
        return question.answer_label
    if key == "topics":
        return "、".join(question.topics)
    if key == "difficulty":
        return DIFFICULTY_LABELS[question.difficulty]
    return getattr(question, key)


def _read_xlsx(data: bytes) -> list[list[str]]:
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise TableFileError(f"无法读取这个 Excel 文件（{exc}），请另存为 .xlsx 或 CSV 后再试") from None
    try:
        return [[_cell(value) for value in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()


def _decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):     # Excel on Chinese Windows saves CSV as GB18030 (ANSI)
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise TableFileError("无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx")


def _cell(value: Any) -> str:
    """A cell as trimmed text; prose keeps its full-width punctuation (codes are folded where read)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    return str(value).translate(_INVISIBLE).strip()


def _find_header(table: list[list[str]]) -> tuple[int, dict[int, str]]:
    candidates = [index for index, row in enumerate(table) if any(row)][:_HEADER_SCAN]
    if not candidates:
        raise TableFileError("文件是空的，没有找到表头和题目")
    matched = [(index, _match_columns(table[index])) for index in candidates]
    index, columns = next(((i, c) for i, c in matched if {"type", "text"} <= set(c.values())), matched[0])
    missing = [COLUMNS[key] for key in REQUIRED if key not in columns.values()]
    if missing:
        raise TableFileError(f"第 {index + 1} 行表头缺少列：{'、'.join(missing)}"
                             f"（表头应为：{'、'.join(COLUMNS.values())}；编号、难度可省略）")
    return index, columns


def _match_columns(cells: list[str]) -> dict[int, str]:
    by_header = {_header_key(name): key for key, name in COLUMNS.items()}
    by_header.update({_header_key(alias): key for alias, key in _ALIASES.items()})
    by_header.update({letter: letter for letter in LETTERS} | {f"{letter}选项": letter for letter in LETTERS})
    columns: dict[int, str] = {}
    for col, cell in enumerate(cells):
        key = by_header.get(_header_key(cell))
        if key is None:
            continue
        if key in columns.values():
            raise TableFileError(f"表头中「{COLUMNS[key]}」列出现了不止一次（第 {col + 1} 列重复）")
        columns[col] = key
    return columns


def _header_key(cell: str) -> str:
    return re.sub(r"[\s*:：]", "", fold(cell)).upper()


def _row_draft(line: int, raw: dict[str, str]) -> Draft:
    draft = Draft(label=f"第 {line} 行")
    qtype = parse_type(raw["type"])
    if qtype is None:
        draft.fail("type", f"应为 单选、多选、判断 或 填空，实际为「{raw['type']}」" if raw["type"] else "不能为空")
    difficulty = parse_difficulty(raw.get("difficulty", ""))
    if difficulty is None:
        draft.fail("difficulty", f"应为 易、中、难 或 1、2、3，实际为「{raw['difficulty']}」")
    options = {letter: raw[letter] for letter in LETTERS if raw.get(letter)}
    answer: Any = raw["answer"]
    if qtype == "truefalse":
        answer = _truth_from_option(answer, options)
        options = {}
    draft.fields = {
        "id": fold(raw.get("id", "")) or None, "type": qtype or raw["type"], "text": raw["text"],
        "options": options, "answer": answer, "topics": split_topics(raw["topics"]),
        "difficulty": difficulty or 0, "explanation": raw["explanation"], "source": raw["source"],
    }
    return draft


def _truth_from_option(answer: str, options: dict[str, str]) -> str:
    """Some forms write 判断 as 选项A 正确 / 选项B 错误 with answer A: use the chosen option's word."""
    letter = fold(answer).upper()
    if letter in options:
        try:
            return "true" if parse_truth(options[letter]) else "false"
        except AnswerError:
            return answer
    return answer

