"""`policyengine docs`: a static, bilingual HTML site of the loaded policies.

One page per instrument, rule, table and catalogue, plus an index.  Each rule page puts
the verbatim source text beside the encoded rule, with its labels in both official
languages, the facts it reads, what it uses and what depends on it, the YAML test cases
that cover it, and its versions over time.  Table pages show every version as a grid.

This module gathers the data; the pages' structure is in present/templates/site_*.html and
their look in the one stylesheet.  The site is self-contained: the stylesheet inline, a
small inline script for the language switch only, no external resources and relative links
only, so it can be opened from disk (file://) or served from any folder.  Every text is
escaped by the template engine.  Both languages are in every page (``<span lang="en"
class="en">`` / ``<span lang="fr" class="fr">``); the English shows without JavaScript, the
button switches to French (remembered in localStorage when the browser allows it), and
``#fr`` in the address opens a page in French.  Text that exists only in English (the
seeds' clause text, analysts' notes) is marked ``lang="en"``, and the French says so.
"""
from __future__ import annotations

import datetime as dt
import posixpath
import re
from pathlib import Path

from .. import __version__
from ..model import walk
from ..present import format as f
from ..present.templating import asset, render
from ..present.words import WORDS_BY_KEY, count


def safe_name(ident: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", ident)


def last_day(end: dt.date | None) -> str:
    return (end - dt.timedelta(days=1)).isoformat() if end else ""


def rel(from_page: str, to_page: str) -> str:
    """Relative link between two site paths (posix, relative to the site root)."""
    start = posixpath.dirname(from_page) or "."
    return posixpath.relpath(to_page, start)


def page_instrument(iid: str) -> str:
    return f"{safe_name(iid)}/index.html"


def page_rule(rule) -> str:
    return f"{safe_name(rule.instrument)}/rules/{safe_name(rule.id)}.html"


def page_table(tbl) -> str:
    return f"{safe_name(tbl.instrument)}/tables/{safe_name(tbl.id)}.html"


def page_catalogue(cat) -> str:
    return f"{safe_name(cat.instrument)}/catalogues/{safe_name(cat.id)}.html"


class _BodyKind(walk.BodyVisitor):
    """Which template macro shows a rule body (one per variant)."""

    def visit_value(self, b):
        return "value"

    def visit_record(self, b):
        return "record"

    def visit_select(self, b):
        return "select"

    def visit_gap(self, b):
        return "gap"

    def visit_conditions(self, b):
        return "conditions"


class _Site:
    """The data the templates show: the policies, their tests, links between pages."""

    def __init__(self, policies, tests_root: Path | None):
        from . import testing
        from ..errors import PolicyEngineError

        self.p = policies
        self.g = policies.graph.g
        root = Path(tests_root) if tests_root is not None else Path(policies.root)
        self.cases = []
        for file in testing.test_files([root]):
            try:
                self.cases.extend(testing.load_cases(file))
            except (PolicyEngineError, OSError):
                continue
        self.shown_root = root.resolve().parent
        self._shown: dict = {}
        self._case_items: dict = {}
        # Exceptions belong to their rule's page.
        self.exception_owner = {}
        for rule in policies.rules.values():
            for v in rule.versions:
                for ex in v.exceptions:
                    self.exception_owner.setdefault(ex.id, rule)
        # Which cases cover each rule: directly, or through a decision that depends on it.
        self.covering: dict[str, list] = {}
        deps_of: dict[str, set] = {}
        for case in self.cases:
            if case.decision not in policies.rules:
                continue
            if case.decision not in deps_of:
                deps_of[case.decision] = {n[1] for n in policies.graph.dependencies("rule", case.decision)
                                          if n[0] == "rule"}
            self.covering.setdefault(case.decision, []).append((case, None))
            for rid in deps_of[case.decision]:
                self.covering.setdefault(rid, []).append((case, case.decision))

    # -- helpers the templates call -----------------------------------------------------------
    def target(self, kind: str, ident: str) -> str | None:
        """The page (and anchor) of a rule, table, exception or catalogue; None when unknown."""
        if kind == "rule" and ident in self.p.rules:
            return page_rule(self.p.rules[ident])
        if kind == "table" and ident in self.p.tables:
            return page_table(self.p.tables[ident])
        if kind == "catalogue" and ident in self.p.catalogues:
            return page_catalogue(self.p.catalogues[ident])
        if kind == "exception" and ident in self.exception_owner:
            return page_rule(self.exception_owner[ident]) + "#exc-" + safe_name(ident)
        return None

    def target_any(self, ident: str) -> str | None:
        for kind in ("rule", "table", "exception", "catalogue"):
            found = self.target(kind, ident)
            if found:
                return found
        return None

    def shown(self, path) -> str:
        """A file's path as the site shows it: relative to the folder above the policies."""
        if path not in self._shown:
            try:
                self._shown[path] = Path(path).resolve().relative_to(self.shown_root).as_posix()
            except ValueError:
                self._shown[path] = str(path)
        return self._shown[path]

    def case_item(self, case):
        """A covering test's list item, rendered once: a case is listed on the page of every rule its
        decision depends on (hundreds for a QS decision), always alike."""
        if id(case) not in self._case_items:
            from markupsafe import Markup
            self._case_items[id(case)] = Markup(render("site_case.html", c=case, s=self, W=WORDS_BY_KEY, f=f,
                                                       count=count).rstrip("\n"))
        return self._case_items[id(case)]

    def body_kind(self, body) -> str:
        return _BodyKind().visit(body)

    def sub_version(self, sub, v):
        """The version of a condition sub-rule shown inside a rule version."""
        return (sub.version_at(v.effective) if v.effective else None) or (sub.versions[0] if sub.versions else None)

    def required(self, rule, name: str):
        return self.p.rules.get(f"{rule.instrument}.{name}") or self.p.rules.get(name)

    def counts(self, iid: str) -> dict:
        return {
            "rules": sum(r.instrument == iid for r in self.p.rules.values()),
            "decisions": sum(self.p.rules[d].instrument == iid for d in self.p.decisions),
            "tables": sum(t.instrument == iid for t in self.p.tables.values()),
            "catalogues": sum(c.instrument == iid for c in self.p.catalogues.values()),
            "queries": sum(q.instrument == iid for q in self.p.queries.values()),
            "sections": len(self.p.instruments[iid].sections),
            "tests": sum(1 for c in self.cases if c.decision.split(".")[0] == iid),
        }

    def of(self, kind: str, iid: str) -> list:
        things = {"rules": self.p.rules, "tables": self.p.tables, "catalogues": self.p.catalogues,
                  "queries": self.p.queries}[kind]
        return sorted((x for x in things.values() if x.instrument == iid), key=lambda x: x.id)

    def uses(self, rule) -> list:
        node = ("rule", rule.id)
        used = sorted(n for n in self.g.predecessors(node) if n[0] in ("rule", "table")) if node in self.g else []
        return [(kind, ident, self.p.rules.get(ident) if kind == "rule" else self.p.tables.get(ident))
                for kind, ident in used]

    def dependents(self, rule) -> list:
        """(rule, direct) for every rule that depends on this one."""
        node = ("rule", rule.id)
        if node not in self.g:
            return []
        direct = set(self.g.successors(node))
        users = sorted(n[1] for n in self.p.graph.dependents("rule", rule.id) if n[0] == "rule")
        return [(self.p.rules[rid], ("rule", rid) in direct) for rid in users]

    def table_users(self, tbl) -> list:
        node = ("table", tbl.id)
        return [self.p.rules[n[1]] for n in sorted(self.g.successors(node)) if n[0] == "rule"] \
            if node in self.g else []

    def test_groups(self, rule) -> list:
        """(via, cases): the cases that test the rule directly (via None) first, then through each decision."""
        groups: dict = {}
        for case, via in self.covering.get(rule.id, []):
            groups.setdefault(via, []).append(case)
        return [(via, groups[via]) for via in sorted(groups, key=lambda x: (x is not None, x or ""))]

    def fact_rows(self, rule) -> list:
        return [(name, self.p.fact_decl(rule.id, name)) for name in self.p.facts_of(rule.id)]

    def grid(self, tbl, v) -> dict:
        """A table version as rows and columns: one key gives a column of values, more give a grid
        whose columns are the last key's values."""
        keys = tbl.keys
        if len(keys) == 1:
            return {"one": True, "rows": [((k,), [v.cells.get((k,))]) for k in keys[0].values if (k,) in v.cells]}
        row_keys = []
        for key in v.cells:
            if key[:-1] not in row_keys:
                row_keys.append(key[:-1])
        order = {i: {x: n for n, x in enumerate(k.values)} for i, k in enumerate(keys[:-1])}
        row_keys.sort(key=lambda rk: tuple(order[i].get(x, len(order[i])) for i, x in enumerate(rk)))
        cols = list(keys[-1].values)
        return {"one": False, "cols": cols, "rows": [(rk, [v.cells.get(rk + (c,)) for c in cols]) for rk in row_keys]}

    # -- pages ----------------------------------------------------------------------------------
    def page(self, template: str, here: str, title_en: str, title_fr: str, crumbs: list, **context) -> str:
        return render(template, s=self, p=self.p, here=here, title_en=title_en, title_fr=title_fr, crumbs=crumbs,
                      W=WORDS_BY_KEY, f=f, count=count, rel=rel, last_day=last_day, anchor=safe_name,
                      page_instrument=page_instrument, engine_version=__version__, script=asset("site.js"), **context)

    def index(self) -> str:
        return self.page("site_index.html", "index.html", "Policies", "Politiques", [])

    def instrument(self, iid: str) -> str:
        from . import inventory

        inst = self.p.instruments[iid]
        here = page_instrument(iid)
        inv = inventory.build(self.p, iid) if inst.sections else None
        return self.page("site_instrument.html", here, f"{iid}: {inst.title.en}", f"{iid} : {inst.title.fr}",
                         [(here, iid)], iid=iid, inst=inst, inv=inv)

    def rule(self, rule) -> str:
        here = page_rule(rule)
        return self.page("site_rule.html", here, f"{rule.id}: {rule.label.en}", f"{rule.id} : {rule.label.fr}",
                         [(page_instrument(rule.instrument), rule.instrument), (here, rule.id)], rule=rule)

    def table_page(self, tbl) -> str:
        here = page_table(tbl)
        return self.page("site_table.html", here, f"{tbl.id}: {tbl.label.en}", f"{tbl.id} : {tbl.label.fr}",
                         [(page_instrument(tbl.instrument), tbl.instrument), (here, tbl.id)], tbl=tbl)

    def catalogue(self, cat) -> str:
        here = page_catalogue(cat)
        queries = sorted((q for q in self.p.queries.values() if q.catalogue == cat.id), key=lambda q: q.id)
        return self.page("site_catalogue.html", here, f"{cat.id}: {cat.label.en}", f"{cat.id} : {cat.label.fr}",
                         [(page_instrument(cat.instrument), cat.instrument), (here, cat.id)], cat=cat,
                         queries=queries)


def build(policies, out_dir: Path, tests_root: Path | None = None) -> list[Path]:
    """Write the site into out_dir; return the files written (index first).

    tests_root is the folder whose */tests/*.yaml cases are listed on rule pages
    (default: the policies' own folder)."""
    out_dir = Path(out_dir)
    site = _Site(policies, tests_root)
    pages: list[tuple[str, str]] = [("index.html", site.index())]
    for iid in sorted(policies.instruments):
        pages.append((page_instrument(iid), site.instrument(iid)))
    for rid in sorted(policies.rules):
        pages.append((page_rule(policies.rules[rid]), site.rule(policies.rules[rid])))
    for tid in sorted(policies.tables):
        pages.append((page_table(policies.tables[tid]), site.table_page(policies.tables[tid])))
    for cid in sorted(policies.catalogues):
        pages.append((page_catalogue(policies.catalogues[cid]), site.catalogue(policies.catalogues[cid])))
    written = []
    for rel_path, html in pages:
        path = out_dir.joinpath(*rel_path.split("/"))
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(html, encoding="utf-8")
        written.append(path)
    return written


def add_parser(subparsers) -> None:
    d = subparsers.add_parser(
        "docs", help="write a static bilingual HTML site of the policies",
        description="Write a static, self-contained HTML site of the policies into --out: an index, one page per "
                    "instrument (record, sections, rules, tables, catalogues, queries), one per rule (the source "
                    "text beside the encoded rule, labels in English and French, facts read, dependencies, the "
                    "YAML tests that cover it, versions), one per table (every version as a grid) and one per "
                    "catalogue. Inline CSS, no external resources, relative links: open index.html from disk. "
                    "The button (or #fr in the address) switches the pages to French.")
    d.add_argument("--out", required=True, metavar="DIR", help="folder to write the site into (created if needed)")
    d.add_argument("--policies", default="policies", metavar="DIR", help="policy folder (default: %(default)s)")


def run(args) -> int:
    from ..policies import load

    policies = load(args.policies)
    files = build(policies, Path(args.out))
    print(f"wrote {len(files)} pages to {args.out}")
    return 0
