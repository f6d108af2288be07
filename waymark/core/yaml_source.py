"""YAML that remembers where every value came from.

Every config file (journeys, templates, catalogues, syncs, destinations) is read through here
so that every error can name the file, line, column and field path. The loader resolves plain
scalars the way JSON (and YAML 1.2) does: PyYAML's YAML 1.1 defaults would turn `21:00` into the
integer 1260 and `no` into False, which silently breaks quiet hours and property filters.

Files are hostile input to a validator, so reading one never hangs and never raises: bytes that
are not UTF-8, control characters, numbers no config needs (a 5,001-digit integer, 1e999),
nesting past a sane depth and aliases that expand past a small bound (a "billion laughs" file
is a few hundred bytes that PyYAML would expand to 10^9 values) are located problems.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from yaml.composer import ComposerError
from yaml.constructor import ConstructorError
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from waymark.core.errors import Issue, Loc, display_path

# Numbers follow JSON's grammar, so a code such as 007 stays text instead of becoming 7.
_INT = re.compile(r"^-?(?:0|[1-9][0-9]*)$")
_FLOAT = re.compile(r"^-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?$")
_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_NULL = re.compile(r"^(?:~|null|Null|NULL|)$")

MAX_ALIAS_VALUES = 10_000
"""Values that aliases (`*name`) may add to a file in all: shared snippets of config fit easily,
while each level of a billion-laughs file multiplies the count and stops within a few levels."""
MAX_DEPTH = 100
"""Nesting levels of sequences and mappings; PyYAML composes recursively and would otherwise
die on Python's recursion limit with a traceback."""
INT_RANGE = (-(2**63), 2**63 - 1)
"""Integers are 64-bit like every warehouse column they end up beside; a longer one is a typo,
and past 4,300 digits Python refuses to even print it."""


class _JsonLikeLoader(yaml.SafeLoader):
    """SafeLoader with JSON-like plain scalars: no sexagesimals, no yes/no, no dates; with bounds
    on alias expansion, nesting and numbers."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._alias_values = 0
        self._sizes: dict[int, int] = {}
        self._depth = 0

    def compose_node(self, parent: Node | None, index: Any) -> Node:
        if self.check_event(AliasEvent):
            event = self.peek_event()
            node = self.anchors.get(event.anchor)
            if node is not None and node.end_mark is None:
                # The anchored collection is still open: the alias is inside it.
                raise ComposerError(
                    None, None, f"alias *{event.anchor} refers to a value that contains it",
                    event.start_mark,
                )  # fmt: skip
            if node is not None:
                self._alias_values += _expanded_size(node, self._sizes)
                if self._alias_values > MAX_ALIAS_VALUES:
                    message = (
                        f"aliases expand this file past {MAX_ALIAS_VALUES:,} values (at "
                        f"*{event.anchor}); write the values out instead of nesting aliases"
                    )
                    raise ComposerError(None, None, message, event.start_mark)
            return super().compose_node(parent, index)
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                message = f"nested more than {MAX_DEPTH} levels deep"
                raise ComposerError(None, None, message, self.peek_event().start_mark)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1

    def construct_yaml_int(self, node: ScalarNode) -> int:
        digits = node.value.lstrip("+-").replace("_", "")
        value = super().construct_yaml_int(node) if len(digits) <= 40 else None
        if value is None or not INT_RANGE[0] <= value <= INT_RANGE[1]:
            shown = node.value if len(node.value) <= 24 else f"an integer of {len(digits):,} digits"
            message = f"{shown} is out of range: integers are 64-bit (at most 2**63 - 1)"
            raise ConstructorError(None, None, message, node.start_mark)
        return value

    def construct_yaml_float(self, node: ScalarNode) -> float:
        value = super().construct_yaml_float(node)
        if value in (float("inf"), float("-inf")):
            shown = (
                node.value
                if len(node.value) <= 24
                else f"a number of {len(node.value):,} characters"
            )
            raise ConstructorError(None, None, f"{shown} is out of range", node.start_mark)
        return value


def _expanded_size(node: Node, sizes: dict[int, int]) -> int:
    """How many values `node` stands for once every alias inside it is expanded (memoised, so a
    billion-laughs file is measured in time linear in its size)."""
    known = sizes.get(id(node))
    if known is not None:
        return known
    if isinstance(node, SequenceNode):
        children = list(node.value)
    elif isinstance(node, MappingNode):
        children = [part for pair in node.value for part in pair]
    else:
        children = []
    size = 1 + sum(_expanded_size(child, sizes) for child in children)
    sizes[id(node)] = size
    return size


_JsonLikeLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in (
    ("tag:yaml.org,2002:bool", _BOOL, "tTfF"),
    ("tag:yaml.org,2002:int", _INT, "-0123456789"),
    ("tag:yaml.org,2002:float", _FLOAT, "-0123456789"),
    ("tag:yaml.org,2002:null", _NULL, ["~", "n", "N", ""]),
):
    _JsonLikeLoader.add_implicit_resolver(_tag, _pattern, list(_first))
_JsonLikeLoader.add_constructor("tag:yaml.org,2002:int", _JsonLikeLoader.construct_yaml_int)
_JsonLikeLoader.add_constructor("tag:yaml.org,2002:float", _JsonLikeLoader.construct_yaml_float)


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

    def issue(self, loc: Loc, message: str, *, missing: bool = False) -> Issue:
        position, path = self.locate(loc, missing=missing)
        return Issue(self.path, position.line, position.column, path, message)

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


def read_yaml(path: Path) -> tuple[YamlSource, list[Issue]]:
    """Parse `path`; syntax errors and duplicate keys come back as issues, not exceptions."""
    text, issue = _decoded(path)
    if issue is not None:
        return YamlSource(path, None, None), [issue]
    try:
        loader = _JsonLikeLoader(text)
    except yaml.reader.ReaderError as error:
        return YamlSource(path, None, None), [_reader_issue(path, text, error)]
    try:
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as error:
        return YamlSource(path, None, None), [_syntax_issue(path, error)]
    except yaml.reader.ReaderError as error:
        return YamlSource(path, None, None), [_reader_issue(path, text, error)]
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


def _decoded(path: Path) -> tuple[str, Issue | None]:
    """The file's text, or where its first byte that is not UTF-8 is."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as error:
        before = data[: error.start]
        line_start = before.rfind(b"\n") + 1
        line = before.count(b"\n") + 1
        column = len(before[line_start:].decode("utf-8", errors="replace")) + 1
        byte = data[error.start]
        message = f"not UTF-8: byte 0x{byte:02x} cannot be read; save the file as UTF-8"
        return "", Issue(path, line, column, "", message)


def _reader_issue(path: Path, text: str, error: yaml.reader.ReaderError) -> Issue:
    """A character YAML does not allow (a control character), at its line and column."""
    before = text[: error.position]
    line = before.count("\n") + 1
    column = error.position - (before.rfind("\n") + 1) + 1
    message = f"invalid YAML: character U+{error.character:04X} is not allowed ({error.reason})"
    return Issue(path, line, column, "", message)


def _syntax_issue(path: Path, error: yaml.MarkedYAMLError) -> Issue:
    mark = error.problem_mark or error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
    message = " ".join(part for part in (error.context, error.problem) if part)
    return Issue(path, line, column, "", f"invalid YAML: {message}")


def _duplicate_keys(path: Path, root: Node | None) -> Sequence[Issue]:
    """Every repeated key: PyYAML would keep the last one and silently drop the first."""
    issues: list[Issue] = []
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
                        Issue(
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
