"""Turn existing material into a push-pack draft: Markdown/TXT files and Excel/CSV sheets of links (all or nothing).

Each Markdown/TXT file becomes an item with a ``text`` variant: the title is its first heading (else the file
name), a ``主题:`` line gives the topics (else the name of the file's folder), an ``编号:`` line may fix the id.
Each sheet row (标题, 链接, 简介, 主题, 形式 news/video; 编号 and 封面 optional) becomes an item with a ``news``
or ``video`` variant plus a short ``text`` so that every member can get it.

Ids without an 编号 are derived from the file's path or the row's link, so importing the same material again
updates the same items. Importing into an existing pack updates the imported fields of those items (variants
added by hand, ``mandatory`` and ``minutes`` stay), keeps every other item, and raises the version by one.
"""
from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from bot import tables
from content_packs.loader import ITEMS, MANIFEST, PackError, display, load_pack
from content_packs.quiz_drafts import split_topics
from content_packs.quiz_store import bump_version
from content_packs.schema import SLUG_PATTERN, Manifest, PushItem, describe

TEXT_SUFFIXES = (".md", ".markdown", ".txt")
SHEET_SUFFIXES = (".xlsx", ".xlsm", ".csv", ".tsv")
ITEMS_HEADER = """\
# 推送条目。每条：id（本包内唯一）、title、topics，以及至少一种形式：
# text（body，Markdown 正文）、news（title、description、url、cover 图文卡片）、video（url、summary）、
# voice（script 朗读稿或 file 录音文件）、image（file、caption）。mandatory: true 表示必学；minutes 为「已读」计入的学习分钟数（不写按推送策略的 read_minutes）。
# 用 flask --app bot packs import-items 导入时会自动改写本文件并把 pack.yaml 的 version 加 1。

"""
NEW_MANIFEST_HEADER = "# 由 packs import-items 生成的推送包草稿。条目在 items.yaml；改动条目后 version 加 1。\n"
_HEADING = re.compile(r"^ {0,3}#{1,6}[ \t]+(.+?)(?:[ \t]+#+)?[ \t]*$")
_META = re.compile(r"^[ \t]*(主题|编号)[ \t]*[:：][ \t]*(.*?)[ \t]*$")
_LEADING_NUMBER = re.compile(r"^\d+[\s._、-]+")

COLUMNS = {"id": "编号", "title": "标题", "url": "链接", "summary": "简介", "topics": "主题", "form": "形式",
           "cover": "封面"}
_ALIASES = {"名称": "title", "题目": "title", "地址": "url", "网址": "url", "url": "url", "link": "url",
            "摘要": "summary", "描述": "summary", "说明": "summary", "标签": "topics", "类型": "form",
            "封面图": "cover", "id": "id"}
_FORMS = {"news": "news", "图文": "news", "图文消息": "news", "文章": "news", "video": "video", "视频": "video",
          "短视频": "video"}
# where a row's validation error points: (form, field) → the column the author should fix
_ROW_COLUMNS = {("id",): "编号", ("title",): "标题", ("topics",): "主题", ("news", "title"): "标题",
                ("news", "description"): "简介", ("news", "url"): "链接", ("news", "cover"): "封面",
                ("video", "url"): "链接", ("video", "summary"): "简介", ("text", "body"): "简介"}


class SourceError(ValueError):
    """A source cannot be read at all (format, encoding, header)."""


def _header_key(cell: str) -> str:
    return re.sub(r"[\s*:：]", "", unicodedata.normalize("NFKC", cell)).lower()


_SHEET = tables.HeaderSpec(
    names=COLUMNS, headers={**{name: key for key, name in COLUMNS.items()}, **_ALIASES},
    required=("title", "url", "summary", "topics"), is_header=lambda keys: {"title", "url"} <= keys,
    key=_header_key, error=SourceError, empty="文件是空的，没有找到表头和条目",
    describe_missing=lambda line, missing: (f"第 {line} 行表头缺少列：{'、'.join(missing)}"
                                            f"（表头应为：标题、链接、简介、主题、形式；编号、封面可省略）"),
)


@dataclass
class ItemsReport:
    """What an import did, or why it wrote nothing."""

    pack_id: str = ""
    version: int = 0
    created: bool = False
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    kept: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        """The report in Chinese, for the CLI."""
        if self.errors:
            return "\n".join([f"有 {len(self.errors)} 处问题，本次没有写入任何文件。请改正后重新导入：", *self.errors])
        if self.created:
            return (f"已生成内容包草稿「{self.pack_id}」第 1 版，共 {self.added} 条。"
                    "请审阅 pack.yaml 的标题、说明和人群，并运行 packs check。")
        counts = f"新增 {self.added} 条，更新 {self.updated} 条，未变 {self.unchanged} 条，保留原有 {self.kept} 条"
        if not (self.added or self.updated):
            return f"条目没有变化（{counts}），内容包「{self.pack_id}」仍为第 {self.version} 版。"
        return f"导入完成：{counts}；内容包「{self.pack_id}」已升为第 {self.version} 版（重启后生效）。"


@dataclass(frozen=True)
class _Found:
    item: PushItem
    where: str          # "路径" or "路径 第 N 行", for messages about duplicates


def import_items(sources: Sequence[str | Path], pack_dir: str | Path, *, title: str | None = None,
                 audience: str | None = None, cohorts: Iterable[str] | None = None) -> ItemsReport:
    """Import every file of ``sources`` (folders, .md/.txt files, .xlsx/.csv sheets) into the push pack ``pack_dir``.

    A new pack gets version 1; an existing one keeps its other items and goes up one version when anything
    changed. Nothing is written when any file, row or the pack itself has a problem.

    Raises:
        OSError: a file cannot be read or written.
    """
    pack_dir = Path(pack_dir)
    report = ItemsReport()
    try:
        manifest, existing = _current(pack_dir)
    except PackError as exc:
        return ItemsReport(errors=["内容包本身有错误，请先改正：", *exc.errors])
    pack_id = manifest.id if manifest else pack_dir.name
    found = _read_sources([Path(source) for source in sources], id_prefix(pack_id), report.errors)
    report.errors += _duplicates(found)
    names = split_topics(audience) if audience is not None else None
    known = set(cohorts) if cohorts is not None else None
    report.errors += [f"--audience: 没有人群「{name}」，可用：{'、'.join(sorted(known))}"
                      for name in names or () if known is not None and name not in known]
    merged = _merge(existing, [f.item for f in found], report)
    if manifest is None:
        new_manifest = _new_manifest(pack_dir, merged, sources, title=title, audience=names, errors=report.errors)
    else:
        new_manifest = _next_manifest(manifest, items_changed=merged != existing, title=title, audience=names,
                                      errors=report.errors)
    report.pack_id, report.created = pack_id, manifest is None
    if report.errors or new_manifest is None:
        return report
    report.version = new_manifest.version
    if manifest is not None and new_manifest == manifest:
        return report
    _write(pack_dir, new_manifest, merged)
    load_pack(pack_dir, cohorts=cohorts)        # the draft must load as written; a PackError here is a bug
    return report


def id_prefix(pack_id: str) -> str:
    """The prefix of derived item ids: push_flood_duty_stories → flood-duty-stories."""
    return re.sub(r"^push[_-]", "", pack_id).replace("_", "-") or pack_id


def dump_items(items: Sequence[PushItem]) -> str:
    """items.yaml text: a header comment, then one block per item separated by blank lines.

    Raises:
        RuntimeError: the text would not load back as the same items (a bug, never expected).
    """
    blocks = [yaml.dump([_item_data(item)], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
              for item in items]
    text = ITEMS_HEADER + "\n".join(blocks)
    if [PushItem.model_validate(raw) for raw in yaml.safe_load(text)] != list(items):
        raise RuntimeError("items.yaml would not load back as written")
    return text


def _current(pack_dir: Path) -> tuple[Manifest | None, list[PushItem]]:
    if not (pack_dir / MANIFEST).is_file():
        return None, []
    pack = load_pack(pack_dir)
    if pack.kind != "push":
        raise PackError([f"{display(pack_dir)}: 内容包「{pack.id}」的类型是 {pack.kind}，只能往 push 类型的包导入条目"])
    return pack.manifest, list(pack.items)


def _read_sources(sources: list[Path], prefix: str, errors: list[str]) -> list[_Found]:
    found: list[_Found] = []
    for source in sources:
        if source.is_dir():
            files = sorted(path for path in source.rglob("*") if path.is_file() and _wanted(path))
            if not files:
                errors.append(f"{display(source)}: 文件夹里没有 .md、.txt、.xlsx 或 .csv 文件")
            for file in files:
                found += _read_file(file, file.relative_to(source).as_posix(), prefix, errors)
        elif source.is_file() and _wanted(source):
            found += _read_file(source, source.name, prefix, errors)
        else:
            errors.append(f"{display(source)}: 找不到，或不是 .md、.txt、.xlsx、.csv 文件或文件夹")
    return found


def _wanted(path: Path) -> bool:
    hidden = path.name.startswith((".", "~$"))      # editor backups and Excel's lock files
    return not hidden and path.suffix.lower() in TEXT_SUFFIXES + SHEET_SUFFIXES


def _read_file(file: Path, key: str, prefix: str, errors: list[str]) -> list[_Found]:
    try:
        if file.suffix.lower() in SHEET_SUFFIXES:
            return _sheet_items(file, prefix, errors)
        item = _text_item(file, key, prefix, errors)
        return [_Found(item, display(file))] if item else []
    except SourceError as exc:
        errors.append(f"{display(file)}: {exc}")
        return []


def _text_item(file: Path, key: str, prefix: str, errors: list[str]) -> PushItem | None:
    """A Markdown/TXT file as an item; ``key`` (its path inside the source folder) derives its id."""
    title, meta, body = None, {}, []
    for line in _decode(file.read_bytes()).splitlines():
        heading, match = _HEADING.match(line), _META.match(line)
        if title is None and heading:
            title = heading.group(1).strip()
        elif match and match.group(1) not in meta:
            meta[match.group(1)] = match.group(2)
        else:
            body.append(line.rstrip())
    text = "\n".join(body).strip()
    if not text:
        errors.append(f"{display(file)}: 正文是空的")
        return None
    data = {"id": _given_id(meta.get("编号")) or _derived_id(prefix, key),
            "title": title or _LEADING_NUMBER.sub("", file.stem) or file.stem,
            "topics": split_topics(meta.get("主题", "")) or [file.parent.name], "text": {"body": text}}
    return _validated(data, errors, lambda loc: f"{display(file)}: {_loc_text(loc)}")


def _sheet_items(file: Path, prefix: str, errors: list[str]) -> list[_Found]:
    table = tables.read_rows(file, clean=tables.cell_text, error=SourceError,
                             undecodable="无法识别文件编码，请另存为 UTF-8 编码的 CSV 或 .xlsx")
    header_index, columns = tables.find_header(table, _SHEET)
    found, rows = [], 0
    for index in range(header_index + 1, len(table)):
        cells = table[index]
        if not any(cells):
            continue
        rows += 1
        raw = {key: cells[col] if col < len(cells) else "" for col, key in columns.items()}
        where = f"{display(file)} 第 {index + 1} 行"
        item = _row_item(raw, prefix, where, errors)
        if item:
            found.append(_Found(item, where))
    if not rows:
        raise SourceError("表格里只有表头，没有条目")
    return found


def _row_item(raw: dict[str, str], prefix: str, where: str, errors: list[str]) -> PushItem | None:
    form = _FORMS.get(_header_key(raw.get("form", "")) or "news")
    if form is None:
        errors.append(f"{where}: 形式: 应为 news（图文）或 video（视频），实际为「{raw['form']}」")
        _row_item({**raw, "form": "news"}, prefix, where, errors)       # report the row's other problems too
        return None
    title, url, summary = raw["title"], raw["url"], raw["summary"]
    variant = ({"title": title, "description": summary, "url": url, "cover": raw.get("cover") or None}
               if form == "news" else {"url": url, "summary": summary})
    body = "\n\n".join(part for part in (f"**{title}**" if title else "", summary, url) if part)
    data = {"id": _given_id(raw.get("id")) or _derived_id(prefix, url or title),
            "title": title, "topics": split_topics(raw["topics"]), form: variant, "text": {"body": body}}
    return _validated(data, errors, lambda loc: f"{where}: {_ROW_COLUMNS.get(loc, _loc_text(loc))}")


def _validated(data: dict[str, Any], errors: list[str], label) -> PushItem | None:
    try:
        return PushItem.model_validate(data)
    except ValidationError as exc:
        seen: set[str] = set()
        for loc, message in describe(exc):
            line = f"{label(loc)}: {message}"
            if line not in seen:          # a blank 简介 fails both the card and the text
                seen.add(line)
                errors.append(line)
        return None


def _given_id(value: str | None) -> str | None:
    return unicodedata.normalize("NFKC", value).strip().lower() if value and value.strip() else None


def _derived_id(prefix: str, key: str) -> str:
    """``prefix-`` and a stable hash, or the name itself when it is already a usable id (01-rules.md → 01-rules)."""
    stem = re.sub(r"\.[a-z]+$", "", key.lower()).replace("/", "-").replace(" ", "-")
    if re.fullmatch(SLUG_PATTERN, stem):
        return stem
    return f"{prefix}-{hashlib.sha1(key.encode('utf-8')).hexdigest()[:8]}"


def _loc_text(loc: tuple) -> str:
    return ".".join(str(part) for part in loc) or "条目"


def _decode(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):      # notes typed on a Chinese Windows are often GB18030
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise SourceError("无法识别文件编码，请存为 UTF-8")


def _duplicates(found: list[_Found]) -> list[str]:
    first: dict[str, str] = {}
    errors = []
    for entry in found:
        if entry.item.id in first:
            errors.append(f"{entry.where}: 编号「{entry.item.id}」与 {first[entry.item.id]} 相同，请用「编号」区分")
        else:
            first[entry.item.id] = entry.where
    return errors


def _merge(existing: list[PushItem], incoming: list[PushItem], report: ItemsReport) -> list[PushItem]:
    """Existing items with imported fields updated in place, new ones appended; counts go into ``report``."""
    merged = list(existing)
    index_of = {item.id: index for index, item in enumerate(merged)}
    for item in incoming:
        index = index_of.get(item.id)
        if index is None:
            merged.append(item)
            report.added += 1
            continue
        imported = item.model_dump(exclude_none=True, exclude={"mandatory", "minutes"})
        updated = PushItem.model_validate({**merged[index].model_dump(), **imported})
        if updated == merged[index]:
            report.unchanged += 1
        else:
            merged[index] = updated
            report.updated += 1
    report.kept = len(existing) - report.updated - report.unchanged
    return merged


def _next_manifest(current: Manifest, *, items_changed: bool, title: str | None, audience: list[str] | None,
                   errors: list[str]) -> Manifest | None:
    """The existing manifest with the new title/audience, one version up when anything changed."""
    update: dict[str, Any] = {}
    if title is not None:
        update["title"] = title
    if audience is not None:
        update["audience"] = audience
    try:
        candidate = Manifest.model_validate({**current.model_dump(), **update})
    except ValidationError as exc:
        errors.extend(f"pack.yaml: {_loc_text(loc)}: {message}" for loc, message in describe(exc))
        return None
    if not items_changed and candidate == current:
        return current
    return candidate.model_copy(update={"version": current.version + 1})


def _new_manifest(pack_dir: Path, items: list[PushItem], sources: Sequence[str | Path], *, title: str | None,
                  audience: list[str] | None, errors: list[str]) -> Manifest | None:
    """A draft manifest for a new pack: the folder name is the id; topics are the items' first few."""
    if not re.fullmatch(SLUG_PATTERN, pack_dir.name):
        errors.append(f"{display(pack_dir)}: 新内容包的文件夹名就是它的 id，只能用小写英文字母、数字、- 和 _，"
                      "如 push_notice_board")
        return None
    topics = list(dict.fromkeys(topic for item in items for topic in item.topics))
    names = "、".join(Path(source).name for source in sources)
    data = {"id": pack_dir.name, "version": 1, "title": title or Path(sources[0]).stem, "kind": "push",
            "topics": topics[:8] or ["导入"], "audience": audience or [],
            "description": f"从 {names} 导入的草稿，请审阅条目，补写说明、人群和必学标记。"}
    try:
        return Manifest.model_validate(data)
    except ValidationError as exc:
        errors.extend(f"pack.yaml: {_loc_text(loc)}: {message}" for loc, message in describe(exc))
        return None


def _write(pack_dir: Path, manifest: Manifest, items: list[PushItem]) -> None:
    """Write items.yaml and pack.yaml; both are written in full before either replaces the old file."""
    file = pack_dir / MANIFEST
    if file.is_file():
        manifest_text = _edit_manifest(file.read_text("utf-8"), manifest)
    else:
        manifest_text = NEW_MANIFEST_HEADER + _dump(_manifest_data(manifest))
    pack_dir.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for target, text in ((pack_dir / ITEMS, dump_items(items)), (file, manifest_text)):
            handle, name = tempfile.mkstemp(prefix=".import-", suffix=".yaml", dir=pack_dir)
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as out:
                out.write(text)
            os.chmod(name, 0o644)
            staged.append((Path(name), target))
        for temp, target in staged:
            os.replace(temp, target)
    finally:
        for temp, _target in staged:
            temp.unlink(missing_ok=True)


def _edit_manifest(text: str, manifest: Manifest) -> str:
    """pack.yaml with version, title and audience changed line by line, comments kept; rewritten if that fails."""
    text = bump_version(text, manifest.version)
    for key in ("title", "audience"):
        value = _dump(_manifest_data(manifest)[key]).removesuffix("\n...\n").strip()
        text = re.sub(rf"^({key}:[ \t]*)[^#\n]*?([ \t]+#.*)?$", lambda m: f"{m.group(1)}{value}{m.group(2) or ''}",
                      text, count=1, flags=re.M)
    if Manifest.model_validate(yaml.safe_load(text)) != manifest:
        return _dump(_manifest_data(manifest))
    return text


def _manifest_data(manifest: Manifest) -> dict[str, Any]:
    data = manifest.model_dump()
    return {**data, "topics": _Flow(data["topics"]), "audience": _Flow(data["audience"])}


def _item_data(item: PushItem) -> dict[str, Any]:
    data = item.model_dump(exclude_none=True, exclude_defaults=True)
    data = {"id": item.id, "title": item.title, **data}         # required fields first even if defaults change
    data["topics"] = _Flow(item.topics)
    return data


class _Flow(list):
    """A list written on one line: topics: [防汛, 值班]."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Flow, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=True))
_Dumper.add_representer(str, lambda dumper, value: dumper.represent_scalar(
    "tag:yaml.org,2002:str", value, style="|" if "\n" in value else None))


def _dump(data: Any) -> str:
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
