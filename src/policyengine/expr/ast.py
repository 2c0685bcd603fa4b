"""Typed, language-neutral AST nodes.

The nodes say *what* an expression means, never how Python would do it, so a scalar
compiler and a columnar (batch) compiler can both target them.  Every node keeps its
line and column inside the expression text for error messages.

Each node class declares its `fields` (as Jinja2's nodes do): the attributes that say
what it means, children included.  Child iteration (`children`, `walk`) and structural
equality (`shape`, `same`) derive from them, so two expressions written differently
(spacing, brackets, quotes) but meaning the same compare equal, wherever they are.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    fields = ()  # what the node means; line, col, type and resolved refs are not part of it
    line: int = field(default=1, kw_only=True)
    col: int = field(default=1, kw_only=True)
    type: Any = field(default=None, kw_only=True, repr=False)  # set by the type checker


@dataclass(eq=False)
class Literal(Node):
    fields = ("value", "kind")
    value: Any  # bool, int, Decimal, str, date, Duration, or Money-tagged Decimal
    kind: str  # boolean | integer | decimal | money | text | date | duration


@dataclass(eq=False)
class ListExpr(Node):
    fields = ("items",)
    items: list[Node]


@dataclass(eq=False)
class Name(Node):
    """An unresolved name; the type checker resolves it to a fact, rule, table or `as_of`."""

    fields = ("name",)
    name: str
    ref: Any = None  # ("fact", FactDecl) | ("rule", Rule) | ("as_of", None)


@dataclass(eq=False)
class Unary(Node):
    fields = ("op", "operand")
    op: str  # "-" | "not"
    operand: Node


@dataclass(eq=False)
class Binary(Node):
    fields = ("op", "left", "right")
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(eq=False)
class Compare(Node):
    fields = ("op", "left", "right")
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(eq=False)
class Logic(Node):
    fields = ("op", "items")
    op: str  # "and" | "or"
    items: list[Node]


@dataclass(eq=False)
class Membership(Node):
    fields = ("item", "collection", "negated")
    item: Node
    collection: Node
    negated: bool = False


@dataclass(eq=False)
class If(Node):
    fields = ("condition", "then", "otherwise")
    condition: Node
    then: Node
    otherwise: Node


@dataclass(eq=False)
class Call(Node):
    fields = ("function", "args", "kwargs")
    function: str
    args: list[Node]
    kwargs: dict[str, Node]


@dataclass(eq=False)
class Lookup(Node):
    fields = ("table", "keys")
    table: str
    keys: list[Node]
    ref: Any = None  # the Table, once resolved


def walk(node: Node):
    """Every node of the tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node: Node) -> list[Node]:
    """The direct sub-expressions, in field order (a call's arguments, then its named ones)."""
    out = []
    for name in node.fields:
        v = getattr(node, name)
        items = v.values() if isinstance(v, dict) else v if isinstance(v, list) else [v]
        out.extend(x for x in items if isinstance(x, Node))
    return out


def shape(node):
    """A hashable key of what a tree means: its node classes and declared fields only, so
    reformatting an expression leaves it unchanged while changing an operator does not."""
    if isinstance(node, Node):
        return (type(node).__name__, *(shape(getattr(node, f)) for f in node.fields))
    if isinstance(node, (list, tuple)):
        return tuple(shape(x) for x in node)
    if isinstance(node, dict):
        return tuple(sorted((k, shape(v)) for k, v in node.items()))
    return (type(node).__name__, node)  # so True, 1 and 1.0 stay apart


def same(a: Node, b: Node) -> bool:
    """Whether two expression trees are structurally equal (the one definition lint and diff use)."""
    return shape(a) == shape(b)


def constant_bool(node):
    """True or False when a boolean expression does not depend on the case, else None."""
    if isinstance(node, Literal) and node.kind == "boolean":
        return bool(node.value)
    if isinstance(node, Unary) and node.op == "not":
        inner = constant_bool(node.operand)
        return None if inner is None else not inner
    if isinstance(node, Logic):
        values = [constant_bool(x) for x in node.items]
        if node.op == "and":
            if False in values:
                return False
            return True if all(v is True for v in values) else None
        if True in values:
            return True
        return False if all(v is False for v in values) else None
    return None
