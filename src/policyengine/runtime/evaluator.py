"""Evaluation: as-of version selection, compiled plans, facts checked, a Decision back.

A `PolicyEvaluator` compiles each decision once per period of validity (the span between two
dates on which some instrument, rule version or table version changes) and per trace
level, then reuses the compiled closures for every call.  Evaluation is total: any input
ends in a Decision or one of the package's own errors (InputError, NotInForceError,
EvaluationError), never a Python traceback.
"""
from __future__ import annotations

import bisect
import datetime as dt
import sys

from .. import limits
from ..errors import EvaluationError, InputError, NotInForceError, PolicyEngineError, did_you_mean
from ..model.elements import version_dict
from ..model.policy import PolicyModel
from ..values import plain
from .compile import AS_OF, KNOWN_ON, PRESUMED
from .decision import Decision
from .facts import Bad, as_date, converter
from .rules import RuleCompiler
from .semantics import Conflict, Missing, Refused
from .query import run as run_query
from .tracer import TRACE, Tracer

TRACE_LEVELS = ("none", "audit", "full")
if sys.getrecursionlimit() < limits.RECURSION_LIMIT:  # room for the deepest policy the loader accepts
    sys.setrecursionlimit(limits.RECURSION_LIMIT)
SUBJECT = "subject_id"  # reserved fact name: whom a decision is about; no rule reads it


class _Plan:
    """Everything needed to evaluate one decision in one period at one trace level."""

    __slots__ = ("fn", "converters", "error", "presumptions", "excluded")

    def __init__(self, fn, converters, error=None, presumptions=None, excluded=()):
        self.fn, self.converters, self.error = fn, converters, error  # error(day, known) -> the error to raise
        self.presumptions = presumptions  # fact name -> (declaration, Presumption) applied, or None
        self.excluded = excluded  # versions in force on the day but not yet known on known_on


class PolicyEvaluator(PolicyModel):
    """A loaded model that can evaluate its decisions and run its queries."""

    def __init__(self, model: PolicyModel):
        self.__dict__.update(model.__dict__)
        self._plans: dict = {}
        self._fact_names = {decl.name for decl in model.facts.values()}
        self._bounds = model.change_dates()
        self._known_bounds = model.known_dates()

    def query(self, query: str, as_of=None, **parameters):
        """Entries of a catalogue matching every parameter given (see runtime/query.py)."""
        return run_query(self, query, parameters, as_of)

    def evaluate(self, decision: str, facts: dict, as_of, trace: str = "audit", presume: bool = True,
                 known_on=None) -> Decision:
        """Decide `decision` for `facts` as of a date, and, with `known_on`, as known on
        another: only the versions approved (or, without an approval date, in effect) by
        then count, and the decision lists the versions that excluded.

        A fact not given that the policy presumes takes its presumed value, and the decision
        lists it in `assumptions`; with presume=False it is a missing fact like any other.
        Raises InputError for unknown or ill-typed facts, NotInForceError outside the
        instruments' force, EvaluationError for what cannot be computed (citing where);
        missing facts give an undetermined decision instead.
        """
        day = as_date(as_of)
        known = None if known_on is None else as_date(known_on, "known_on")
        plan = self.plan_for(decision, day, trace, presume, known)
        if plan.error is not None:  # a plan is shared by every day of its period: say which day was asked
            raise plan.error(day, known)
        env = self._check_facts(facts, plan.converters)
        read = dict(env)  # the facts as the decision reads them: checked, converted, nothing else
        env[AS_OF] = day
        if known is not None:
            env[KNOWN_ON] = known
        if plan.presumptions:
            env[PRESUMED] = {}
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
        except PolicyEngineError:
            raise
        except RecursionError:
            raise EvaluationError(f"decision '{decision}': evaluation nested too deeply") from None
        except Exception as exc:  # noqa: BLE001 - a bug must still reach the caller as a clear error
            raise EvaluationError(f"decision '{decision}': internal error ({type(exc).__name__}: {exc}); "
                                  f"please report it with the facts given") from None
        d = Decision(self, decision, day, status, value, missing, refusals, conflict, read,
                     tracer.root if tracer else None, trace)
        if gaps:
            d.gaps = list(gaps)
        if presume is False:
            d.presume = False
        if known is not None:
            d.known_on, d.versions_excluded = known, list(plan.excluded)
        if plan.presumptions and env[PRESUMED]:
            relied = self._relied_on(decision, facts, day, known, list(env[PRESUMED]))
            d.assumptions = [_assumption(*plan.presumptions[name]) for name in relied]
        return d

    def period(self, day: dt.date, known: dt.date | None = None) -> tuple:
        """Which period of validity (and of "as known on") a day falls in: every day of one
        period sees the same instruments, rule versions and table versions."""
        return (bisect.bisect_right(self._bounds, day),
                None if known is None else bisect.bisect_right(self._known_bounds, known))

    def period_bounds(self) -> tuple[list, list]:
        """The dates period() places a day among: where any version starts or ends, and where
        any version becomes known (for the batch backend, which places many days at once)."""
        return self._bounds, self._known_bounds

    def plan_for(self, decision: str, day: dt.date, trace: str = "none", presume: bool = True, known=None) -> _Plan:
        """The compiled plan of a decision for the period of `day` (built once per period)."""
        key = (decision, *self.period(day, known), trace, presume is not False)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(decision, day, trace, presume is not False, known)
        return plan

    def _relied_on(self, decision, facts, day, known, read: list) -> list:
        """Of the presumed values the evaluation read, those the answer rests on: the ones a
        strict evaluation would ask for.  A presumption read where nothing it could say would
        change the answer (an exception whose every outcome agrees) is not one the decision
        is made under, just as such a fact is not listed as missing."""
        try:
            strict = self.evaluate(decision, facts, day, trace="none", presume=False, known_on=known)
        except PolicyEngineError:
            return read  # strictly it cannot be computed at all: it rests on all of them
        if strict.status != "undetermined":
            return []
        asked = set(strict.missing)
        return [name for name in read if name in asked]

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
            if name == SUBJECT:
                continue
            if name not in self._fact_names:  # a fact of another decision is left aside
                problems = (problems or []) + [f"unknown fact '{name}'{did_you_mean(str(name), converters)}"]
        if problems:
            raise InputError(problems)
        return env

    def _plan(self, decision: str, day: dt.date, trace: str, presume: bool = True, known=None) -> _Plan:
        if trace not in TRACE_LEVELS:
            raise InputError([f"trace: expected one of {', '.join(TRACE_LEVELS)}, got {trace!r}"])
        model = self
        rule = model.rule(decision)
        deps = model.graph.dependencies("rule", rule.id)
        instruments = {rule.instrument} | {model.owner(n) for n in deps if n[0] != "fact"}
        for iid in sorted(instruments):
            inst = model.instruments[iid]
            if not inst.in_force(day):
                return _Plan(None, None, lambda day, known, inst=inst: NotInForceError(
                    f"{inst.id} ({inst.title.en}) is not in force on {day}: {inst.force_text()}", inst.id))
            if known is not None and inst.start is not None and inst.start > known:
                return _Plan(None, None, lambda day, known, inst=inst: NotInForceError(
                    f"{inst.id} ({inst.title.en}) was not yet known on {known}: the source gives no approval "
                    f"date, and it takes effect {inst.start}", inst.id))
        converters, presumptions = {}, {}
        for fid in sorted(model.graph.facts_of(rule.id)):
            decl = model.facts[fid]
            if decl.name in converters:
                raise InputError([f"decision '{decision}' reads two facts named '{decl.name}' from different "
                                  f"instruments; evaluate a decision of one instrument"])
            converters[decl.name] = converter(decl)
            if presume and decl.presumption is not None:
                presumptions[decl.name] = (decl, decl.presumption)
        values = {name: p.value for name, (_, p) in presumptions.items()}
        fn = RuleCompiler(model.rules, day, trace, values, known).rule(rule)
        excluded = () if known is None else tuple(_excluded(model, rule.id, deps, day, known))
        return _Plan(fn, converters, presumptions=presumptions or None, excluded=excluded)


def _excluded(model, decision: str, deps, day, known):
    """Each rule or table version the decision could read that is in force on `day` but was
    not yet known on `known`, with the version used instead."""
    for kind, name in sorted({("rule", decision)} | set(deps)):
        if kind not in ("rule", "table"):
            continue
        obj = model.rules[name] if kind == "rule" else model.tables[name]
        now, then = obj.version_at(day), obj.version_at(day, known)
        if now is not None and now is not then:
            yield {"kind": kind, "id": obj.id, "citation": obj.citation,
                   "excluded": version_dict(now), "used": None if then is None else version_dict(then)}


def _assumption(decl, presumption) -> dict:
    """One presumption a decision rests on, as the decision, its log record and its
    explanations state it."""
    return {"fact": decl.name, "value": plain(presumption.value), "citation": presumption.citation,
            "clause": presumption.clause, "reason": {"en": presumption.reason.en, "fr": presumption.reason.fr}}
