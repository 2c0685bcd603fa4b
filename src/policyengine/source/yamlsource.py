"""Safe YAML loading that remembers where every value was written.

PyYAML's safe constructors build plain data but forget positions; analysts need
`file:line:col` for every error, so we walk the composed node tree ourselves and keep
a map from each value's path (tuple of keys and indexes) to its location.  Floats are
read as exact Decimals (a policy's "0.288" must stay 0.288), and duplicate keys, which
YAML would silently collapse, are reported.

Everything is bounded (limits.py), so that no file can hang the loader or exhaust memory:
files are read only if regular and small enough (files.py), nesting is bounded, a value that
contains itself is refused, and the values built with aliases expanded are counted.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from ..errors import Location, Problem
from ..limits import MAX_YAML_DEPTH, MAX_YAML_NODES
from .files import Path, SourceError, SourceMap, decode, read_source  # noqa: F401  (read with the parser, as before)


class _Refused(yaml.MarkedYAMLError):
    """A document the composer will not build (too deep, or containing itself)."""


try:  # libyaml's parser, in C, when PyYAML was built with it: about ten times faster than Python's
    from yaml._yaml import CParser as _Parser

    class _Base(yaml.composer.Composer, _Parser, yaml.constructor.SafeConstructor, yaml.resolver.Resolver):
        """libyaml for the events, and PyYAML's own composer over them, so the bounds below
        (which live in compose_node) still see every node."""

        def __init__(self, text: str):
            _Parser.__init__(self, text)
            yaml.constructor.SafeConstructor.__init__(self)
            yaml.resolver.Resolver.__init__(self)
            yaml.composer.Composer.__init__(self)
except ImportError:  # pragma: no cover - PyYAML without libyaml: the pure-Python parser
    _Base = yaml.SafeLoader


class _Composer(_Base):
    """PyYAML's safe loader with a bounded composer.

    The composer recurses once per nesting level, and an alias shares its anchor's node,
    so a few hundred bytes of aliases can stand for billions of values.  As it composes,
    this one counts the values the document stands for with aliases expanded, and how
    deep they nest, and stops at the alias or the value that exceeds MAX_YAML_NODES or
    MAX_YAML_DEPTH; an alias inside its own anchor (a value containing itself) is refused.
    """

    def __init__(self, text: str):
        super().__init__(text)
        self.depth = 0  # of the node being composed
        self.deepest = 0  # deepest level reached inside it, aliases expanded
        self.expanded = 0  # values so far, aliases expanded
        self.open_anchors: set = set()
        self.extent: dict = {}  # id(anchored node) -> (values, levels) it stands for

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent):
            if event.anchor in self.open_anchors:
                raise _Refused(None, None, f"recursive alias '*{event.anchor}': the value contains itself",
                               event.start_mark)
            node = super().compose_node(parent, index)
            values, levels = self.extent.get(id(node), (1, 1))
            self.expanded += values
            self.deepest = max(self.deepest, self.depth + levels)
            if self.expanded > MAX_YAML_NODES:
                raise _Refused(None, None, f"alias '*{event.anchor}' makes more than {MAX_YAML_NODES:,} values "
                                           "once aliases are expanded", event.start_mark)
            if self.deepest > MAX_YAML_DEPTH:
                raise _Refused(None, None, f"alias '*{event.anchor}' nests values deeper than {MAX_YAML_DEPTH} "
                                           "levels once expanded", event.start_mark)
            return node
        if self.depth >= MAX_YAML_DEPTH:
            raise _Refused(None, None, f"nested deeper than {MAX_YAML_DEPTH} levels", event.start_mark)
        self.expanded += 1
        if self.expanded > MAX_YAML_NODES:
            raise _Refused(None, None, f"more than {MAX_YAML_NODES:,} values", event.start_mark)
        anchor = getattr(event, "anchor", None)
        start, outer = self.expanded, self.deepest
        self.depth += 1
        self.deepest = self.depth
        if anchor is not None:
            self.open_anchors.add(anchor)
        try:
            node = super().compose_node(parent, index)
        finally:
            self.depth -= 1
            self.open_anchors.discard(anchor)
        if anchor is not None:
            self.extent[id(node)] = (self.expanded - start + 1, self.deepest - self.depth)
        self.deepest = max(outer, self.deepest)
        return node


class _Stop(Exception):
    """Building stops: the document exceeds a bound (the problem is already recorded)."""


def load_yaml(text: str, file: str) -> tuple[Any, SourceMap, list[Problem]]:
    """Parse one YAML document safely; return (data, source map, problems)."""
    smap = SourceMap(file)
    problems: list[Problem] = []
    try:
        loader = _Composer(text)
        try:
            node = loader.get_single_node()
        finally:
            loader.dispose()
    except _Refused as exc:
        problems.append(Problem(_mark(exc.problem_mark, file), exc.problem))
        return None, smap, problems
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problems.append(Problem(_mark(mark, file), f"YAML syntax error: {_what(exc)}"))
        return None, smap, problems
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (e.g. NUL)
        at = exc.position
        line_start = text.rfind("\n", 0, at) + 1
        problems.append(Problem(Location(file, text.count("\n", 0, at) + 1, at - line_start + 1),
                                f"character {exc.character:#04x} is not allowed in YAML text"))
        return None, smap, problems
    except yaml.YAMLError as exc:  # pragma: no cover - other reader errors
        problems.append(Problem(Location(file, 1, 1), f"YAML error: {_what(exc)}"))
        return None, smap, problems
    except RecursionError:  # pragma: no cover - the depth bound above should prevent it
        problems.append(Problem(Location(file, 1, 1), f"nested deeper than {MAX_YAML_DEPTH} levels"))
        return None, smap, problems
    if node is None:
        return None, smap, problems
    constructor = yaml.SafeLoader("")
    try:
        data = _build(node, (), smap, problems, constructor, [0])
    except _Stop:
        return None, smap, problems
    return data, smap, problems


def _mark(mark, file: str) -> Location:
    return Location(file, mark.line + 1, mark.column + 1) if mark else Location(file, 1, 1)


def _what(exc) -> str:
    """What a YAML error says, without PyYAML's own rendering of where (`in "<unicode string>",
    line 3, column 5` and a caret): the problem carries path:line:col already."""
    text = getattr(exc, "problem", None) or getattr(exc, "context", None)
    if not text:
        text = str(exc).splitlines()[0] if str(exc) else "not valid YAML"
        text = text.replace('in "<unicode string>", ', "").replace("<unicode string>", "the text")
    return _short(text, 100)


def _short(text: str, limit: int = 60) -> str:
    """text, cut to limit characters: a message must stay readable whatever the input."""
    return text if len(text) <= limit else text[:limit] + "…"


def _loc(node, file: str) -> Location:
    return Location(file, node.start_mark.line + 1, node.start_mark.column + 1)


_PLAIN_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


def _build(node, path, smap: SourceMap, problems: list[Problem], constructor, built: list) -> Any:
    """The value of node; built[0] counts the values built, aliases expanded.

    The composer has already bounded the document; counting again here keeps the bound
    true whatever the merges (`<<:`) make of it.
    """
    built[0] += 1
    if built[0] > MAX_YAML_NODES or len(path) >= MAX_YAML_DEPTH:
        problems.append(Problem(_loc(node, smap.file), f"more than {MAX_YAML_NODES:,} values once aliases are expanded"
                                if built[0] > MAX_YAML_NODES else f"nested deeper than {MAX_YAML_DEPTH} levels"))
        raise _Stop
    smap.positions[path] = _loc(node, smap.file)
    if not isinstance(node, yaml.ScalarNode) and node.tag not in _PLAIN_TAGS:
        problems.append(Problem(_loc(node, smap.file), f"YAML tag '{node.tag}' is not allowed in policy files"))
        return None
    if isinstance(node, yaml.MappingNode):
        own = {id(k) for k, _ in node.value if k.tag != "tag:yaml.org,2002:merge"}
        try:
            constructor.flatten_mapping(node)
        except yaml.constructor.ConstructorError as exc:  # `<<:` given something other than mappings
            problems.append(Problem(_mark(exc.problem_mark, smap.file), f"cannot merge: {_short(str(exc.problem), 100)}"))
            return None
        out: dict = {}
        merged: set = set()  # keys that came from a `<<:` merge: the mapping's own keys override them
        for key_node, value_node in node.value:
            key = _build(key_node, path + ("<key>",), smap, problems, constructor, built)
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
            out[key] = _build(value_node, path + (key,), smap, problems, constructor, built)
        smap.positions.pop(path + ("<key>",), None)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), smap, problems, constructor, built) for i, item in enumerate(node.value)]
    smap.scalar_styles[path] = node.style
    if node.tag == "tag:yaml.org,2002:float":
        try:
            return Decimal(node.value.replace("_", ""))
        except Exception:
            return constructor.construct_object(node)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.constructor.ConstructorError as exc:
        problems.append(Problem(_loc(node, smap.file), f"cannot read value: {_short(str(exc.problem))}"))
        return None
    except ValueError as exc:  # e.g. 2006-13-01 looks like a date but is none
        problems.append(Problem(_loc(node, smap.file), f"'{_short(node.value)}' is not a valid value: {_short(str(exc))}"))
        return None
