"""YAML that remembers where every value came from.

Journeys, templates and catalogues are read through here so that every error can name the file,
line, column and field path. The loader resolves plain scalars the way JSON (and YAML 1.2) does:
PyYAML's YAML 1.1 defaults would turn `21:00` into the integer 1260 and `no` into False, which
silently breaks quiet hours and property filters.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from waymark.journeys.errors import JourneyIssue, Loc, display_path

# Numbers follow JSON's grammar, so a code such as 007 stays text instead of becoming 7.
_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")


class _JsonLikeLoader(yaml.SafeLoader):
    """SafeLoader with JSON-like plain scalars: no sexagesimals, no yes/no, no dates."""


_JsonLikeLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-0123456789"),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    _JsonLikeLoader.add_implicit_resolver(_tag, _pattern, list(_first))


@dataclass(frozen=True)
class Position:
    """1-based line and column of a value in a file."""

    line: int
    column: int


class YamlSource:
    """One parsed YAML file: its Python value and the node tree to locate fields in it."""

    def __init__(self, path: Path, root: Node | None, data: Any) -> None:
        self.path = path
        self.root = root
        self.data = data

    def locate(self, loc: Loc, *, missing: bool = False) -> tuple[Position, str]:
        """The position and display path of a pydantic-style location.

        Location parts that do not exist in the file (union member names, discriminator tags)
        are skipped; with `missing` the last part names a field that is absent, so it is kept
        in the path and the position is its parent's.
        """
        node, mark, parts = self.root, None, []
        for index, part in enumerate(loc):
            child = _child(node, part)
            if child is not None:
                mark, node = child
                parts.append(part)
            elif missing and index == len(loc) - 1:
                parts.append(part)
        if mark is None:
            mark = node.start_mark if node is not None else None
        position = Position(mark.line + 1, mark.column + 1) if mark else Position(1, 1)
        return position, display_path(parts)

    def issue(self, loc: Loc, message: str, *, missing: bool = False) -> JourneyIssue:
        position, path = self.locate(loc, missing=missing)
        return JourneyIssue(self.path, position.line, position.column, path, message)

    def value_node(self, loc: Loc) -> Node | None:
        """The node at `loc` when every part of it exists in the file."""
        node: Node | None = self.root
        for part in loc:
            child = _child(node, part)
            if child is None:
                return None
            node = child[1]
        return node


def _child(node: Node | None, part: str | int) -> tuple[yaml.Mark, Node] | None:
    """The mark to report and the node for one step of a location."""
    if isinstance(node, MappingNode) and isinstance(part, str):
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.value == part:
                return key.start_mark, value
    if isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item.start_mark, item
    return None


def read_yaml(path: Path) -> tuple[YamlSource, list[JourneyIssue]]:
    """Parse `path`; syntax errors and duplicate keys come back as issues, not exceptions."""
    text = path.read_text(encoding="utf-8")
    loader = _JsonLikeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        return YamlSource(path, None, None), [_syntax_issue(path, error)]
    finally:
        loader.dispose()
    duplicates = list(_duplicate_keys(path, root))
    if duplicates:
        return YamlSource(path, root, None), duplicates
    if root is None:
        return YamlSource(path, None, None), []
    constructor = _JsonLikeLoader("")
    try:
        data = constructor.construct_document(root)
    except yaml.MarkedYAMLError as error:
        return YamlSource(path, root, None), [_syntax_issue(path, error)]
    finally:
        constructor.dispose()
    return YamlSource(path, root, data), []


def _syntax_issue(path: Path, error: yaml.MarkedYAMLError) -> JourneyIssue:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (error.context, error.problem) if part)
    return JourneyIssue(path, line, column, "", f"invalid YAML: {message}")


def _duplicate_keys(path: Path, root: Node | None) -> Sequence[JourneyIssue]:
    """Every repeated key: PyYAML would keep the last one and silently drop the first."""
    issues: list[JourneyIssue] = []
    stack: list[tuple[Node, tuple[str | int, ...]]] = [(root, ())] if root is not None else []
    while stack:
        node, loc = stack.pop()
        if isinstance(node, MappingNode):
            seen: dict[str, yaml.Mark] = {}
            for key, value in node.value:
                name = key.value if isinstance(key, ScalarNode) else str(key.start_mark)
                if name in seen:
                    first = seen[name].line + 1
                    issues.append(
                        JourneyIssue(
                            path,
                            key.start_mark.line + 1,
                            key.start_mark.column + 1,
                            display_path([*loc, name]),
                            f"duplicate key '{name}' (first given on line {first})",
                        )
                    )
                else:
                    seen[name] = key.start_mark
                stack.append((value, (*loc, name)))
        elif isinstance(node, SequenceNode):
            stack.extend((item, (*loc, index)) for index, item in enumerate(node.value))
    return sorted(issues, key=lambda issue: (issue.line, issue.column))
