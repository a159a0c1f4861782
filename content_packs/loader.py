"""Read pack folders, check everything, and report every problem as ``file:line: field: message``."""
from __future__ import annotations

from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from content_packs import yamllines
from content_packs.activity_schema import ActivityDefinition
from content_packs.schema import KINDS, Manifest, Pack, PushItem, Question, Survey, describe
from content_packs.yamllines import LinedYaml

MANIFEST = "pack.yaml"
QUESTIONS = "questions.yaml"
ITEMS = "items.yaml"
SURVEY = "survey.yaml"
ACTIVITIES = "activities.yaml"


class PackError(ValueError):
    """One or more packs are invalid; ``errors`` holds every problem, one ``file:line: …`` line each."""

    def __init__(self, errors: Iterable[str]):
        self.errors = list(errors)
        super().__init__(f"内容包有 {len(self.errors)} 处错误：\n" + "\n".join(self.errors))


class _Errors(list):
    """Collects errors for one file, pointing at the line of a path in it."""

    def add(self, file: Path, doc: LinedYaml | None, path: tuple, message: str, *, prefix: str = "") -> None:
        line = doc.line_of(path) if doc is not None else 1
        where = _render_path(prefix, path)
        self.append(f"{display(file)}:{line}: {where}: {message}" if where else f"{display(file)}:{line}: {message}")


def load_pack(folder: str | Path, *, cohorts: Iterable[str] | None = None) -> Pack:
    """Load and check one pack folder.

    Args:
        folder: a folder with ``pack.yaml`` (and, for kind quiz, ``questions.yaml``).
        cohorts: known cohort names; when given, every ``audience`` entry must be one of them.

    Raises:
        PackError: with every problem found in the folder.
    """
    errors = _Errors()
    pack = _load(Path(folder), errors, cohorts)
    if errors or pack is None:
        raise PackError(errors or [f"{display(Path(folder))}: 无法读取内容包"])
    return pack


def load_manifest(folder: str | Path) -> Manifest:
    """Only pack.yaml of a folder (for a new pack that has no questions yet).

    Raises:
        PackError: pack.yaml is missing or invalid.
    """
    errors = _Errors()
    _doc, manifest = _read_manifest(Path(folder) / MANIFEST, errors, None)
    if errors or manifest is None:
        raise PackError(errors)
    return manifest


def scan(root: str | Path, *, cohorts: Iterable[str] | None = None) -> tuple[dict[str, Pack], list[str]]:
    """Every pack under ``root`` (folders without pack.yaml are skipped) and every error of every pack."""
    root = Path(root)
    if not root.is_dir():
        return {}, [f"{display(root)}: 内容包目录不存在"]
    packs: dict[str, Pack] = {}
    errors = _Errors()
    for folder in sorted(path for path in root.iterdir() if (path / MANIFEST).is_file()):
        pack = _load(folder, errors, cohorts)
        if pack is None:
            continue
        if pack.id in packs:
            errors.append(f"{display(folder / MANIFEST)}:1: id: 内容包 id「{pack.id}」"
                          f"与 {display(packs[pack.id].folder)} 重复")
            continue
        packs[pack.id] = pack
    return packs, list(errors)


def display(path: Path) -> str:
    """A path as error messages show it: relative to the working folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


def read_yaml(file: Path, errors: _Errors, *, prefix: str = "") -> LinedYaml | None:
    """The file's YAML with line numbers, or None after recording why it cannot be read.

    A key written twice in one mapping is recorded as an error too (YAML would keep the last silently).
    """
    try:
        doc = yamllines.load(file.read_text("utf-8"))
        for path, line in doc.duplicates:
            errors.append(f"{display(file)}:{line}: {_render_path(prefix, path)}: 这一项写了两次，请只保留一个")
        return doc
    except FileNotFoundError:
        errors.append(f"{display(file)}:1: 缺少文件 {file.name}")
    except (OSError, UnicodeDecodeError) as exc:
        errors.append(f"{display(file)}:1: 无法读取（{getattr(exc, 'strerror', None) or exc}），请存为 UTF-8")
    except yamllines.YamlSyntaxError as exc:
        errors.append(f"{display(file)}:{exc.line}: {exc}")
    return None


def _load(folder: Path, errors: _Errors, cohorts: Iterable[str] | None) -> Pack | None:
    before = len(errors)
    doc, manifest = _read_manifest(folder / MANIFEST, errors, cohorts)
    kind = doc.data.get("kind") if doc is not None and isinstance(doc.data, dict) else None
    # the kind's own files are checked even when pack.yaml has other mistakes: report everything at once
    payload = _PAYLOADS[kind](folder, errors) if isinstance(kind, str) and kind in _PAYLOADS else {}
    if manifest is None or len(errors) > before:
        return None
    return Pack(manifest=manifest, folder=folder, **payload)


def _read_manifest(file: Path, errors: _Errors,
                   cohorts: Iterable[str] | None) -> tuple[LinedYaml | None, Manifest | None]:
    doc = read_yaml(file, errors)
    if doc is None:
        return None, None
    if not isinstance(doc.data, dict):
        errors.add(file, doc, (), "应为一组 键: 值（id、version、title、kind……）")
        return doc, None
    try:
        manifest = Manifest.model_validate(doc.data)
    except ValidationError as exc:
        for loc, message in describe(exc):
            errors.add(file, doc, loc, message)
        return doc, None
    known = set(cohorts) if cohorts is not None else None
    for index, name in enumerate(manifest.audience):
        if known is not None and name not in known:
            errors.add(file, doc, ("audience", index), f"没有人群「{name}」，可用：{'、'.join(sorted(known))}")
    return doc, manifest


def _entries(file: Path, errors: _Errors, model, *, prefix: str, noun: str, not_a_list: str,
             not_a_list_prefix: str = "") -> list[tuple[int, LinedYaml, Any]] | None:
    """Read a YAML list of entries with unique ``id``s, validating each with ``model``.

    Returns (index, document, entry) for every valid entry, or None when the file is unreadable or
    not a non-empty list; every problem is added to ``errors`` with its line.
    """
    doc = read_yaml(file, errors, prefix=prefix)
    if doc is None:
        return None
    if not isinstance(doc.data, list) or not doc.data:
        errors.add(file, doc, (), not_a_list, prefix=not_a_list_prefix)
        return None
    found: list[tuple[int, LinedYaml, Any]] = []
    first_line: dict[str, int] = {}
    for index, raw in enumerate(doc.data):
        entry_id = raw.get("id") if isinstance(raw, dict) else None
        if isinstance(entry_id, str) and entry_id in first_line:
            errors.add(file, doc, (index, "id"), f"{noun}编号「{entry_id}」与第 {first_line[entry_id]} 行的{noun}重复",
                       prefix=prefix)
        elif isinstance(entry_id, str):
            first_line[entry_id] = doc.line_of((index,))
        try:
            found.append((index, doc, model.model_validate(raw)))
        except ValidationError as exc:
            for loc, message in describe(exc):
                errors.add(file, doc, (index, *loc), message, prefix=prefix)
    return found


def _quiz_payload(folder: Path, errors: _Errors) -> dict[str, Any]:
    """questions.yaml: a list of questions with unique ids."""
    found = _entries(folder / QUESTIONS, errors, Question, prefix="questions", noun="题目",
                     not_a_list="应为题目列表（每题以 - id: 开头），且至少有一道题")
    return {} if found is None else {"questions": tuple(question for _, _, question in found)}


def _push_payload(folder: Path, errors: _Errors) -> dict[str, Any]:
    """items.yaml: a list of push items with unique ids; files they name must exist in the pack folder, and a
    recorded voice must be one WeCom accepts (AMR, at most 2 MB and 60 s)."""
    file = folder / ITEMS
    found = _entries(file, errors, PushItem, prefix="items", noun="条目",
                     not_a_list="应为条目列表（每条以 - id: 开头），且至少有一条", not_a_list_prefix="items")
    if found is None:
        return {}
    for index, doc, item in found:
        for form in ("voice", "image"):
            variant = getattr(item, form)
            name = getattr(variant, "file", None) if variant is not None else None
            if not name:
                continue
            if not (folder / name).is_file():
                problem = f"找不到文件 {name}（相对于内容包文件夹）"
            else:
                problem = _voice_file_problem(folder / name, name) if form == "voice" else None
            if problem:
                errors.add(file, doc, (index, form, "file"), problem, prefix="items")
    return {"items": tuple(item for _, _, item in found)}


def _voice_file_problem(path: Path, name: str) -> str | None:
    """Why WeCom would refuse this recorded voice (``bot.voice.check_voice`` decides), in Chinese; None if fine."""
    # imported here: only packs with recordings need the audio code
    from bot.voice.amr import BROKEN, MAX_BYTES, MAX_SECONDS, NOT_AMR, SILENT, TOO_BIG, TOO_LONG, check_voice
    from bot.voice.engine import VoiceError

    megabyte = 1024 * 1024
    try:
        check_voice(path.read_bytes())
        return None
    except OSError as exc:
        return f"无法读取语音文件 {name}（{exc.strerror or exc}）"
    except VoiceError as exc:
        why = {
            TOO_BIG: f"有 {exc.amount / megabyte:.1f} MB，企业微信的语音不能超过 {MAX_BYTES // megabyte} MB",
            NOT_AMR: "不是 AMR 录音（文件开头没有 #!AMR 标记），企业微信只收 AMR 格式的语音，请先转换",
            BROKEN: "的 AMR 数据不完整或已损坏，请重新导出",
            SILENT: "里没有声音",
            TOO_LONG: f"长 {exc.amount:.1f} 秒，企业微信的语音不能超过 {MAX_SECONDS:.0f} 秒，请剪短或分成几条",
        }[exc.reason]
        return f"语音文件 {name} {why}"


def _survey_payload(folder: Path, errors: _Errors) -> dict[str, Any]:
    """survey.yaml: dates, anonymity, departments, reminders and the questions (handlers/surveys.py asks them)."""
    file = folder / SURVEY
    doc = read_yaml(file, errors, prefix="survey")
    if doc is None:
        return {}
    if not isinstance(doc.data, dict):
        errors.add(file, doc, (), "应为一组 键: 值（opens、closes、anonymous、questions……）")
        return {}
    try:
        return {"survey": Survey.model_validate(doc.data)}
    except ValidationError as exc:
        for loc, message in describe(exc):
            errors.add(file, doc, loc, message)
    return {}


def _activity_payload(folder: Path, errors: _Errors) -> dict[str, Any]:
    """activities.yaml: a list of activities with unique ids, published with 发布活动 <id>."""
    found = _entries(folder / ACTIVITIES, errors, ActivityDefinition, prefix="activities", noun="活动",
                     not_a_list="应为活动列表（每个以 - id: 开头），且至少有一个", not_a_list_prefix="activities")
    return {} if found is None else {"activities": tuple(activity for _, _, activity in found)}


# one payload reader per kind: it reads the kind's files next to pack.yaml and returns Pack fields
_PAYLOADS: dict[str, Callable[[Path, _Errors], dict[str, Any]]] = {"quiz": _quiz_payload, "push": _push_payload,
                                                                  "survey": _survey_payload,
                                                                  "activity": _activity_payload}
assert set(_PAYLOADS) == set(KINDS), "every kind in schema.KINDS needs a payload reader"


def _render_path(prefix: str, path: tuple) -> str:
    """(12, "answer") with prefix "questions" → "questions[12].answer"; ("topics", 0) → "topics[0]"."""
    text = prefix
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
