"""AST -> Python closures, once per (decision, period of validity, trace level).

Closures, not eval: each node becomes a small function of the evaluation environment
(a dict of facts and already-computed rules).  Missing facts raise `Missing`, which
and/or/if catch to decide what they can (false and <missing> is false) and otherwise
merge, so that an undetermined decision names every fact that would decide it.
Python 3.11's zero-cost `try` keeps that free on the happy path.

Three trace levels compile to three sets of closures so that the untraced path pays
nothing for tracing: "none", "audit" (rules, exceptions, tables, facts read, versions)
and "full" (audit plus the value of every expression node).
"""
from __future__ import annotations

import operator
from decimal import Decimal, InvalidOperation

from ..expr import ast
from .. import values as V
from ..errors import NotInForceError, PolicyEngineError

AS_OF = "as_of"  # env key of the evaluation date: `as_of` is a reserved name, never a fact
ITEM = object()  # env key of the stack of records any()/all() are looking at
TRACE = object()  # env key of the Tracer
_UNSET = object()


class Missing(Exception):
    """What an answer would need but does not have: facts not given, or parts of the
    policy the source text lost (gaps).  Both leave the decision undetermined; logic that
    can decide without them (false and <unknown> is false) still does."""

    def __init__(self, facts, gaps=()):
        super().__init__(", ".join(sorted(facts)) or "gap in the source")
        self.facts = set(facts)
        self.gaps = dict(gaps)  # rule id -> the gap's description


class Refused(Exception):
    """A rule's requirement failed: the case is refused, citing the requirement."""

    def __init__(self, refusals):
        super().__init__("; ".join(r.clause for r, _ in refusals))
        self.refusals = refusals  # [(Rule, Frame|None)]


class Conflict(Exception):
    def __init__(self, rule, exceptions):
        super().__init__(rule.id)
        self.rule, self.exceptions = rule, exceptions


class EvaluationError(PolicyEngineError):
    """Arithmetic that cannot be done (e.g. division by zero), with where it is written."""


def _gather(exc: Missing, env, *fns) -> Missing:
    """Run the other operands too, so a missing-facts answer names all of them."""
    for f in fns:
        try:
            f(env)
        except Missing as m:
            _merge(exc, m)
        except (Refused, Conflict):
            pass
    return exc


def evaluate_all(fns, env) -> list:
    """Every operand's value, or one Missing naming the facts all of them lack."""
    out, missing = [], None
    for f in fns:
        try:
            out.append(f(env))
        except Missing as m:
            missing = m if missing is None else _merge(missing, m)
    if missing is not None:
        raise missing
    return out


def enter(env, kind, obj, version=None):
    """Open a trace frame under the current one; returns (tracer, frame, parent) to close it."""
    tr = env[TRACE]
    frame = Frame(kind, obj, version)
    parent = tr.current
    parent.children.append(frame)
    tr.current = frame
    return tr, frame, parent


class Frame:
    """One step of a trace: a rule, exception, condition, table lookup or requirement."""

    __slots__ = ("kind", "obj", "version", "children", "reads", "value", "outcome", "values", "note")

    def __init__(self, kind, obj, version=None):
        self.kind, self.obj, self.version = kind, obj, version
        self.children = []
        self.reads = {}
        self.value = _UNSET
        self.outcome = None
        self.values = None
        self.note = None


class Tracer:
    __slots__ = ("root", "current", "full")

    def __init__(self, full: bool):
        self.root = Frame("root", None)
        self.current = self.root
        self.full = full


_CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}


def _div(a, b):
    if isinstance(a, int) and isinstance(b, int):
        a = Decimal(a)
    return a / b


def _add(a, b):
    if isinstance(b, V.Duration):
        return V.add_duration(a, b) if not isinstance(a, V.Duration) else V.Duration(a.amount + b.amount, a.unit)
    return a + b


def _sub(a, b):
    if isinstance(b, V.Duration):
        return V.add_duration(a, b, -1) if not isinstance(a, V.Duration) else V.Duration(a.amount - b.amount, a.unit)
    return a - b


_ARITH = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": _div}
_TIME_ARITH = {"+": _add, "-": _sub}


def _round(x, to=1):
    return V.round_half_up(x, to)


_FUNCS = {
    "min": min, "max": max, "round": _round, "floor": V.floor, "abs": abs,
    "months_between": V.months_between, "days_between": V.days_between,
}


class ExprCompiler:
    """Compiles one expression's AST.  `rules` gives the compiled closure of a referenced
    rule, `table_version` the version of a table in force for the period being compiled."""

    def __init__(self, mode: str, rule_fn, table_version, where):
        self.mode = mode
        self.rule_fn = rule_fn
        self.table_version = table_version
        self.where = where  # node -> Location, for runtime errors

    def compile(self, node):
        fn = getattr(self, "_" + type(node).__name__)(node)
        if self.mode == "full" and not isinstance(node, ast.Literal):
            return self._record(node, fn)
        return fn

    def _record(self, node, fn):
        def f(env):
            v = fn(env)
            frame = env[TRACE].current
            if frame.values is None:
                frame.values = []
            frame.values.append((node, v))
            return v
        return f

    # -- leaves ------------------------------------------------------------------------
    def _Literal(self, n):
        v = n.value
        return lambda env: v

    def _ListExpr(self, n):
        items = [self.compile(x) for x in n.items]
        if all(isinstance(x, ast.Literal) for x in n.items):
            const = tuple(x.value for x in n.items)
            return lambda env: const

        return lambda env: tuple(evaluate_all(items, env))

    def _Name(self, n):
        kind, obj = n.ref[0], n.ref[1]
        if kind == "as_of":
            return lambda env: env[AS_OF]
        if kind == "field":
            return lambda env: env[ITEM][-1][obj]
        if kind == "rule":
            return self.rule_fn(obj)
        name = obj.name
        if self.mode == "none":
            def fact(env):
                try:
                    return env[name]
                except KeyError:
                    raise Missing((name,)) from None
            return fact

        def traced_fact(env):
            try:
                v = env[name]
            except KeyError:
                env[TRACE].current.reads[name] = _UNSET
                raise Missing((name,)) from None
            env[TRACE].current.reads[name] = v
            return v
        return traced_fact

    # -- operators ---------------------------------------------------------------------------
    def _Unary(self, n):
        x = self.compile(n.operand)
        if n.op == "not":
            return lambda env: not x(env)
        return lambda env: -x(env)

    def _Binary(self, n):
        l, r = self.compile(n.left), self.compile(n.right)
        timey = "duration" in (n.left.type.kind, n.right.type.kind) or "date" in (n.left.type.kind, n.right.type.kind)
        op = (_TIME_ARITH if timey else _ARITH)[n.op]
        where = self.where(n)

        def f(env):
            try:
                a = l(env)
            except Missing as m:
                raise _gather(m, env, r)
            try:
                return op(a, r(env))
            except (ZeroDivisionError, InvalidOperation) as exc:
                raise EvaluationError(f"{where}: cannot compute {n.op}: {type(exc).__name__}") from None
        return f

    def _Compare(self, n):
        l, r, op = self.compile(n.left), self.compile(n.right), _CMP[n.op]
        if isinstance(n.right, ast.Literal):
            c = n.right.value

            def f(env):
                return op(l(env), c)
            return f

        return _pair(op, l, r)

    def _Logic(self, n):
        items = [self.compile(x) for x in n.items]
        stop = n.op == "or"  # the value that decides the whole expression

        def f(env):
            missing = None
            for it in items:
                try:
                    if bool(it(env)) is stop:
                        return stop
                except Missing as m:
                    missing = m if missing is None else _merge(missing, m)
            if missing is not None:
                raise missing
            return not stop
        return f

    def _Membership(self, n):
        item = self.compile(n.item)
        neg = n.negated
        if isinstance(n.collection, ast.ListExpr) and all(isinstance(x, ast.Literal) for x in n.collection.items):
            const = frozenset(x.value for x in n.collection.items)
            if neg:
                return lambda env: item(env) not in const
            return lambda env: item(env) in const
        coll = self.compile(n.collection)

        def f(env):
            try:
                x = item(env)
            except Missing as m:
                raise _gather(m, env, coll)
            return (x not in coll(env)) if neg else (x in coll(env))
        return f

    def _If(self, n):
        c, a, b = self.compile(n.condition), self.compile(n.then), self.compile(n.otherwise)

        def f(env):
            try:
                cond = c(env)
            except Missing as m:
                raise _gather(m, env, a, b)
            return a(env) if cond else b(env)
        return f

    def _Call(self, n):
        if n.function in ("any", "all"):  # quantifiers over a list of records
            records, cond = self.compile(n.args[0]), self.compile(n.args[1])
            stop = n.function == "any"

            def quantified(env):
                stack = env.get(ITEM)
                if stack is None:
                    stack = env[ITEM] = []
                missing = None
                for record in records(env):
                    stack.append(record)
                    try:
                        if bool(cond(env)) is stop:
                            return stop
                    except Missing as m:
                        missing = m if missing is None else _merge(missing, m)
                    finally:
                        stack.pop()
                if missing is not None:
                    raise missing
                return not stop
            return quantified
        if n.function == "given":  # is the fact given? absence is then an answer, not a missing fact
            name = n.args[0].ref[1].name
            if self.mode == "none":
                return lambda env: name in env

            def given(env):
                present = name in env
                env[TRACE].current.reads[name] = env[name] if present else None
                return present
            return given
        fn = _FUNCS[n.function]
        args = [self.compile(a) for a in n.args]
        kwargs = {k: v.value for k, v in n.kwargs.items()}  # round's `to` is a literal (type-checked)
        if n.function == "round" and len(args) == 1:
            x, to = args[0], kwargs.get("to", 1)
            return lambda env: V.round_half_up(x(env), to)
        if len(args) == 2 and not kwargs:
            return _pair(fn, args[0], args[1])

        return lambda env: fn(*evaluate_all(args, env), **kwargs)

    def _Lookup(self, n):
        table = n.ref
        version = self.table_version(table)
        keys = [self.compile(k) for k in n.keys]
        where = self.where(n)
        if version is None:
            first = table.versions[0].effective

            def not_in_force(env):
                raise NotInForceError(f"table '{table.id}' ({table.citation}) has no rates in force on "
                                      f"{env[AS_OF]}: its first version takes effect {first}", table.instrument)
            return not_in_force
        cells = version.cells

        def missing_row(key):
            shown = ", ".join(f"{k.name}={v}" for k, v in zip(table.keys, key))
            return EvaluationError(f"{where}: table '{table.id}' ({table.citation}) has no row for {shown} "
                                   f"in its version effective {version.effective}")

        def cell(*key):
            try:
                return cells[key]
            except KeyError:
                raise missing_row(key) from None

        if self.mode == "none" and len(keys) == 1:
            k0 = keys[0]
            return lambda env: cell(k0(env))
        if self.mode == "none" and len(keys) == 2:
            return _pair(cell, keys[0], keys[1])

        def look(env):
            key = tuple(evaluate_all(keys, env))
            value = cell(*key)
            if self.mode != "none":
                tr = env[TRACE]
                frame = Frame("table", table, version)
                frame.reads = dict(zip((k.name for k in table.keys), key))
                frame.value = value
                tr.current.children.append(frame)
            return value
        return look


def _pair(op, left, right):
    """op(left, right), naming the missing facts of both sides when the left one lacks some."""
    def f(env):
        try:
            a = left(env)
        except Missing as m:
            raise _gather(m, env, right)
        return op(a, right(env))
    return f


def _merge(a: Missing, b: Missing) -> Missing:
    a.facts |= b.facts
    a.gaps.update(b.gaps)
    return a
