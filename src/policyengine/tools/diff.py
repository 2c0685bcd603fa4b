"""`policyengine diff`: what changed between two dates or two versions of the policies,
clause by clause and cell by cell, and — with a population — whom it affects and by how much.

Both sides are loaded into the one model, so the comparison reads citations, versions and
table cells rather than YAML text, and expressions by structure: respacing or re-bracketing
one is not a change.
"""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..runtime.facts import as_date
from ..errors import InputError, PolicyEngineError, did_you_mean
from ..expr import ast
from ..model import walk
from ..policies import load
from ..values import plain


@dataclass
class Change:
    kind: str  # instrument | rule | table | cell
    id: str
    citation: str
    what: str  # added | removed | changed | in force | no longer in force
    detail: dict = field(default_factory=dict)

    def line(self) -> str:
        extra = ""
        if self.kind == "cell":
            extra = f" {self.detail['key']}: {self.detail['old']} -> {self.detail['new']}"
        elif self.detail.get("fields"):
            extra = " (" + ", ".join(self.detail["fields"]) + ")"
        return f"{self.what:20} {self.kind:10} {self.id} [{self.citation}]{extra}"


# -- loading either side ------------------------------------------------------------------
def load_side(spec: str, default_dir: str, tmp: list):
    """A policy folder, or a git revision of the repository that holds the default folder."""
    path = Path(spec)
    if path.is_dir():
        return load(path), str(path)
    root = Path(default_dir).resolve()
    try:
        top = subprocess.run(["git", "-C", str(root), "rev-parse", "--show-toplevel"], capture_output=True,
                             text=True, check=True).stdout.strip()
        rel = root.relative_to(top).as_posix()
        data = subprocess.run(["git", "-C", top, "archive", "--format=tar", spec, "--", rel], capture_output=True,
                              check=True).stdout
    except (subprocess.CalledProcessError, FileNotFoundError, ValueError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        detail = detail.decode(errors="replace").strip() if isinstance(detail, bytes) else str(detail).strip()
        raise InputError([f"'{spec}' is neither a policy folder nor a git revision of {root}"
                          + (f" ({detail})" if detail else "")]) from None
    work = tempfile.TemporaryDirectory(prefix="policyengine-diff-")
    tmp.append(work)
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(work.name, filter="data")
    return load(Path(work.name) / rel), f"{spec}:{rel}"


# -- structural comparison -------------------------------------------------------------------
def _shape(e):
    """An expression's meaning, not its spelling: reformatting it is not a change (see ast.shape)."""
    return ast.shape(e.node) if e is not None else None


class _BodySig(walk.BodyVisitor):
    """Per variant, what a body computes, under the key `Change.detail["fields"]` names."""

    def visit_value(self, b):
        return {"value": _shape(b.expr)}

    def visit_conditions(self, b):
        return {"conditions": (b.kind, [_shape(c.expr) if c.expr else c.rule.id for c in b.items])}

    def visit_record(self, b):
        return {"record": {k: _shape(e) for k, e in b.fields.items()}}

    def visit_select(self, b):
        return {"select": {"on": _shape(b.on), "cases": {k: _shape(e) for k, e in b.cases.items()},
                           "default": _shape(b.default)}}

    def visit_gap(self, b):
        return {"gap": b.gap}


def _rule_sig(rule, version) -> dict:
    if version is None:
        return {}
    return {"text": version.text or rule.text, "citation": rule.citation, **_BodySig().visit(version.body),
            "exceptions": [(ex.id, _shape(ex.when), _shape(ex.value)) for ex in version.exceptions],
            "requires": [n for n, _ in version.requires], "effective": version.effective}


def compare(old, new, old_day=None, new_day=None) -> list[Change]:
    """Changes from `old` (as of old_day) to `new` (as of new_day); days None compare every version."""
    out: list[Change] = []
    for iid in sorted(set(old.instruments) | set(new.instruments)):
        a, b = old.instruments.get(iid), new.instruments.get(iid)
        if a is None or b is None:
            out.append(Change("instrument", iid, "", "added" if a is None else "removed"))
            continue
        if old_day and new_day and a.in_force(old_day) != b.in_force(new_day):
            out.append(Change("instrument", iid, b.force_text(), "in force" if b.in_force(new_day) else "no longer in force"))
        elif (a.start, a.end) != (b.start, b.end):
            out.append(Change("instrument", iid, b.force_text(), "changed", {"fields": ["in force dates"]}))
    for rid in sorted(set(old.rules) | set(new.rules)):
        a, b = old.rules.get(rid), new.rules.get(rid)
        if a is None or b is None:
            r = a or b
            out.append(Change("rule", rid, r.citation, "added" if a is None else "removed"))
            continue
        if old_day and new_day:
            sa, sb = _rule_sig(a, a.version_at(old_day)), _rule_sig(b, b.version_at(new_day))
        else:
            sa = [_rule_sig(a, v) for v in a.versions]
            sb = [_rule_sig(b, v) for v in b.versions]
        if sa != sb:
            fields = sorted({k for x, y in _pairs(sa, sb) for k in set(x) | set(y) if x.get(k) != y.get(k)})
            out.append(Change("rule", rid, b.citation, "changed", {"fields": fields}))
    for tid in sorted(set(old.tables) | set(new.tables)):
        a, b = old.tables.get(tid), new.tables.get(tid)
        if a is None or b is None:
            t = a or b
            out.append(Change("table", tid, t.citation, "added" if a is None else "removed"))
            continue
        if old_day and new_day:
            pairs = [(a.version_at(old_day), b.version_at(new_day))]
        else:
            va, vb = {v.effective: v for v in a.versions}, {v.effective: v for v in b.versions}
            pairs = [(va.get(e), vb.get(e)) for e in sorted(set(va) | set(vb), key=lambda d: (d is None, d))]
        for x, y in pairs:
            if x is None or y is None:
                v = x or y
                out.append(Change("table", tid, b.citation, "version added" if x is None else "version removed",
                                  {"effective": plain(v.effective)}))
                continue
            for key in sorted(set(x.cells) | set(y.cells), key=str):
                if x.cells.get(key) != y.cells.get(key):
                    shown = ", ".join(f"{k.name}={v}" for k, v in zip(b.keys, key))
                    out.append(Change("cell", tid, b.citation, "changed",
                                      {"key": shown, "old": plain(x.cells.get(key)), "new": plain(y.cells.get(key)),
                                       "old_effective": plain(x.effective), "new_effective": plain(y.effective)}))
    return out


def _pairs(a, b):
    if isinstance(a, dict):
        return [(a, b)]
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else {}, b[i] if i < len(b) else {}) for i in range(n)]


# -- population -------------------------------------------------------------------------------
def read_population(path: Path) -> list[dict]:
    """The rows of a CSV file (header row) or JSON lines, one case a row."""
    return [row for _, row in read_population_lines(path)]


def read_population_lines(path: Path) -> list[tuple[int, dict]]:
    """(line, row) pairs of a CSV file (header row) or JSON lines: InputError names the file and,
    for text that is not UTF-8 or a line that is not JSON, the line and column."""
    from ..gc.report import read_text
    path = Path(path)
    text = read_text(path, "--population ")
    if path.suffix.lower() == ".csv":
        rows = []
        reader = csv.DictReader(text.splitlines())
        for row in reader:
            rows.append((reader.line_num, {k.strip(): _cell(v) for k, v in row.items() if k and v not in (None, "")}))
        return rows
    out = []
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            out.append((n, json.loads(line, parse_float=Decimal)))
        except json.JSONDecodeError as exc:
            raise InputError([f"--population {path}:{n}:{exc.colno}: not JSON lines: {exc.msg}"]) from None
    return out


def _cell(v: str):
    v = v.strip()
    try:
        return json.loads(v, parse_float=Decimal)
    except json.JSONDecodeError:
        return v


def check_decisions(old, new, decisions) -> None:
    """InputError naming each --decision neither side has, with "did you mean"."""
    known = sorted(set(old.decisions) | set(new.decisions))
    unknown = [d for d in decisions if d not in old.rules and d not in new.rules]
    if unknown:
        raise InputError([f"--decision: unknown decision '{d}'{did_you_mean(d, known)}" for d in unknown])


def affected(old, new, rows, decisions, old_day, new_day, bad: list | None = None) -> list[dict]:
    """For each row and decision: the outcome before and after, and the money difference.

    Rows are dicts, or (line, dict) pairs.  A row that cannot be decided on either side (its facts
    or date are wrong, or it is not a record) is no change: when `bad` is given, each such row is
    appended to it as {"row", "line", "decision", "errors"}.  Each side decides the whole
    population at once, through the batch backend (batch/engine.py)."""
    cases = []  # (row number, line, subject, facts, day before, day after)
    for n, item in enumerate(rows, 1):
        line, row = item if isinstance(item, tuple) else (None, item)
        if not isinstance(row, dict):
            if bad is not None:
                bad.append({"row": n, "line": line, "decision": None, "errors": ["a row must be a record of facts"]})
            continue
        facts = {k: v for k, v in row.items() if k not in ("as_of", "subject_id")}
        try:
            day_a = as_date(row["as_of"]) if "as_of" in row and old_day is None else as_date(old_day)
            day_b = as_date(row["as_of"]) if "as_of" in row and new_day is None else as_date(new_day)
        except InputError as exc:
            if bad is not None:
                bad.append({"row": n, "line": line, "decision": None, "errors": list(exc.problems)})
            continue
        cases.append((n, line, row.get("subject_id"), facts, day_a, day_b))
    out = []
    for did in decisions:
        wanted = set(new.facts_of(did)) if did in new.rules else set()
        own = [{k: v for k, v in c[3].items() if k in wanted} for c in cases]
        before = _decide_all(old, did, own, [c[4] for c in cases])
        after = _decide_all(new, did, own, [c[5] for c in cases])
        for (n, line, subject, _, _, _), a, b in zip(cases, before, after):
            if a.get("status") == b.get("status") == "bad":
                if bad is not None:
                    bad.append({"row": n, "line": line, "decision": did, "errors": b["errors"]})
                continue
            for side in (a, b):  # wrong on one side only: a change, shown as an error there
                side.pop("errors", None)
                if side["status"] == "bad":
                    side["status"] = "error"
            if a != b:
                change = {"row": n, "subject": subject, "decision": did, "before": a, "after": b}
                delta = _delta(a.get("value"), b.get("value"))
                if delta is not None:
                    change["difference"] = delta
                out.append(change)
    out.sort(key=lambda c: c["row"])  # row by row, each row's decisions in the order asked
    return out


_DAY = "\0as_of"  # the column of each case's date: no fact can be named so


def _decide_all(policies, did, facts: list, days: list) -> list[dict]:
    """Each case's outcome on one side, as {"status", "value"} or {"status", "error"(, "errors")}."""
    if did not in policies.rules:  # the decision is unknown on this side: an error on every row
        try:
            policies.rule(did)
        except InputError as exc:
            return [{"status": "error", "error": str(exc).splitlines()[0]} for _ in facts]
    if not facts:
        return []
    table = policies.evaluate_batch(did, [dict(f, **{_DAY: d}) for f, d in zip(facts, days)], as_of_column=_DAY)
    cols = table.to_pydict()
    fields = [c for c in cols if c.startswith("value.")]
    out = []
    for i, status in enumerate(cols["status"]):
        if status == "error":
            errors = cols["errors"][i]
            problems = [e["problem"] for e in errors]
            if any(e["fact"] is not None for e in errors):  # the row's facts are wrong
                out.append({"status": "bad", "error": problems[0], "errors": problems})
            else:
                out.append({"status": "error", "error": problems[0].splitlines()[0]})
            continue
        if status == "decided":
            value = {f[len("value."):]: cols[f][i] for f in fields} if fields else cols["value"][i]
        else:
            value = None
        out.append({"status": status, "value": plain(value)})
    return out


def _delta(a, b):
    def num(x):
        try:
            return Decimal(str(x))
        except Exception:
            return None
    if isinstance(a, dict) and isinstance(b, dict):
        out = {k: plain(num(b[k]) - num(a[k])) for k in a if k in b and num(a[k]) is not None
               and num(b[k]) is not None and not isinstance(a[k], bool) and a[k] != b[k]}
        return out or None
    if isinstance(a, bool) or isinstance(b, bool):
        return None
    x, y = num(a), num(b)
    return plain(y - x) if x is not None and y is not None else None


# -- command ---------------------------------------------------------------------------------------
def add_parser(subparsers) -> None:
    d = subparsers.add_parser(
        "diff", help="what changed between two dates, folders or git revisions (and whom it affects)",
        description="Compare the policies in force on two dates (--from/--to), or two policy folders or git "
                    "revisions (--old/--new), by citation: instruments, clauses and table cells. With --population "
                    "(CSV or JSON lines of facts, optionally with as_of and subject_id columns) and --decision, "
                    "list the rows whose decision changes, and by how much for money.")
    d.add_argument("--from", dest="from_date", metavar="DATE", help="earlier date")
    d.add_argument("--to", dest="to_date", metavar="DATE", help="later date")
    d.add_argument("--old", metavar="DIR|REV", help="the earlier policies: a folder or a git revision")
    d.add_argument("--new", metavar="DIR|REV", help="the later policies (default: --policies)")
    d.add_argument("--population", metavar="FILE", help="CSV or JSON lines of facts, one case a row")
    d.add_argument("--decision", action="append", default=[], metavar="ID", help="decision to re-run (repeatable)")
    d.add_argument("--as-of", metavar="DATE", help="date of the cases when comparing versions (else each row's as_of)")
    d.add_argument("--format", choices=("text", "json"), default="text")


def run(args) -> int:
    if not (args.from_date and args.to_date) and not args.old:
        raise InputError(["give --from DATE --to DATE, or --old DIR|REV (and optionally --new DIR|REV)"])
    tmp: list = []
    folder = getattr(args, "policies", None) or "policies"  # --policies DIR (or DIR), added by the command line
    new, new_name = load_side(args.new or folder, folder, tmp)
    old, old_name = load_side(args.old, folder, tmp) if args.old else (new, new_name)
    old_day = as_date(args.from_date) if args.from_date else (as_date(args.as_of) if args.as_of else None)
    new_day = as_date(args.to_date) if args.to_date else old_day
    changes = compare(old, new, old_day if args.from_date else None, new_day if args.to_date else None)
    people, bad = [], []
    if args.population:
        if not args.decision:
            raise InputError(["--population needs --decision ID (one or more)"])
        check_decisions(old, new, args.decision)
        rows = read_population_lines(Path(args.population))
        people = affected(old, new, rows, args.decision, old_day, new_day, bad)
    if args.format == "json":
        print(json.dumps({"old": old_name, "new": new_name, "from": plain(old_day), "to": plain(new_day),
                          "changes": [c.__dict__ for c in changes], "affected": people, "bad_rows": bad},
                         ensure_ascii=False, indent=2, default=str))
    else:
        when = f" from {old_day} to {new_day}" if args.from_date else ""
        print(f"{old_name} -> {new_name}{when}: {len(changes)} change(s)")
        for c in changes:
            print("  " + c.line())
        if args.population:
            print(f"{len(people)} decision(s) change for the population:")
            for p in people:
                who = f"row {p['row']}" + (f" ({p['subject']})" if p.get("subject") else "")
                diff = f", difference {p['difference']}" if "difference" in p else ""
                print(f"  {who} {p['decision']}: {json.dumps(p['before'])} -> {json.dumps(p['after'])}{diff}")
            for b in bad:  # on stderr, as `error:` lines, like every other input problem
                where = f"row {b['row']}" + (f" (line {b['line']})" if b.get("line") else "")
                for e in b["errors"]:
                    print(f"error: --population {args.population}: {where}"
                          + (f", {b['decision']}" if b.get("decision") else "") + f": {e}", file=sys.stderr)
    if bad:
        print(f"error: {len(bad)} row(s) of --population {args.population} could not be decided: "
              "their decisions are not compared", file=sys.stderr)
        return 2
    return 0
