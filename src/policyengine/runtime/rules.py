"""Rules -> closures for one period of validity and one trace level.

Each rule is compiled once per period and shared by every rule that uses it; its value
is memoised in the evaluation environment.  Bodies are compiled through the one body
walker (model/walk.py); what they mean is in semantics.py.  At the traced levels the
same closures are wrapped by observers that open trace frames and record outcomes.
"""
from __future__ import annotations

import datetime as dt

from ..errors import EvaluationError, NotInForceError
from ..model import walk
from ..model.elements import Rule, Table, versions_text
from . import semantics as S
from .compile import AS_OF, KNOWN_ON, PRESUMED, ExprCompiler
from .semantics import Missing, Refused
from .tracer import TRACE, UNSET, Frame, enter, leaf


class RuleCompiler:
    """Compiles rules for one period (`day` picks the versions) and trace level (`mode`)."""

    def __init__(self, rules: dict, day: dt.date, mode: str, presumed=None, known_on: dt.date | None = None):
        self.rules, self.day, self.mode = rules, day, mode
        self.known_on = known_on  # versions as known on this date (None: every version)
        self.presumed = presumed or {}  # fact name -> presumed value, when presumptions are applied
        self.traced = mode != "none"
        self.done: dict[str, object] = {}

    def exprs(self, expr):
        return ExprCompiler(self.mode, self.rule, self._table_version, expr.locate, self.presumed).compile(expr.node)

    def _table_version(self, table: Table):
        return table.version_at(self.day, self.known_on)

    def rule(self, rule: Rule):
        fn = self.done.get(rule.id)
        if fn is None:
            fn = self.done[rule.id] = self._rule(rule)
        return fn

    def _rule(self, rule: Rule):
        version = rule.version_at(self.day, self.known_on)
        if version is None:
            def not_in_force(env):
                known = env.get(KNOWN_ON)
                raise NotInForceError(f"rule '{rule.id}' ({rule.citation}) has no version in force on "
                                      f"{env[AS_OF]}" + (f" as known on {known}" if known else "")
                                      + f": versions {versions_text(rule.versions, known)}", rule.instrument)
            return not_in_force
        body = _BodyCompiler(self, rule).visit(version.body)
        if version.exceptions:
            body = self._with_exceptions(rule, version, body)
        if version.requires:
            body = self._with_requires(rule, version, body)
        return self._traced(rule, version, body) if self.traced else _memo(rule.id, body)

    def _with_exceptions(self, rule, version, base):
        excs = [(ex, self.exprs(ex.when), self.exprs(ex.value)) for ex in version.exceptions]
        if not self.traced:
            return S.excepting(rule, excs, base)
        observed = [(ex, _observe_when(ex, when), _observe_value(ex, value)) for ex, when, value in excs]

        def unchanged(env, exceptions):
            env[TRACE].current.note = ("exceptions_unknown_unchanged", [ex.id for ex in exceptions])
        return S.excepting(rule, observed, base, unchanged)

    def _with_requires(self, rule, version, body):
        reqs = []
        for name, _ in version.requires:
            target = self.rules.get(f"{rule.instrument}.{name}") or self.rules[name]
            reqs.append((target, self.rule(target)))
        return S.requiring(reqs, body)

    def _traced(self, rule, version, body):
        rid = rule.id

        def traced(env):
            v = env.get(rid, UNSET)
            if v is not UNSET:
                leaf(env, "ref", rule, version).value = v
                return v
            tr = env[TRACE]
            parent = tr.current
            frame = Frame("rule", rule, version)
            parent.children.append(frame)
            tr.current = frame
            try:
                v = body(env)
            except Missing as m:
                frame.note = ("missing", sorted(m.facts))
                raise
            except Refused as r:
                frame.note = ("refused", [t.id for t, _ in r.refusals])
                raise
            finally:
                tr.current = parent
            frame.value = v
            if v is True or v is False:
                frame.outcome = v
            env[rid] = v
            return v
        return traced


def _memo(rid, body):
    def memo(env):
        v = env.get(rid, UNSET)
        if v is UNSET:
            v = env[rid] = body(env)
        return v
    return memo


def _observe_when(ex, when):
    """An exception's condition inside its own trace frame: applies, does not, or unknown."""
    key = (TRACE, ex.id)

    def observed(env):
        tr, frame, parent = enter(env, "exception", ex)
        env[key] = frame
        try:
            applies = when(env)
        except Missing as m:
            frame.note = ("missing", sorted(m.facts))
            raise
        finally:
            tr.current = parent
        frame.outcome = bool(applies)
        return applies
    return observed


def _observe_value(ex, value):
    key = (TRACE, ex.id)

    def observed(env):
        v = value(env)
        frame = env.get(key)
        if frame is not None:
            frame.value = v
        return v
    return observed


class _BodyCompiler(walk.BodyVisitor):
    """One closure per body variant."""

    def __init__(self, rc: RuleCompiler, rule: Rule):
        self.rc, self.rule = rc, rule

    def visit_value(self, b):
        return self.rc.exprs(b.expr)

    def visit_select(self, b):
        rule, exprs = self.rule, self.rc.exprs
        on = exprs(b.on)
        cases = {key: exprs(e) for key, e in b.cases.items()}
        default = exprs(b.default) if b.default is not None else None
        where = b.on.locate()

        def select(env):
            key = on(env)
            case = cases.get(key, default)
            if case is None:
                raise EvaluationError(f"{where}: rule '{rule.id}' has no case for '{key}' and no default")
            return case(env)
        return select

    def visit_gap(self, b):
        rule = self.rule
        gap = {"rule": rule.id, "clause": rule.clause, "citation": rule.citation, **b.gap}

        def lost(env):
            raise Missing((), {rule.id: gap})
        return lost

    def visit_record(self, b):
        names = list(b.fields)
        fns = [self.rc.exprs(e) for e in b.fields.values()]
        return lambda env: dict(zip(names, S.evaluate_all(fns, env)))

    def visit_conditions(self, b):
        rc = self.rc
        items = [rc.rule(c.rule) if c.rule is not None else self._condition(c.expr) for c in b.items]
        stop = b.kind == "any"
        # traced: after an `all` fails, the conditions it did not need are traced too, so
        # "why not" lists every one that fails (an `any` that holds has nothing to explain)
        return S.kleene(items, stop, _why_not if rc.traced and not stop else None)

    def _condition(self, expr):
        fn = self.rc.exprs(expr)
        if not self.rc.traced:
            return fn

        def traced(env):
            tr = env[TRACE]
            parent = tr.current
            frame = Frame("condition", expr)
            parent.children.append(frame)
            tr.current = frame
            try:
                v = fn(env)
            except Missing as m:
                frame.note = ("missing", sorted(m.facts))
                raise
            finally:
                tr.current = parent
            frame.value = frame.outcome = v
            return v
        return traced


def _why_not(items, env):
    """Trace the conditions the answer did not need, so "why not" can list them all.

    They run on a copy of the environment, and whatever they end in is dropped: the trace
    may show more, but the answer (and the work budget it used) is what the untraced
    evaluation computes.
    """
    shadow = dict(env)
    if PRESUMED in shadow:  # what the shadow reads is not what the decision rests on
        shadow[PRESUMED] = {}
    for it in items:
        try:
            it(shadow)
        except Exception:  # noqa: BLE001 - observation only: nothing here may change the answer
            pass
