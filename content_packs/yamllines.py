"""YAML with line numbers: what PyYAML's safe loader builds, plus the line of every key and list item."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

Path = tuple[Any, ...]          # e.g. (12, "answer") or ("topics", 0)
_MAX_DEPTH = 50                 # anchors can make a node its own child; never walk forever


class YamlSyntaxError(ValueError):
    """The text is not YAML; ``line`` is 1-based."""

    def __init__(self, line: int, message: str):
        super().__init__(message)
        self.line = line


@dataclass(frozen=True)
class LinedYaml:
    """A YAML document and the 1-based line of each path in it (keys and list items)."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)
    duplicates: list[tuple[Path, int]] = field(default_factory=list)    # a key given twice: (path, line)

    def line_of(self, path: Path) -> int:
        """The line of ``path`` or of its nearest ancestor that exists (a missing key → its mapping)."""
        for end in range(len(path), -1, -1):
            line = self.lines.get(tuple(path[:end]))
            if line is not None:
                return line
        return 1


def load(text: str) -> LinedYaml:
    """Parse one YAML document with the safe loader, recording where each key and item starts.

    Raises:
        YamlSyntaxError: the text is not valid YAML (the line of the problem is given).
    """
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return LinedYaml(None, {(): 1})
        data = loader.construct_document(node)
        doc = LinedYaml(data, {(): node.start_mark.line + 1})
        _walk(loader, node, (), doc)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "格式错误"
        raise YamlSyntaxError(mark.line + 1 if mark else 1, f"不是有效的 YAML：{problem}") from None
    except yaml.YAMLError as exc:
        raise YamlSyntaxError(1, f"不是有效的 YAML：{exc}") from None
    finally:
        loader.dispose()


def _walk(loader: yaml.SafeLoader, node: yaml.Node, path: Path, doc: LinedYaml) -> None:
    if len(path) > _MAX_DEPTH:
        return
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            try:
                key = loader.construct_object(key_node, deep=True)
                hash(key)
            except (yaml.YAMLError, TypeError):
                continue
            if path + (key,) in doc.lines:      # PyYAML keeps the last value silently; authors must know
                doc.duplicates.append((path + (key,), key_node.start_mark.line + 1))
                continue
            doc.lines[path + (key,)] = key_node.start_mark.line + 1
            _walk(loader, value_node, path + (key,), doc)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            doc.lines.setdefault(path + (index,), item.start_mark.line + 1)
            _walk(loader, item, path + (index,), doc)
