"""The quiz authors' table (Excel or CSV): 题型, 题目, 选项A…选项F, 答案, 知识点, 难度, 解析, 出处 (+ 编号)."""
from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bot import tables
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
_WIDTHS = {"text": 48, "explanation": 48, "source": 28, "topics": 18}


class TableFileError(ValueError):
    """The file cannot be read as a question table at all (format, encoding, header)."""


def _header_key(cell: str) -> str:
    return re.sub(r"[\s*:：]", "", fold(cell)).upper()


_HEADER = tables.HeaderSpec(
    names=COLUMNS,
    headers={**{name: key for key, name in COLUMNS.items()}, **_ALIASES, **{letter: letter for letter in LETTERS},
             **{f"{letter}选项": letter for letter in LETTERS}},
    required=REQUIRED, is_header=lambda keys: {"type", "text"} <= keys, key=_header_key, error=TableFileError,
    empty="文件是空的，没有找到表头和题目",
    describe_missing=lambda line, missing: (f"第 {line} 行表头缺少列：{'、'.join(missing)}"
                                            f"（表头应为：{'、'.join(COLUMNS.values())}；编号、难度可省略）"),
)


def read_table(path: Path) -> list[list[str]]:
    """Every row of an .xlsx or .csv file as trimmed strings; row i is line i + 1."""
    return tables.read_rows(path, clean=_cell, error=TableFileError,
                            undecodable="无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx")


def table_drafts(table: list[list[str]]) -> list[Draft]:
    """One Draft per non-empty row under the header.

    Raises:
        TableFileError: no header with the required columns, or nothing under it.
    """
    header_index, columns = tables.find_header(table, _HEADER)
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
    # imported here: openpyxl pulls in numpy and Pillow, which the web workers must not carry
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

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


def _cell(value: Any) -> str:
    """A cell as trimmed text; prose keeps its full-width punctuation (codes are folded where read)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return tables.cell_text(value)


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

