"""Expression AST -> Python closures (the scalar backend), no eval.

Each node becomes a small function of the evaluation environment (a dict of facts and
already-computed rules).  What the operators mean is in semantics.py; this module only
wires nodes to it.  The trace levels compile the same semantics with different observer
hooks: "none" records nothing, "audit" records facts read and table lookups, "full" also
records the value of every expression node.
"""
from __future__ import annotations

from .. import limits
from ..errors import BudgetExceeded, EvaluationError, NotInForceError
from ..expr import ast
from ..model.elements import versions_text
from . import semantics as S
from .semantics import Missing, evaluate_all, gather, pair
from .tracer import TRACE, leaf

AS_OF = "as_of"  # env key of the evaluation date: `as_of` is a reserved name, never a fact
ITEM = object()  # env key of the stack of records any()/all() are looking at
STEPS = object()  # env key of the steps left in this evaluation's budget
PRESUMED = object()  # env key of the presumed facts read so far, in order (a dict used as a set)
KNOWN_ON = object()  # env key of the "as known on" date, when there is one
_NOT_GIVEN = object()  # what env.get gives for a fact not in the case


class ExprCompiler:
    """Compiles one expression's AST.  `rule_fn` gives the compiled closure of a referenced
    rule, `table_version` the version of a table in force for the period being compiled."""

    def __init__(self, mode: str, rule_fn, table_version, where, presumed=None):
        self.mode = mode
        self.rule_fn = rule_fn
        self.table_version = table_version
        self.where = where  # node -> Location, for runtime errors
        self.presumed = presumed or {}  # fact name -> the value presumed when it is not given

    def compile(self, node):
        fn = getattr(self, "_" + type(node).__name__)(node)
        if self.mode == "full" and not isinstance(node, ast.Literal):
            return _recorded(node, fn)
        return fn

    def _failure(self, node, what: str):
        """Python's arithmetic failures at `node` as an EvaluationError citing where it is written."""
        where = self.where(node)

        def failed(exc):
            return EvaluationError(f"{where}: cannot compute {what}: {S.explain_failure(exc)}")
        return failed

    def _guarded(self, node, what: str, fn):
        failed = self._failure(node, what)

        def guarded(env):
            try:
                return fn(env)
            except S.ARITHMETIC_FAILURES as exc:
                raise failed(exc) from None
        return guarded

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
        if name in self.presumed:
            return self._presumed_fact(name, self.presumed[name])
        if self.mode == "none":
            def fact(env):
                v = env.get(name, _NOT_GIVEN)  # not a caught KeyError: it would be the Missing's context,
                if v is _NOT_GIVEN:  # its traceback holding the frame
                    raise Missing((name,))
                return v
            return fact

        def traced_fact(env):
            v = env.get(name, _NOT_GIVEN)
            if v is _NOT_GIVEN:
                env[TRACE].current.reads[name] = None
                raise Missing((name,))
            env[TRACE].current.reads[name] = v
            return v
        return traced_fact

    def _presumed_fact(self, name, value):
        """A fact with a presumption: the caller's value if given, else the presumed one,
        noting that the decision now rests on it."""
        if self.mode == "none":
            def presumed(env):
                try:
                    return env[name]
                except KeyError:
                    env[PRESUMED][name] = None
                    return value
            return presumed

        def traced_presumed(env):
            frame = env[TRACE].current
            try:
                v = env[name]
            except KeyError:
                env[PRESUMED][name] = None
                if name not in (frame.presumed or ()):
                    frame.presumed = (frame.presumed or ()) + (name,)
                v = value
            frame.reads[name] = v
            return v
        return traced_presumed

    # -- operators ---------------------------------------------------------------------------
    def _Unary(self, n):
        x = self.compile(n.operand)
        if n.op == "not":
            return lambda env: not x(env)
        return self._guarded(n, "-", lambda env: S.negate(x(env)))

    def _Binary(self, n):
        timey = {"duration", "date"} & {n.left.type.kind, n.right.type.kind}
        op = (S.TIME_ARITH if timey else S.ARITH)[n.op]
        return pair(op, self.compile(n.left), self.compile(n.right), self._failure(n, n.op))

    def _Compare(self, n):
        l, r, op = self.compile(n.left), self.compile(n.right), S.CMP[n.op]
        if isinstance(n.right, ast.Literal):
            c = n.right.value
            return lambda env: op(l(env), c)
        return pair(op, l, r)

    def _Logic(self, n):
        items = [self.compile(x) for x in n.items]
        stop = n.op == "or"  # the value that decides the whole expression

        return S.kleene(items, stop)

    def _Membership(self, n):
        item = self.compile(n.item)
        neg = n.negated
        if isinstance(n.collection, ast.ListExpr) and all(isinstance(x, ast.Literal) for x in n.collection.items):
            const = frozenset(x.value for x in n.collection.items)
            if neg:
                return lambda env: item(env) not in const
            return lambda env: item(env) in const
        coll = self.compile(n.collection)
        if neg:
            return pair(lambda x, c: x not in c, item, coll)
        return pair(lambda x, c: x in c, item, coll)

    def _If(self, n):
        c, a, b = self.compile(n.condition), self.compile(n.then), self.compile(n.otherwise)

        def f(env):
            try:
                cond = c(env)
            except Missing as m:
                raise gather(m, env, a, b)
            return a(env) if cond else b(env)
        return f

    def _Call(self, n):
        if n.function in ("any", "all"):
            return self._quantifier(n)
        if n.function == "given":  # is the fact given? absence is then an answer, not a missing fact
            name = n.args[0].ref[1].name
            if self.mode == "none":
                return lambda env: name in env

            def given(env):
                present = name in env
                env[TRACE].current.reads[name] = env[name] if present else None
                return present
            return given
        fn = S.FUNCS[n.function]
        args = [self.compile(a) for a in n.args]
        kwargs = {k: v.value for k, v in n.kwargs.items()}  # round's `to` is a literal (type-checked)
        if len(args) == 2 and not kwargs:
            return pair(fn, args[0], args[1], self._failure(n, f"{n.function}()"))
        if n.function == "round" and len(args) == 1:
            x, to = args[0], kwargs.get("to", 1)
            call = lambda env: fn(x(env), to)  # noqa: E731
        elif len(args) == 1 and not kwargs:
            x = args[0]
            call = lambda env: fn(x(env))  # noqa: E731
        else:
            call = lambda env: fn(*evaluate_all(args, env), **kwargs)  # noqa: E731
        return self._guarded(n, f"{n.function}()", call)

    def _quantifier(self, n):
        """any()/all() over a list of records: Kleene over the records, each visit a step."""
        records, cond = self.compile(n.args[0]), self.compile(n.args[1])
        stop = n.function == "any"
        where = self.where(n)

        def visit(record):
            def one(env):
                left = env[STEPS] = env.get(STEPS, limits.MAX_STEPS) - 1
                if left < 0:
                    raise BudgetExceeded(f"{where}: {n.function}() stopped: the evaluation took more than "
                                           f"{limits.MAX_STEPS} steps")
                stack = env.get(ITEM)
                if stack is None:
                    stack = env[ITEM] = []
                stack.append(record)
                try:
                    return cond(env)
                finally:
                    stack.pop()
            return one

        def quantified(env):
            return S.kleene(map(visit, records(env)), stop)(env)
        return quantified

    def _Lookup(self, n):
        table = n.ref
        version = self.table_version(table)
        keys = [self.compile(k) for k in n.keys]
        where = self.where(n)
        if version is None:
            def not_in_force(env):
                known = env.get(KNOWN_ON)
                why = (f" as known on {known}: versions {versions_text(table.versions, known)}" if known
                       else f": its first version takes effect {table.versions[0].effective}")
                raise NotInForceError(f"table '{table.id}' ({table.citation}) has no rates in force on "
                                      f"{env[AS_OF]}{why}", table.instrument)
            return not_in_force
        cells = version.cells

        def cell(*key):
            try:
                return cells[key]
            except KeyError:
                shown = ", ".join(f"{k.name}={v}" for k, v in zip(table.keys, key))
                raise EvaluationError(f"{where}: table '{table.id}' ({table.citation}) has no row for {shown} "
                                      f"in its version effective {version.effective}") from None

        if self.mode == "none" and len(keys) == 1:
            k0 = keys[0]
            return lambda env: cell(k0(env))
        if self.mode == "none" and len(keys) == 2:
            return pair(cell, keys[0], keys[1])
        names = tuple(k.name for k in table.keys)

        def look(env):
            key = tuple(evaluate_all(keys, env))
            value = cell(*key)
            if self.mode != "none":
                frame = leaf(env, "table", table, version)
                frame.reads = dict(zip(names, key))
                frame.value = value
            return value
        return look


def _recorded(node, fn):
    """Full trace: record the node's value in the current frame."""
    def f(env):
        v = fn(env)
        frame = env[TRACE].current
        if frame.values is None:
            frame.values = []
        frame.values.append((node, v))
        return v
    return f
