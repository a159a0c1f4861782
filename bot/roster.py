"""Roster import: read a CSV or XLSX member list, check every row, then write members and the org tree."""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import org, tables
from bot.models import Member, OrgUnit
from bot.models.core import MemberStatus, OrgKind

# canonical field → the Chinese column name used in every message
FIELDS: dict[str, str] = {
    "userid": "工号", "name": "姓名", "department": "部门", "team": "班组", "post": "岗位",
    "post_category": "岗位类别", "birth_year": "出生年份", "status": "状态", "phone": "手机",
}
REQUIRED_COLUMNS = ("userid", "name", "department")
MIN_BIRTH_YEAR = 1930

# headers are compared after _header_key(): NFKC, lower case, no spaces, no '*' markers
_HEADERS = {
    **{name: key for key, name in FIELDS.items()}, **{key: key for key in FIELDS},
    "user_id": "userid", "账号": "userid", "手机号": "phone", "手机号码": "phone", "mobile": "phone",
    "所在部门": "department", "所在班组": "team", "出生年": "birth_year", "人员状态": "status",
}
# an office landline column is only the phone when there is no mobile column
_FALLBACK_HEADERS = {"电话": "phone", "联系电话": "phone", "tel": "phone"}
_STATUSES = {
    "": MemberStatus.ACTIVE.value, "在职": MemberStatus.ACTIVE.value, "在岗": MemberStatus.ACTIVE.value,
    "active": MemberStatus.ACTIVE.value, "退休": MemberStatus.RETIRED.value,
    "已退休": MemberStatus.RETIRED.value, "退休人员": MemberStatus.RETIRED.value,
    "retired": MemberStatus.RETIRED.value,
}
_MAX_CHARS = {"name": 64, "department": 64, "team": 64, "post": 64, "post_category": 32}
_USERID = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_YEAR = re.compile(r"^(\d{4})(?:\.0+|年)?$")      # "1985", "1985.0" (Excel), "1985年"


class RosterFileError(ValueError):
    """The file cannot be read as a roster at all (format, encoding, header)."""


class _Bad(ValueError):
    """One cell is wrong; the message continues '第 N 行「列」…'."""


def _header_key(cell: str) -> str:
    return re.sub(r"[\s*]", "", cell).lower()


_HEADER = tables.HeaderSpec(
    names=FIELDS, headers=_HEADERS, fallback_headers=_FALLBACK_HEADERS, required=REQUIRED_COLUMNS,
    is_header=lambda fields: bool({"userid", "name"} & fields), key=_header_key, error=RosterFileError,
    empty="文件是空的，没有找到表头和人员数据",
    describe_missing=lambda line, missing: (f"第 {line} 行表头缺少列：{'、'.join(missing)}"
                                            f"（表头需有：{'、'.join(FIELDS.values())}，手机可省略）"),
)


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)    # userids in the unit but not in the file

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """The report in Chinese, for the CLI and for admins in chat."""
        if self.errors:
            head = f"名单中有 {len(self.errors)} 处问题，本次没有导入任何数据。请改正后重新导入："
            return "\n".join([head, *self.errors])
        text = f"名单导入完成：新增 {self.added} 人，更新 {self.updated} 人，未变 {self.unchanged} 人。"
        if self.missing:
            text += (f"\n另有 {len(self.missing)} 人在系统中但不在本次名单里（未删除，请管理员确认）："
                     + "、".join(self.missing))
        return text


def import_roster(session: Session, path_or_rows: str | Path | Iterable[Sequence[Any] | Mapping[str, Any]], *,
                  unit_name: str, now: datetime) -> ImportReport:
    """Import a member list: all rows or nothing.

    Members absent from the file are kept and listed in ``report.missing``.
    Commits on success; writes nothing when any row is bad.

    Args:
        session: the SQL session to write with.
        path_or_rows: a .csv/.xlsx path, or rows (a header row first, or mappings header → value).
        unit_name: the name of the org tree's root (kind ``unit``).
        now: aware current time; stamps ``updated_at`` and bounds birth years.

    Returns:
        The report; ``report.errors`` lists every bad row when nothing was written.

    Raises:
        ValueError: ``unit_name`` is empty.
        OSError: the file cannot be opened.
        sqlalchemy.exc.SQLAlchemyError: the database failed; the transaction was rolled back.
    """
    unit_name = _clean(unit_name)
    if not unit_name:
        raise ValueError("unit_name must name the unit, e.g. 水库管理所")
    try:
        rows, present = _parse(_read_table(path_or_rows), this_year=now.year)
    except RosterFileError as exc:
        return ImportReport(errors=[str(exc)])
    errors = [error for _line, _values, row_errors in rows for error in row_errors]
    if errors:
        return ImportReport(errors=errors)
    try:
        report = _write(session, [values for _line, values, _ in rows], present,
                        unit_name=unit_name, now=now)
        session.commit()
    except Exception:
        session.rollback()      # a database failure half-way must not leave half a roster
        raise
    return report


# ---- reading ---------------------------------------------------------------------------------

def _read_table(source: str | Path | Iterable) -> list[list[str]]:
    """Every row of the source as cleaned strings, row i being line i + 1 of the file."""
    if isinstance(source, (str, Path)):
        return tables.read_rows(Path(source), clean=_clean, error=RosterFileError,
                                undecodable="无法识别文件编码，请把名单另存为 UTF-8 编码的 CSV 或 .xlsx")
    rows = list(source)
    if rows and isinstance(rows[0], Mapping):
        header = list(rows[0].keys())
        rows = [header, *([row.get(key) for key in header] for row in rows)]
    return [[_clean(cell) for cell in row] for row in rows]


def _clean(value: Any) -> str:
    """A cell as text: Excel numbers without '.0', full-width folded to half-width, trimmed."""
    if isinstance(value, datetime):
        value = value.date()     # Excel stores a date with a midnight time; the roster means the day
    return tables.cell_text(value, fold_width=True)


# ---- checking --------------------------------------------------------------------------------

def _parse(table: list[list[str]], *, this_year: int) -> tuple[list[tuple[int, dict, list[str]]], set[str]]:
    """Check every data row; returns (line, values, errors) per row and the fields the file has."""
    header_index, columns = tables.find_header(table, _HEADER)
    rows: list[tuple[int, dict, list[str]]] = []
    first_line: dict[str, int] = {}
    for index in range(header_index + 1, len(table)):
        cells = table[index]
        if not any(cells):
            continue
        line = index + 1
        raw = {name: cells[col] if col < len(cells) else "" for col, name in columns.items()}
        values, errors = _check_row(line, raw, this_year=this_year)
        userid_key = values.get("userid", "").lower()   # WeCom userids are case-insensitive
        if userid_key in first_line:
            errors.append(f"第 {line} 行「工号」「{values['userid']}」与第 {first_line[userid_key]} 行重复")
        elif userid_key:
            first_line[userid_key] = line
        rows.append((line, values, errors))
    if not rows:
        raise RosterFileError("名单里只有表头，没有人员数据")
    return rows, set(columns.values())


def _check_row(line: int, raw: dict[str, str], *, this_year: int) -> tuple[dict, list[str]]:
    values: dict[str, Any] = {}
    errors: list[str] = []
    for name, text in raw.items():
        try:
            values[name] = _CHECKS[name](text, this_year)
        except _Bad as exc:
            errors.append(f"第 {line} 行「{FIELDS[name]}」{exc}")
    return values, errors


def _check_userid(text: str, _year: int) -> str:
    if not text:
        raise _Bad("不能为空")
    if not _USERID.match(text):
        raise _Bad(f"只能包含字母、数字和 _ . @ -，最长 64 位，实际为「{text}」")
    return text


def _required(limit: int) -> Callable[[str, int], str]:
    def check(text: str, year: int) -> str:
        if not text:
            raise _Bad("不能为空")
        return _optional(limit)(text, year)
    return check


def _optional(limit: int) -> Callable[[str, int], str]:
    def check(text: str, _year: int) -> str:
        if len(text) > limit:
            raise _Bad(f"不能超过 {limit} 个字，实际有 {len(text)} 个字")
        return text
    return check


def _check_birth_year(text: str, this_year: int) -> int | None:
    if not text:
        return None
    match = _YEAR.match(text)
    if not match:
        raise _Bad(f"应为四位年份，实际为「{text}」")
    year = int(match.group(1))
    if not MIN_BIRTH_YEAR <= year <= this_year:
        raise _Bad(f"应在 {MIN_BIRTH_YEAR} 到 {this_year} 之间，实际为「{text}」")
    return year


def _check_status(text: str, _year: int) -> str:
    status = _STATUSES.get(text.lower())
    if status is None:
        raise _Bad(f"应为「在职」或「退休」，实际为「{text}」")
    return status


def _check_phone(text: str, _year: int) -> str | None:
    digits = re.sub(r"[\s\-()]", "", text)
    if not digits:
        return None
    if not re.fullmatch(r"\+?\d{3,20}", digits):
        raise _Bad(f"只能填数字，实际为「{text}」")
    return digits


_CHECKS: dict[str, Callable[[str, int], Any]] = {
    "userid": _check_userid, "name": _required(_MAX_CHARS["name"]),
    "department": _required(_MAX_CHARS["department"]), "team": _optional(_MAX_CHARS["team"]),
    "post": _optional(_MAX_CHARS["post"]), "post_category": _optional(_MAX_CHARS["post_category"]),
    "birth_year": _check_birth_year, "status": _check_status, "phone": _check_phone,
}


# ---- writing ---------------------------------------------------------------------------------

class _OrgTree:
    """Finds or creates the unit root, its departments and their teams, caching what it saw."""

    def __init__(self, session: Session, unit_name: str):
        self.session = session
        self._units: dict[tuple[int | None, str], OrgUnit] = {}
        self.root = self._get(None, unit_name, OrgKind.UNIT)

    def department(self, name: str) -> OrgUnit:
        return self._get(self.root.id, name, OrgKind.DEPARTMENT)

    def team(self, department: OrgUnit, name: str) -> OrgUnit:
        return self._get(department.id, name, OrgKind.TEAM)

    def _get(self, parent_id: int | None, name: str, kind: OrgKind) -> OrgUnit:
        key = (parent_id, name)
        if key not in self._units:
            query = select(OrgUnit).where(OrgUnit.name == name)
            query = query.where(OrgUnit.parent_id.is_(None) if parent_id is None else OrgUnit.parent_id == parent_id)
            unit = self.session.scalars(query.order_by(OrgUnit.id)).first()
            if unit is None:
                unit = OrgUnit(name=name, kind=kind.value, parent_id=parent_id)
                self.session.add(unit)
                self.session.flush()     # the id is needed by the children and members below
            self._units[key] = unit
        return self._units[key]


def _write(session: Session, rows: list[dict], present: set[str], *, unit_name: str,
           now: datetime) -> ImportReport:
    tree = _OrgTree(session, unit_name)
    existing = {member.userid: member for member in session.scalars(select(Member))}
    report = ImportReport()
    for values in rows:
        fields = _member_fields(values, present, tree)
        member = existing.get(values["userid"])
        if member is None:
            session.add(Member(userid=values["userid"], updated_at=now, **fields))
            report.added += 1
            continue
        changed = {name: value for name, value in fields.items() if getattr(member, name) != value}
        for name, value in changed.items():
            setattr(member, name, value)
        if changed:
            member.updated_at = now
            report.updated += 1
        else:
            report.unchanged += 1
    session.flush()
    in_file = {values["userid"] for values in rows}
    in_unit = org.units_under(session, tree.root.id)
    report.missing = sorted(userid for userid, member in existing.items()
                            if userid not in in_file and member.department_id in in_unit)
    return report


def _member_fields(values: dict, present: set[str], tree: _OrgTree) -> dict[str, Any]:
    """Column values → Member attributes; a column the file lacks leaves that attribute alone."""
    department = tree.department(values["department"])
    fields: dict[str, Any] = {"name": values["name"], "department_id": department.id}
    if "team" in present:
        fields["team_id"] = tree.team(department, values["team"]).id if values["team"] else None
    for name in ("post", "post_category", "birth_year", "status", "phone"):
        if name in present:
            fields[name] = values[name]
    return fields
