"""Import quiz questions from Excel/CSV or Moodle GIFT into a pack folder (all or nothing); export to Excel.

Matching on re-import: a row whose 编号 is a question of the pack updates it; otherwise a row whose 题目 is
word for word an existing question's text updates that one; anything else is added with a new id
``<pack slug>-NNN``. The pack's version goes up by one whenever anything changed.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import ValidationError

from content_packs.answers import fold
from content_packs.loader import QUESTIONS, PackError, load_manifest, load_pack
from content_packs.quiz_drafts import Draft, message_for
from content_packs.quiz_gift import parse_gift
from content_packs.quiz_store import write_pack
from content_packs.quiz_table import TableFileError, read_table, table_drafts, write_xlsx
from content_packs.schema import Pack, Question, describe

_TABLE_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv")
_PENDING_ID = "pending"         # stands in for a missing 编号 while a row is checked


@dataclass
class ImportReport:
    """What an import did, or why it did nothing."""

    pack_id: str = ""
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    version: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)

    def summary(self) -> str:
        """The report in Chinese, for the CLI and for admins."""
        if self.errors:
            head = f"有 {len(self.errors)} 处问题，本次没有导入任何题目。请改正后重新导入："
            return "\n".join([head, *self.errors])
        counts = f"新增 {self.added} 题，更新 {self.updated} 题，未变 {self.unchanged} 题"
        if not self.changed:
            return f"题目没有变化（{counts}），内容包「{self.pack_id}」仍为第 {self.version} 版。"
        return f"导入完成：{counts}；内容包「{self.pack_id}」已升为第 {self.version} 版（重启后生效）。"


@dataclass(frozen=True)
class _Checked:
    draft: Draft
    question: Question
    given_id: bool


def import_questions(source: str | Path, pack_dir: str | Path) -> ImportReport:
    """Import every question of ``source`` (.xlsx/.csv table or GIFT text) into the pack at ``pack_dir``.

    Writes questions.yaml and the bumped version only when every row is valid and something changed.

    Raises:
        OSError: a file cannot be read or written.
    """
    source, pack_dir = Path(source), Path(pack_dir)
    try:
        pack_id, version, existing = _current(pack_dir)
        drafts = read_drafts(source)
    except PackError as exc:
        return ImportReport(errors=["内容包本身有错误，请先改正：", *exc.errors])
    except TableFileError as exc:
        return ImportReport(errors=[str(exc)])
    checked, errors = _check(drafts)
    merged, report = _merge(existing, checked, prefix=id_prefix(pack_id))
    report.errors = errors + report.errors
    report.pack_id, report.version = pack_id, version
    if report.ok and report.changed:
        report.version = version + 1
        write_pack(pack_dir, merged, report.version)
    return report


def export_questions(pack: Pack, path: str | Path) -> int:
    """Write the pack's questions to an .xlsx in the authors' form; returns how many were written."""
    write_xlsx(pack.questions, Path(path), sheet_title=pack.id)
    return len(pack.questions)


def read_drafts(source: Path) -> list[Draft]:
    """Drafts from a table (.xlsx/.csv, or anything starting like a zip) or else GIFT text.

    Raises:
        TableFileError: the file cannot be read as a table or text.
    """
    data = source.read_bytes()
    if source.suffix.lower() in _TABLE_SUFFIXES or data.startswith(b"PK\x03\x04"):
        return table_drafts(read_table(source))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise TableFileError("无法识别文件编码，请把 GIFT 文件存为 UTF-8")
    drafts = parse_gift(text)
    if not drafts:
        raise TableFileError("GIFT 文件里没有题目")
    return drafts


def id_prefix(pack_id: str) -> str:
    """The prefix of generated question ids: quiz_dam_safety → dam-safety."""
    slug = re.sub(r"^quiz[_-]", "", pack_id).replace("_", "-")
    return slug or pack_id


def _current(pack_dir: Path) -> tuple[str, int, list[Question]]:
    """(pack id, version, questions) of the pack folder; a new pack may have no questions.yaml yet."""
    if (pack_dir / QUESTIONS).exists():
        pack = load_pack(pack_dir)
        manifest, questions = pack.manifest, list(pack.questions)
    else:
        manifest, questions = load_manifest(pack_dir), []
    if manifest.kind != "quiz":
        raise PackError([f"{pack_dir}: 内容包「{manifest.id}」的类型是 {manifest.kind}，只能往 quiz 类型的包导入题目"])
    return manifest.id, manifest.version, questions


def _check(drafts: list[Draft]) -> tuple[list[_Checked], list[str]]:
    """Validate every draft; also catch two rows with the same 编号 or the same 题目."""
    checked: list[_Checked] = []
    errors: list[str] = []
    for draft in drafts:
        errors.extend(draft.messages())
        if not draft.fields:
            continue
        given = draft.fields.get("id")
        try:
            question = Question.model_validate({**draft.fields, "id": given or _PENDING_ID})
        except ValidationError as exc:
            reported = {name for name, _message in draft.errors}
            errors.extend(message_for(draft.label, loc, message) for loc, message in describe(exc)
                          if not loc or loc[0] not in reported)
            continue
        if not draft.errors:
            checked.append(_Checked(draft, question, bool(given)))
    return checked, errors + _duplicates(checked)


def _duplicates(checked: list[_Checked]) -> list[str]:
    errors: list[str] = []
    first: dict[tuple[str, str], str] = {}
    for item in checked:
        keys = [("text", _text_key(item.question.text))]
        if item.given_id:
            keys.insert(0, ("id", item.question.id))
        for field_name, key in keys:
            if (field_name, key) in first:
                what = "编号" if field_name == "id" else "题目"
                errors.append(message_for(item.draft.label, (field_name,), f"与{first[field_name, key]}的{what}相同"))
            else:
                first[field_name, key] = item.draft.label
    return errors


def _merge(existing: list[Question], incoming: list[_Checked], *, prefix: str) -> tuple[list[Question], ImportReport]:
    """Existing questions with updates in place and new ones appended, and what changed."""
    merged = list(existing)
    by_id = {question.id: index for index, question in enumerate(merged)}
    by_text = {_text_key(question.text): index for index, question in enumerate(merged)}
    new_ids = _id_source(prefix, set(by_id) | {item.question.id for item in incoming if item.given_id})
    report = ImportReport()
    touched: dict[int, str] = {}
    for item in incoming:
        index = by_id.get(item.question.id) if item.given_id else None
        if index is None:
            index = by_text.get(_text_key(item.question.text))
        if index is None:
            merged.append(item.question if item.given_id else item.question.model_copy(update={"id": next(new_ids)}))
            report.added += 1
        elif index in touched:
            report.errors.append(message_for(item.draft.label, ("id",), f"与{touched[index]}对应同一道题「{merged[index].id}」"))
        else:
            touched[index] = item.draft.label
            question = item.question.model_copy(update={"id": merged[index].id})
            if question == merged[index]:
                report.unchanged += 1
            else:
                report.updated += 1
                merged[index] = question
    return merged, report


def _id_source(prefix: str, taken: set[str]):
    """Ids prefix-001, prefix-002 … after the highest number already used, skipping taken ones."""
    pattern = re.compile(rf"^{re.escape(prefix)}-(\d+)$")
    number = max((int(m.group(1)) for m in map(pattern.match, taken) if m), default=0)
    while True:
        number += 1
        candidate = f"{prefix}-{number:03d}"
        if candidate not in taken:
            yield candidate


def _text_key(text: str) -> str:
    return re.sub(r"\s+", "", fold(text))
