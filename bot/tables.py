"""Tabular imports: read a CSV or XLSX file as rows of text, and find its header row."""
from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_XLSX_MAGIC, _XLS_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0"


@dataclass(frozen=True)
class HeaderSpec:
    """How one kind of table names its columns, and what to tell the user when its header is wrong.

    Fields are the caller's own keys ("userid", "text" …); ``headers`` maps the texts people write
    in the header row to those keys, compared after ``key`` on both sides.
    """

    names: Mapping[str, str]                       # field → the column name used in messages
    headers: Mapping[str, str]                     # header text → field
    required: tuple[str, ...]
    is_header: Callable[[set[str]], bool]          # do the fields a row names make it the header?
    key: Callable[[str], str]                      # header text → the form headers are compared in
    error: type[Exception]
    empty: str                                     # the message for a file without a non-empty row
    describe_missing: Callable[[int, list[str]], str]   # (line, missing column names) → message
    # consulted only for a field no column of ``headers`` matched; the first such column wins
    fallback_headers: Mapping[str, str] = field(default_factory=dict)
    scan: int = 10      # a title row or two ("某某所职工花名册") may sit above the header


def read_rows(path: Path, *, clean: Callable[[Any], str], error: type[Exception],
              undecodable: str) -> list[list[str]]:
    """Every row of an .xlsx or .csv file as text; row i is line i + 1 of the file.

    CSV may be UTF-8 (with or without BOM), UTF-16 with BOM or GB18030, comma- or tab-separated.

    Args:
        path: the file to read.
        clean: turns one cell value (str, number, date, None …) into text.
        error: the caller's exception for a file that cannot be read as a table.
        undecodable: the message when no known encoding decodes the file.

    Returns:
        The rows, each a list of cleaned cells.

    Raises:
        error: an old .xls file, a broken .xlsx, or an unknown encoding.
        OSError: the file cannot be opened.
    """
    data = path.read_bytes()
    if data.startswith(_XLS_MAGIC):
        raise error("这是旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    if data.startswith(_XLSX_MAGIC) or path.suffix.lower() in (".xlsx", ".xlsm"):
        return _read_xlsx(data, clean=clean, error=error)
    text = _decode(data, error=error, undecodable=undecodable)
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    # Excel's "Unicode text" export is tab-separated; its CSV export uses commas
    delimiter = "\t" if "\t" in first_line and "," not in first_line else ","
    return [[clean(cell) for cell in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def cell_text(value: Any, *, fold_width: bool = False) -> str:
    """A cell as trimmed text: Excel's 3.0 as "3", dates in ISO form, zero-width characters dropped.

    Args:
        value: the cell as openpyxl or the csv module gave it.
        fold_width: also apply NFKC (full-width → half-width); right for codes and names, not prose.
    """
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, (datetime, date)):
        value = value.isoformat()
    text = unicodedata.normalize("NFKC", str(value)) if fold_width else str(value)
    return text.translate(_INVISIBLE).strip()


def find_header(table: list[list[str]], spec: HeaderSpec) -> tuple[int, dict[int, str]]:
    """Find the header among the first non-empty rows and match its columns to fields.

    Every scanned row is matched; the first one ``spec.is_header`` accepts is the header,
    else the first non-empty row (so the missing-column message names a line).

    Returns:
        (row index, column index → field); columns with unknown headers are left out.

    Raises:
        spec.error: the table is empty, a field's column appears twice, or a required one is missing.
    """
    candidates = [index for index, row in enumerate(table) if any(row)][:spec.scan]
    if not candidates:
        raise spec.error(spec.empty)
    matched = [(index, _match_columns(table[index], spec)) for index in candidates]
    index, columns = next(((i, c) for i, c in matched if spec.is_header(set(c.values()))), matched[0])
    missing = [spec.names[name] for name in spec.required if name not in columns.values()]
    if missing:
        raise spec.error(spec.describe_missing(index + 1, missing))
    return index, columns


def _match_columns(cells: list[str], spec: HeaderSpec) -> dict[int, str]:
    headers = {spec.key(text): name for text, name in spec.headers.items()}
    columns: dict[int, str] = {}
    for col, cell in enumerate(cells):
        name = headers.get(spec.key(cell))
        if name is None:
            continue
        if name in columns.values():
            raise spec.error(f"表头中「{spec.names[name]}」列出现了不止一次（第 {col + 1} 列重复）")
        columns[col] = name
    fallbacks = {spec.key(text): name for text, name in spec.fallback_headers.items()}
    for col, cell in enumerate(cells):
        name = fallbacks.get(spec.key(cell))
        if name is not None and name not in columns.values():
            columns[col] = name
    return columns


def _read_xlsx(data: bytes, *, clean: Callable[[Any], str], error: type[Exception]) -> list[list[str]]:
    # imported here: openpyxl pulls in numpy and Pillow, which the web workers must not carry
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError) as exc:
        raise error(f"无法读取这个 Excel 文件（{exc}），请另存为 .xlsx 或 CSV 后再试") from None
    try:
        return [[clean(cell) for cell in row] for row in workbook.worksheets[0].iter_rows(values_only=True)]
    finally:
        workbook.close()     # read-only workbooks keep the file open until closed


def _decode(data: bytes, *, error: type[Exception], undecodable: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return data.decode("utf-16")
    for encoding in ("utf-8-sig", "gb18030"):     # Excel on a Chinese Windows saves CSV in the ANSI code page
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise error(undecodable)
