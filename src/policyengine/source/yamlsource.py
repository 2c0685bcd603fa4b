"""Safe YAML loading that remembers where every value was written.

PyYAML's safe constructors build plain data but forget positions; analysts need
`file:line:col` for every error, so we walk the composed node tree ourselves and keep
a map from each value's path (tuple of keys and indexes) to its location.  Floats are
read as exact Decimals (a policy's "0.288" must stay 0.288), and duplicate keys, which
YAML would silently collapse, are reported.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import yaml

from ..errors import Location, Problem

Path = tuple


@dataclass
class SourceMap:
    """Locations of the values of one YAML document, by path."""

    file: str
    positions: dict[Path, Location] = field(default_factory=dict)
    key_positions: dict[Path, Location] = field(default_factory=dict)
    scalar_styles: dict[Path, str | None] = field(default_factory=dict)

    def at(self, path: Path, key: bool = False) -> Location:
        """Location of the value at path, or of its nearest written ancestor."""
        table = self.key_positions if key else self.positions
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if p in self.positions:
                return self.positions[p]
            p = p[:-1]
        return self.positions.get((), Location(self.file, 1, 1))

    def inside(self, path: Path, line: int, col: int) -> Location:
        """Location of (line, col) inside the string scalar at path (both 1-based)."""
        base = self.at(path)
        style = self.scalar_styles.get(tuple(path))
        if style in ("|", ">"):
            return Location(self.file, base.line + line, col + 2)
        quote = 1 if style in ('"', "'") else 0
        if line == 1:
            return Location(self.file, base.line, base.col + quote + col - 1)
        return Location(self.file, base.line + line - 1, col)


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse one YAML document safely; return (data, source map, problems)."""
    smap = SourceMap(file)
    problems: list[Problem] = []
    try:
        loader = yaml.SafeLoader(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)
        problems.append(Problem(loc, f"YAML syntax error: {exc.problem or exc}"))
        return None, smap, problems
    except yaml.YAMLError as exc:  # pragma: no cover - reader errors (bad encoding)
        problems.append(Problem(Location(file, 1, 1), f"YAML error: {exc}"))
        return None, smap, problems
    if node is None:
        return None, smap, problems
    constructor = yaml.SafeLoader("")
    data = _build(node, (), smap, problems, constructor)
    return data, smap, problems


def _loc(node, file: str) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(node, path, smap: SourceMap, problems: list[Problem], constructor) -> Any:
    smap.positions[path] = _loc(node, smap.file)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        problems.append(Problem(_loc(node, smap.file), f"YAML tag '{node.tag}' is not allowed in policy files"))
        return None
    if isinstance(node, yaml.MappingNode):
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        constructor.flatten_mapping(node)
        out: dict = {}
        merged: set = set()  # keys that came from a `<<:` merge: the mapping's own keys override them
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), smap, problems, constructor)
            if isinstance(key, (dict, list)):
                problems.append(Problem(_loc(key_node, smap.file), "a mapping key must be a plain value"))
                continue
            if isinstance(key, Decimal):
                key = str(key)
            if key in out and key not in merged:
                problems.append(Problem(_loc(key_node, smap.file), f"duplicate key '{key}'"))
                continue
            if id(key_node) in own:
                merged.discard(key)
            else:
                merged.add(key)
            smap.key_positions[path + (key,)] = _loc(key_node, smap.file)
            out[key] = _build(value_node, path + (key,), smap, problems, constructor)
        smap.positions.pop(path + ("<key>",), None)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), smap, problems, constructor) for i, item in enumerate(node.value)]
    smap.scalar_styles[path] = node.style
    if node.tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(node.value.replace("_", ""))
        except Exception:
            return constructor.construct_object(node)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(Problem(_loc(node, smap.file), f"cannot read value: {exc.problem}"))
        return None
    except ValueError as exc:  # e.g. 2006-13-01 looks like a date but is none
        problems.append(Problem(_loc(node, smap.file), f"'{node.value}' is not a valid value: {exc}"))
        return None
