"""What would need to change: the smallest sets of fact changes that turn a negative answer.

For a decided negative (false, "not_met") or refused decision, `counterfactuals()` looks for
the minimal sets of fact changes that would give the positive answer, and, separately, the
date from which time alone would give it ("eligible for promotion from 2009-08-15 if nothing
else changes").  Nothing here knows what a rule means: every candidate is decided by the
real engine (`policies.evaluate(..., trace="audit")`), and the clause each change satisfies
is read off the trace, by comparing the trace before and after.

Why the search is small and still finds what matters:

- Only facts the decision reads (the trace's `facts_read`, the conditions traced "on the
  side" after a failure included) are changed; a fact no evaluation reads cannot change
  the answer.
- A fact's candidate values come from its declared domain and from the rules themselves:
  both booleans, the enum's values (nearest first, in declaration order), for numbers and
  dates the thresholds of the comparisons the rules make with it (`months_in_assignments >=
  12` gives 12, and one unit on either side: 11 and 13), values named in `in [...]`, table
  keys and `select` cases, and for lists the items the rules look for (`"as_field" in
  experience`).  Never a sweep over numbers.
- Breadth first: every set of one fact, then of two, then of three.  A set is tried only
  when none of its subsets already turns the answer, so each reported set is minimal.
- The search stops at a time budget (and optionally a number of evaluations); the result
  says whether it was complete.

The time answer advances `as_of` alone over the dates the policy makes interesting (the
model's change dates, date literals in the rules, date facts and dated rule values plus the
durations written in the rules) and, "if nothing else changes", keeps the case's clocks
running: numeric facts counted in calendar units (months, weeks, days, years) grow with
the calendar.  The first date found is narrowed to the day by bisection.

This module imports only the model, the AST and plain values, so `runtime.decision` can
call it without an import cycle; it reaches the engine only through the `policies` object.
"""
from __future__ import annotations

import datetime as dt
import itertools
import math
import time
import weakref
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, Decimal
from html import escape
from typing import Any

from ..errors import PolicyEngineError
from ..expr import ast
from ..model import walk
from ..model.elements import SelectBody
from ..values import Duration, add_duration, months_between, plain

__all__ = ["counterfactuals", "WhatIf", "Counterfactual", "Change", "TimeAnswer", "render_text", "render_html",
           "parse_keep", "CLOCK_UNITS"]

CLOCK_UNITS = {"months": "months", "month": "months", "weeks": "weeks", "week": "weeks", "days": "days",
               "day": "days", "years": "years", "year": "years"}  # a fact counted in these runs with the calendar
SUBJECT = "subject_id"  # the evaluator's reserved fact: whom a decision is about, read by no rule
_MIRROR = {">": "<", ">=": "<=", "<": ">", "<=": ">=", "==": "==", "!=": "!="}
_HORIZON_YEARS = 50  # an open-ended instrument: how far ahead the time answer looks
_MAX_TIME_DATES = 400  # candidate dates the time answer evaluates at most (before bisection)


# -- the answer ---------------------------------------------------------------------------------
@dataclass
class Change:
    """One fact changed: from what, to what, and the clause the change satisfies."""

    fact: str
    before: Any  # the value read (given, or presumed); None: not given
    after: Any
    label: dict  # the fact's label {en, fr}
    given: bool = True
    presumed: bool = False
    unit: str | None = None
    clause: dict | None = None  # the condition or rule whose outcome the change turned
    requirement: dict | None = None  # the comparison of that clause with the fact: {op, value, expression}
    alternatives: list = field(default_factory=list)  # other values of the fact that turn it too (single changes)

    def to_dict(self) -> dict:
        d = {"fact": self.fact, "label": self.label, "from": plain(self.before), "to": plain(self.after),
             "given": self.given, "presumed": self.presumed, "unit": self.unit,
             "delta": _delta(self.before, self.after), "clause": self.clause, "requirement": self.requirement}
        if self.alternatives:
            d["alternatives"] = [plain(v) for v in self.alternatives]
        return d


@dataclass
class Counterfactual:
    """A minimal set of changes and the answer the engine gives with them."""

    changes: list
    status: str
    value: Any
    clauses: list | None = None

    def to_dict(self) -> dict:
        return {"changes": [c.to_dict() for c in self.changes], "status": self.status, "value": plain(self.value),
                "clauses": self.clauses}


@dataclass
class TimeAnswer:
    """The first date from which the answer turns when only time passes."""

    date: dt.date
    status: str
    value: Any
    advanced: list  # Change for each clock fact counted on to that date
    clause: dict | None = None

    def to_dict(self) -> dict:
        return {"date": self.date.isoformat(), "status": self.status, "value": plain(self.value),
                "advanced": [c.to_dict() for c in self.advanced], "clause": self.clause}


@dataclass
class WhatIf:
    """What would change a decision's answer.  `to_dict()` is JSON-ready; `text(lang)` reads it."""

    decision: str
    label: dict
    as_of: dt.date
    status: str
    value: Any
    negative: bool
    target: dict | None
    keep: tuple
    counterfactuals: list = field(default_factory=list)
    time: TimeAnswer | None = None
    time_scanned: dict | None = None  # {"until": date, "dates": n} when the time answer was looked for
    note: str | None = None  # positive | undetermined | conflict | not_binary | none_found
    note_detail: Any = None
    search: dict = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return bool(self.search.get("complete"))

    def to_dict(self) -> dict:
        note = None
        if self.note:
            note = {"code": self.note, "en": _note_text(self.note, self.note_detail, "en"),
                    "fr": _note_text(self.note, self.note_detail, "fr")}
        return {"decision": self.decision, "label": self.label, "as_of": self.as_of.isoformat(),
                "status": self.status, "value": plain(self.value), "negative": self.negative,
                "target": self.target, "keep": list(self.keep),
                "counterfactuals": [c.to_dict() for c in self.counterfactuals],
                "time": None if self.time is None else self.time.to_dict(),
                "time_scanned": self.time_scanned, "note": note, "search": self.search}

    def text(self, lang: str = "en") -> str:
        return render_text(self, lang)

    def html(self, lang: str = "en") -> str:
        return render_html(self, lang)


def parse_keep(text) -> tuple:
    """`--keep level,rating` (or a list of such strings) as a tuple of fact names."""
    if text is None:
        return ()
    parts = [text] if isinstance(text, str) else list(text)
    return tuple(dict.fromkeys(n.strip() for p in parts for n in str(p).split(",") if n.strip()))


# -- static reading of the rules -------------------------------------------------------------------
@dataclass
class _Cmp:
    """A comparison of a fact with something: `fact op other` (fact on the left)."""

    op: str
    other: tuple  # ("literal", v) | ("rule", id) | ("fact", name) | ("as_of",) | ("shift", base, Duration, sign)
    owner: str  # the rule (or sub-rule) it is written in
    source: str  # the expression's text


class _Scan:
    """What the rules a decision can read compare each fact with: computed once per decision."""

    def __init__(self, policies, decision: str):
        rule = policies.rule(decision)
        rules, seen, stack = [], set(), [rule]
        stack += [policies.rules[n] for k, n in policies.graph.dependencies("rule", rule.id) if k == "rule"]
        while stack:
            r = stack.pop()
            if r.id in seen:
                continue
            seen.add(r.id)
            rules.append(r)
            for v in r.versions:
                stack.extend(walk.sub_rules(v.body))
        self.cmps: dict[str, list[_Cmp]] = {}
        self.members: dict[str, list] = {}  # fact -> [(values, owner, source)] from `fact in [...]`
        self.contains: dict[str, list] = {}  # list fact -> [(item, owner, source)] from `"x" in fact`
        self.keys: dict[str, set] = {}  # fact -> table key values and select cases it picks
        self.dates: set = set()  # date literals
        self.durations: set = set()  # duration literals
        self.as_of_cmps: list = []  # what as_of is compared with
        self.change_dates: set = set()  # where a version of a rule or table read starts or ends
        owners = {r.instrument for r in rules}
        for r in rules:
            for v in r.versions:
                self.change_dates.update(d for d in (v.effective, v.end) if d)
            for v in r.versions:
                if isinstance(v.body, SelectBody) and v.body.on is not None:
                    name = _fact_name(v.body.on.node)
                    if name:
                        self.keys.setdefault(name, set()).update(v.body.cases)
            for _, role, e in walk.expressions(r):
                # an exception's condition and value belong to the exception (its own clause)
                owner = role.split(":", 1)[1] if role.startswith(("when:", "exception:")) else r.id
                for n in ast.walk(e.node):
                    self._node(n, owner, e.source)
        for i in owners:
            inst = policies.instruments[i]
            self.change_dates.update(d for d in (inst.start, inst.end) if d)

    def _node(self, n, owner, source):
        if isinstance(n, ast.Literal):
            if n.kind == "date":
                self.dates.add(n.value)
            elif n.kind == "duration":
                self.durations.add(n.value)
        elif isinstance(n, ast.Compare):
            for a, b, op in ((n.left, n.right, n.op), (n.right, n.left, _MIRROR[n.op])):
                name = _fact_name(a)
                other = _operand(b)
                if name and other:
                    self.cmps.setdefault(name, []).append(_Cmp(op, other, owner, source))
                if _is_as_of(a) and other:
                    self.as_of_cmps.append((op, other))
        elif isinstance(n, ast.Membership):
            name = _fact_name(n.item)
            coll = n.collection
            if name and isinstance(coll, ast.ListExpr) and all(isinstance(x, ast.Literal) for x in coll.items):
                self.members.setdefault(name, []).append(
                    (tuple(x.value for x in coll.items), n.negated, owner, source))
            lst = _fact_name(coll)
            if lst and isinstance(n.item, ast.Literal):
                self.contains.setdefault(lst, []).append((n.item.value, n.negated, owner, source))
        elif isinstance(n, ast.Lookup) and n.ref is not None:
            self.change_dates.update(d for v in n.ref.versions for d in (v.effective, v.end) if d)
            for key, node in zip(n.ref.keys, n.keys):
                name = _fact_name(node)
                if name:
                    self.keys.setdefault(name, set()).update(key.values)


def _fact_name(n):
    if isinstance(n, ast.Name) and n.ref is not None and n.ref[0] == "fact":
        return n.ref[1].name
    return None


def _is_as_of(n) -> bool:
    return isinstance(n, ast.Name) and n.ref is not None and n.ref[0] == "as_of"


def _operand(n):
    """What a fact is compared with, when it can be known without evaluating anything new."""
    if isinstance(n, ast.Literal):
        return ("literal", n.value)
    if isinstance(n, ast.Unary) and n.op == "-" and isinstance(n.operand, ast.Literal):
        return ("literal", -n.operand.value)
    if isinstance(n, ast.Name) and n.ref is not None:
        if n.ref[0] == "rule":
            return ("rule", n.ref[1].id)
        if n.ref[0] == "fact":
            return ("fact", n.ref[1].name)
        if n.ref[0] == "as_of":
            return ("as_of",)
    if isinstance(n, ast.Binary) and n.op in "+-" and isinstance(n.right, ast.Literal) and n.right.kind == "duration":
        base = _operand(n.left)
        if base is not None and (base[0] != "literal" or isinstance(base[1], dt.date)):
            return ("shift", base, n.right.value, 1 if n.op == "+" else -1)
    return None


_SCANS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def _scan(policies, decision: str) -> _Scan:
    try:
        per = _SCANS.setdefault(policies, {})
    except TypeError:  # not weak-referenceable: no cache
        return _Scan(policies, decision)
    s = per.get(decision)
    if s is None:
        s = per[decision] = _Scan(policies, decision)
    return s


# -- traces ----------------------------------------------------------------------------------------
class _Summary:
    """A trace reduced to what the search compares: each frame's outcome and the facts it read."""

    def __init__(self, trace):
        self.outcomes: dict = {}
        self.info: dict = {}
        self.reads: dict = {}  # key -> facts read directly
        self.sub_reads: dict = {}  # key -> facts read in the frame or under it
        self.depth: dict = {}
        self.facts: dict = {}  # every fact read anywhere -> the value read (first seen)
        self.values: dict = {}  # rule id -> value (JSON form), for thresholds taken from rules
        self.kids: dict = {None: []}  # key -> keys of the frames directly under it (None: the roots)
        for node in trace or ():
            self._visit(node, 0, None, None)

    def _visit(self, n, depth, parent, above) -> set:
        """Record one frame; `parent` is the key of the nearest rule frame above (a bare
        condition is cited by the rule it is written in).  Returns the facts read under it."""
        kind = n.get("kind")
        if kind == "condition":
            key = ("condition", n.get("location"), n.get("expression"))
        elif kind in ("rule", "exception", "ref"):
            key = ("exception" if kind == "exception" else "rule", n.get("id"))
        else:
            key = None
        read = set(n.get("facts_read") or ()) | set(n.get("missing") or ())
        for name, v in (n.get("facts_read") or {}).items():
            self.facts.setdefault(name, v)
        for name in n.get("missing") or ():
            self.facts.setdefault(name, None)
        if kind in ("rule", "ref") and "value" in n:
            self.values.setdefault(n.get("id"), n["value"])
        first = key is not None and key not in self.info
        if first:
            outcome = n.get("outcome")
            if outcome is None and kind == "ref" and isinstance(n.get("value"), bool):
                outcome = n["value"]
            if kind == "condition":
                info = {"kind": "condition", "expression": n.get("expression"), "location": n.get("location")}
                if parent is not None:
                    p = self.info[parent]
                    info.update({k: p.get(k) for k in ("id", "clause", "citation", "label")})
            else:
                info = {"kind": "exception" if kind == "exception" else "rule", "id": n.get("id"),
                        "clause": n.get("clause"), "citation": n.get("citation"), "label": n.get("label")}
            self.outcomes[key], self.info[key], self.reads[key], self.depth[key] = outcome, info, read, depth
            self.kids.setdefault(above, []).append(key)
            self.kids[key] = []
        below = key if (first and kind != "condition") else parent
        sub = set(read)
        for c in n.get("children") or ():
            sub |= self._visit(c, depth + 1, below, key if first else above)
        if first:
            self.sub_reads[key] = sub
        return sub

    def signature(self):
        return frozenset((k, v, frozenset(self.reads.get(k, ()))) for k, v in self.outcomes.items())


# -- the search ------------------------------------------------------------------------------------
class _Stop(Exception):
    """The budget ran out."""


class _Search:
    def __init__(self, policies, decision, as_of, keep, max_changes, budget_s, max_evaluations,
                 presume, known_on, target, clocks):
        self.policies, self.decision = policies, decision
        self.as_of, self.presume, self.known_on = as_of, presume, known_on
        self.keep = keep
        self.max_changes = max_changes
        self.deadline = time.monotonic() + budget_s
        self.max_evaluations = max_evaluations
        self.evaluations = 0
        self.stopped = None
        self.complete = False
        self.searched: list = []
        self.target = target
        self.clocks_asked = clocks
        self.scan = _scan(policies, decision)

    # every evaluation goes through here: the budget is checked before each
    def evaluate(self, facts, as_of=None):
        if time.monotonic() > self.deadline:
            self.stopped = "budget"
            raise _Stop
        if self.max_evaluations is not None and self.evaluations >= self.max_evaluations:
            self.stopped = "evaluations"
            raise _Stop
        self.evaluations += 1
        try:
            return self.policies.evaluate(self.decision, facts, self.as_of if as_of is None else as_of,
                                          trace="audit", presume=self.presume, known_on=self.known_on)
        except PolicyEngineError:
            return None  # an input out of range, a date out of force: not an answer that turns

    def flips(self, d) -> bool:
        if d is None:
            return False
        t = self.target
        if d.status != "decided":
            return False
        if t["value"] is None:  # a refusal: any decided answer that is not itself negative
            return not _negative_value(d.value)
        return _same(d.value, t["value"])

    # -- candidates -------------------------------------------------------------------------------
    def candidates(self, name, current):
        decl = self.policies.fact_decl(self.decision, name)
        if decl is None:
            return []
        t = decl.type
        kind = t.kind
        scan = self.scan
        out: list = []
        if kind == "boolean":
            out = [not current] if isinstance(current, bool) else [True, False]
        elif kind == "enum":
            values = list(t.values)
            if current in values:
                i = values.index(current)
                out = sorted((v for v in values if v != current), key=lambda v: (abs(values.index(v) - i),
                                                                                  values.index(v) > i))
            else:
                named = [v for vs, _, _, _ in scan.members.get(name, ()) for v in vs]
                named += [c.other[1] for c in scan.cmps.get(name, ()) if c.other[0] == "literal"]
                out = list(dict.fromkeys([v for v in named if v in values] + values))
        elif t.numeric:
            out = self._numbers(name, decl, current)
        elif kind == "date":
            out = self._dates(name, current)
        elif kind == "text":
            named = [v for vs, _, _, _ in scan.members.get(name, ()) for v in vs]
            named += [c.other[1] for c in scan.cmps.get(name, ()) if c.other[0] == "literal"]
            named += sorted(map(str, scan.keys.get(name, ())))
            out = [v for v in dict.fromkeys(named) if isinstance(v, str) and v != current]
        elif kind == "list" and (t.of is None or t.of.kind != "record"):
            have = list(current) if isinstance(current, (list, tuple)) else []
            items = [x for x, _, _, _ in scan.contains.get(name, ())]
            if t.of is not None and t.of.kind == "enum":
                items += list(t.of.values)
            items = list(dict.fromkeys(items))
            out = [have + [x] for x in items if x not in have]
            out += [[y for y in have if y != x] for x in items if x in have]
        return [v for v in out if not _same(v, current)]

    def named(self, name) -> set:
        """The values the rules themselves name for a fact (literals, listed values, table keys,
        select cases): each behaves in its own way, so none may stand in for another."""
        scan = self.scan
        out = {c.other[1] for c in scan.cmps.get(name, ()) if c.other[0] == "literal"}
        out.update(v for vs, _, _, _ in scan.members.get(name, ()) for v in vs)
        out.update(scan.keys.get(name, ()))
        return out

    def _numbers(self, name, decl, current):
        kind = decl.type.kind
        points = []
        for c in self.scan.cmps.get(name, ()):
            v = self._resolve(c.other)
            if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
                points.append(Decimal(v))
        for vs, _, _, _ in self.scan.members.get(name, ()):
            points += [Decimal(v) for v in vs if isinstance(v, (int, Decimal)) and not isinstance(v, bool)]
        points += [Decimal(v) for v in self.scan.keys.get(name, ()) if isinstance(v, (int, Decimal))
                   and not isinstance(v, bool)]
        cur = None if current is None else Decimal(str(current))
        out = set()
        for p in points:
            u = _unit(kind, p, cur)
            out.update((p - u, p, p + u))
        lo = None if decl.minimum is None else Decimal(str(decl.minimum))
        hi = None if decl.maximum is None else Decimal(str(decl.maximum))
        vals = [v for v in out if (lo is None or v >= lo) and (hi is None or v <= hi) and v != cur]
        vals.sort(key=lambda v: (abs(v - cur) if cur is not None else abs(v), v))
        return [int(v) if kind == "integer" else v for v in vals]

    def _dates(self, name, current):
        out = set()
        for c in self.scan.cmps.get(name, ()):
            v = self._resolve(c.other)
            if isinstance(v, dt.date):
                out.update(_around(v))
        vals = [v for v in out if v != current and dt.date.min < v < dt.date.max]
        vals.sort(key=lambda v: (abs((v - current).days) if isinstance(current, dt.date) else 0, v))
        return vals

    def _resolve(self, other, as_of=None):
        """The value a comparison's other side has in this case, if it can be known."""
        kind = other[0]
        if kind == "literal":
            return other[1]
        if kind == "as_of":
            return as_of or self.as_of
        if kind == "fact":
            return self.current.get(other[1])
        if kind == "rule":
            return _typed(self.base.values.get(other[1]))
        if kind == "shift":
            base = self._resolve(other[1], as_of)
            if isinstance(base, dt.date):
                try:
                    return add_duration(base, other[2], other[3])
                except (ValueError, OverflowError):
                    return None
        return None

    # -- the search itself ------------------------------------------------------------------------
    def run(self, d0) -> tuple[list, Any, dict | None]:
        self.d0 = d0
        self.base = _Summary(d0.trace)
        self.current = dict(self.base.facts)
        self.current.update({k: v for k, v in d0.facts.items()})
        for name, v in list(self.current.items()):  # trace values are JSON forms: read the typed ones back
            if name not in d0.facts and v is not None:
                self.current[name] = _typed_fact(self.policies.fact_decl(self.decision, name), v)
        found: list = []
        time_answer, scanned = None, None
        try:
            time_answer, scanned = self.time_answer()
        except _Stop:
            pass
        try:
            self._breadth_first(found)
        except _Stop:
            pass
        return found, time_answer, scanned

    def _searchable(self, names):
        out = []
        for n in names:
            if n in self.keep or n == SUBJECT or n in out:
                continue
            if self.policies.fact_decl(self.decision, n) is None:
                continue
            out.append(n)
        return out

    def _with(self, changes: dict) -> dict:
        facts = dict(self.d0.facts)
        facts.update(changes)
        return facts

    def _breadth_first(self, found):
        base = self.base
        failing = {f for k, o in base.outcomes.items() if o is False for f in base.reads.get(k, ())}
        names = sorted(base.facts, key=lambda n: (n not in failing, n))
        level1 = self._searchable(names)
        reps: dict = {}  # fact -> the values worth combining: one per distinct trace they give
        revealed: list = []
        self.searched = []
        for name in level1:
            cur = self.current.get(name)
            flipping, seen = [], {}
            values = self.candidates(name, cur)
            decl = self.policies.fact_decl(self.decision, name)
            kind, named = decl.type.kind, self.named(name)
            if values:
                self.searched.append(name)
            for v in values:
                d = self.evaluate(self._with({name: v}))
                if d is None:
                    continue
                s = _Summary(d.trace)
                if self.flips(d):
                    flipping.append((v, d, s))
                    continue
                # a value the rules never name can differ from another only through what it does
                # here: one of each trace is enough.  Named values, numbers, dates, lists all stay.
                sig = (d.status, repr(plain(d.value)), s.signature()) if (
                    kind in ("enum", "text") and v not in named) else ("value", repr(plain(v)))
                seen.setdefault(sig, v)
                revealed += [f for f in s.facts if f not in base.facts]
            if flipping:
                v, d, s = flipping[0]
                ch = self._change(name, v, s)
                if not decl.type.numeric and kind != "date":  # "a larger number too" says nothing
                    ch.alternatives = [x for x, _, _ in flipping[1:]]
                found.append(Counterfactual([ch], d.status, d.value, d.clauses))
            reps[name] = list(seen.values())
        more = [n for n in self._searchable(dict.fromkeys(revealed)) if n not in reps]
        for name in more:
            reps[name] = self.candidates(name, self.current.get(name))
        self.searched += [n for n in more if reps[n]]
        pool = [n for n in level1 if reps.get(n)] + [n for n in more if reps.get(n)]
        solved = [frozenset(c.changes[i].fact for i in range(len(c.changes))) for c in found]
        original = set(level1)
        for k in range(2, self.max_changes + 1):
            combos = sorted(itertools.combinations(pool, k), key=lambda c: math.prod(len(reps[n]) for n in c))
            for combo in combos:  # the cheapest first, so a budget that runs out has tried the most sets
                s = frozenset(combo)
                if any(x <= s for x in solved):
                    continue  # a subset already turns the answer: this set would not be minimal
                if not (s & original):
                    continue  # none of them is read as things stand: changing them changes nothing
                for values in itertools.product(*(reps[n] for n in combo)):
                    changes = dict(zip(combo, values))
                    d = self.evaluate(self._with(changes))
                    if self.flips(d):
                        summ = _Summary(d.trace)
                        found.append(Counterfactual([self._change(n, changes[n], summ) for n in combo],
                                                    d.status, d.value, d.clauses))
                        solved.append(s)
                        break
        self.complete = True

    def _change(self, name, value, after: _Summary) -> Change:
        decl = self.policies.fact_decl(self.decision, name)
        given = name in self.d0.facts
        presumed = not given and decl.presumption is not None and self.presume is not False
        before = self.current.get(name) if (given or presumed) else None
        clause = _satisfied(self.base, after, {name}, self.target) or self._decision_clause()
        clause = self._exception_value(name, clause, after)
        return Change(name, before, value, {"en": decl.label.en, "fr": decl.label.fr}, given, presumed,
                      decl.unit, clause, self._requirement(name, clause, value))

    def _exception_value(self, name, clause, after: _Summary) -> dict:
        """A rule decided by an exception that applies: the change meets the exception's value
        (48 months under Appendix C, 2.1), not the base rule's (36 months)."""
        if clause.get("kind") != "rule" or clause.get("id") is None:
            return clause
        for k in after.kids.get(("rule", clause["id"]), ()):
            if k[0] == "exception" and after.outcomes.get(k) is True and any(
                    c.owner == k[1] for c in self.scan.cmps.get(name, ())):
                return dict(after.info[k], outcome=True)
        return clause

    def _decision_clause(self) -> dict:
        """When no traced condition turned (a select, a value rule): the decision's own clause."""
        r = self.policies.rule(self.decision)
        return {"kind": "rule", "id": r.id, "clause": r.clause, "citation": r.citation,
                "label": {"en": r.label.en, "fr": r.label.fr}, "outcome": None}

    def _requirement(self, name, clause, new=None):
        """The comparison of the satisfied clause that reads the fact, to say what it needs: of
        those written there, the one the new value meets (`level == "PL-06"` for PL-06)."""
        if clause is None:
            return None
        owner, source = clause.get("id"), clause.get("expression")
        found = []

        def mine(o, s):
            return o == owner and (source is None or s == source)
        for c in self.scan.cmps.get(name, ()):
            if mine(c.owner, c.source):
                v = self._resolve(c.other)
                if v is not None and not isinstance(v, bool):
                    found.append(({"op": c.op, "value": plain(v), "expression": c.source}, _holds(c.op, new, v)))
        for vs, neg, o, s in self.scan.members.get(name, ()):
            if mine(o, s):
                found.append(({"op": "not in" if neg else "in", "value": [plain(v) for v in vs], "expression": s},
                              (new in vs) != neg))
        for x, neg, o, s in self.scan.contains.get(name, ()):
            if mine(o, s):
                has = isinstance(new, (list, tuple)) and x in new
                found.append(({"op": "lacks" if neg else "contains", "value": plain(x), "expression": s}, has != neg))
        found.sort(key=lambda f: not f[1])
        return found[0][0] if found else None

    # -- time ---------------------------------------------------------------------------------------
    def clocks(self):
        """The facts that count time in calendar units: they run on as the calendar does."""
        if self.clocks_asked is not None:
            names = list(self.clocks_asked)
        else:
            names = []
            for n in self.base.facts:
                decl = self.policies.fact_decl(self.decision, n)
                if decl is not None and decl.type.numeric and (decl.unit or "").strip().lower() in CLOCK_UNITS:
                    names.append(n)
        out = []
        for n in sorted(names):
            decl = self.policies.fact_decl(self.decision, n)
            if n in self.keep or decl is None or not decl.type.numeric or self.current.get(n) is None:
                continue
            out.append((n, decl, CLOCK_UNITS.get((decl.unit or "").strip().lower(), "months")))
        return out

    def horizon(self) -> dt.date:
        p = self.policies
        rule = p.rule(self.decision)
        owners = {rule.instrument} | {p.owner(n) for n in p.graph.dependencies("rule", rule.id) if n[0] != "fact"}
        ends = [p.instruments[i].end for i in owners if p.instruments[i].end is not None]
        if ends:
            return min(ends) - dt.timedelta(days=1)
        try:
            return self.as_of.replace(year=min(self.as_of.year + _HORIZON_YEARS, 9999))
        except ValueError:  # 29 February
            return self.as_of + dt.timedelta(days=365 * _HORIZON_YEARS)

    def time_answer(self):
        until = self.horizon()
        if until <= self.as_of:
            return None, {"until": until.isoformat(), "dates": 0}
        clocks = self.clocks()
        dates = {d for d in self.scan.change_dates if self.as_of < d}
        for lit in self.scan.dates:
            dates.update(_around(lit))
        for _, other in self.scan.as_of_cmps:  # as_of > take_by, as_of >= appointment_out_date, ...
            v = self._resolve(other)
            if isinstance(v, dt.date):
                dates.update(_around(v))
        anchors = [v for v in self.current.values() if isinstance(v, dt.date)]
        anchors += [v for v in map(_typed, self.base.values.values()) if isinstance(v, dt.date)]
        for a in anchors:
            dates.update(_around(a))
            for dur in self.scan.durations:
                for sign in (1, -1):
                    try:
                        dates.update(_around(add_duration(a, dur, sign)))
                    except (ValueError, OverflowError):
                        pass
        for name, decl, unit in clocks:
            x = Decimal(str(self.current[name]))
            for v in self._numbers(name, decl, x):
                if v > x:
                    day = _clock_date(self.as_of, x, Decimal(v), unit)
                    if day is not None:
                        dates.update(_around(day))
        dates = sorted(d for d in dates if self.as_of < d <= until)[:_MAX_TIME_DATES]
        scanned = {"until": until.isoformat(), "dates": len(dates)}
        before = self.as_of
        for day in dates:
            d = self.evaluate(self._at(day, clocks), day)
            if self.flips(d):
                lo, hi, best = before, day, d  # lo does not turn, hi does: the first day is in (lo, hi]
                while (hi - lo).days > 1:
                    mid = lo + (hi - lo) / 2
                    dm = self.evaluate(self._at(mid, clocks), mid)
                    if self.flips(dm):
                        hi, best = mid, dm
                    else:
                        lo = mid
                facts = self._at(hi, clocks)
                summ = _Summary(best.trace)
                advanced = []
                for name, decl, _ in clocks:
                    if not _same(facts[name], self.current[name]):
                        advanced.append(Change(name, self.current[name], facts[name],
                                               {"en": decl.label.en, "fr": decl.label.fr}, True, False, decl.unit))
                watched = {c.fact for c in advanced} or set(self.base.facts)
                clause = _satisfied(self.base, summ, watched, self.target) or _satisfied(
                    self.base, summ, set(summ.facts) | set(self.base.facts), self.target)
                for c in advanced:
                    c.clause = self._exception_value(
                        c.fact, _satisfied(self.base, summ, {c.fact}, self.target) or self._decision_clause(), summ)
                    c.requirement = self._requirement(c.fact, c.clause, c.after)
                if advanced and clause is not None:
                    clause = self._exception_value(advanced[0].fact, clause, summ)
                return TimeAnswer(hi, best.status, best.value, advanced, clause), scanned
            before = day
        return None, scanned

    def _at(self, day: dt.date, clocks) -> dict:
        facts = dict(self.d0.facts)
        for name, decl, unit in clocks:
            x = Decimal(str(self.current[name]))
            v = x + _elapsed(self.as_of, day, unit)
            if decl.type.kind == "integer":
                v = int(v.to_integral_value(rounding=ROUND_FLOOR))
            elif decl.maximum is not None and v > Decimal(str(decl.maximum)):
                v = Decimal(str(decl.maximum))
            facts[name] = v
        return facts


# -- helpers -----------------------------------------------------------------------------------------
def _satisfied(before: _Summary, after: _Summary, facts: set, target) -> dict | None:
    """The clause a change satisfies.  From the decision down, follow the frames the change
    turned toward the answer wanted (true; false when false is wanted) and that read the
    changed fact at or under them, to the most specific one: the condition on the path that
    failed, not a side branch the change also touched.  When no such path exists (a value
    rule, say), the most specific turned frame that reads the fact."""
    want = False if target and target.get("value") is False else True

    def turned(key):
        o = after.outcomes.get(key)
        return isinstance(o, bool) and o is want and before.outcomes.get(key) != o

    def reads(key):
        return bool(after.sub_reads.get(key, set()) & facts)

    best, level = None, after.kids.get(None, [])
    while True:
        step = [k for k in level if turned(k) and reads(k)]
        if not step:  # else an exception the change made apply, or stop applying
            step = [k for k in level if k[0] == "exception" and reads(k)
                    and isinstance(after.outcomes.get(k), bool) and before.outcomes.get(k) != after.outcomes[k]]
        if not step:
            break
        step.sort(key=lambda k: not (after.reads.get(k, set()) & facts))  # a direct reader first
        best = step[0]
        level = after.kids.get(best, [])
    if best is None:
        rank_best = None
        for key, outcome in after.outcomes.items():
            if not isinstance(outcome, bool) or before.outcomes.get(key) == outcome or not reads(key):
                continue
            rank = (outcome is want, bool(after.reads.get(key, set()) & facts), after.depth.get(key, 0))
            if rank_best is None or rank > rank_best:
                best, rank_best = key, rank
    return None if best is None else dict(after.info[best], outcome=after.outcomes[best])


def _holds(op, a, b) -> bool:
    """Whether `a op b` holds, for choosing which comparison a value meets (never raises)."""
    try:
        if isinstance(a, (int, Decimal)) and not isinstance(a, bool) and isinstance(b, (int, Decimal)):
            a, b = Decimal(a), Decimal(b)
        return {">=": a >= b, ">": a > b, "<=": a <= b, "<": a < b, "==": a == b, "!=": a != b}[op]
    except (TypeError, KeyError, ArithmeticError, ValueError):
        return False


def _negative_value(v) -> bool:
    return v is False or (isinstance(v, str) and v.startswith("not_"))


def _target_for(d, target):
    """What would count as the answer turning, or (None, note) when there is nothing to turn."""
    if target is not None:
        if d.status == "decided" and _same(d.value, target):
            return None, "positive"
        return {"status": "decided", "value": plain(target)}, None
    if d.status == "refused":
        return {"status": "decided", "value": None}, None
    if d.status == "undetermined":
        return None, "undetermined"
    if d.status == "conflict":
        return None, "conflict"
    v = d.value
    if v is False:
        return {"status": "decided", "value": True}, None
    if isinstance(v, str) and v.startswith("not_") and len(v) > 4:
        return {"status": "decided", "value": v[4:]}, None
    if v is True or isinstance(v, str) and v in ("met", "eligible", "yes"):
        return None, "positive"
    return None, "not_binary"


def _same(a, b) -> bool:
    """Equal as the caller means it: 12 == "12" == Decimal(12); lists in any order."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b or (isinstance(a, bool) and isinstance(b, bool) and a == b)
    pa, pb = plain(a), plain(b)
    if isinstance(pa, list) and isinstance(pb, list):
        return sorted(map(repr, pa)) == sorted(map(repr, pb))
    return pa == pb or str(pa) == str(pb)


def _unit(kind, p: Decimal, cur):
    if kind == "integer":
        return Decimal(1)
    if kind == "money":
        return Decimal("0.01")
    exps = [p.as_tuple().exponent, 0]
    if cur is not None:
        exps.append(cur.as_tuple().exponent)
    exps = [e for e in exps if isinstance(e, int)]
    return Decimal(1).scaleb(min(exps))


def _around(day: dt.date):
    out = [day]
    for k in (-1, 1):
        try:
            out.append(day + dt.timedelta(days=k))
        except OverflowError:
            pass
    return out


def _typed(v):
    """A value as the JSON trace shows it, read back: dates and numbers."""
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            pass
        try:
            return Decimal(v)
        except ArithmeticError:
            return v
    if isinstance(v, int) and not isinstance(v, bool):
        return Decimal(v)
    return v


def _typed_fact(decl, v):
    if decl is None or v is None:
        return v
    k = decl.type.kind
    try:
        if k == "date" and isinstance(v, str):
            return dt.date.fromisoformat(v)
        if decl.type.numeric and isinstance(v, (str, int)) and not isinstance(v, bool):
            return int(v) if k == "integer" else Decimal(str(v))
    except (ValueError, ArithmeticError):
        return v
    return v


_Q = Decimal("0.0001")


def _elapsed(start: dt.date, day: dt.date, unit: str) -> Decimal:
    """Time from start to day in a clock's unit: whole months as the engine counts them, and the
    fraction of the next month by its days (to 4 places, rounded down)."""
    if unit in ("days", "weeks"):
        days = Decimal((day - start).days)
        return days if unit == "days" else (days / 7).quantize(_Q, rounding=ROUND_FLOOR)
    whole = months_between(start, day)
    anchor = add_duration(start, Duration(whole, "months"))
    nxt = add_duration(start, Duration(whole + 1, "months"))
    months = Decimal(whole)
    if day > anchor:
        months += (Decimal((day - anchor).days) / Decimal((nxt - anchor).days)).quantize(_Q, rounding=ROUND_FLOOR)
    return months if unit == "months" else (months / 12).quantize(_Q, rounding=ROUND_FLOOR)


def _clock_date(start: dt.date, x: Decimal, t: Decimal, unit: str) -> dt.date | None:
    """The first day on which a clock reading x on `start` reaches t."""
    need = t - x
    try:
        if unit == "days":
            return start + dt.timedelta(days=int(math.ceil(need)))
        if unit == "weeks":
            return start + dt.timedelta(days=int(math.ceil(need * 7)))
        if unit == "years":
            need = need * 12
        whole = int(need.to_integral_value(rounding=ROUND_FLOOR))
        anchor = add_duration(start, Duration(whole, "months"))
        if need == whole:
            return anchor
        nxt = add_duration(start, Duration(whole + 1, "months"))
        day = anchor + dt.timedelta(days=int(math.ceil((need - whole) * (nxt - anchor).days)))
        while _elapsed(start, day, "months") < need and day < nxt:
            day += dt.timedelta(days=1)
        return day
    except (ValueError, OverflowError, ArithmeticError):
        return None


def _delta(before, after):
    if isinstance(before, bool) or isinstance(after, bool):
        return None
    try:
        b, a = Decimal(str(plain(before))), Decimal(str(plain(after)))
    except (ArithmeticError, TypeError, ValueError):
        return None
    return plain(a - b)


# -- the entry point -------------------------------------------------------------------------------
def counterfactuals(policies, decision, facts=None, as_of=None, keep=(), max_changes: int = 3,
                    budget_s: float = 2.0, target=None, *, presume=None, known_on=None, clocks=None,
                    max_evaluations: int | None = None) -> WhatIf:
    """What would turn a negative or refused answer: the minimal sets of fact changes (of at most
    `max_changes` facts, never the facts in `keep`), each change with the clause it satisfies,
    and the first date from which time alone would turn it.

    `decision` is a decision id (with `facts` and `as_of`) or a Decision (its facts, date,
    presume and known_on are used unless given).  `target` is the answer wanted (default: true
    for false, "met" for "not_met", any decided answer for a refusal).  `clocks` names the
    facts that run with the calendar for the time answer (default: numeric facts counted in
    months, weeks, days or years); `budget_s` and `max_evaluations` bound the work, and the
    result's `search` says whether it was complete.
    """
    started = time.monotonic()
    if not isinstance(decision, str):  # a Decision
        d_given = decision
        facts = dict(d_given.facts) if facts is None else facts
        as_of = d_given.as_of if as_of is None else as_of
        presume = d_given.presume if presume is None else presume
        known_on = d_given.known_on if known_on is None else known_on
        decision = d_given.decision
    presume = True if presume is None else presume
    facts = dict(facts or {})
    keep = parse_keep(keep)
    d0 = policies.evaluate(decision, facts, as_of, trace="audit", presume=presume, known_on=known_on)
    rule = policies.rule(decision)
    label = {"en": rule.label.en, "fr": rule.label.fr}
    unknown_keep = [k for k in keep if policies.fact_decl(decision, k) is None]
    tgt, note = _target_for(d0, target)
    w = WhatIf(decision, label, d0.as_of, d0.status, d0.value, tgt is not None, tgt, keep)
    w.search = {"max_changes": max_changes, "budget_s": budget_s, "evaluations": 1, "elapsed_s": 0.0,
                "complete": True, "stopped": None, "facts": [], "unknown_keep": unknown_keep}
    if tgt is None:
        w.note = note
        w.note_detail = d0.missing if note == "undetermined" else plain(d0.value)
        w.search["elapsed_s"] = round(time.monotonic() - started, 3)
        return w
    s = _Search(policies, decision, d0.as_of, set(keep), max(1, int(max_changes)), budget_s,
                max_evaluations, presume, known_on, tgt, clocks)
    found, time_answer, scanned = s.run(d0)
    w.counterfactuals, w.time, w.time_scanned = found, time_answer, scanned
    if not found and time_answer is None:
        w.note = "none_found"
        w.note_detail = max_changes
    w.search.update({"evaluations": s.evaluations + 1, "elapsed_s": round(time.monotonic() - started, 3),
                     "complete": s.complete and s.stopped is None, "stopped": s.stopped,
                     "facts": list(s.searched)})
    return w


# -- reading it ------------------------------------------------------------------------------------
WORDS = {
    "en": {
        "title": "What would change the answer", "as_of": "as of", "yes": "yes", "no": "no",
        "not_given": "not given", "presumed": "presumed", "needs": "needs", "for": "for",
        "not_under": "no longer under", "has": "has",
        "option": "Option", "change": "change", "changes": "changes", "gives": "gives",
        "also": "also", "kept": "Kept as they are",
        "st_refused": "refused", "st_undetermined": "undetermined", "st_conflict": "conflict",
        "time_from": "from {date} if nothing else changes", "counting": "counting on",
        "time_none": "Time alone does not change the answer (dates looked at up to {until}).",
        "stopped": "The search stopped at its {what} after {n} evaluations: "
                   "larger or other combinations were not all tried.",
        "budget": "time budget ({s} s)", "evaluations": "limit of evaluations",
        "more": "more", "less": "less", "add": "add", "remove": "remove",
        "at least": "at least", "more than": "more than", "at most": "at most", "less than": "less than",
        "equal to": "", "other than": "other than", "one of": "one of", "none of": "none of",
        "unknown_keep": "Not a fact of this decision (ignored in --keep)",
        "positive": "The answer is already {value}: nothing needs to change.",
        "undetermined": "The answer is undetermined: give the facts it needs first ({missing}).",
        "conflict": "The answer is a conflict between exceptions: nothing to turn.",
        "not_binary": "The answer ({value}) is not a yes or no: say which answer is wanted (target).",
        "none_found": "No set of up to {n} fact changes turns the answer, and time alone does not.",
        "nothing": "none",
    },
    "fr": {
        "title": "Ce qui changerait la réponse", "as_of": "au", "yes": "oui", "no": "non",
        "not_given": "non fourni", "presumed": "présumé", "needs": "il faut", "for": "pour",
        "not_under": "ne relève plus de", "has": "a",
        "option": "Possibilité", "change": "changement", "changes": "changements", "gives": "donne",
        "also": "aussi", "kept": "Conservés tels quels",
        "st_refused": "refusé", "st_undetermined": "indéterminé", "st_conflict": "conflit",
        "time_from": "à compter du {date} si rien d'autre ne change", "counting": "en comptant",
        "time_none": "Le temps seul ne change pas la réponse (dates examinées jusqu'au {until}).",
        "stopped": "La recherche s'est arrêtée à sa {what} après {n} évaluations : "
                   "les autres combinaisons n'ont pas toutes été essayées.",
        "budget": "limite de temps ({s} s)", "evaluations": "limite d'évaluations",
        "more": "de plus", "less": "de moins", "add": "ajouter", "remove": "retirer",
        "at least": "au moins", "more than": "plus de", "at most": "au plus", "less than": "moins de",
        "equal to": "", "other than": "autre que", "one of": "l'une des valeurs", "none of": "aucune des valeurs",
        "unknown_keep": "N'est pas un fait de cette décision (ignoré dans --keep)",
        "positive": "La réponse est déjà {value} : rien n'a besoin de changer.",
        "undetermined": "La réponse est indéterminée : fournir d'abord les faits nécessaires ({missing}).",
        "conflict": "La réponse est un conflit entre exceptions : rien à renverser.",
        "not_binary": "La réponse ({value}) n'est pas un oui ou un non : préciser la réponse voulue (target).",
        "none_found": "Aucun ensemble d'au plus {n} changements de faits ne renverse la réponse, "
                      "et le temps seul non plus.",
        "nothing": "aucun",
    },
}
_OPS = {">=": "at least", ">": "more than", "<=": "at most", "<": "less than", "==": "equal to",
        "!=": "other than", "in": "one of", "not in": "none of"}
_UNITS_FR = {"months": "mois", "month": "mois", "weeks": "semaines", "week": "semaine", "days": "jours",
             "day": "jour", "years": "ans", "year": "an", "consecutive working days": "jours ouvrables consécutifs",
             "managers": "gestionnaires", "attempts": "tentatives", "boards": "jurys",
             "performance reviews": "évaluations du rendement",
             "percent of base salary": "pour cent du salaire de base",
             "CAD a year": "$ par année", "CAD": "$", "hours a week": "heures par semaine"}


def _w(lang):
    return WORDS.get(lang, WORDS["en"])


def _v(value, w) -> str:
    if value is None:
        return w["not_given"]
    if value is True:
        return w["yes"]
    if value is False:
        return w["no"]
    if isinstance(value, list):
        return "[" + ", ".join(_v(x, w) for x in value) + "]"
    return str(value)


def _unit_word(unit, lang):
    if not unit:
        return ""
    return unit if lang != "fr" else _UNITS_FR.get(unit, "")


def _note_text(code, detail, lang) -> str:
    w = _w(lang)
    if code == "positive":
        return w["positive"].format(value=_v(detail, w))
    if code == "undetermined":
        return w["undetermined"].format(missing=", ".join(detail or ()) or w["nothing"])
    if code == "not_binary":
        return w["not_binary"].format(value=_v(detail, w))
    if code == "none_found":
        return w["none_found"].format(n=detail)
    return w.get(code, code)


def _requirement_text(req, unit, lang) -> str:
    w = _w(lang)
    if not req:
        return ""
    op = req["op"]
    if op in ("contains", "lacks"):
        return f"{w['add'] if op == 'contains' else w['remove']} {req['value']}"
    words = w[_OPS.get(op, "equal to")]
    if isinstance(req["value"], list):
        value = ", ".join(_v(x, w) for x in req["value"])
    else:
        value = _v(req["value"], w)
        u = _unit_word(unit, lang)
        value += f" {u}" if u and op in (">=", ">", "<=", "<") else ""
    return f"{words} {value}".strip()


def _change_text(c: dict, lang: str) -> str:
    """'needs at least 12 months for "..." (Appendix B, 6.1): Months ..., has 9 → 12 (3 more months)'."""
    w = _w(lang)
    q = ("« ", " »") if lang == "fr" else ("“", "”")
    colon = " :" if lang == "fr" else ":"
    clause = c.get("clause") or {}
    label = (clause.get("label") or {}).get(lang) or clause.get("expression") or ""  # a bare condition: its rule's
    cite = f" ({clause['citation']})" if clause.get("citation") else ""
    req = _requirement_text(c.get("requirement"), c.get("unit"), lang)
    if clause.get("kind") == "exception" and clause.get("outcome") is False:
        head = f"{w['not_under']} {q[0]}{label}{q[1]}{cite}"
    else:
        head = w["needs"] + (f" {req} {w['for']}" if req else "") + (f" {q[0]}{label}{q[1]}" if label else "") + cite
    before = _v(c.get("from"), w) + (f" ({w['presumed']})" if c.get("presumed") else "")
    line = f"{head}{colon} {c['label'][lang]}, {w['has']} {before} → {_v(c.get('to'), w)}"
    delta = c.get("delta")
    if delta not in (None, "0") and c.get("from") is not None:
        neg = str(delta).startswith("-")
        amount = str(delta).lstrip("-")
        u = _unit_word(c.get("unit"), lang)
        more = w["less"] if neg else w["more"]
        line += (f" ({amount}{' ' + u if u else ''} {more})" if lang == "fr"
                 else f" ({amount} {more}{' ' + u if u else ''})")
    if c.get("alternatives"):
        line += f"; {w['also']}{colon} " + ", ".join(_v(x, w) for x in c["alternatives"])
    return line


def _as_dict(w) -> dict:
    return w.to_dict() if isinstance(w, WhatIf) else w


def _outcome(status, value, wd) -> str:
    return _v(value, wd) if status == "decided" else wd.get("st_" + status, status)


def render_text(w, lang: str = "en") -> str:
    """Sentences in English or French, from a WhatIf or its to_dict()."""
    r = _as_dict(w)
    wd = _w(lang)
    colon = " :" if lang == "fr" else ":"
    title = r["label"][lang]
    lines = [f"{wd['title']} — {title} ({r['decision']}), {wd['as_of']} {r['as_of']}{colon} "
             f"{_outcome(r['status'], r['value'], wd)}"]
    if r.get("keep"):
        lines.append(f"{wd['kept']}{colon} {', '.join(r['keep'])}")
    if (r.get("search") or {}).get("unknown_keep"):
        lines.append(f"{wd['unknown_keep']}{colon} {', '.join(r['search']['unknown_keep'])}")
    if r.get("note"):
        lines.append(r["note"][lang] if lang in ("en", "fr") else r["note"]["en"])
    for i, cf in enumerate(r.get("counterfactuals") or (), 1):
        n = len(cf["changes"])
        lines.append(f"{wd['option']} {i} ({n} {wd['change'] if n == 1 else wd['changes']}) — {title}{colon} "
                     f"{_outcome(cf['status'], cf['value'], wd)}")
        for c in cf["changes"]:
            lines.append(f"  - {_change_text(c, lang)}")
    t = r.get("time")
    if t:
        value = "" if t["value"] is True else f" ({_v(t['value'], wd)})"
        line = f"{title}{value} {wd['time_from'].format(date=t['date'])}"
        if t.get("advanced"):
            line += " (" + wd["counting"] + " " + "; ".join(
                f"{c['label'][lang]}{colon} {_v(c['from'], wd)} → {_v(c['to'], wd)}" for c in t["advanced"]) + ")"
        cl = t.get("clause")
        if cl and cl.get("citation"):
            line += f" [{cl['citation']}]"
        lines.append(line)
    elif r.get("time_scanned") and r.get("negative") and (r.get("note") or {}).get("code") != "none_found":
        lines.append(wd["time_none"].format(until=r["time_scanned"]["until"]))
    s = r.get("search") or {}
    if s.get("stopped"):
        what = wd["budget"].format(s=s.get("budget_s")) if s["stopped"] == "budget" else wd["evaluations"]
        lines.append(wd["stopped"].format(what=what, n=s.get("evaluations")))
    return "\n".join(lines)


def render_html(w, lang: str = "en") -> str:
    """The same account as an HTML section (every text escaped), for the decision's HTML page."""
    r = _as_dict(w)
    text = render_text(r, lang).split("\n")
    out = [f'<section class="what-would-change" lang="{escape(lang)}">', f"<h2>{escape(_w(lang)['title'])}</h2>",
           f"<p class=\"meta\">{escape(text[0].split(' — ', 1)[-1])}</p>"]
    items, open_list = [], False
    for line in text[1:]:
        if line.startswith("  - "):
            if not open_list:
                items.append("<ul>")
                open_list = True
            items.append(f"<li>{escape(line[4:])}</li>")
        else:
            if open_list:
                items.append("</ul>")
                open_list = False
            items.append(f"<p>{escape(line)}</p>")
    if open_list:
        items.append("</ul>")
    out += items
    out.append("</section>")
    return "\n".join(out)
