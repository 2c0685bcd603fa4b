"""Policy lint: checks that go beyond validity, each reported with a stable code.

`policyengine.load()` rejects what cannot run (schema, names, types, cycles).  The
linter looks at a loaded, valid model for what is likely wrong or incomplete in the
encoding of a source instrument:

PE001  clause without citation: a rule, exception, table, catalogue or catalogue entry
       whose citation is empty (e.g. only spaces, with the clause id given by `clause:`).
PE002  clause without source text: a rule, exception or table with no verbatim `text`.
       A condition sub-item without text is flagged only when no rule, exception or table
       quotes the clause it cites (sub-items that cite no clause of their own inherit
       their parent's).
PE003  missing or empty English or French label (rules, exceptions, facts, tables,
       catalogues, catalogue fields and entries, queries, rules' refusal messages, the
       instrument's title).
PE004  French label identical to the English one: likely untranslated.  Labels with no
       lower-case letter (codes and acronyms such as "PL-06", "IT") are exempt.
PE010  fact declared but read by no rule.
PE011  rule that nothing reaches: not a public decision, not used by any rule, not named
       by its instrument's `disclosure`.
PE012  presumption without citation: a fact's `presumed` value must name the clause that
       makes it reasonable to assume, as every decision resting on it cites that clause.
PE020  table that does not cover its inputs: a version with fewer cells than the
       cartesian product of its keys' values (the missing key combinations are named),
       or a table whose first version starts after its instrument comes into force
       (no version in force in between).
PE021  pay table (money, with a key named `step`) whose amounts do not increase from one
       step to the next within a row.
PE022  overlapping conditions: the same condition written twice in an `all`/`any` set.
PE030  exception that can never apply: its `when` is constantly false (`false`,
       `not true`, an `and` with a false operand...).
PE031  redundant exception: its `value` is the rule's own `value` expression, so applying
       it changes nothing.
PE032  exceptions that collide: two exceptions can both apply with different values (the
       case that shows it is given; `policyengine check` searches further).
PE033  input with no answer: a case the rule cannot compute (a division by zero, a select
       with no case and no default), found over small fact domains.
PE040  citation of a section the instrument does not list: when an instrument lists its
       `sections`, every rule, exception and table must cite one of them (or a parent or
       child of one); see `policyengine inventory`.
PE041  operative section that no rule, exception or table encodes.
PE042  operative section encoded, but by elements no public decision reads (through the
       dependency graph), and without a `reason` saying why it stands alone.

Every finding is `path:line:col: CODE: message`.  `policyengine lint [DIR]` prints them
and exits 1 when there are any.

A finding that is deliberate (a table that holds only what the source gives, say) is
silenced by a YAML comment on the line it points at, or on a comment line just above it,
naming its code and saying why:

    versions:
      # lint: ignore PE020 -- the source gives only these two examples
      - rows: ...
"""
from __future__ import annotations

import itertools
import json
import re

from . import inventory
from .findings import Finding, Ignores
from ..errors import did_you_mean
from ..expr import ast
from ..model import walk
from ..values import plain

CODES = {
    "PE001": "clause without citation",
    "PE002": "clause without source text",
    "PE003": "missing or empty label",
    "PE004": "French label identical to the English one",
    "PE010": "fact never used",
    "PE011": "rule nothing reaches",
    "PE012": "presumption without citation",
    "PE020": "table does not cover its inputs",
    "PE021": "pay steps not increasing",
    "PE022": "duplicated condition",
    "PE030": "exception that can never apply",
    "PE031": "redundant exception",
    "PE032": "exceptions that collide",
    "PE033": "input with no answer",
    "PE040": "citation of a section the instrument does not list",
    "PE041": "operative section with no rule",
    "PE042": "operative section no public decision applies",
}


def _key(f: Finding):
    loc = f.location
    return (loc.path, loc.line, loc.col, f.code, f.message) if loc else ("", 0, 0, f.code, f.message)


def lint(policies) -> list[Finding]:
    """Every finding for a loaded Policies object, sorted by path, line and column."""
    out: list[Finding] = []
    for check in (_citations_and_texts, _labels, _unused_facts, _unused_rules, _presumptions, _tables,
                  _conditions, _exceptions, _sections, _proofs):
        out.extend(check(policies))
    ignored = Ignores()
    return sorted((f for f in set(out) if not ignored(f)), key=_key)


def _blank(s) -> bool:
    return s is None or not str(s).strip()


def _exceptions_of(rule):
    seen = set()
    for v in rule.versions:
        for ex in v.exceptions:
            if id(ex) not in seen:
                seen.add(id(ex))
                yield v, ex


def _entries(policies):
    for cat in policies.catalogues.values():
        yield from cat.entries


# -- PE001, PE002 --------------------------------------------------------------------------------------
def _citations_and_texts(p):
    quoted = {c.clause for iid in p.instruments for c in inventory.clauses_of(p, iid) if not _blank(c.text)}
    for rule in p.rules.values():
        parent = p.rules.get(rule.parent) if rule.parent else None
        if _blank(rule.citation):
            yield Finding(rule.location, "PE001", f"rule '{rule.id}' has no citation")
        # a condition sub-item shares its parent's text, or cites a clause quoted by another element
        if _blank(rule.text) and not (parent is not None and rule.clause in quoted):
            yield Finding(rule.location, "PE002", f"rule '{rule.id}' ({rule.citation or rule.clause}) has no source "
                                                  "text: quote the clause it encodes in 'text'")
        for _, ex in _exceptions_of(rule):
            if _blank(ex.citation):
                yield Finding(ex.location, "PE001", f"exception '{ex.id}' of rule '{rule.id}' has no citation")
            if _blank(ex.text):
                yield Finding(ex.location, "PE002", f"exception '{ex.id}' of rule '{rule.id}' ({ex.citation or ex.clause}) "
                                                    "has no source text: quote the clause it encodes in 'text'")
    for table in p.tables.values():
        if _blank(table.citation):
            yield Finding(table.location, "PE001", f"table '{table.id}' has no citation")
        if _blank(table.text):
            yield Finding(table.location, "PE002", f"table '{table.id}' ({table.citation or table.clause}) has no "
                                                   "source text: quote the table it encodes in 'text'")
    for cat in p.catalogues.values():
        if _blank(cat.citation):
            yield Finding(cat.location, "PE001", f"catalogue '{cat.id}' has no citation")
        for entry in cat.entries:
            if _blank(entry.citation):
                yield Finding(entry.location, "PE001", f"entry '{entry.id}' has no citation")


# -- PE003, PE004 --------------------------------------------------------------------------------------------
def _label_findings(label, what: str, location):
    if label is None:
        return
    for lang, name in (("en", "English"), ("fr", "French")):
        if _blank(getattr(label, lang)):
            yield Finding(location, "PE003", f"{what} has no {name} label")
    en, fr = (label.en or "").strip(), (label.fr or "").strip()
    if en and fr and " ".join(en.split()) == " ".join(fr.split()) and any(c.islower() for c in en):
        yield Finding(location, "PE004", f"{what}: French label is the English one ({en!r}): translate it")


def _labels(p):
    for inst in p.instruments.values():
        yield from _label_findings(inst.title, f"instrument '{inst.id}' title", inst.location)
    for fact in p.facts.values():
        yield from _label_findings(fact.label, f"fact '{fact.id}'", fact.location)
    for rule in p.rules.values():
        parent = p.rules.get(rule.parent) if rule.parent else None
        if parent is None or rule.label is not parent.label:  # an inherited label is checked on its owner
            yield from _label_findings(rule.label, f"rule '{rule.id}'", rule.location)
        if rule.message is not None:
            yield from _label_findings(rule.message, f"refusal message of rule '{rule.id}'", rule.location)
        for _, ex in _exceptions_of(rule):
            yield from _label_findings(ex.label, f"exception '{ex.id}'", ex.location)
    for table in p.tables.values():
        yield from _label_findings(table.label, f"table '{table.id}'", table.location)
    for cat in p.catalogues.values():
        yield from _label_findings(cat.label, f"catalogue '{cat.id}'", cat.location)
        for name, decl in cat.fields.items():
            yield from _label_findings(decl.label, f"field '{name}' of catalogue '{cat.id}'", decl.location)
        for entry in cat.entries:
            if entry.label is not cat.label:
                yield from _label_findings(entry.label, f"entry '{entry.id}'", entry.location)
    for q in p.queries.values():
        yield from _label_findings(q.label, f"query '{q.id}'", q.location)


# -- PE010, PE011 ------------------------------------------------------------------------------------------------
def _unused_facts(p):
    g = p.graph.g
    for fid, fact in p.facts.items():
        node = ("fact", fid)
        if node not in g or g.out_degree(node) == 0:
            yield Finding(fact.location, "PE010", f"fact '{fact.name}' of {fact.instrument} is declared but no rule "
                                                  "reads it")


def _presumptions(p):
    for fact in p.facts.values():
        pr = fact.presumption
        if pr is not None and _blank(pr.citation):
            yield Finding(pr.location, "PE012", f"fact '{fact.name}' of {fact.instrument} is presumed "
                                                f"{plain(pr.value)!r} without a citation: name the clause the "
                                                "presumption rests on")
        if pr is not None:
            yield from _label_findings(pr.reason, f"reason for presuming fact '{fact.id}'", pr.location)


def _proofs(p):
    """The fast subset of `policyengine check` (tools/check.py): small domains, tight budget."""
    from . import check
    for f in check.fast_findings(p):
        if f.code == "PE033" and ("has no row for" in f.message or "has no rates in force" in f.message):
            continue  # a table that does not cover its inputs or its dates: PE020 reports it
        yield f


def _unused_rules(p):
    named = set()
    for inst in p.instruments.values():
        for name in (inst.disclosure or {}).values():
            if isinstance(name, str):
                named.update((name, f"{inst.id}.{name}"))
    for rid in p.unused_rules():
        if rid in named:
            continue
        rule = p.rules[rid]
        yield Finding(rule.location, "PE011", f"rule '{rid}' is not a decision and no rule uses it: make it a "
                                              "decision (decision: true), use it, or remove it")


# -- PE020, PE021 -----------------------------------------------------------------------------------------------
def _fmt_keys(table, combo) -> str:
    return ", ".join(f"{k.name}={v}" for k, v in zip(table.keys, combo))


def _tables(p):
    for table in p.tables.values():
        inst = p.instruments.get(table.instrument)
        dated = [v for v in table.versions if v.effective is not None]
        if inst is not None and inst.start is not None and dated and len(dated) == len(table.versions):
            first = min(dated, key=lambda v: v.effective)
            if first.effective > inst.start:
                yield Finding(first.location, "PE020",
                              f"table '{table.id}' has no version in force from {inst.start} (when {inst.id} comes "
                              f"into force) to {first.effective}: lookups in that period fail")
        for v in table.versions:
            when = f"effective {v.effective}" if v.effective else "undated"
            combos = list(itertools.product(*(k.values for k in table.keys)))
            missing = [c for c in combos if c not in v.cells]
            if missing:
                shown = "; ".join(_fmt_keys(table, c) for c in missing[:5])
                more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
                yield Finding(v.location, "PE020",
                              f"table '{table.id}' version {when} covers {len(combos) - len(missing)} of "
                              f"{len(combos)} inputs; no value for {shown}{more}")
            yield from _steps(table, v, when)


def _steps(table, v, when):
    if table.value_type.kind != "money":
        return
    names = [k.name for k in table.keys]
    if "step" not in names:
        return
    si = names.index("step")
    steps = table.keys[si].values
    others = [k.values for i, k in enumerate(table.keys) if i != si]
    for row in itertools.product(*others):
        prev_step, prev = None, None
        for step in steps:
            amount = v.cells.get(row[:si] + (step,) + row[si:])
            if amount is None:
                continue
            if prev is not None and amount <= prev:
                where = ", ".join(f"{k.name}={x}" for k, x in zip((k for i, k in enumerate(table.keys) if i != si), row))
                yield Finding(v.location, "PE021",
                              f"table '{table.id}' version {when}"
                              + (f", {where}" if where else "")
                              + f": step {step} ({amount}) is not more than step {prev_step} ({prev})")
            prev_step, prev = step, amount


# -- PE022 ----------------------------------------------------------------------------------------------------------------
def _conditions(p):
    for rule in p.rules.values():
        for v in rule.versions:
            seen = {}
            for role, expr in walk.body_expressions(v.body):
                if role != "condition":
                    continue
                first = seen.setdefault(ast.shape(expr.node), expr)
                if first is not expr:
                    yield Finding(expr.locate(), "PE022",
                                  f"rule '{rule.id}': condition '{_short(expr.source)}' of its '{v.body.kind}' "
                                  f"set is written twice (first at {first.locate()})")


def _short(source: str, n: int = 60) -> str:
    s = re.sub(r"\s+", " ", source).strip()
    return s if len(s) <= n else s[: n - 3] + "..."


# -- PE030, PE031 --------------------------------------------------------------------------------------------------------------
def _exceptions(p):
    for rule in p.rules.values():
        for v, ex in _exceptions_of(rule):
            if ex.when is not None and ast.constant_bool(ex.when.node) is False:
                yield Finding(ex.when.locate(), "PE030",
                              f"exception '{ex.id}' of rule '{rule.id}' can never apply: its condition "
                              f"'{_short(ex.when.source)}' is always false")
            own = dict(walk.body_expressions(v.body)).get("value")
            if own is not None and ex.value is not None and ast.same(own.node, ex.value.node):
                yield Finding(ex.value.locate(), "PE031",
                              f"exception '{ex.id}' of rule '{rule.id}' gives the rule's own value "
                              f"'{_short(ex.value.source)}': it changes nothing")


# -- PE040, PE041 -------------------------------------------------------------------------------------------------------------------
def _sections(p):
    for iid, inst in p.instruments.items():
        if not inst.sections:
            continue
        inv = inventory.build(p, iid)
        where = {(c.id, str(c.location)): c for c in inventory.clauses_of(p, iid)}
        for cid, clause, loc in inv.stray:
            c = where.get((cid, loc))
            local = clause[len(iid) + 1:] if clause.startswith(iid + ".") else clause
            yield Finding(c.location if c is not None else None, "PE040",
                          f"'{cid}' cites {clause}, which is not a section of {iid} listed in its 'sections'"
                          f"{did_you_mean(local, inst.sections)}")
        for row in inv.rows:
            if row.unapplied:
                yield Finding(inst.sections[row.section].location, "PE042",
                              f"operative section {row.section} of {iid} ({_short(row.title, 50)}) is encoded by "
                              f"{', '.join(row.encoded_by)}, which no public decision reads: read it from the "
                              "decisions it changes, or give the section a reason")
            elif not row.ok:
                yield Finding(inst.sections[row.section].location, "PE041",
                              f"operative section {row.section} of {iid} ({_short(row.title, 50)}) has no rule, "
                              "exception or table that encodes it")


# -- command line ----------------------------------------------------------------------------------------------------------------------
def add_parser(subparsers) -> None:
    lp = subparsers.add_parser(
        "lint", help="report likely mistakes in valid policies (codes PE001...)",
        description="Load the policies and report what is likely wrong or incomplete though valid: clauses "
                    "without citation or source text, missing or untranslated labels, unused facts and rules, "
                    "tables that do not cover their inputs, pay steps that do not increase, duplicated "
                    "conditions, exceptions that never apply or change nothing, citations of unlisted sections "
                    "and operative sections no rule encodes. Each finding is path:line:col: CODE: message; "
                    "exits 1 when there are any.")
    lp.add_argument("dir", nargs="?", default="policies", help="policy folder (default: %(default)s)")
    lp.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: %(default)s)")


def run(args) -> int:
    from ..policies import load
    findings = lint(load(args.dir))
    if getattr(args, "format", "text") == "json":
        print(json.dumps([f.to_dict() for f in findings], ensure_ascii=False, indent=2))
    else:
        for f in findings:
            print(f)
        print(f"{len(findings)} finding(s)")
    return 1 if findings else 0
