"""Evaluation: as-of version selection, compiled evaluators, decisions and traces.

A `Policies` object compiles each decision once per period of validity (the span
between two dates on which some instrument, rule version or table version changes)
and per trace level, then reuses the compiled closures for every call.
"""
from __future__ import annotations

import bisect
import datetime as dt
from pathlib import Path

from ..errors import InputError, NotInForceError, UnknownDecisionError, did_you_mean
from .compile import (AS_OF, TRACE, Conflict, ExprCompiler, Frame, Missing, Refused, Tracer, _UNSET,
                           _gather, _merge, enter, evaluate_all)
from .facts import Bad, as_date, converter  # noqa: F401  (as_date: re-exported)
from ..model.elements import Rule, Table
from .decision import Decision

TRACE_LEVELS = ("none", "audit", "full")


class _Plan:
    """Everything needed to evaluate one decision in one period at one trace level."""

    __slots__ = ("fn", "converters", "error")

    def __init__(self, fn, converters, error=None):
        self.fn, self.converters, self.error = fn, converters, error


class Policies:
    """A loaded, checked set of instruments; call `evaluate()`."""

    def __init__(self, root: Path, instruments, facts, rules, tables, graph, policy_hash: str):
        self.root = root
        self.instruments = instruments
        self.facts = facts
        self.rules: dict[str, Rule] = rules
        self.tables: dict[str, Table] = tables
        self.graph = graph
        self.policy_hash = policy_hash
        self._plans: dict = {}
        self.catalogues: dict = {}
        self.queries: dict = {}
        self._fact_names = {decl.name for decl in facts.values()}
        bounds = set()
        for inst in instruments.values():
            bounds.update(d for d in (inst.start, inst.end) if d)
        for rule in rules.values():
            for v in rule.versions:
                bounds.update(d for d in (v.effective, v.end) if d)
        for table in tables.values():
            bounds.update(v.effective for v in table.versions if v.effective)
        self._bounds = sorted(bounds)

    # -- public API -----------------------------------------------------------------------
    @property
    def decisions(self) -> list[str]:
        return sorted(r.id for r in self.rules.values() if r.decision)

    def unused_rules(self) -> list[str]:
        return self.graph.unused_rules(set(self.decisions))

    def facts_of(self, decision: str) -> list[str]:
        """Names of the facts a decision may read."""
        return sorted(self.facts[f].name for f in self.graph.facts_of(self._rule(decision).id))

    def fact_decl(self, decision: str, name: str):
        """The declaration of the fact `name` as `decision` reads it, or None."""
        for fid in self.graph.facts_of(self._rule(decision).id):
            if self.facts[fid].name == name:
                return self.facts[fid]
        return None

    def query(self, query: str, as_of=None, **parameters):
        """Entries of a catalogue matching every parameter given (see query.py)."""
        from .query import run
        return run(self, query, parameters, as_of)

    def evaluate(self, decision: str, facts: dict, as_of, trace: str = "audit", log=None) -> Decision:
        """Decide `decision` for `facts` as of a date.

        Raises InputError for unknown or ill-typed facts, NotInForceError outside the
        instruments' force; missing facts give an undetermined decision instead.  With
        `log` (a path or DecisionLog) the decision is appended to that decision log;
        a `subject_id` fact names whom the decision is about (kept in the log, not read
        by any rule).
        """
        if log is not None:
            from ..audit import records as audit
            subject = facts.get(audit.SUBJECT) if isinstance(facts, dict) else None
            rest = {k: v for k, v in facts.items() if k != audit.SUBJECT} if subject is not None else facts
            d = self.evaluate(decision, rest, as_of, trace)
            d.log_id = audit.record(self, d, log, subject)
            return d
        day = as_date(as_of)
        key = (decision, bisect.bisect_right(self._bounds, day), trace)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(decision, day, trace)
        if plan.error is not None:
            raise plan.error
        env = self._check_facts(facts, plan.converters)
        env[AS_OF] = day
        tracer = None
        if trace != "none":
            tracer = env[TRACE] = Tracer(trace == "full")
        status, value, missing, refusals, conflict, gaps = "decided", None, (), (), None, ()
        try:
            value = plan.fn(env)
        except Missing as m:
            status, missing, gaps = "undetermined", tuple(sorted(m.facts)), tuple(m.gaps.values())
        except Refused as r:
            status, refusals = "refused", r.refusals
        except Conflict as c:
            status, conflict = "conflict", c
        d = Decision(self, decision, day, status, value, missing, refusals, conflict, facts,
                     tracer.root if tracer else None, trace)
        if gaps:
            d.gaps = list(gaps)
        return d

    # -- internals ----------------------------------------------------------------------------
    def _rule(self, decision: str) -> Rule:
        rule = self.rules.get(decision)
        if rule is None:
            raise UnknownDecisionError([f"unknown decision '{decision}'{did_you_mean(decision, self.rules)}"])
        return rule

    def _check_facts(self, facts: dict, converters: dict) -> dict:
        if not isinstance(facts, dict):
            raise InputError([f"facts must be a mapping of fact names to values, got {type(facts).__name__}"])
        env = {}
        problems = None
        for name, value in facts.items():
            conv = converters.get(name)
            try:
                if conv is not None:
                    env[name] = conv(value)
                    continue
            except Bad as exc:
                problems = (problems or []) + [f"fact '{name}': {exc}"]
                continue
            if name == "subject_id":  # reserved: whom the decision is about; no rule reads it
                continue
            if name not in self._fact_names:  # a fact of another decision is left aside
                problems = (problems or []) + [f"unknown fact '{name}'{did_you_mean(str(name), converters)}"]
        if problems:
            raise InputError(problems)
        return env

    def _plan(self, decision: str, day: dt.date, trace: str) -> _Plan:
        if trace not in TRACE_LEVELS:
            raise InputError([f"trace: expected one of {', '.join(TRACE_LEVELS)}, got {trace!r}"])
        rule = self._rule(decision)
        deps = self.graph.dependencies("rule", rule.id)
        instruments = {rule.instrument} | {self._owner(n) for n in deps if n[0] != "fact"}
        for iid in sorted(instruments):
            inst = self.instruments[iid]
            if not inst.in_force(day):
                return _Plan(None, None, NotInForceError(
                    f"{inst.id} ({inst.title.en}) is not in force on {day}: {inst.force_text()}", inst.id))
        converters = {}
        for fid in sorted(self.graph.facts_of(rule.id)):
            decl = self.facts[fid]
            if decl.name in converters:
                raise InputError([f"decision '{decision}' reads two facts named '{decl.name}' from different "
                                  f"instruments; evaluate a decision of one instrument"])
            converters[decl.name] = converter(decl)
        fn = RuleCompiler(self, day, trace).rule(rule)
        return _Plan(fn, converters)

    def _owner(self, node) -> str:
        kind, name = node
        return (self.rules[name] if kind == "rule" else self.tables[name]).instrument


class RuleCompiler:
    """Compiles rules for one period and trace level; each rule once, shared by its users."""

    def __init__(self, policies: Policies, day: dt.date, mode: str):
        self.p, self.day, self.mode = policies, day, mode
        self.done: dict[str, object] = {}

    def exprs(self, expr):
        return ExprCompiler(self.mode, self.rule, self._table_version, expr.locate).compile(expr.node)

    def _table_version(self, table: Table):
        return table.version_at(self.day)

    def rule(self, rule: Rule):
        fn = self.done.get(rule.id)
        if fn is None:
            fn = self.done[rule.id] = self._rule(rule)
        return fn

    def _rule(self, rule: Rule):
        version = rule.version_at(self.day)
        if version is None:
            spans = ", ".join(f"from {v.effective}" + (f" to {v.end - dt.timedelta(days=1)}" if v.end else "")
                              for v in rule.versions)

            def not_in_force(env):
                raise NotInForceError(f"rule '{rule.id}' ({rule.citation}) has no version in force on "
                                      f"{env[AS_OF]}: versions {spans}", rule.instrument)
            return not_in_force
        body = self._body(rule, version)
        if version.exceptions:
            body = self._with_exceptions(rule, version, body)
        if version.requires:
            body = self._with_requires(rule, version, body)
        return self._memo(rule, version, body) if self.mode == "none" else self._traced(rule, version, body)

    # -- bodies ----------------------------------------------------------------------------
    def _body(self, rule: Rule, version):
        b = version.body
        if b.kind == "value":
            return self.exprs(b.expr)
        if b.kind == "select":
            on = self.exprs(b.on)
            cases = {key: self.exprs(e) for key, e in b.cases.items()}
            default = self.exprs(b.default) if b.default is not None else None
            where = b.on.locate()

            def select(env):
                case = cases.get(on(env), default)
                if case is None:
                    from .compile import EvaluationError
                    raise EvaluationError(f"{where}: rule '{rule.id}' has no case for {on(env)!r} and no default")
                return case(env)
            return select
        if b.kind == "gap":
            gap = {"rule": rule.id, "clause": rule.clause, "citation": rule.citation, **b.gap}

            def lost(env):
                raise Missing((), {rule.id: gap})
            return lost
        if b.kind == "record":
            fields = [(name, self.exprs(e)) for name, e in b.fields.items()]

            names, fns = [n for n, _ in fields], [f for _, f in fields]
            return lambda env: dict(zip(names, evaluate_all(fns, env)))
        stop = b.kind == "any"
        items = []
        for c in b.items:
            if c.rule is not None:
                items.append(self.rule(c.rule))
            else:
                items.append(self._condition(c.expr))
        exhaustive = self.mode != "none"  # traced: evaluate every item so "why not" lists them all

        def conditions(env):
            missing = None
            decided = None
            for it in items:
                try:
                    if bool(it(env)) is stop:
                        decided = stop
                        if not exhaustive:
                            return stop
                except Missing as m:
                    missing = m if missing is None else _merge(missing, m)
            if decided is not None:
                return decided
            if missing is not None:
                raise missing
            return not stop
        return conditions

    def _condition(self, expr):
        fn = self.exprs(expr)
        if self.mode == "none":
            return fn

        def traced(env):
            tr, frame, parent = enter(env, "condition", expr)
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

    def _with_exceptions(self, rule, version, base):
        excs = [(ex, self.exprs(ex.when), self.exprs(ex.value)) for ex in version.exceptions]
        traced = self.mode != "none"

        def with_exceptions(env):
            hits, missing = [], None
            for ex, when, value in excs:
                frame = None
                if traced:
                    tr, frame, parent = enter(env, "exception", ex)
                try:
                    applies = when(env)
                except Missing as m:
                    missing = m if missing is None else _merge(missing, m)
                    if frame:
                        frame.note = ("missing", sorted(m.facts))
                    continue
                finally:
                    if traced:
                        tr.current = parent
                if frame:
                    frame.outcome = bool(applies)
                if applies:
                    hits.append((ex, value, frame))
            if missing is not None:
                raise _gather(missing, env, base)
            if not hits:
                return base(env)
            results = []
            for ex, value, frame in hits:
                v = value(env)
                if frame:
                    frame.value = v
                results.append((ex, v))
            if len({repr(v) for _, v in results}) > 1:
                raise Conflict(rule, results)
            return results[0][1]
        return with_exceptions

    def _with_requires(self, rule, version, body):
        reqs = []
        for name, _ in version.requires:
            target = self.p.rules.get(f"{rule.instrument}.{name}") or self.p.rules[name]
            reqs.append((target, self.rule(target)))

        def with_requires(env):
            refused, missing = [], None
            for target, fn in reqs:
                try:
                    if not fn(env):
                        refused.append((target, None))
                except Missing as m:
                    missing = m if missing is None else _merge(missing, m)
            if refused:
                raise Refused(refused)
            if missing is not None:
                raise _gather(missing, env, body)
            return body(env)
        return with_requires

    # -- wrappers ----------------------------------------------------------------------------
    def _memo(self, rule, version, body):
        rid = rule.id

        def memo(env):
            v = env.get(rid, _UNSET)
            if v is _UNSET:
                v = env[rid] = body(env)
            return v
        return memo

    def _traced(self, rule, version, body):
        rid = rule.id

        def traced(env):
            tr = env[TRACE]
            v = env.get(rid, _UNSET)
            if v is not _UNSET:
                ref = Frame("ref", rule, version)
                ref.value = v
                tr.current.children.append(ref)
                return v
            tr, frame, parent = enter(env, "rule", rule, version)
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
