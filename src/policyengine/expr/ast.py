"""Typed, language-neutral AST nodes.

The nodes say *what* an expression means, never how Python would do it, so a scalar
compiler and a columnar (batch) compiler can both target them.  Every node keeps its
line and column inside the expression text for error messages.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(eq=False)
class Node:
    line: int = field(default=1, kw_only=True)
    col: int = field(default=1, kw_only=True)
    type: Any = field(default=None, kw_only=True, repr=False)  # set by the type checker


@dataclass(eq=False)
class Literal(Node):
    value: Any  # bool, int, Decimal, str, date, Duration, or Money-tagged Decimal
    kind: str  # boolean | integer | decimal | money | text | date | duration


@dataclass(eq=False)
class ListExpr(Node):
    items: list[Node]


@dataclass(eq=False)
class Name(Node):
    """An unresolved name; the type checker resolves it to a fact, rule, table or `as_of`."""

    name: str
    ref: Any = None  # ("fact", FactDecl) | ("rule", Rule) | ("as_of", None)


@dataclass(eq=False)
class Unary(Node):
    op: str  # "-" | "not"
    operand: Node


@dataclass(eq=False)
class Binary(Node):
    op: str  # + - * /
    left: Node
    right: Node


@dataclass(eq=False)
class Compare(Node):
    op: str  # == != < <= > >=
    left: Node
    right: Node


@dataclass(eq=False)
class Logic(Node):
    op: str  # "and" | "or"
    items: list[Node]


@dataclass(eq=False)
class Membership(Node):
    item: Node
    collection: Node
    negated: bool = False


@dataclass(eq=False)
class If(Node):
    condition: Node
    then: Node
    otherwise: Node


@dataclass(eq=False)
class Call(Node):
    function: str
    args: list[Node]
    kwargs: dict[str, Node]


@dataclass(eq=False)
class Lookup(Node):
    table: str
    keys: list[Node]
    ref: Any = None  # the Table, once resolved


def walk(node: Node):
    """Every node of the tree, parents before children."""
    yield node
    for child in children(node):
        yield from walk(child)


def children(node: Node) -> list[Node]:
    if isinstance(node, ListExpr):
        return list(node.items)
    if isinstance(node, Unary):
        return [node.operand]
    if isinstance(node, (Binary, Compare)):
        return [node.left, node.right]
    if isinstance(node, Logic):
        return list(node.items)
    if isinstance(node, Membership):
        return [node.item, node.collection]
    if isinstance(node, If):
        return [node.condition, node.then, node.otherwise]
    if isinstance(node, Call):
        return list(node.args) + list(node.kwargs.values())
    if isinstance(node, Lookup):
        return list(node.keys)
    return []
