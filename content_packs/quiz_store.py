"""Write questions.yaml (and the bumped version in pack.yaml) in the layout authors edit by hand."""
from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml

from content_packs.loader import MANIFEST, QUESTIONS
from content_packs.schema import Question

HEADER = """\
# 题目列表。每题：id（本包内唯一）、type（single 单选 / multiple 多选 / truefalse 判断 / fill 填空）、
# text、options（单选、多选用 A–F，2–6 个）、answer（选项字母；判断 true/false；填空写可接受的答案列表）、
# topics（知识点）、difficulty（1 易 / 2 中 / 3 难）、explanation（答题后显示的解析）、source（出处）。
# 改动题目后请把 pack.yaml 的 version 加 1；用 flask --app bot packs import-questions 导入时会自动加 1。

"""
_VERSION_LINE = re.compile(r"^(version:[ \t]*)\d+", re.M)


class _Flow(list):
    """A list written on one line: topics: [防汛, 值班]."""


class _Dumper(yaml.SafeDumper):
    pass


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(_Flow, lambda dumper, value: dumper.represent_sequence(
    "tag:yaml.org,2002:seq", value, flow_style=True))
_Dumper.add_representer(str, _represent_str)


def question_data(question: Question) -> dict[str, Any]:
    """A question as the mapping written to questions.yaml (field order as authors expect it)."""
    data: dict[str, Any] = {"id": question.id, "type": question.type, "text": question.text}
    if question.options:
        data["options"] = dict(question.options)
    data["answer"] = _Flow(question.answer) if isinstance(question.answer, tuple) else question.answer
    data.update(topics=_Flow(question.topics), difficulty=question.difficulty,
                explanation=question.explanation, source=question.source)
    return data


def dump_questions(questions: Sequence[Question]) -> str:
    """questions.yaml text: a header comment, then one block per question separated by blank lines.

    Raises:
        RuntimeError: the text would not load back as the same questions (a bug, never expected).
    """
    blocks = [yaml.dump([question_data(q)], Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)
              for q in questions]
    text = HEADER + "\n".join(blocks)
    if [Question.model_validate(raw) for raw in yaml.safe_load(text)] != list(questions):
        raise RuntimeError("questions.yaml would not load back as written")
    return text


def bump_version(manifest_text: str, version: int) -> str:
    """pack.yaml with ``version: N`` replaced, comments and layout kept."""
    text, count = _VERSION_LINE.subn(lambda m: f"{m.group(1)}{version}", manifest_text, count=1)
    if count:
        return text
    data = yaml.safe_load(manifest_text)
    data["version"] = version
    return yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=10_000)


def write_pack(folder: Path, questions: Sequence[Question], version: int) -> None:
    """Replace questions.yaml and the version in pack.yaml; both are written in full before either moves."""
    manifest_text = bump_version((folder / MANIFEST).read_text("utf-8"), version)
    staged: list[tuple[Path, Path]] = []
    try:
        staged.append((_stage(folder / QUESTIONS, dump_questions(questions)), folder / QUESTIONS))
        staged.append((_stage(folder / MANIFEST, manifest_text), folder / MANIFEST))
        for temp, target in staged:
            os.replace(temp, target)
    finally:
        for temp, _target in staged:
            temp.unlink(missing_ok=True)


def _stage(target: Path, text: str) -> Path:
    """Write ``text`` to a temporary file next to ``target``, with the target's permissions."""
    handle, name = tempfile.mkstemp(prefix=".import-", suffix=".yaml", dir=target.parent)
    with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as file:
        file.write(text)
    os.chmod(name, target.stat().st_mode & 0o777 if target.exists() else 0o644)
    return Path(name)
