"""`policyengine test`: run the YAML test cases and report clause coverage.

Coverage is counted on what auditors cite, not on lines: for each instrument, which
clauses (rules, tables) were exercised, which exceptions applied, which outcome (true and
false) of each condition was seen, and which table cells were read — with the uncovered
ones listed by citation.  It reads the same audit traces a decision carries.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field

from . import testing
from ..errors import PolicyError
from ..runtime.tracer import Frame
from ..expr import ast
from ..model import walk
from ..model.elements import Expr, GapBody, Rule


@dataclass
class Seen:
    clauses: set = field(default_factory=set)  # rule and table ids
    exceptions: set = field(default_factory=set)  # exception ids that applied
    outcomes: dict = field(default_factory=dict)  # condition key -> {True, False}
    cells: set = field(default_factory=set)  # (table id, version effective, key tuple)

    def observe(self, decision) -> None:
        if decision._root is not None:
            self._walk(decision._root)

    def _walk(self, frame: Frame) -> None:
        for f in frame.children:
            obj = f.obj
            if f.kind in ("rule", "ref"):
                self.clauses.add(obj.id)
            elif f.kind == "table":
                self.clauses.add(obj.id)
                self.cells.add((obj.id, f.version.effective, tuple(f.reads[k.name] for k in obj.keys)))
            elif f.kind == "exception" and f.outcome:
                self.exceptions.add(obj.id)
            if f.kind in ("rule", "condition") and f.outcome is not None:
                key = obj.id if isinstance(obj, Rule) else _expr_key(obj)
                self.outcomes.setdefault(key, set()).add(bool(f.outcome))
            self._walk(f)


def _expr_key(expr: Expr) -> str:
    return f"{expr.locate()} {expr.source}"


@dataclass
class InstrumentCoverage:
    instrument: str
    clauses: list  # (id, citation, covered)
    exceptions: list  # (id, citation, applied)
    conditions: list  # (key, citation, outcomes seen)
    cells: tuple  # (hit, total, [uncovered (table, effective, key)])
    blocked: list = field(default_factory=list)  # exceptions whose condition needs a gap: (id, citation)

    def pct(self, part, whole) -> float:
        return 100.0 if whole == 0 else round(100.0 * part / whole, 1)

    @property
    def clause_pct(self) -> float:
        items = self.clauses + self.exceptions
        return self.pct(sum(c for *_, c in items), len(items))

    @property
    def outcome_pct(self) -> float:
        return self.pct(sum(len(o) for *_, o in self.conditions), 2 * len(self.conditions))

    def to_dict(self) -> dict:
        hit, total, missing = self.cells
        return {"instrument": self.instrument,
                "clauses": {"covered": sum(c for *_, c in self.clauses), "total": len(self.clauses),
                            "uncovered": [{"id": i, "citation": c} for i, c, ok in self.clauses if not ok]},
                "exceptions": {"applied": sum(a for *_, a in self.exceptions), "total": len(self.exceptions),
                               "never_applied": [{"id": i, "citation": c} for i, c, ok in self.exceptions if not ok],
                               "blocked_by_gaps": [{"id": i, "citation": c} for i, c in self.blocked]},
                "clause_coverage_pct": self.clause_pct,
                "condition_outcomes": {"seen": sum(len(o) for *_, o in self.conditions), "total": 2 * len(self.conditions),
                                       "pct": self.outcome_pct,
                                       "incomplete": [{"condition": k, "citation": c, "seen": sorted(o)}
                                                      for k, c, o in self.conditions if len(o) < 2]},
                "table_cells": {"read": hit, "total": total,
                                "unread": [{"table": t, "effective": str(e), "key": list(k)} for t, e, k in missing]}}


def report(policies, seen: Seen) -> list[InstrumentCoverage]:
    out = []
    for iid in sorted(policies.instruments):
        rules = [r for r in policies.rules.values() if r.instrument == iid]
        tables = [t for t in policies.tables.values() if t.instrument == iid]
        if not rules and not tables:
            continue
        clauses = [(r.id, r.citation, r.id in seen.clauses) for r in rules]
        clauses += [(t.id, t.citation, t.id in seen.clauses) for t in tables]
        exceptions, blocked = [], []
        for r in rules:
            for v in r.versions:
                for ex in v.exceptions:
                    if ex.id not in seen.exceptions and _needs_gap(policies, ex.when):
                        blocked.append((ex.id, ex.citation))  # cannot apply until the source's gap is filled
                    else:
                        exceptions.append((ex.id, ex.citation, ex.id in seen.exceptions))
        conditions = []
        for r in rules:
            if r.type is not None and r.type.kind == "boolean":
                conditions.append((r.id, r.citation, seen.outcomes.get(r.id, set())))
            for v in r.versions:
                for role, e in walk.body_expressions(v.body):
                    if role == "condition":
                        key = _expr_key(e)
                        conditions.append((key, r.citation, seen.outcomes.get(key, set())))
        all_cells = [(t.id, v.effective, key) for t in tables for v in t.versions for key in v.cells]
        unread = [c for c in all_cells if c not in seen.cells]
        out.append(InstrumentCoverage(iid, clauses, exceptions, conditions,
                                      (len(all_cells) - len(unread), len(all_cells), unread), blocked))
    return out


def _needs_gap(policies, expr, seen=None) -> bool:
    """Whether an expression can only be decided through a rule whose text the source lost."""
    seen = set() if seen is None else seen
    return any(_rule_needs_gap(policies, n.ref[1], seen) for n in ast.walk(expr.node)
               if isinstance(n, ast.Name) and n.ref and n.ref[0] == "rule")


def _rule_needs_gap(policies, rule, seen) -> bool:
    if rule.id in seen:
        return False
    seen.add(rule.id)
    for v in rule.versions:
        if isinstance(v.body, GapBody):
            return True
        if any(_needs_gap(policies, e, seen) for _, e in walk.body_expressions(v.body)):
            return True
        if any(_rule_needs_gap(policies, sub, seen) for sub in walk.sub_rules(v.body)):
            return True
    return False


LIST_AT_MOST = 10  # uncovered clauses listed per instrument without --show-uncovered; beyond, a count


def add_parser(subparsers) -> None:
    t = subparsers.add_parser(
        "test", help="run the YAML test cases and report clause coverage",
        description="Run the YAML decision tests (the ones pytest collects) and report, for each instrument, "
                    "which clauses and exceptions were exercised, which outcomes (true/false) of each condition "
                    "were seen, and which table cells were read. Uncovered clauses are listed by citation when "
                    f"there are at most {LIST_AT_MOST}, else counted; --show-uncovered lists every uncovered item. "
                    "Exits 1 when a case fails or clause coverage is below --min-coverage.")
    t.add_argument("paths", nargs="*", metavar="PATH",
                   help="test files, or folders whose tests/ folders hold them (default: the policy folder)")
    t.add_argument("--min-coverage", type=float, default=0.0, metavar="N",
                   help="fail when an instrument's clause coverage is below N %%")
    t.add_argument("--format", choices=("text", "json"), default="text")
    t.add_argument("--show-uncovered", action="store_true",
                   help="list every uncovered item in text output: clauses, exceptions, condition outcomes, cells")


def run(args) -> int:
    policies_dir = getattr(args, "policies", None)
    paths = args.paths or [policies_dir or "policies"]
    files = testing.test_files(paths)
    if not files:
        print(f"no YAML test files under {', '.join(paths)}", file=sys.stderr)
        return 1
    seen = Seen()
    failures, passed, roots = [], 0, {}
    for f in files:
        for case in testing.load_cases(f, policies=policies_dir if args.paths else None):
            roots[str(case.policies_dir)] = case.policies_dir
            diffs = testing.run_case(case, seen.observe)
            if diffs:
                failures.append((case, diffs))
            else:
                passed += 1
    reports = []
    for root in roots.values():
        reports.extend(report(testing.policies(root), seen))
    low = [r for r in reports if r.clause_pct < args.min_coverage]
    if args.format == "json":
        print(json.dumps({"passed": passed, "failed": len(failures),
                          "failures": [{"name": c.name, "file": c.file, "line": c.line, "differences": d}
                                       for c, d in failures],
                          "coverage": [r.to_dict() for r in reports], "min_coverage": args.min_coverage},
                         ensure_ascii=False, indent=2))
    else:
        for case, diffs in failures:
            print(f"FAIL {case.file}:{case.line}: {case.name} ({case.decision} as of {case.as_of})")
            for d in diffs:
                print("  " + d.replace("\n", "\n  "))
        print("Clause coverage:")
        for r in reports:
            d = r.to_dict()
            cl, ex, co, ce = d["clauses"], d["exceptions"], d["condition_outcomes"], d["table_cells"]
            print(f"  {r.instrument}: clauses {cl['covered']}/{cl['total']}, exceptions applied "
                  f"{ex['applied']}/{ex['total']} ({r.clause_pct} %); condition outcomes {co['seen']}/{co['total']} "
                  f"({co['pct']} %); table cells {ce['read']}/{ce['total']}"
                  + (f"; {len(r.blocked)} exception(s) cannot apply until a gap in the source is filled"
                     if r.blocked else ""))
            unlisted = len(cl["uncovered"]) + len(ex["never_applied"])
            if args.show_uncovered or 0 < unlisted <= LIST_AT_MOST:
                for u in cl["uncovered"]:
                    print(f"    not exercised: {u['id']} [{u['citation']}]")
                for u in ex["never_applied"]:
                    print(f"    exception never applied: {u['id']} [{u['citation']}]")
            elif unlisted:
                print(f"    {len(cl['uncovered'])} clause(s) not exercised, {len(ex['never_applied'])} exception(s) "
                      f"never applied: list them with --show-uncovered")
            if args.show_uncovered:
                for u in ex["blocked_by_gaps"]:
                    print(f"    blocked by a gap in the source: {u['id']} [{u['citation']}]")
            if args.show_uncovered:
                for u in co["incomplete"]:
                    never = "false" if u["seen"] == [True] else "true" if u["seen"] == [False] else "true or false"
                    print(f"    never {never}: {u['condition']} [{u['citation']}]")
                for u in ce["unread"]:
                    print(f"    cell never read: {u['table']} {u['effective']} {u['key']}")
        for r in low:
            print(f"{r.instrument}: clause coverage {r.clause_pct} % is below --min-coverage {args.min_coverage} %")
        print(f"{passed} passed, {len(failures)} failed")
    return 1 if failures or low else 0


__all__ = ["add_parser", "run", "report", "Seen", "PolicyError"]
