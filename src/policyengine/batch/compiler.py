"""The batch compiler: a decision's rules over columns, for one period of validity.

Each expression node and each rule becomes one column (batch/columns.py), computed from
its operands' columns by the very closure the scalar backend compiles for it
(runtime/compile.py and runtime/rules.py), its operands read from slots instead of
evaluated: so both backends share one meaning, defined once in runtime/semantics.py.

Besides values, the compiler records every column's outcome class (unknown, failed,
true, false, a value; the key of a `select`, by value).  Rows whose classes agree on
every column follow the same path through the rules in the scalar engine, so they share
their status, deciding clauses, missing facts and presumptions: the engine evaluates one
row of each path with the scalar engine and gives its answer to every row of the path.
"""
from __future__ import annotations

import numpy as np

from ..errors import PolicyEngineError
from ..expr import ast
from ..model.elements import SelectBody
from ..runtime.compile import AS_OF, KNOWN_ON, PRESUMED, ExprCompiler
from ..runtime.rules import RuleCompiler
from ..runtime.semantics import Conflict, Missing, Refused
from .columns import FAILED, MISSING, Col, apply, classes, combination


class Unsupported(Exception):
    """A construct the batch compiler does not vectorise: its rows go to the scalar engine."""


class _Failed(PolicyEngineError):
    """An operand that failed: the scalar semantics treat it as any failure."""


def _reader(slot):
    def read(env):
        v = env[slot]
        if v is MISSING:
            raise Missing()
        if v is FAILED:
            raise _Failed()
        return v
    return read


def _outcome(fn, env):
    try:
        return fn(env)
    except Missing:
        return MISSING
    except (Refused, Conflict, PolicyEngineError):
        return FAILED
    except Exception:  # noqa: BLE001 - the scalar engine reports it (as an internal error) for the row
        return FAILED


class _OneNode(ExprCompiler):
    """The scalar compiler for one node, whose operands are read from slots."""

    def compile(self, node):
        if isinstance(node, ast.Literal):
            return self._Literal(node)
        return _reader(id(node))


class _RuleSlots(RuleCompiler):
    """The scalar rule compiler, with each expression and referenced rule read from a slot."""

    def __init__(self, rules, day, known_on, record):
        super().__init__(rules, day, "none", None, known_on)
        self.record = record

    def exprs(self, expr):
        self.record.append(("expr", expr))
        return _reader(id(expr))

    def rule(self, rule):
        self.record.append(("rule", rule))
        return _reader(("rule", rule.id))


class PeriodCompiler:
    """Columns of one decision's rules for rows of one period (and one "as known on" period)."""

    def __init__(self, rules, day, known_on, facts: dict, given: dict, as_of: Col, presumed: dict):
        self.rules, self.day, self.known_on = rules, day, known_on
        self.facts = facts  # fact name -> Col of the values given (MISSING where not)
        self.presumed = presumed  # fact name -> presumed value (presumptions applied)
        self.as_of = as_of
        self.nodes: dict = {}
        self.rule_cols: dict = {}
        self.fact_cols: dict = {}
        self.seen: list = []  # (Col, by_value): every column, for the paths
        self.by_value: set = set()  # ids of expressions whose value picks a path (select keys)
        self.env = {AS_OF: day} if known_on is None else {AS_OF: day, KNOWN_ON: known_on}

    # -- values ------------------------------------------------------------------------------
    def rule(self, rule) -> Col:
        col = self.rule_cols.get(rule.id)
        if col is None:
            record = []
            rc = _RuleSlots(self.rules, self.day, self.known_on, record)
            version = rule.version_at(self.day, self.known_on)
            if version is not None and isinstance(version.body, SelectBody) and version.body.on is not None:
                self.by_value.add(id(version.body.on))
            fn = rc._rule(rule)
            slots, cols = [], []
            for kind, obj in record:
                if kind == "expr":
                    slots.append(id(obj))
                    cols.append(self.expr(obj))
                else:
                    slots.append(("rule", obj.id))
                    cols.append(self.rule(obj))
            col = self.rule_cols[rule.id] = apply(self._runner(fn, slots), cols)
            self.seen.append((col, False))
        return col

    def expr(self, expr) -> Col:
        col = self._node(expr.node, expr.locate)
        if id(expr) in self.by_value:
            self.seen.append((col, True))
        return col

    def _runner(self, fn, slots):
        base = self.env

        def run(values):
            env = dict(base)
            env.update(zip(slots, values))
            return _outcome(fn, env)
        return run

    def _node(self, node, where) -> Col:
        col = self.nodes.get(id(node))
        if col is not None:
            return col
        if isinstance(node, ast.Literal):
            col = Col.const(node.value)
        elif isinstance(node, ast.Name):
            col = self._name(node)
        elif isinstance(node, ast.Call) and node.function == "given":
            col = self._given(node.args[0].ref[1].name)
        elif isinstance(node, ast.Call) and node.function in ("any", "all"):
            col = self._island(node, where)
        else:
            handler = getattr(_OneNode("none", None, self._table_version, where, None), "_" + type(node).__name__)
            fn = handler(node)
            kids = [k for k in ast.children(node) if not isinstance(k, ast.Literal)]
            col = apply(self._runner(fn, [id(k) for k in kids]), [self._node(k, where) for k in kids])
        self.nodes[id(node)] = col
        self.seen.append((col, False))
        return col

    def _island(self, node, where) -> Col:
        """any()/all() over each row's list of records: the scalar closure of the whole
        quantifier, once per distinct combination of the facts, rules and date it reads.
        Which records decide it is a path of its own, so each combination is one."""
        facts, rules, as_of = {}, {}, False
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.ref is not None:
                kind, obj = sub.ref[0], sub.ref[1]
                if kind == "fact":
                    facts[obj.name] = self.facts.get(obj.name, Col.const(MISSING))
                elif kind == "rule":
                    rules[obj.id] = self.rule(obj)
                elif kind == "as_of":
                    as_of = True
        presumed = {k: v for k, v in self.presumed.items() if k in facts}
        fn = ExprCompiler("none", lambda r: _reader(("rule", r.id)), self._table_version, where,
                          presumed).compile(node)
        names = list(facts) + [("rule", r) for r in rules] + ([AS_OF] if as_of else [])
        cols = list(facts.values()) + list(rules.values()) + ([self.as_of] if as_of else [])
        base = self.env

        def run(values):
            env = dict(base)
            env[PRESUMED] = {}
            env.update((k, v) for k, v in zip(names, values) if v is not MISSING or type(k) is not str)
            return _outcome(fn, env)
        for name in facts:
            self._fact(name)  # given or not: on the path
        self.seen.append((combination(cols), True))
        return apply(run, cols)

    def _table_version(self, table):
        return table.version_at(self.day, self.known_on)

    def _name(self, n) -> Col:
        kind, obj = n.ref[0], n.ref[1]
        if kind == "as_of":
            return self.as_of
        if kind == "rule":
            return self.rule(obj)
        if kind == "field":
            raise Unsupported("a record field outside any()/all()")
        return self._fact(obj.name)

    def _fact(self, name) -> Col:
        col = self.fact_cols.get(name)
        if col is None:
            given = self.facts.get(name, Col.const(MISSING))
            self.seen.append((given, False))  # given or not is a path of its own
            col = given
            if name in self.presumed:
                value = self.presumed[name]
                col = Col(given.codes, [value if v is MISSING else v for v in given.uniq])
            self.fact_cols[name] = col
        return col

    def _given(self, name) -> Col:
        given = self.facts.get(name, Col.const(MISSING))
        return Col(given.codes, [v is not MISSING for v in given.uniq])

    # -- paths ---------------------------------------------------------------------------------
    def paths(self, n: int):
        """(path of each row, one row of each path): rows of a path share their status,
        clauses, missing facts and presumptions."""
        sig = np.zeros(n, dtype=np.int64)
        size = 1
        for col, by_value in self.seen:
            if col.codes is None:
                continue
            cm = classes(col, by_value)
            if cm.min() == cm.max():
                continue
            kinds, cm = np.unique(cm, return_inverse=True)
            k = len(kinds)
            if size * k >= 1 << 62:
                _, sig = np.unique(sig, return_inverse=True)
                size = int(sig.max()) + 1
            sig = sig * k + cm[col.codes]
            size *= k
        if size <= 1 << 22:
            counts = np.bincount(sig, minlength=size)
            present = np.flatnonzero(counts)
            remap = np.empty(size, dtype=np.int64)
            remap[present] = np.arange(len(present))
            path = remap[sig]
            rep = np.empty(len(present), dtype=np.int64)
            rep[path] = np.arange(n)
            return path, rep
        _, rep, path = np.unique(sig, return_index=True, return_inverse=True)
        return path, rep
