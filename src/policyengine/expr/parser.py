"""Text -> AST.  Parsing uses lark (LALR) with the grammar in grammar.lark.

Policy text is never handed to Python's eval: the parser only builds AST nodes, and
expression size and nesting are bounded so that no policy can exhaust the engine.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from lark import Lark, Token, Transformer, Tree, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError

from . import ast
from .. import limits
from ..values import Duration

MAX_LENGTH = 4000


class ExprSyntaxError(Exception):
    def __init__(self, message: str, line: int = 1, col: int = 1):
        super().__init__(message)
        self.line, self.col = line, col


@lru_cache(maxsize=1)
def _parser() -> Lark:
    grammar = (Path(__file__).parent / "grammar.lark").read_text()
    return Lark(grammar, parser="lalr", propagate_positions=True, maybe_placeholders=False)


def _pos(meta_or_token) -> dict:
    line = getattr(meta_or_token, "line", None) or 1
    col = getattr(meta_or_token, "column", None) or 1
    return {"line": line, "col": col}


def _number(token) -> Decimal | int:
    """A literal's exact value, refused beyond the limits every computation keeps to."""
    text = str(token).lstrip("$").replace("_", "")
    if "." not in text:
        digits = len(text.lstrip("0")) or 1
        if digits > limits.MAX_INTEGER_DIGITS:
            raise ExprSyntaxError(f"a whole number of {digits} digits: at most {limits.MAX_INTEGER_DIGITS}",
                                  **_pos(token))
        return int(text)
    value = Decimal(text)
    digits = len(value.as_tuple().digits)
    if digits > limits.PRECISION:
        raise ExprSyntaxError(f"a number of {digits} significant digits: at most {limits.PRECISION}", **_pos(token))
    if abs(value.adjusted()) > limits.MAX_EXPONENT:
        raise ExprSyntaxError(f"a number of magnitude 10^{value.adjusted()}: at most 10^±{limits.MAX_EXPONENT}",
                              **_pos(token))
    return value


@v_args(meta=True)
class _Build(Transformer):
    def number(self, meta, c):
        v = _number(c[0])
        return ast.Literal(v, "decimal" if isinstance(v, Decimal) else "integer", **_pos(c[0]))

    def money(self, meta, c):
        return ast.Literal(Decimal(_number(c[0])), "money", **_pos(c[0]))

    def date(self, meta, c):
        try:
            value = dt.date.fromisoformat(str(c[0]))
        except ValueError:
            raise ExprSyntaxError(f"'{c[0]}' is not a real date", **_pos(c[0]))
        return ast.Literal(value, "date", **_pos(c[0]))

    def duration(self, meta, c):
        amount = _number(c[0])
        if not isinstance(amount, int):
            raise ExprSyntaxError(f"a duration needs a whole number, not {c[0]}", **_pos(c[0]))
        return ast.Literal(Duration.of(amount, str(c[1])), "duration", **_pos(c[0]))

    def string(self, meta, c):
        raw = str(c[0])[1:-1]
        return ast.Literal(raw.replace('\\"', '"').replace("\\'", "'").replace("\\\\", "\\"), "text", **_pos(c[0]))

    def true(self, meta, c):
        return ast.Literal(True, "boolean", **_pos(meta))

    def false(self, meta, c):
        return ast.Literal(False, "boolean", **_pos(meta))

    def name(self, meta, c):
        return ast.Name(str(c[0]), **_pos(c[0]))

    def list(self, meta, c):
        return ast.ListExpr([x for x in c if x is not None], **_pos(meta))

    def if_expr(self, meta, c):
        return ast.If(c[0], c[1], c[2], **_pos(meta))

    def or_expr(self, meta, c):
        return ast.Logic("or", list(c), **_pos(meta))

    def and_expr(self, meta, c):
        return ast.Logic("and", list(c), **_pos(meta))

    def not_expr(self, meta, c):
        return ast.Unary("not", c[0], **_pos(meta))

    def neg(self, meta, c):
        return ast.Unary("-", c[0], **_pos(meta))

    def compare(self, meta, c):
        return ast.Compare(str(c[1]), c[0], c[2], **_pos(c[1]))

    def in_expr(self, meta, c):
        return ast.Membership(c[0], c[1], False, **_pos(meta))

    def not_in_expr(self, meta, c):
        return ast.Membership(c[0], c[1], True, **_pos(meta))

    def _chain(self, c):
        node = c[0]
        for i in range(1, len(c), 2):
            op = c[i]
            node = ast.Binary(str(op), node, c[i + 1], **_pos(op))
        return node

    def sum(self, meta, c):
        return self._chain(c)

    def product(self, meta, c):
        return self._chain(c)

    def call(self, meta, c):
        fn = str(c[0])
        args, kwargs = [], {}
        for a in c[1:]:
            if a is None:
                continue
            if isinstance(a, tuple):
                kwargs[a[0]] = a[1]
            elif kwargs:
                raise ExprSyntaxError("positional argument after a named one", a.line, a.col)
            else:
                args.append(a)
        return ast.Call(fn, args, kwargs, **_pos(c[0]))

    def kwarg(self, meta, c):
        return (str(c[0]), c[1])

    def lookup(self, meta, c):
        return ast.Lookup(str(c[0]), list(c[1:]), **_pos(c[0]))


_TOKEN_NAMES = {
    "NAME": "a name", "NUMBER": "a number", "MONEY": "an amount", "STRING": "a string",
    "DATE": "a date", "COMP_OP": "a comparison", "ADD_OP": "'+' or '-'", "MUL_OP": "'*' or '/'",
    "RPAR": "')'", "LPAR": "'('", "RSQB": "']'", "LSQB": "'['", "COMMA": "','", "$END": "the end",
    "TIME_UNIT": "a unit of time", "THEN": "'then'", "ELSE": "'else'", "EQUAL": "'='",
}


def _expected(exc: UnexpectedInput) -> str:
    names = sorted({_TOKEN_NAMES.get(t, t.lower().strip("_")) for t in (getattr(exc, "expected", None) or [])})
    return f"; expected {', '.join(names[:6])}" if names else ""


def _ast_depth(tree: Tree) -> int:
    """The depth the AST built from `tree` will have, every node counted, found without recursion.

    lark's LALR parse is iterative but its Transformer (and everything after it: copy, type
    check, compile, evaluate) recurses, so the depth is bounded before transforming.  It is
    the AST's exact depth: `a + b + c` is one parse node but nests as ((a + b) + c), and a
    named argument (`to=`) adds no node.
    """
    depth: dict[int, int] = {}
    stack = [(tree, False)]
    while stack:
        node, done = stack.pop()
        kids = [c for c in node.children if isinstance(c, Tree)]
        if not done:
            stack.append((node, True))
            stack.extend((k, False) for k in kids)
            continue
        if node.data in ("sum", "product"):  # operand, op, operand, ...: left-nested Binary nodes
            operands = node.children[0::2]
            m = len(operands) - 1
            depth[id(node)] = max(depth.get(id(x), 0) + m - max(i - 1, 0) for i, x in enumerate(operands))
        else:
            depth[id(node)] = max((depth[id(k)] for k in kids), default=0) + (node.data != "kwarg")
    return depth[id(tree)]


@lru_cache(maxsize=4096)
def _parse_cached(text: str) -> ast.Node:
    tree = _parser().parse(text)
    if isinstance(tree, Tree) and (depth := _ast_depth(tree)) > limits.MAX_EXPR_DEPTH:
        raise ExprSyntaxError(f"expression nests too deeply ({depth} levels, at most {limits.MAX_EXPR_DEPTH}): "
                              f"split it into named rules", **_pos(tree.meta))
    try:
        return _Build().transform(tree)
    except VisitError as exc:
        if isinstance(exc.orig_exc, ExprSyntaxError):
            raise exc.orig_exc from None
        raise


def parse(text: str) -> ast.Node:
    """Parse one expression.  Raises ExprSyntaxError with a 1-based line and column."""
    if not isinstance(text, str):
        text = str(text)
    if len(text) > MAX_LENGTH:
        raise ExprSyntaxError(f"expression is longer than {MAX_LENGTH} characters; split it into rules")
    try:
        # a fresh copy: the type checker annotates nodes, and cached trees are shared
        return _copy(_parse_cached(text))
    except UnexpectedCharacters as exc:
        raise ExprSyntaxError(f"unexpected character {text[exc.pos_in_stream]!r}", exc.line, exc.column) from None
    except UnexpectedToken as exc:
        tok: Token = exc.token
        what = "end of expression" if tok.type == "$END" else f"{str(tok)!r}"
        raise ExprSyntaxError(f"unexpected {what}{_expected(exc)}", exc.line if exc.line > 0 else 1,
                              exc.column if exc.column > 0 else len(text)) from None
    except UnexpectedEOF as exc:
        raise ExprSyntaxError(f"expression ends too early{_expected(exc)}", 1, len(text)) from None


def _copy(node):
    import copy
    return copy.deepcopy(node)
