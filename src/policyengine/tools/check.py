"""Proofs for analysts: `policyengine check [DECISION...]`.

For every rule version with exceptions, every `select`, and every rule whose own
expressions can fail (a table lookup, a division by something that is not a constant),
`check` proves or refutes three properties over the declared fact domains:

- **no collision** (PE032): no two exceptions can both certainly apply and give different
  values, which the engine reports as a `conflict`;
- **no gap** (PE033): every input reaches an answer (decided, undetermined, refused), never
  an `EvaluationError` such as a select with no case, a table with no row for the key, a
  division by zero;
- **no dead exception** (PE030, as lint's code for an exception that can never apply): each
  exception's condition is true for some input.

Why this way (docs/check.md says more):

1. *One semantics.*  Every counterexample is a case evaluated by the real engine
   (`policies.evaluate(rule, facts, as_of)`); nothing here decides what a policy means.  A
   collision is a `conflict` decision, a gap an `EvaluationError`, a live exception a trace
   frame of that exception with outcome true.
2. *Finite domains.*  Each fact a property reads (through the dependency graph: the
   expressions' names, and the rules they name) gets representative values: an enum's
   values, true/false, and for numbers, dates and text the constants it is compared with
   in those expressions (literals, table cells, select cases, table keys) with a value on
   each side and between.  A domain is *exact* when every use of the fact is such a
   comparison: then every input behaves like one of the representatives, and enumerating
   them all is a proof.  When a fact is also used in arithmetic or compared with another
   value that varies, the enumeration is only over representatives, and says so.
3. *An SMT solver where enumeration cannot decide* (the product is too large, or a domain
   is not exact): the conditions are translated to z3 (the optional `z3-solver` package) as
   an *over-approximation* -- anything the translator cannot express exactly (a gap, a
   record body, months arithmetic, rounding) becomes an unconstrained value.  "unsat" is
   then a proof; a model is only a candidate, turned into a case and confirmed by the
   engine before it is reported (an unconfirmed one is blocked and the solver asked again).
   Lists of records are encoded with a bounded number of records: one per use of the list,
   which is enough for a witness of every `any` (the bound is stated when it is capped).
   Without z3, such properties are sampled and reported "not proven".

Each property has a verdict (proved, refuted, not proven), the method that reached it, and,
when refuted, a counterexample printed as a YAML test case that `policyengine test`
accepts.  A time budget per rule (default 2 s) bounds the work; what it cuts short is "not
proven".  `fast_findings(policies)` is the small-domain, tight-budget subset lint calls.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
import random
import time
from dataclasses import dataclass, field
from decimal import Decimal

import yaml

from ..errors import EvaluationError, InputError, Location, NotInForceError, PolicyEngineError
from .findings import Finding as LintFinding, Ignores  # what lint reports, and its ignore comments
from ..expr import ast
from ..model import walk
from ..model.elements import DATE, SelectBody
from ..runtime.decision import _frames

try:  # optional: pip install z3-solver
    import z3
except ImportError:  # pragma: no cover - exercised where z3 is absent
    z3 = None

CODES = {
    "PE030": "exception that can never apply",
    "PE032": "exceptions that collide",
    "PE033": "input with no answer",
}
DEFAULT_BUDGET = 2.0  # seconds per rule
DEFAULT_MAX_CASES = 20_000  # enumerate exhaustively up to this many cases per property
MAX_LIST_SLOTS = 6  # records (or items) of a list fact in the SMT encoding
MAX_RECORD_CLASSES = 64  # representative records of a list of records, for enumeration
OTHER_TEXT = "other-value"  # a text equal to none of the constants it is compared with


class _NotGiven:
    def __repr__(self):
        return "<not given>"


NOT_GIVEN = _NotGiven()


# -- results -----------------------------------------------------------------------------------
@dataclass
class Finding:
    """A refuted property: what is wrong, where, and a case that shows it."""

    kind: str  # collision | gap | dead
    code: str
    rule: str
    location: Location | None
    message: str
    case: dict | None = None  # name, decision, as_of, facts, expect: a YAML test case
    observed: str | None = None  # what the engine gave for the case
    method: str = ""

    def __str__(self) -> str:
        return f"{self.location}: {self.code}: {self.message}" if self.location else f"{self.code}: {self.message}"

    def test_case_yaml(self, indent: int = 2) -> str:
        """The counterexample as a `tests:` list item, ready to paste under `tests:`."""
        if self.case is None:
            return ""
        data = dict(self.case)
        data["facts"] = _yaml_value(data.get("facts") or {})
        text = yaml.safe_dump([data], sort_keys=False, allow_unicode=True, default_flow_style=None, width=110)
        pad = " " * indent
        lines = [f"# policyengine check ({self.code}): {self.observed}"] if self.observed else []
        return "\n".join(pad + line for line in lines + text.rstrip("\n").splitlines())

    def to_dict(self) -> dict:
        loc = self.location
        case = None
        if self.case is not None:
            case = dict(self.case, as_of=str(self.case["as_of"]), facts=_json_value(self.case.get("facts") or {}))
        return {"kind": self.kind, "code": self.code, "rule": self.rule,
                "path": loc.path if loc else None, "line": loc.line if loc else None, "col": loc.col if loc else None,
                "message": self.message, "observed": self.observed, "method": self.method, "test_case": case}


@dataclass
class Result:
    """One property of one rule version, and what became of it."""

    rule: str
    version: str | None  # effective date of the version (None: undated)
    property: str  # e.g. "no collision: a / b", "no gap", "a can apply"
    verdict: str  # proved | refuted | not proven
    method: str
    finding: Finding | None = None
    ignored: bool = False  # the finding is silenced by a `# lint: ignore CODE` comment

    def to_dict(self) -> dict:
        return {"rule": self.rule, "version": self.version, "property": self.property, "verdict": self.verdict,
                "method": self.method, "finding": self.finding.to_dict() if self.finding else None,
                "ignored": self.ignored}


@dataclass
class Report:
    results: list = field(default_factory=list)
    rules: int = 0
    seconds: float = 0.0
    smt: str | None = None  # z3 version used, or None
    ignored: int = 0  # findings silenced by a `# lint: ignore CODE` comment

    @property
    def findings(self) -> list[Finding]:
        return [r.finding for r in self.results if r.finding is not None and not r.ignored]

    def counts(self) -> dict:
        out = {"proved": 0, "refuted": 0, "not proven": 0, "source gap": 0}
        for r in self.results:
            out[r.verdict] += 1
        return out

    def summary(self) -> str:
        c = self.counts()
        smt = f"z3 {self.smt}" if self.smt else "no SMT solver (pip install z3-solver)"
        ignored = f", {self.ignored} ignored by a '# lint: ignore' comment" if self.ignored else ""
        return (f"checked {self.rules} rule(s), {len(self.results)} properties: {c['proved']} proved, "
                f"{c['refuted']} refuted, {c['not proven']} not proven, {c['source gap']} waiting on a source "
                f"gap; {len(self.findings)} finding(s){ignored} in {self.seconds:.2f} s ({smt})")

    def text(self, proofs: bool = False) -> str:
        out = []
        for f in self.findings:
            out.append(f"{f}  [{f.method}]")
            if f.case is not None:
                out.append(f.test_case_yaml())
        if proofs:
            for r in self.results:
                out.append(f"{r.verdict:10}  {r.rule}{'@' + r.version if r.version else ''}: {r.property}  "
                           f"[{r.method}]")
        out.append(self.summary())
        return "\n".join(out)

    def to_dict(self) -> dict:
        return {"rules": self.rules, "seconds": round(self.seconds, 3), "smt": self.smt, "counts": self.counts(),
                "findings": [f.to_dict() for f in self.findings], "results": [r.to_dict() for r in self.results]}


def _yaml_value(v):
    """Facts as YAML writes them for a test file: numbers unquoted, dates as dates."""
    if isinstance(v, dict):
        return {k: _yaml_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_yaml_value(x) for x in v]
    if isinstance(v, Decimal):
        if v == v.to_integral_value():
            return int(v)
        f = float(v)
        return f if Decimal(repr(f)) == v else str(v)
    return v


def _json_value(v):
    if isinstance(v, dict):
        return {k: _json_value(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_json_value(x) for x in v]
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else str(v)
    if isinstance(v, dt.date):
        return v.isoformat()
    return v


# -- what the expressions do with each fact ---------------------------------------------------------
@dataclass
class _Atom:
    """How a fact (or a record field, or as_of) is used in the expressions of one property."""

    consts: set = field(default_factory=set)  # the constants it is compared with (or listed, or keyed by)
    exact: bool = True  # every use is such a comparison: the representatives cover every input
    given: bool = False  # given(fact) is read: "not given" is a value of its own
    uses: int = 0  # quantifier and membership uses, for a list fact

    def merge(self, other: "_Atom") -> None:
        self.consts |= other.consts
        self.exact &= other.exact
        self.given |= other.given
        self.uses += other.uses


def _merge(into: dict, atoms: dict) -> None:
    for k, a in atoms.items():
        into.setdefault(k, _Atom()).merge(a)


class _Analysis:
    """The uses of facts in expressions and, through the rules they name, everything they read."""

    def __init__(self, policies):
        self.p = policies
        self.memo: dict[str, dict] = {}

    def rule(self, rule) -> dict:
        atoms = self.memo.get(rule.id)
        if atoms is None:
            atoms = self.memo[rule.id] = {}  # no cycles (the loader refuses them): a placeholder suffices
            for version in rule.versions:
                _merge(atoms, self.version(rule, version, requires=True))
        return atoms

    def version(self, rule, version, requires: bool = False) -> dict:
        atoms: dict = {}
        for role, expr in walk.version_expressions(version):
            self.expr(expr, atoms, role, version.body)
        for sub in walk.sub_rules(version.body):
            _merge(atoms, self.rule(sub))
        if requires:
            for target in self.required(rule, version):
                _merge(atoms, self.rule(target))
        return atoms

    def required(self, rule, version) -> list:
        """The rules a version requires, resolved as the runtime resolves them."""
        out = []
        for name, _ in version.requires:
            target = self.p.rules.get(f"{rule.instrument}.{name}") or self.p.rules.get(name)
            if target is not None:
                out.append(target)
        return out

    def expr(self, expr, atoms: dict, role: str = "value", body=None) -> dict:
        node = expr.node
        if role == "by" and isinstance(node, ast.Name) and node.ref and node.ref[0] == "fact" \
                and isinstance(body, SelectBody):
            a = atoms.setdefault(("fact", node.ref[1].id), _Atom())
            a.consts |= set(body.cases)
            return atoms
        self._scan(node, atoms, None, ())
        return atoms

    def node(self, node) -> dict:
        atoms: dict = {}
        self._scan(node, atoms, None, ())
        return atoms

    def _scan(self, node, atoms, parent, lists):
        if isinstance(node, ast.Name):
            ref = node.ref
            if not ref:
                return
            if ref[0] == "rule":
                _merge(atoms, self.rule(ref[1]))
                return
            if ref[0] == "fact":
                key, t = ("fact", ref[1].id), ref[1].type
            elif ref[0] == "field":
                if not lists or lists[-1] is None:
                    return
                key, t = ("field", lists[-1], ref[1]), ref[2]
            elif ref[0] == "as_of":
                key, t = ("as_of",), DATE
            else:
                return
            self._use(node, parent, atoms.setdefault(key, _Atom()), t)
            return
        if isinstance(node, ast.Call) and node.function in ("any", "all") and len(node.args) == 2:
            lst = node.args[0]
            self._scan(lst, atoms, node, lists)
            lk = lst.ref[1].id if isinstance(lst, ast.Name) and lst.ref and lst.ref[0] == "fact" else None
            self._scan(node.args[1], atoms, node, lists + (lk,))
            return
        for child in ast.children(node):
            self._scan(child, atoms, node, lists)

    def _use(self, node, parent, a: _Atom, t) -> None:
        if isinstance(parent, ast.Compare):
            other = parent.right if parent.left is node else parent.left
            consts = _constants(other)
            if consts is None:
                a.exact = False
            else:
                a.consts |= consts
        elif isinstance(parent, ast.Membership):
            if parent.item is node:
                coll = parent.collection
                if isinstance(coll, ast.ListExpr) and all(isinstance(x, ast.Literal) for x in coll.items):
                    a.consts |= {x.value for x in coll.items}
                elif t.kind not in ("enum", "boolean"):
                    a.exact = False
            else:  # the list fact searched
                a.uses += 1
                consts = _constants(parent.item)
                if consts is not None:
                    a.consts |= consts
                elif t.of is not None and t.of.kind == "enum":
                    a.consts |= set(t.of.values)
                else:
                    a.exact = False
        elif isinstance(parent, ast.Call) and parent.function == "given":
            a.given = True
        elif isinstance(parent, ast.Call) and parent.function in ("any", "all") and parent.args[0] is node:
            a.uses += 1
        elif isinstance(parent, ast.Lookup):
            i = next(i for i, k in enumerate(parent.keys) if k is node)
            table = parent.ref
            if table is not None and i < len(table.keys):
                a.consts |= set(table.keys[i].values)
        elif t.kind in ("boolean", "enum"):
            pass  # a condition, or an enum value passed on: its domain is complete anyway
        else:
            a.exact = False  # arithmetic, a function's argument, a value given as it is


def _constants(node):
    """The values a node can take when it does not depend on the case, else None."""
    if isinstance(node, ast.Literal):
        return {node.value}
    if isinstance(node, ast.Unary) and node.op == "-" and isinstance(node.operand, ast.Literal):
        return {-node.operand.value}
    if isinstance(node, ast.Lookup) and node.ref is not None:
        out = set()
        for version in node.ref.versions:
            out |= {v for v in version.cells.values() if isinstance(v, (bool, int, Decimal, str, dt.date))}
        return out
    return None


# -- domains -----------------------------------------------------------------------------------------
def _bound(raw, kind):
    if raw is None:
        return None
    try:
        if kind == "integer":
            return int(raw)
        if kind in ("decimal", "money"):
            return Decimal(str(raw))
        if kind == "date":
            return raw if isinstance(raw, dt.date) else dt.date.fromisoformat(str(raw))
    except (ValueError, ArithmeticError):
        return None
    return None


def _numbers(consts, lo, hi, integer: bool, exact: bool) -> list:
    ts = set()
    for c in consts:
        if isinstance(c, bool) or not isinstance(c, (int, Decimal)):
            continue
        d = Decimal(c)
        if integer and d != d.to_integral_value():
            ts |= {d.to_integral_value(rounding="ROUND_FLOOR"), d.to_integral_value(rounding="ROUND_CEILING")}
        else:
            ts.add(d)
    if not exact:
        ts |= {Decimal(0), Decimal(1)}  # zero for divisions, one as a plain amount
    ts = sorted(ts)
    reps = set(ts)
    if ts:
        reps |= {ts[0] - 1, ts[-1] + 1}
        for a, b in zip(ts, ts[1:]):
            if integer:
                if b - a > 1:
                    reps.add(a + 1)
            else:
                reps.add((a + b) / 2)
    reps = {r for r in reps if (lo is None or r >= lo) and (hi is None or r <= hi)}
    if lo is not None and (not exact or not reps):
        reps.add(Decimal(lo))
    if hi is not None and (not exact or not reps):
        reps.add(Decimal(hi))
    if not reps:
        reps.add(Decimal(0))
    ordered = sorted(r for r in reps if r >= 0) + sorted((r for r in reps if r < 0), reverse=True)
    return [int(r) if integer else r for r in ordered]  # plain amounts first: counterexamples read better


def _dates(consts, days, exact: bool, lo=None, hi=None) -> list:
    ts = {c for c in consts if isinstance(c, dt.date)}
    if not exact:
        ts |= set(days)
    ts = sorted(ts)
    one = dt.timedelta(days=1)
    reps = set(ts)
    if ts:
        if ts[0] > dt.date.min:
            reps.add(ts[0] - one)
        if ts[-1] < dt.date.max:
            reps.add(ts[-1] + one)
        for a, b in zip(ts, ts[1:]):
            if (b - a).days > 1:
                reps.add(a + (b - a) / 2)
    else:
        reps.add(days[0])
    reps = {r for r in reps if (lo is None or r >= lo) and (hi is None or r <= hi)} or {lo or hi or days[0]}
    return sorted(reps)


def _texts(consts) -> list:
    lits = sorted({str(c) for c in consts if isinstance(c, str)})
    other = OTHER_TEXT
    while other in lits:
        other += "-x"
    return lits + [other]


class _Domains:
    """Representative values per fact, and whether they cover every input."""

    def __init__(self, policies, atoms: dict, days: list):
        self.p, self.atoms, self.days = policies, atoms, days
        self.exact = True
        self.why_not: list[str] = []  # facts whose domain is only representative

    def facts(self) -> list:
        return sorted(k[1] for k in self.atoms if k[0] == "fact")

    def build(self, fids=None) -> list[tuple[str, list]]:
        out = []
        for fid in (self.facts() if fids is None else fids):
            decl = self.p.facts[fid]
            a = self.atoms.get(("fact", fid), _Atom())
            values = self._values(decl.type, a, decl.minimum, decl.maximum, ("fact", fid))
            if a.given:
                values = values + [NOT_GIVEN]
            out.append((decl.name, values))
        a = self.atoms.get(("as_of",))
        if a is not None and not a.exact:
            self._inexact("as_of")
        return out

    def _inexact(self, what):
        self.exact = False
        if what not in self.why_not:
            self.why_not.append(what)

    def _values(self, t, a: _Atom, lo, hi, key) -> list:
        kind = t.kind
        label = key[1] if key[0] == "fact" else f"{key[1].split('.')[-1]}.{key[2]}"
        if kind == "boolean":
            return [True, False]
        if kind == "enum":
            return list(t.values)
        if not a.exact:
            self._inexact(label)
        if kind in ("integer", "decimal", "money"):
            return _numbers(a.consts, _bound(lo, kind), _bound(hi, kind), kind == "integer", a.exact)
        if kind == "date":
            return _dates(a.consts, self.days, a.exact, _bound(lo, "date"), _bound(hi, "date"))
        if kind == "text":
            return _texts(a.consts)
        if kind == "list" and t.of is not None and t.of.kind == "record":
            return self._records(t.of, a, key)
        if kind == "list" and t.of is not None:
            items = list(t.of.values) if t.of.kind == "enum" and not a.consts else sorted(a.consts, key=str)
            if t.of.kind == "enum":
                items = [v for v in t.of.values if v in set(items)]
            if len(items) <= 4:
                return [list(c) for n in range(len(items) + 1) for c in itertools.combinations(items, n)]
            self._inexact(label)
            return [[]] + [[x] for x in items] + [items]
        self._inexact(label)
        return [NOT_GIVEN]

    def _records(self, rt, a: _Atom, key) -> list:
        fid = key[1]
        fields = []
        for fname, ft in rt.fields:
            fa = self.atoms.get(("field", fid, fname), _Atom())
            fields.append((fname, self._values(ft, fa, None, None, ("field", fid, fname))))
        classes = [dict(zip([f for f, _ in fields], combo)) for combo in itertools.product(*[v for _, v in fields])]
        if len(classes) > MAX_RECORD_CLASSES:
            self._inexact(fid)
            classes = random.Random(0).sample(classes, MAX_RECORD_CLASSES)
        lists = [[]] + [[c] for c in classes]
        if a.uses > 1:
            if a.uses == 2 and len(classes) <= 40:
                lists += [[c, d] for c, d in itertools.combinations(classes, 2)]
            else:
                self._inexact(fid)
        return lists


# -- the SMT over-approximation -----------------------------------------------------------------------
class _Opaque(Exception):
    """A sub-expression the translation leaves unconstrained."""


class _Smt:
    """The conditions of one property as z3 terms, for one as_of day.

    An over-approximation of the engine on complete inputs: whatever is not translated is a
    fresh unconstrained value, so a condition that the engine finds certainly true for some
    input (Kleene logic is monotone: facts not given only make fewer conditions certain) is
    satisfiable here.  `given(f)` is a variable of its own, so "not given" stays possible."""

    def __init__(self, policies, day: dt.date, slots: dict):
        self.p, self.day, self.slots = policies, day, slots
        self.vars: dict = {}  # fact id -> term, or [(present, item)] for a list
        self.given: dict = {}
        self.rules: dict = {}
        self.side: list = []
        self.items: list = []  # records in scope of any()/all()
        self.n = 0
        self.capped = False

    # sorts and values
    @staticmethod
    def sort(t):
        if t is None:
            return None
        return {"boolean": z3.BoolSort(), "integer": z3.IntSort(), "decimal": z3.RealSort(), "money": z3.RealSort(),
                "date": z3.IntSort(), "text": z3.StringSort(), "enum": z3.StringSort()}.get(t.kind)

    def fresh(self, t):
        s = self.sort(t)
        if s is None:
            raise _Opaque()
        self.n += 1
        return z3.FreshConst(s, "opaque")

    @staticmethod
    def value(v, like=None):
        if isinstance(v, bool):
            return z3.BoolVal(v)
        if like is not None and z3.is_string(like):
            return z3.StringVal(str(v))
        if isinstance(v, dt.date):
            return z3.IntVal(v.toordinal())
        if isinstance(v, int):
            return z3.RealVal(v) if like is not None and z3.is_real(like) else z3.IntVal(v)
        if isinstance(v, Decimal):
            return z3.RealVal(str(v))
        if isinstance(v, str):
            return z3.StringVal(v)
        raise _Opaque()

    @staticmethod
    def same_sort(a, b):
        if z3.is_arith(a) and z3.is_arith(b):
            if z3.is_real(a) and z3.is_int(b):
                return a, z3.ToReal(b)
            if z3.is_int(a) and z3.is_real(b):
                return z3.ToReal(a), b
            return a, b
        if a.sort() != b.sort():
            raise _Opaque()
        return a, b

    def eq(self, a, b):
        a, b = self.same_sort(a, b)
        return a == b

    # facts
    def _scalar(self, name, t, lo=None, hi=None):
        s = self.sort(t)
        if s is None:
            raise _Opaque()
        v = z3.Const(name, s)
        kind = t.kind
        if kind == "enum":
            self.side.append(z3.Or([v == z3.StringVal(str(x)) for x in t.values]))
        elif kind == "date":
            self.side += [v >= 1, v <= dt.date.max.toordinal()]
        for bound, op in ((lo, "ge"), (hi, "le")):
            b = _bound(bound, kind)
            if b is not None:
                bv = self.value(b, v)
                self.side.append(v >= bv if op == "ge" else v <= bv)
        return v

    def fact(self, decl):
        v = self.vars.get(decl.id)
        if v is None:
            t = decl.type
            if t.kind == "list":
                k = self.slots.get(decl.id, 1)
                if k > MAX_LIST_SLOTS:
                    k, self.capped = MAX_LIST_SLOTS, True
                v = []
                for i in range(k):
                    present = z3.Bool(f"{decl.id}#{i}?")
                    if t.of.kind == "record":
                        item = {f: self._scalar(f"{decl.id}#{i}.{f}", ft) for f, ft in t.of.fields}
                    else:
                        item = self._scalar(f"{decl.id}#{i}", t.of)
                    v.append((present, item))
                for i in range(1, k):  # present records come first: fewer symmetric models
                    self.side.append(z3.Implies(v[i][0], v[i - 1][0]))
            else:
                v = self._scalar(decl.id, t, decl.minimum, decl.maximum)
            self.vars[decl.id] = v
        return v

    def given_var(self, decl):
        g = self.given.get(decl.id)
        if g is None:
            g = self.given[decl.id] = z3.Bool(f"given:{decl.id}")
            self.fact(decl)
        return g

    # expressions
    def term(self, node):
        try:
            return self._term(node)
        except _Opaque:
            return self.fresh(node.type)

    def boolean(self, node):
        try:
            t = self.term(node)
        except _Opaque:
            t = None
        if t is None or not z3.is_bool(t):
            return z3.FreshBool("opaque")
        return t

    def _term(self, node):
        if isinstance(node, ast.Literal):
            if node.kind == "duration":
                raise _Opaque()
            if node.kind in ("decimal", "money"):
                return z3.RealVal(str(node.value))
            return self.value(node.value)
        if isinstance(node, ast.Name):
            kind, obj = node.ref[0], node.ref[1]
            if kind == "fact":
                v = self.fact(obj)
                if isinstance(v, list):
                    raise _Opaque()
                return v
            if kind == "field":
                if not self.items or obj not in self.items[-1]:
                    raise _Opaque()
                return self.items[-1][obj]
            if kind == "rule":
                return self.rule(obj)
            if kind == "as_of":
                return z3.IntVal(self.day.toordinal())
            raise _Opaque()
        if isinstance(node, ast.Unary):
            x = self._term(node.operand)
            if node.op == "not":
                if not z3.is_bool(x):
                    raise _Opaque()
                return z3.Not(x)
            if not z3.is_arith(x):
                raise _Opaque()
            return -x
        if isinstance(node, ast.Binary):
            return self._binary(node)
        if isinstance(node, ast.Compare):
            a, b = self.same_sort(self._term(node.left), self._term(node.right))
            op = node.op
            if op in ("==", "!="):
                return (a == b) if op == "==" else (a != b)
            if not z3.is_arith(a):
                raise _Opaque()
            return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]
        if isinstance(node, ast.Logic):
            items = [self.boolean(x) for x in node.items]
            return z3.And(items) if node.op == "and" else z3.Or(items)
        if isinstance(node, ast.Membership):
            x = self._term(node.item)
            coll = node.collection
            if isinstance(coll, ast.ListExpr):
                found = z3.Or([self._eq_or_opaque(x, self.term(i)) for i in coll.items] or [z3.BoolVal(False)])
            elif isinstance(coll, ast.Name) and coll.ref and coll.ref[0] == "fact" \
                    and coll.ref[1].type.of is not None and coll.ref[1].type.of.kind != "record":
                slots = self.fact(coll.ref[1])
                found = z3.Or([z3.And(p, self._eq_or_opaque(x, item)) for p, item in slots] or [z3.BoolVal(False)])
            else:
                raise _Opaque()
            return z3.Not(found) if node.negated else found
        if isinstance(node, ast.If):
            c = self.boolean(node.condition)
            a, b = self.same_sort(self.term(node.then), self.term(node.otherwise))
            return z3.If(c, a, b)
        if isinstance(node, ast.Call):
            return self._call(node)
        if isinstance(node, ast.Lookup):
            return self._lookup(node)
        raise _Opaque()

    def _eq_or_opaque(self, a, b):
        try:
            return self.eq(a, b)
        except _Opaque:
            return z3.FreshBool("opaque")

    def _binary(self, node):
        kinds = {node.left.type.kind, node.right.type.kind}
        if kinds & {"date", "duration"}:
            # a date plus or minus days is exact; months clamp to the month's end: left open
            if node.op in ("+", "-") and isinstance(node.right, ast.Literal) and node.right.kind == "duration" \
                    and node.right.value.unit == "days" and node.left.type.kind == "date":
                x = self._term(node.left)
                n = z3.IntVal(node.right.value.amount)
                return x + n if node.op == "+" else x - n
            raise _Opaque()
        a, b = self.same_sort(self._term(node.left), self._term(node.right))
        if not z3.is_arith(a):
            raise _Opaque()
        if node.op == "/":
            return z3.ToReal(a) / z3.ToReal(b) if z3.is_int(a) else a / b
        return {"+": a + b, "-": a - b, "*": a * b}[node.op]

    def _call(self, node):
        fn = node.function
        if fn in ("any", "all"):
            lst = node.args[0]
            if not (isinstance(lst, ast.Name) and lst.ref and lst.ref[0] == "fact"):
                raise _Opaque()
            slots = self.fact(lst.ref[1])
            if not isinstance(slots, list):
                raise _Opaque()
            parts = []
            for present, item in slots:
                if not isinstance(item, dict):
                    raise _Opaque()
                self.items.append(item)
                try:
                    c = self.boolean(node.args[1])
                finally:
                    self.items.pop()
                parts.append(z3.And(present, c) if fn == "any" else z3.Implies(present, c))
            if not parts:
                return z3.BoolVal(fn == "all")
            return z3.Or(parts) if fn == "any" else z3.And(parts)
        if fn == "given":
            arg = node.args[0]
            return self.given_var(arg.ref[1])
        if fn in ("min", "max") and node.args:
            terms = [self._term(a) for a in node.args]
            out = terms[0]
            for t in terms[1:]:
                out, t = self.same_sort(out, t)
                out = z3.If(t < out, t, out) if fn == "min" else z3.If(t > out, t, out)
            return out
        if fn == "abs":
            x = self._term(node.args[0])
            return z3.If(x >= 0, x, -x)
        if fn == "days_between":
            a, b = self._term(node.args[0]), self._term(node.args[1])
            return b - a
        raise _Opaque()

    def _lookup(self, node):
        table = node.ref
        version = table.version_at(self.day) if table is not None else None
        if version is None or len(version.cells) > 2000:
            raise _Opaque()
        keys = [self._term(k) for k in node.keys]
        out = self.fresh(table.value_type)  # no row: an error in the engine, anything here
        for key, cell in version.cells.items():
            try:
                c = self.value(cell, out)
                cond = z3.And([self.eq(k, self.value(kv, k)) for k, kv in zip(keys, key)])
                c, out2 = self.same_sort(c, out)
                out = z3.If(cond, c, out2)
            except _Opaque:
                continue
        return out

    def rule(self, rule):
        if rule.id in self.rules:
            t = self.rules[rule.id]
            if t is None:
                raise _Opaque()
            return t
        self.rules[rule.id] = None
        version = rule.version_at(self.day)
        try:
            if version is None:
                raise _Opaque()
            t = _SmtBody(self).visit(version.body)
            for ex in reversed(version.exceptions):  # the first that applies gives the value
                v, t = self.same_sort(self.term(ex.value.node), t)
                t = z3.If(self.boolean(ex.when.node), v, t)
        except _Opaque:
            t = self.fresh(rule.type)
        self.rules[rule.id] = t
        return t

    # models
    def all_vars(self) -> list:
        out = list(self.given.values())
        for v in self.vars.values():
            if isinstance(v, list):
                for present, item in v:
                    out.append(present)
                    out += list(item.values()) if isinstance(item, dict) else [item]
            else:
                out.append(v)
        return out

    def block(self, model):
        return z3.Or([v != model.eval(v, model_completion=True) for v in self.all_vars()] or [z3.BoolVal(False)])

    def case(self, model) -> dict:
        facts = {}
        for fid, v in self.vars.items():
            decl = self.p.facts[fid]
            g = self.given.get(fid)
            if g is not None and z3.is_false(model.eval(g, model_completion=True)):
                continue
            if isinstance(v, list):
                items = []
                for present, item in v:
                    if z3.is_true(model.eval(present, model_completion=True)):
                        if isinstance(item, dict):
                            items.append({f: self._py(model, x, ft) for (f, ft), x in
                                          zip(decl.type.of.fields, item.values())})
                        else:
                            items.append(self._py(model, item, decl.type.of))
                facts[decl.name] = items
            else:
                facts[decl.name] = self._py(model, v, decl.type)
        return facts

    @staticmethod
    def _py(model, var, t):
        x = model.eval(var, model_completion=True)
        kind = t.kind
        if kind == "boolean":
            return z3.is_true(x)
        if kind == "date":
            return dt.date.fromordinal(max(1, min(x.as_long(), dt.date.max.toordinal())))
        if kind == "integer":
            return x.as_long()
        if kind in ("decimal", "money"):
            if z3.is_rational_value(x):
                n, d = x.numerator_as_long(), x.denominator_as_long()
                q = Decimal(n) / Decimal(d)
                return q if (q * d == n) else q.quantize(Decimal("0.000001"))
            return Decimal(x.as_decimal(6).rstrip("?"))
        if kind == "enum":
            s = x.as_string()
            return next((v for v in t.values if str(v) == s), t.values[0])
        return x.as_string()


class _SmtBody(walk.BodyVisitor):
    def __init__(self, smt: _Smt):
        self.smt = smt

    def visit_value(self, b):
        return self.smt.term(b.expr.node)

    def visit_conditions(self, b):
        s = self.smt
        items = []
        for c in b.items:
            if c.rule is not None:
                t = s.rule(c.rule)
                items.append(t if z3.is_bool(t) else z3.FreshBool("opaque"))
            else:
                items.append(s.boolean(c.expr.node))
        return z3.And(items) if b.kind == "all" else z3.Or(items)

    def visit_record(self, b):
        raise _Opaque()

    def visit_gap(self, b):
        raise _Opaque()

    def visit_select(self, b):
        s = self.smt
        on = s.term(b.on.node)
        cases = list(b.cases.items())
        if b.default is not None:
            out = s.term(b.default.node)
        elif cases:
            out = s.term(cases[-1][1].node)  # a key with no case is an error in the engine
        else:
            raise _Opaque()
        for key, e in reversed(cases):
            v, out = s.same_sort(s.term(e.node), out)
            out = z3.If(s.eq(on, s.value(key, on)), v, out)
        return out


# -- the checker ---------------------------------------------------------------------------------------
class _Checker:
    def __init__(self, policies, budget: float, max_cases: int, smt: bool, sample: bool = True):
        self.p = policies
        self.budget, self.max_cases = budget, max_cases
        self.smt = smt and z3 is not None
        self.sample = sample
        self.analysis = _Analysis(policies)
        self.rng = random.Random(0)
        self.artefacts = 0  # cases the engine refused as input: a domain value out of bounds

    # which rules, which days
    def targets(self, decisions=None) -> list:
        rules = self.p.rules
        if decisions:
            ids = set()
            for d in decisions:
                rule = self.p.rule(d)
                ids.add(rule.id)
                ids |= {n[1] for n in self.p.graph.dependencies("rule", rule.id) if n[0] == "rule"}
            chosen = [rules[i] for i in sorted(ids)]
        else:
            chosen = list(rules.values())
        return [r for r in chosen if any(v.exceptions or isinstance(v.body, SelectBody) or self.failure_points(v)
                                         for v in r.versions)]

    def days(self, rule, version, atoms) -> list:
        inst = self.p.instruments[rule.instrument]
        start = max([d for d in (version.effective, inst.start) if d is not None], default=None)
        end = min([d for d in (version.end, inst.end) if d is not None], default=None)

        def inside(d):
            return (start is None or d >= start) and (end is None or d < end)
        days = set()
        if start is not None:
            days.add(start)
        days |= {d for d in self.change_dates(rule) if inside(d) and d != start}
        a = atoms.get(("as_of",))
        if a is not None:
            for c in a.consts:
                if isinstance(c, dt.date):
                    days |= {d for d in (c - dt.timedelta(days=1), c) if inside(d)}
        if start is None:
            today = dt.date.today()
            if inside(today):
                days.add(today)
            elif end is not None:
                days.add(end - dt.timedelta(days=1))
        return sorted(days) or [start or dt.date.today()]

    def change_dates(self, rule) -> set:
        """The dates on which what the rule reads changes: its instruments' force, and the versions
        of the rules and tables it depends on."""
        nodes = {("rule", rule.id)} | self.p.graph.dependencies("rule", rule.id)
        dates = set()
        for kind, name in nodes:
            if kind == "rule":
                obj = self.p.rules[name]
                dates |= {d for v in obj.versions for d in (v.effective, v.end) if d}
            elif kind == "table":
                obj = self.p.tables[name]
                dates |= {d for v in obj.versions for d in (v.effective, v.end) if d}
            else:
                continue
            inst = self.p.instruments.get(obj.instrument)
            if inst is not None:
                dates |= {d for d in (inst.start, inst.end) if d}
        return dates

    # failure points: what can make an own expression an EvaluationError
    def failure_points(self, version) -> list:
        out = []
        for role, expr in walk.version_expressions(version):
            for node in ast.walk(expr.node):
                if isinstance(node, ast.Binary) and node.op == "/" and not (
                        isinstance(node.right, ast.Literal) and node.right.value):
                    out.append(("division", expr, node))
                elif isinstance(node, ast.Lookup) and not self._covered(node, version):
                    out.append(("lookup", expr, node))
        b = version.body
        if isinstance(b, SelectBody) and b.default is None:
            t = b.on.node.type
            full = (t is not None and t.kind == "enum" and set(t.values) <= set(b.cases)) or (
                t is not None and t.kind == "boolean" and {True, False} <= set(b.cases))
            if not full:
                out.append(("select", b.on, b.on.node))
        return out

    def _covered(self, node, version) -> bool:
        """A lookup whose every possible key has a row in every version of the table."""
        table = node.ref
        if table is None:
            return False
        sets = []
        for k in node.keys:
            if isinstance(k, ast.Literal):
                sets.append([k.value])
                continue
            t = k.ref[1].type if isinstance(k, ast.Name) and k.ref and k.ref[0] == "fact" else k.type
            if t is not None and t.kind == "enum":
                sets.append(list(t.values))
            elif t is not None and t.kind == "boolean":
                sets.append([True, False])
            else:
                return False
        combos = list(itertools.product(*sets))
        return all(c in v.cells for v in table.versions for c in combos)

    def guards(self, rule) -> list:
        """The requirements of the rules a condition sub-rule sits in (its parent, and theirs):
        a case they refuse never reaches it, so it shows nothing about the policy."""
        out, r = [], rule
        while r.parent and r.parent in self.p.rules:
            r = self.p.rules[r.parent]
            for version in r.versions:
                out += [t for t in self.analysis.required(r, version) if t not in out]
        return out

    def guarded(self, rule, facts, day) -> bool:
        """Whether every guard of a sub-rule holds for the case (is decided true)."""
        for target in self.guards(rule):
            try:
                d = self.p.evaluate(target.id, facts, day, trace="none")
            except PolicyEngineError:
                return False
            if d.status != "decided" or d.value is not True:
                return False
        return True

    # running cases
    def evaluate(self, rule, facts, day, trace="none"):
        """(decision, None) or (None, error) for a case; None, None for an input the engine refuses."""
        try:
            return self.p.evaluate(rule.id, facts, day, trace=trace), None
        except InputError:
            self.artefacts += 1
            return None, None
        except (EvaluationError, NotInForceError) as exc:
            return None, exc
        except PolicyEngineError as exc:
            return None, exc

    def size(self, doms, days) -> int:
        total = len(days)
        for _, values in doms:
            total *= max(1, len(values))
        return total

    def cases(self, doms, days, deadline, exhaustive_only=False):
        """(day, facts) for every combination, or a sample when there are too many.
        Sets self.last: (exhaustive, count)."""
        total = len(days)
        for _, values in doms:
            total *= max(1, len(values))
        names = [n for n, _ in doms]
        self.last = [total <= self.max_cases, 0, total]
        if total <= self.max_cases:
            for day in days:
                for combo in itertools.product(*[v for _, v in doms]):
                    if time.perf_counter() > deadline:
                        self.last[0] = False
                        return
                    self.last[1] += 1
                    yield day, {n: _copy(v) for n, v in zip(names, combo) if v is not NOT_GIVEN}
            return
        if exhaustive_only or not self.sample:
            return
        while self.last[1] < self.max_cases and time.perf_counter() < deadline:
            self.last[1] += 1
            day = self.rng.choice(days)
            combo = [self.rng.choice(v) for _, v in doms]
            yield day, {n: _copy(v) for n, v in zip(names, combo) if v is not NOT_GIVEN}

    def enumerated(self, domains, found: bool = False) -> str:
        exhaustive, n, total = self.last
        if found:
            return f"case {n} of {total} enumerated" if exhaustive else f"random case {n} of {total}"
        if exhaustive and domains.exact:
            return f"exhaustive enumeration of {n} cases"
        if exhaustive:
            return (f"{n} representative cases, all enumerated (not a proof: "
                    f"{', '.join(domains.why_not[:3])} also used beyond comparisons with constants)")
        if n < total and n and total <= self.max_cases:
            return f"{n} of {total} cases before the time budget ran out"
        return f"{n} random cases of {total}"

    # the properties
    def check_version(self, rule, version, deadline, results, exhaustive_only=False):
        vname = version.effective.isoformat() if version.effective else None
        excs = version.exceptions
        base_atoms = self.analysis.version(rule, version, requires=True)
        days = self.days(rule, version, base_atoms)

        def add(prop, verdict, method, finding=None):
            results.append(Result(rule.id, vname, prop, verdict, method, finding))

        for i, a in enumerate(excs):
            for b in excs[i + 1:]:
                prop = f"no collision: {a.id} / {b.id}"
                if ast.same(a.value.node, b.value.node):
                    add(prop, "proved", "both give the same value expression")
                    continue
                add(*self._collision(rule, version, a, b, days, deadline, exhaustive_only))
        for ex in excs:
            prop = f"{ex.id} can apply"
            if ast.constant_bool(ex.when.node) is False:
                f = Finding("dead", "PE030", rule.id, ex.when.locate(),
                            f"exception '{ex.id}' of rule '{rule.id}' can never apply: its condition "
                            f"'{_short(ex.when.source)}' is always false", method="its condition is a constant")
                add(prop, "refuted", f.method, f)
                continue
            add(*self._live(rule, version, ex, days, deadline, exhaustive_only))
        points = self.failure_points(version)
        if points:
            add(*self._gap(rule, version, points, base_atoms, days, deadline, exhaustive_only))
        elif excs or isinstance(version.body, SelectBody):
            add("no gap", "proved", "no operation of its own can fail (no division by a value that can be zero, "
                                    "table lookup that can miss, or select without a case)")

    def _collision(self, rule, version, a, b, days, deadline, exhaustive_only):
        prop = f"no collision: {a.id} / {b.id}"
        atoms: dict = {}
        for e in (a.when, a.value, b.when, b.value):
            self.analysis.expr(e, atoms)
        for target in self.analysis.required(rule, version) + self.guards(rule):
            _merge(atoms, self.analysis.rule(target))
        dom = _Domains(self.p, atoms, days)
        doms = dom.build()

        def confirm(day, facts):
            d, err = self.evaluate(rule, facts, day)
            if d is not None and d.status == "conflict" and self.guarded(rule, facts, day):
                applying = {ex.id: v for ex, v in d._conflict.exceptions}
                if a.id in applying and b.id in applying:
                    return d
            return None

        def finding(day, facts, d, method):
            va, vb = (_shown(v) for ex, v in d._conflict.exceptions if ex.id in (a.id, b.id))
            msg = (f"rule '{rule.id}': exceptions '{a.id}' and '{b.id}' can both apply and give different "
                   f"values ({va} and {vb})")
            case = _case(f"check: exceptions {a.id} and {b.id} of {rule.id} both apply", rule.id, day, facts,
                         {"status": "decided"})
            return Finding("collision", "PE032", rule.id, b.location, msg, case,
                           f"the engine says conflict ({a.id} gives {va}, {b.id} gives {vb}); once resolved, "
                           "expect the value the instrument gives", method)

        smt_first = self.smt and not exhaustive_only and self.size(doms, days) > self.max_cases
        tried = ""
        if not smt_first:
            for day, facts in self.cases(doms, days, deadline, exhaustive_only):
                d = confirm(day, facts)
                if d is not None:
                    m = self.enumerated(dom, found=True)
                    return prop, "refuted", m, finding(day, facts, d, m)
            if self.last[0] and dom.exact:
                return prop, "proved", self.enumerated(dom)
            tried = self.enumerated(dom)
        if self.smt and not exhaustive_only and time.perf_counter() < deadline:
            def build(s):
                va, vb = s.term(a.value.node), s.term(b.value.node)
                cs = [s.boolean(a.when.node), s.boolean(b.when.node)]
                try:
                    cs.append(z3.Not(s.eq(va, vb)))
                except _Opaque:
                    pass
                for target in self.analysis.required(rule, version) + self.guards(rule):
                    t = s.rule(target)
                    if z3.is_bool(t):
                        cs.append(t)
                return cs
            out = self._smt(rule, atoms, days, build, lambda day, f: confirm(day, f), deadline)
            if out[0] == "found":
                _, day, facts, d, m = out
                return prop, "refuted", m, finding(day, facts, d, m)
            if out[0] == "unsat":
                return prop, "proved", out[1]
            tried = "; ".join(filter(None, [tried, out[1]]))
        if smt_first:
            for day, facts in self.cases(doms, days, deadline, exhaustive_only):
                d = confirm(day, facts)
                if d is not None:
                    m = self.enumerated(dom, found=True)
                    return prop, "refuted", m, finding(day, facts, d, m)
            tried = "; ".join(filter(None, [tried, self.enumerated(dom)]))
        return prop, "not proven", tried

    def _live(self, rule, version, ex, days, deadline, exhaustive_only):
        prop = f"{ex.id} can apply"
        atoms = self.analysis.expr(ex.when, {})
        dom = _Domains(self.p, atoms, days)
        doms = dom.build()
        blocked: dict = {}  # source gaps that left the condition unknown where all its facts were given
        read = set()
        for n in ast.walk(ex.when.node):
            if isinstance(n, ast.Name) and n.ref and n.ref[0] == "rule":
                read.add(n.ref[1].id)
                read |= {x[1] for x in self.p.graph.dependencies("rule", n.ref[1].id) if x[0] == "rule"}

        def confirm(day, facts):
            d, err = self.evaluate(rule, facts, day, trace="audit")
            if d is not None and d._root is not None:
                for f in _frames(d._root):
                    if f.kind == "exception" and f.obj is ex:
                        if f.outcome:
                            return d
                        if f.outcome is None and f.note and f.note[0] == "missing" and not f.note[1]:
                            for g in d.gaps:
                                if g.get("rule") in read:
                                    blocked.setdefault(g.get("rule"), g)
            return None

        def waits(method):
            names = ", ".join(sorted(str(k) for k in blocked))
            return (prop, "source gap", f"{method}; its condition is never true, and unknown wherever the rest of "
                                        f"it holds, because it reads what the source lost ({names}): it can "
                                        "apply once that text is recovered")

        smt_first = self.smt and not exhaustive_only and self.size(doms, days) > self.max_cases
        tried = ""
        if not smt_first:
            for day, facts in self.cases(doms, days, deadline, exhaustive_only):
                if confirm(day, facts) is not None:
                    return prop, "proved", f"{self.enumerated(dom, found=True)}: applies for as_of {day}, " \
                                           f"facts {_brief(facts)}"
            if self.last[0] and dom.exact:
                m = self.enumerated(dom)
                if blocked:
                    return waits(m)
                return prop, "refuted", m, self._dead(rule, ex, m)
            tried = self.enumerated(dom)
        if self.smt and not exhaustive_only and time.perf_counter() < deadline:
            out = self._smt(rule, atoms, days, lambda s: [s.boolean(ex.when.node)], confirm, deadline)
            if out[0] == "found":
                _, day, facts, d, m = out
                return prop, "proved", f"{m}: applies for as_of {day}, facts {_brief(facts)}"
            if out[0] == "unsat":
                return prop, "refuted", out[1], self._dead(rule, ex, out[1])
            tried = "; ".join(filter(None, [tried, out[1]]))
        if smt_first and not blocked:
            for day, facts in self.cases(doms, days, deadline, exhaustive_only):
                if confirm(day, facts) is not None:
                    return prop, "proved", f"{self.enumerated(dom, found=True)}: applies for as_of {day}, " \
                                           f"facts {_brief(facts)}"
            tried = "; ".join(filter(None, [tried, self.enumerated(dom)]))
        if blocked:
            return waits(tried)
        return prop, "not proven", tried

    def _dead(self, rule, ex, method):
        return Finding("dead", "PE030", rule.id, ex.when.locate(),
                       f"exception '{ex.id}' of rule '{rule.id}' can never apply: no input makes its condition "
                       f"'{_short(ex.when.source)}' true", method=method)

    def _gap(self, rule, version, points, base_atoms, days, deadline, exhaustive_only):
        prop = "no gap"
        first: dict = {}
        guards = self.guards(rule)
        for target in guards:
            _merge(first, self.analysis.rule(target))
        for kind, expr, node in points:
            if kind == "select":
                self.analysis.expr(expr, first, "by", version.body)
            else:
                _merge(first, self.analysis.node(node))
        runs = [(_Domains(self.p, first, days), "the operands that can fail, other facts not given")]
        full = dict(base_atoms)
        for target in guards:
            _merge(full, self.analysis.rule(target))
        runs.append((_Domains(self.p, full, days), "every fact the rule reads"))
        method = ""
        for dom, what in runs:
            doms = dom.build()
            for day, facts in self.cases(doms, days, deadline, exhaustive_only):
                d, err = self.evaluate(rule, facts, day)
                if isinstance(err, (EvaluationError, NotInForceError)) and self.guarded(rule, facts, day):
                    m = f"{self.enumerated(dom, found=True)} ({what})"
                    where = _error_location(err, points)
                    msg = f"rule '{rule.id}': an input has no answer: {err}"
                    case = _case(f"check: {rule.id} has no answer for this case", rule.id, day, facts,
                                 {"status": "decided"})
                    return prop, "refuted", m, Finding(
                        "gap", "PE033", rule.id, where, msg, case,
                        f"the engine raises: {err}; once fixed, expect the value the instrument gives", m)
            method = f"{self.enumerated(dom)} ({what})"
            last_exact = self.last[0] and dom.exact
        if last_exact:
            return prop, "proved", method
        if self.smt and not exhaustive_only and time.perf_counter() < deadline:
            atoms = full

            def confirm(day, facts):
                d, err = self.evaluate(rule, facts, day)
                ok = isinstance(err, (EvaluationError, NotInForceError)) and self.guarded(rule, facts, day)
                return err if ok else None

            proved = []
            for point in points:
                out = self._smt(rule, atoms, days, lambda s, pt=point: self._reaches(s, rule, version, pt),
                                confirm, deadline)
                if out[0] == "found":
                    _, day, facts, err, m = out
                    msg = f"rule '{rule.id}': an input has no answer: {err}"
                    case = _case(f"check: {rule.id} has no answer for this case", rule.id, day, facts,
                                 {"status": "decided"})
                    return prop, "refuted", m, Finding(
                        "gap", "PE033", rule.id, _error_location(err, points), msg, case,
                        f"the engine raises: {err}; once fixed, expect the value the instrument gives", m)
                if out[0] != "unsat":
                    return prop, "not proven", f"{method}; {out[1]}"
                proved.append(point[0])
            return prop, "proved", (f"SMT: no input reaches a failing operation ({', '.join(proved)}) with its "
                                    f"requirements met and its guards true; {method}")
        return prop, "not proven", method

    def _reaches(self, s, rule, version, point) -> list:
        """The conditions under which a failing operation fails where the engine would raise it:
        its own failure (a zero divisor, a key with no row, a value with no case), the
        requirements met (else the case is refused first), the `if` branches leading to it,
        and, inside an exception's value, that exception applying."""
        kind, expr, node = point
        if kind == "division":
            d = s.term(node.right)
            cs = [d == 0]
        elif kind == "lookup":
            table = node.ref
            tv = table.version_at(s.day)
            if tv is None:
                return [z3.BoolVal(True)]
            keys = [s.term(k) for k in node.keys]
            rows = []
            for key in tv.cells:
                try:
                    rows.append(z3.And([s.eq(k, s.value(v, k)) for k, v in zip(keys, key)]))
                except _Opaque:
                    rows.append(z3.FreshBool("opaque"))
            cs = [z3.Not(z3.Or(rows))] if rows else []
        else:  # select
            on = s.term(node)
            keys = []
            for key in version.body.cases:
                try:
                    keys.append(s.eq(on, s.value(key, on)))
                except _Opaque:
                    keys.append(z3.FreshBool("opaque"))
            cs = [z3.Not(z3.Or(keys))] if keys else []
        for cond, branch in _guards(expr.node, node) or []:
            c = s.boolean(cond)
            cs.append(c if branch else z3.Not(c))
        for ex in version.exceptions:
            if expr is ex.value:
                cs.append(s.boolean(ex.when.node))
        if isinstance(version.body, SelectBody):
            for key, e in version.body.cases.items():
                if e is expr:
                    on = s.term(version.body.on.node)
                    try:
                        cs.append(s.eq(on, s.value(key, on)))
                    except _Opaque:
                        pass
        for target in self.analysis.required(rule, version) + self.guards(rule):
            t = s.rule(target)
            if z3.is_bool(t):
                cs.append(t)
        return cs

    def _smt(self, rule, atoms, days, build, confirm, deadline, tries: int = 8):
        """("found", day, facts, decision, method) | ("unsat", method) | ("open", why)."""
        slots = {k[1]: max(1, a.uses) for k, a in atoms.items() if k[0] == "fact"}
        capped = False
        for day in days:
            left = deadline - time.perf_counter()
            if left <= 0:
                return ("open", "SMT: time budget ran out")
            s = _Smt(self.p, day, slots)
            solver = z3.Solver()
            solver.set("timeout", max(1, int(left * 1000)))
            try:
                constraints = build(s)
            except (_Opaque, z3.Z3Exception):
                return ("open", "SMT: the conditions could not be translated")
            solver.add(*constraints)
            solver.add(*s.side)
            capped |= s.capped
            for attempt in range(tries):
                r = solver.check()
                if r == z3.unsat:
                    break
                if r != z3.sat:
                    return ("open", "SMT: the solver gave no answer within the budget")
                model = solver.model()
                facts = s.case(model)
                d = confirm(day, facts)
                if d is not None:
                    return ("found", day, facts, d, "SMT model confirmed by the engine")
                solver.add(s.block(model))
                if time.perf_counter() > deadline:
                    return ("open", "SMT: time budget ran out")
            else:
                return ("open", f"SMT: {tries} models on {day} were not confirmed by the engine "
                                "(parts the translation leaves open)")
        bound = f", lists of up to {MAX_LIST_SLOTS} items" if capped else ""
        return ("unsat", f"SMT: unsatisfiable on each of {len(days)} as_of day(s){bound}")


def _guards(root, target, path=()):
    """(condition, branch) of each `if` on the way from root down to target."""
    if root is target:
        return list(path)
    if isinstance(root, ast.If):
        for child, extra in ((root.condition, ()), (root.then, ((root.condition, True),)),
                             (root.otherwise, ((root.condition, False),))):
            found = _guards(child, target, path + extra)
            if found is not None:
                return found
        return None
    for child in ast.children(root):
        found = _guards(child, target, path)
        if found is not None:
            return found
    return None


def _copy(v):
    if isinstance(v, list):
        return [dict(x) if isinstance(x, dict) else x for x in v]
    return v


def _error_location(err, points):
    """The failing expression the error cites, else the first that can fail."""
    text = str(err)
    for _, expr, node in points:
        loc = expr.locate(node)
        if text.startswith(str(loc)):
            return loc
    return points[0][1].locate(points[0][2]) if points else None


def _case(name, decision, day, facts, expect) -> dict:
    return {"name": name, "decision": decision, "as_of": day, "facts": facts, "expect": expect}


def _shown(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    return json.dumps(_json_value(v), ensure_ascii=False)


def _brief(facts: dict, n: int = 160) -> str:
    s = json.dumps(_json_value(facts), ensure_ascii=False)
    return s if len(s) <= n else s[: n - 3] + "..."


def _short(source: str, n: int = 60) -> str:
    s = " ".join(source.split())
    return s if len(s) <= n else s[: n - 3] + "..."


# -- entry points ----------------------------------------------------------------------------------
def check(policies, decisions=None, budget: float = DEFAULT_BUDGET, max_cases: int = DEFAULT_MAX_CASES,
          smt: bool = True) -> Report:
    """Check every rule version with exceptions, a select or an operation that can fail (or
    only those that `decisions` read); each rule shares one time budget across its properties."""
    start = time.perf_counter()
    c = _Checker(policies, budget, max_cases, smt)
    report = Report(smt=z3.get_version_string() if c.smt else None)
    targets = c.targets(decisions)
    report.rules = len(targets)
    for rule in targets:
        deadline = time.perf_counter() + budget
        for version in rule.versions:
            c.check_version(rule, version, deadline, report.results)
    ignored = Ignores()
    for r in report.results:
        if r.finding is not None and ignored(r.finding):
            r.ignored = True
            report.ignored += 1
    report.seconds = time.perf_counter() - start
    return report


def fast_findings(policies, budget: float = 0.1, max_cases: int = 500) -> list[LintFinding]:
    """The subset lint runs: small domains enumerated exhaustively, no sampling, no SMT, a tight
    budget per rule.  Only what is certain is reported: a collision or a gap with the case that
    shows it, and an exception proved dead over exact domains (lint itself reports the ones
    whose condition is a constant, PE030)."""
    c = _Checker(policies, budget, max_cases, smt=False, sample=False)
    results: list[Result] = []
    for rule in c.targets():
        deadline = time.perf_counter() + budget
        for version in rule.versions:
            c.check_version(rule, version, deadline, results, exhaustive_only=True)
    out = []
    for r in results:
        f = r.finding
        if f is None or f.method == "its condition is a constant":
            continue
        message = f.message
        if f.case is not None:
            message += f" (as_of {f.case['as_of']}, facts {_brief(f.case['facts'], 200)}; `policyengine check` " \
                       "prints it as a test case)"
        out.append(LintFinding(f.location, f.code, message))
    return out


# -- command line ------------------------------------------------------------------------------------
def add_parser(subparsers, default_policies: str = "policies") -> None:
    c = subparsers.add_parser(
        "check", help="prove or refute: exceptions that collide, inputs with no answer, exceptions that never apply",
        description="For each rule with exceptions, each select and each rule with an operation that can fail, "
                    "prove or refute over the declared fact domains that no two exceptions can both apply with "
                    "different values (PE032), that every input reaches an answer (PE033), and that every "
                    "exception can apply (PE030): by exhaustive enumeration with the engine where the domains "
                    "are small, and with an SMT solver (z3-solver, optional) where they are not, within a time "
                    "budget per rule. Each counterexample is printed as a YAML test case. Exits 1 when "
                    "anything is found.")
    c.add_argument("decisions", nargs="*", metavar="DECISION",
                   help="decisions or rule ids to check, with the rules they read (default: every rule)")
    c.add_argument("--policies", default=default_policies, metavar="DIR", help="policy folder (default: %(default)s)")
    c.add_argument("--budget", type=float, default=DEFAULT_BUDGET, metavar="SECONDS",
                   help="time budget per rule (default: %(default)s)")
    c.add_argument("--max-cases", type=int, default=DEFAULT_MAX_CASES, metavar="N",
                   help="enumerate exhaustively up to N cases per property, else sample or use SMT "
                        "(default: %(default)s)")
    c.add_argument("--no-smt", action="store_true", help="do not use the SMT solver even when it is installed")
    c.add_argument("--proofs", action="store_true", help="also list every property with its verdict and method")
    c.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: %(default)s)")
    c.set_defaults(func=run)


def run(args) -> int:
    import sys

    from ..errors import PolicyError
    from ..policies import load
    try:
        policies = load(args.policies)
    except PolicyError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return 1
    try:
        report = check(policies, args.decisions or None, budget=args.budget, max_cases=args.max_cases,
                       smt=not args.no_smt)
    except InputError as exc:  # an unknown decision
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return 2
    if args.format == "json":
        print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2))
    else:
        print(report.text(proofs=args.proofs))
    return 1 if report.findings else 0
