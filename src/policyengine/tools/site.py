"""`policyengine docs`: a static, bilingual HTML site of the loaded policies.

One page per instrument, rule, table and catalogue, plus an index.  Each rule page puts
the verbatim source text beside the encoded rule, with its labels in both official
languages, the facts it reads, what it uses and what depends on it, the YAML test cases
that cover it, and its versions over time.  Table pages show every version as a grid.

The site is self-contained: inline CSS, a small inline script for the language switch
only, no external resources and relative links only, so it can be opened from disk
(file://) or served from any folder.  Every text is escaped.  Both languages are in
every page (``<span lang="en" class="en">`` / ``<span lang="fr" class="fr">``); the
English shows without JavaScript, the button switches to French (remembered in
localStorage when the browser allows it), and ``#fr`` in the address opens a page in
French.
"""
from __future__ import annotations

import datetime as dt
import posixpath
import re
from decimal import Decimal
from html import escape
from pathlib import Path

from .. import __version__
from ..model import walk

# Interface words; every key has both languages.
WORDS = {
    "site": ("Policies", "Politiques"),
    "site_intro": ("Every instrument encoded in this policy set: each rule beside the source text it encodes, "
                   "its tables, and the tests that check it.",
                   "Chacun des instruments codés dans cet ensemble de politiques : chaque règle à côté du texte "
                   "source qu'elle code, ses tables et les tests qui la vérifient."),
    "instruments": ("Instruments", "Instruments"),
    "instrument": ("Instrument", "Instrument"),
    "id": ("Id", "Identifiant"),
    "kind": ("Kind", "Type"),
    "title": ("Title", "Titre"),
    "title_en": ("Title (English)", "Titre (anglais)"),
    "title_fr": ("Title (French)", "Titre (français)"),
    "source": ("Source", "Source"),
    "in_force": ("In force", "En vigueur"),
    "from": ("From", "Du"),
    "until": ("Until (first day no longer in force)", "Jusqu'au (premier jour où il n'est plus en vigueur)"),
    "rescinded": ("Rescinded", "Abrogé"),
    "open_ended": ("open-ended: the source gives no in-force date",
                   "sans limite : la source ne donne pas de date d'entrée en vigueur"),
    "status": ("Status", "Statut"),
    "replaces": ("Replaces", "Remplace"),
    "files": ("Policy files", "Fichiers de politique"),
    "counts": ("Counts", "Nombres"),
    "rules": ("Rules", "Règles"),
    "rule": ("Rule", "Règle"),
    "decisions": ("Public decisions", "Décisions publiques"),
    "decision": ("Public decision", "Décision publique"),
    "tables": ("Tables", "Tables"),
    "table": ("Table", "Table"),
    "catalogues": ("Catalogues", "Catalogues"),
    "catalogue": ("Catalogue", "Catalogue"),
    "queries": ("Queries", "Requêtes"),
    "query": ("Query", "Requête"),
    "sections": ("Sections", "Sections"),
    "tests": ("Test cases", "Cas de test"),
    "none": ("none", "aucun"),
    "record": ("Record", "Fiche"),
    "inventory": ("Sections of the instrument", "Sections de l'instrument"),
    "inventory_summary": ("operative sections encoded", "sections opérantes codées"),
    "applied_summary": ("applied by a public decision", "appliquées par une décision publique"),
    "applied_by": ("Applied by (public decisions)", "Appliquée par (décisions publiques)"),
    "unapplied": ("encoded, applied by no public decision", "codée, appliquée par aucune décision publique"),
    "section": ("Section", "Section"),
    "operative": ("operative", "opérante"),
    "informative": ("informative", "informative"),
    "encoded_by": ("Encoded by", "Codée par"),
    "citation": ("Citation", "Citation"),
    "clause": ("Clause id", "Identifiant de disposition"),
    "label": ("Label", "Libellé"),
    "label_en": ("Label (English)", "Libellé (anglais)"),
    "label_fr": ("Label (French)", "Libellé (français)"),
    "note": ("Note", "Note"),
    "type": ("Result type", "Type du résultat"),
    "parent": ("Part of", "Fait partie de"),
    "defined_in": ("Defined in", "Défini dans"),
    "yes": ("yes", "oui"),
    "no": ("no", "non"),
    "disclosure": ("Personal information", "Renseignements personnels"),
    "message": ("Refusal message", "Message de refus"),
    "source_text": ("Source text", "Texte source"),
    "encoded_rule": ("Encoded rule", "Règle codée"),
    "value": ("value", "valeur"),
    "all_of": ("all of these hold", "toutes ces conditions sont remplies"),
    "any_of": ("any of these holds", "l'une de ces conditions est remplie"),
    "record_fields": ("record of these fields", "fiche composée de ces champs"),
    "field": ("Field", "Champ"),
    "requires": ("requires (else the case is refused)", "exige (sinon le cas est refusé)"),
    "exceptions": ("exceptions", "exceptions"),
    "exception": ("Exception", "Exception"),
    "when": ("when", "lorsque"),
    "then": ("then the value is", "alors la valeur est"),
    "version_from": ("Version in force from", "Version en vigueur à compter du"),
    "with_instrument": ("with its instrument", "avec son instrument"),
    "facts_read": ("Facts it reads", "Faits lus"),
    "fact": ("Fact", "Fait"),
    "presumed": ("Presumed when not given", "Présumé s'il n'est pas fourni"),
    "allowed": ("Allowed values", "Valeurs permises"),
    "no_facts": ("This rule reads no facts.", "Cette règle ne lit aucun fait."),
    "depends": ("What depends on it", "Ce qui en dépend"),
    "direct": ("direct", "direct"),
    "no_dependents": ("Nothing depends on it.", "Rien n'en dépend."),
    "uses": ("What it uses", "Ce qu'elle utilise"),
    "uses_nothing": ("It uses no other rule or table.", "Elle n'utilise aucune autre règle ni table."),
    "used_by": ("Rules that use it", "Règles qui l'utilisent"),
    "covering": ("Tests that cover it", "Tests qui la couvrent"),
    "tested_directly": ("tested directly", "testée directement"),
    "through": ("through", "au moyen de"),
    "untested": ("No test case evaluates this rule.", "Aucun cas de test n'évalue cette règle."),
    "cases": ("cases", "cas"),
    "as_of": ("as of", "au"),
    "versions": ("Versions over time", "Versions dans le temps"),
    "effective": ("Effective", "En vigueur le"),
    "last_day": ("Last day in force", "Dernier jour en vigueur"),
    "approved": ("Approved", "Approuvée"),
    "text": ("Text", "Texte"),
    "same_text": ("(text as above)", "(texte ci-dessus)"),
    "keys": ("Keys", "Clés"),
    "value_type": ("Value type", "Type des valeurs"),
    "version": ("Version", "Version"),
    "version_label": ("Version label", "Libellé de la version"),
    "fields": ("Fields", "Champs"),
    "entries": ("Entries", "Entrées"),
    "uncertain": ("uncertain", "incertain"),
    "parameters": ("Parameters (each optional)", "Paramètres (tous facultatifs)"),
    "matches": ("matches", "correspond à"),
    "back_index": ("All instruments", "Tous les instruments"),
    "generated": ("Generated by policyengine", "Produit par policyengine"),
    "policy_hash": ("policy hash", "empreinte des politiques"),
    "switch": ("Français", "English"),
    "sub_rule": ("condition of", "condition de"),
    "see_page": ("see its page", "voir sa page"),
    "min": ("min", "min"),
    "max": ("max", "max"),
    "unit": ("unit", "unité"),
}

CSS = """
:root { color-scheme: light; }
html:not(.lang-fr) .fr, html.lang-fr .en { display: none; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
       "Liberation Sans", sans-serif; color: #111; background: #fff; line-height: 1.45;
       max-width: 78rem; margin: 0 auto; padding: 0 1rem 2rem; font-size: 15px; }
header.top { display: flex; justify-content: space-between; align-items: center; gap: 1rem;
             border-bottom: 2px solid #26374a; padding: .6rem 0; margin-bottom: 1rem; }
nav.crumbs a { color: #26374a; }
button#lang-switch { font: inherit; padding: .25em .9em; border: 1px solid #26374a; background: #26374a;
                     color: #fff; border-radius: 3px; cursor: pointer; }
button#lang-switch:focus { outline: 3px solid #f2b300; outline-offset: 2px; }
h1 { font-size: 1.6em; margin: .2em 0 .3em; }
h1 .rid, h2 .rid { font-family: ui-monospace, Menlo, Consolas, "Liberation Mono", monospace; font-size: .7em;
                   color: #555; display: block; font-weight: normal; }
h2 { font-size: 1.2em; margin: 1.6em 0 .5em; border-bottom: 1px solid #999; padding-bottom: .15em; }
h3 { font-size: 1.05em; margin: 1em 0 .3em; }
a { color: #284162; }
code, pre, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
                   font-size: .92em; }
pre { background: #f3f5f8; border: 1px solid #d5dbe3; padding: .45em .7em; white-space: pre-wrap;
      overflow-wrap: anywhere; margin: .25em 0; }
table { border-collapse: collapse; margin: .4em 0 .8em; }
th, td { border: 1px solid #aab; padding: .25em .6em; text-align: left; vertical-align: top; }
th { background: #eef1f5; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2em 1.2em; margin: .4em 0 1em; }
dl.meta dt { font-weight: bold; }
dl.meta dd { margin: 0; }
.side { display: grid; grid-template-columns: 1fr 1fr; gap: 1.2rem; align-items: start; margin: .5em 0 1em; }
.side > section { min-width: 0; }
.side h3 { margin-top: 0; }
@media (max-width: 800px) { .side { grid-template-columns: 1fr; } dl.meta { grid-template-columns: 1fr; } }
blockquote { font-family: Georgia, "Times New Roman", Times, serif; margin: 0; padding: .5em .9em;
             border-left: 4px solid #26374a; background: #f7f7f4; white-space: pre-line; }
.item { border-left: 3px solid #d5dbe3; padding-left: .7em; margin: .5em 0; }
.exception { border-left-color: #a65c00; }
.muted { color: #555; }
.tag { display: inline-block; border: 1px solid #777; border-radius: 3px; padding: 0 .35em; font-size: .85em; }
.tag.op { border-color: #1a6b2a; color: #1a6b2a; }
.tag.dec { border-color: #284162; color: #284162; }
ul.compact { margin: .2em 0; padding-left: 1.3em; }
details summary { cursor: pointer; }
footer { margin-top: 2.5em; border-top: 1px solid #999; padding-top: .4em; font-size: .85em; color: #444; }
"""

# The language switch.  Runs in <head> so the page never shows the wrong language first.
JS = """
(function () {
  var d = document.documentElement, KEY = "policyengine-lang";
  function stored() { try { return window.localStorage.getItem(KEY); } catch (e) { return null; } }
  function set(lang, remember) {
    var fr = lang === "fr";
    d.classList.toggle("lang-fr", fr);
    d.setAttribute("lang", fr ? "fr" : "en");
    var t = d.getAttribute(fr ? "data-title-fr" : "data-title-en");
    if (t) { document.title = t; }
    if (remember) { try { window.localStorage.setItem(KEY, fr ? "fr" : "en"); } catch (e) {} }
  }
  var h = window.location.hash;
  if (h === "#fr" || h === "#en") { set(h.slice(1), true); } else { set(stored() === "fr" ? "fr" : "en", false); }
  document.addEventListener("DOMContentLoaded", function () {
    var b = document.getElementById("lang-switch");
    if (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        var lang = d.classList.contains("lang-fr") ? "en" : "fr";
        set(lang, true);
        var h = window.location.hash;
        if (h === "#fr" || h === "#en") {
          try { history.replaceState(null, "", "#" + lang); } catch (e) {}
        }
      });
    }
    /* Where the browser keeps no storage for file:// pages, links carry the choice. */
    document.addEventListener("click", function (ev) {
      var a = ev.target && ev.target.closest ? ev.target.closest("a[href]") : null;
      if (!a || !d.classList.contains("lang-fr")) { return; }
      var href = a.getAttribute("href");
      if (href && href.indexOf("#") < 0 && href.indexOf(":") < 0) { a.setAttribute("href", href + "#fr"); }
    });
  });
})();
"""


# -- small HTML helpers ------------------------------------------------------------------------
def e(value) -> str:
    return escape("" if value is None else str(value), quote=True)


def bi(en, fr) -> str:
    """Both languages; the stylesheet shows one."""
    return f'<span lang="en" class="en">{e(en)}</span><span lang="fr" class="fr">{e(fr)}</span>'


def w(key: str) -> str:
    return bi(*WORDS[key])


def label(lbl) -> str:
    return bi(lbl.en, lbl.fr) if lbl is not None else ""


def ident_html(value: str) -> str:
    """An id as code, breakable after its dots (long rule ids in narrow columns)."""
    return "<code>" + e(value).replace(".", ".<wbr>").replace("_", "_<wbr>") + "</code>"


def safe_name(ident: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", ident)


def fmt(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (list, tuple)):
        return ", ".join(fmt(v) for v in value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return "" if value is None else str(value)


def last_day(end: dt.date | None) -> str:
    return (end - dt.timedelta(days=1)).isoformat() if end else ""


def rel(from_page: str, to_page: str) -> str:
    """Relative link between two site paths (posix, relative to the site root)."""
    start = posixpath.dirname(from_page) or "."
    return posixpath.relpath(to_page, start)


def code(source: str) -> str:
    return f"<pre><code>{e(source)}</code></pre>"


def meta(rows) -> str:
    out = ['<dl class="meta">']
    for key, value in rows:
        if value in (None, ""):
            continue
        out.append(f"<dt>{w(key) if key in WORDS else key}</dt><dd>{value}</dd>")
    out.append("</dl>")
    return "".join(out)


def table(headers, rows, cls="") -> str:
    head = "".join(f"<th>{h}</th>" for h in headers)
    body = "".join("<tr>" + "".join(c if c.startswith(("<td", "<th")) else f"<td>{c}</td>" for c in r) + "</tr>"
                   for r in rows)
    return f'<table{f" class={cls!r}" if cls else ""}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


# -- paths --------------------------------------------------------------------------------------
def page_instrument(iid: str) -> str:
    return f"{safe_name(iid)}/index.html"


def page_rule(rule) -> str:
    return f"{safe_name(rule.instrument)}/rules/{safe_name(rule.id)}.html"


def page_table(tbl) -> str:
    return f"{safe_name(tbl.instrument)}/tables/{safe_name(tbl.id)}.html"


def page_catalogue(cat) -> str:
    return f"{safe_name(cat.instrument)}/catalogues/{safe_name(cat.id)}.html"


def anchor(ident: str) -> str:
    return safe_name(ident)


# -- the site ---------------------------------------------------------------------------------
class _BodyHtml(walk.BodyVisitor):
    """A rule version's body as HTML, one method per variant; condition sub-rules nest their own."""

    def __init__(self, site: "_Site", here: str, version, depth: int):
        self.site, self.here, self.v, self.depth = site, here, version, depth

    def visit_value(self, b) -> str:
        return f'<div>{w("value")}</div>{code(b.expr.source) if b.expr else ""}'

    def visit_record(self, b) -> str:
        rows = [[f"<code>{e(name)}</code>", code(expr.source)] for name, expr in b.fields.items()]
        return f'<div>{w("record_fields")}</div>' + table([w("field"), w("value")], rows)

    def visit_select(self, b) -> str:
        rows = [[f"<code>{e(str(k))}</code>", code(x.source)] for k, x in b.cases.items()]
        if b.default is not None:
            rows.append(["<em>default</em>", code(b.default.source)])
        return f'<div>{code(b.on.source) if b.on else ""}</div>' + table([w("field"), w("value")], rows)

    def visit_gap(self, b) -> str:
        return ("<div><strong>Gap / lacune</strong></div>"
                + table([w("field"), w("value")], [[e(k), e(str(x))] for k, x in b.gap.items()]))

    def visit_conditions(self, b) -> str:
        items = []
        for c in b.items:
            if c.rule is None:
                items.append(f"<li>{code(c.expr.source)}</li>")
                continue
            sub = c.rule
            inner = ""
            if self.depth < 6 and sub.versions:
                sv = (sub.version_at(self.v.effective) if self.v.effective else None) or sub.versions[0]
                inner = self.site.version_html(self.here, sub, sv, self.depth + 1)
            items.append(f'<li><div class="item">{self.site.link_to(self.here, "rule", sub.id)} {e(sub.citation)}'
                         f"<div>{label(sub.label)}</div>{inner}</div></li>")
        head = w("all_of") if b.kind == "all" else w("any_of")
        return f'<div>{head}</div><ol class="compact">{"".join(items)}</ol>'


class _Site:
    def __init__(self, policies, tests_root: Path | None):
        from . import testing
        from ..errors import PolicyEngineError

        self.p = policies
        self.g = policies.graph.g
        root = Path(tests_root) if tests_root is not None else Path(policies.root)
        self.cases = []
        for f in testing.test_files([root]):
            try:
                self.cases.extend(testing.load_cases(f))
            except (PolicyEngineError, OSError):
                continue
        self.shown_root = root.resolve().parent
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

    # -- links ------------------------------------------------------------------------------
    def link_to(self, here: str, kind: str, ident: str, text: str | None = None) -> str:
        """A link to a rule, table, exception or catalogue by id; plain text when unknown."""
        target = None
        if kind == "rule" and ident in self.p.rules:
            target = page_rule(self.p.rules[ident])
        elif kind == "table" and ident in self.p.tables:
            target = page_table(self.p.tables[ident])
        elif kind == "catalogue" and ident in self.p.catalogues:
            target = page_catalogue(self.p.catalogues[ident])
        elif kind == "exception" and ident in self.exception_owner:
            target = page_rule(self.exception_owner[ident]) + "#exc-" + anchor(ident)
        body = text if text is not None else ident_html(ident)
        return f'<a href="{e(rel(here, target))}">{body}</a>' if target else body

    def link_any(self, here: str, ident: str) -> str:
        for kind in ("rule", "table", "exception", "catalogue"):
            if ident in (self.p.rules if kind == "rule" else self.p.tables if kind == "table"
                         else self.exception_owner if kind == "exception" else self.p.catalogues):
                return self.link_to(here, kind, ident)
        return f"<code>{e(ident)}</code>"

    def shown(self, path) -> str:
        try:
            return Path(path).resolve().relative_to(self.shown_root).as_posix()
        except ValueError:
            return str(path)

    # -- page frame -------------------------------------------------------------------------
    def page(self, here: str, title_en: str, title_fr: str, crumbs: list[tuple[str, str]], body: str) -> str:
        nav = [f'<a href="{e(rel(here, "index.html"))}">{w("site")}</a>']
        for target, text in crumbs:
            nav.append(f'<a href="{e(rel(here, target))}">{text}</a>' if target != here else text)
        return (
            "<!DOCTYPE html>\n"
            f'<html lang="en" data-title-en="{e(title_en)}" data-title-fr="{e(title_fr)}">\n'
            "<head>\n<meta charset=\"utf-8\">\n"
            '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
            f'<meta name="generator" content="policyengine {e(__version__)}">\n'
            f"<title>{e(title_en)}</title>\n<style>{CSS}</style>\n<script>{JS}</script>\n</head>\n<body>\n"
            f'<header class="top"><nav class="crumbs" aria-label="breadcrumb">{" › ".join(nav)}</nav>'
            f'<button id="lang-switch" type="button" hidden>'
            f'<span lang="fr" class="en">{e(WORDS["switch"][0])}</span>'
            f'<span lang="en" class="fr">{e(WORDS["switch"][1])}</span></button></header>\n'
            f"<main>\n{body}\n</main>\n"
            f'<footer>{w("generated")} {e(__version__)} · {w("policy_hash")} '
            f'<code>{e(self.p.policy_hash)}</code></footer>\n'
            "</body>\n</html>\n")

    # -- index ------------------------------------------------------------------------------
    def index(self) -> str:
        here = "index.html"
        rows = []
        for iid, inst in sorted(self.p.instruments.items()):
            rows.append([
                f'<a href="{e(rel(here, page_instrument(iid)))}"><code>{e(iid)}</code></a>',
                f'<a href="{e(rel(here, page_instrument(iid)))}">{label(inst.title)}</a>',
                e(inst.kind),
                self.source_html(inst.source),
                self.force_html(inst),
                self.counts_html(iid),
            ])
        decisions = []
        for did in self.p.decisions:
            r = self.p.rules[did]
            decisions.append([self.link_to(here, "rule", did), e(r.citation), label(r.label)])
        for qid, q in sorted(self.p.queries.items()):
            decisions.append([f'<a href="{e(rel(here, page_instrument(q.instrument)))}#query-{anchor(qid)}">'
                              f"<code>{e(qid)}</code></a> <span class=\"tag\">{w('query')}</span>",
                              e(self.p.catalogues[q.catalogue].citation) if q.catalogue in self.p.catalogues
                              else "", label(q.label)])
        body = (f'<h1>{w("site")}</h1><p>{w("site_intro")}</p>'
                f'<h2>{w("instruments")}</h2>'
                + table([w("id"), w("title"), w("kind"), w("source"), w("in_force") + " / " + w("status"),
                         w("counts")], rows)
                + f'<h2>{w("decisions")}</h2>'
                + table([w("id"), w("citation"), w("label")], decisions))
        return self.page(here, "Policies", "Politiques", [], body)

    def source_html(self, source: dict) -> str:
        return "<br>".join(f"{e(k)}: <code>{e(fmt(v))}</code>" for k, v in (source or {}).items())

    def force_html(self, inst) -> str:
        parts = []
        if inst.start is None:
            parts.append(w("open_ended"))
        else:
            parts.append(f'{w("from")} {e(inst.start)}')
        if inst.rescinded:
            parts.append(f'{w("rescinded")} {e(inst.rescinded)}')
        elif inst.end:
            parts.append(f'{w("last_day")} {e(last_day(inst.end))}')
        if inst.status:
            parts.append(f'{w("status")}: {e(inst.status)}')
        return "<br>".join(parts)

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

    def counts_html(self, iid: str) -> str:
        return "<br>".join(f"{w(k)}: {n}" for k, n in self.counts(iid).items())

    # -- instrument -------------------------------------------------------------------------
    def instrument(self, iid: str) -> str:
        from . import inventory

        inst = self.p.instruments[iid]
        here = page_instrument(iid)
        out = [f'<h1><span class="rid">{e(iid)}</span>{label(inst.title)}</h1>', f'<h2>{w("record")}</h2>']
        out.append(meta([
            ("id", f"<code>{e(iid)}</code>"), ("kind", e(inst.kind)),
            ("title_en", e(inst.title.en)), ("title_fr", e(inst.title.fr)),
            ("source", self.source_html(inst.source)),
            ("in_force", self.force_html(inst)),
            ("replaces", "<ul class=\"compact\">" + "".join(f"<li>{e(r)}</li>" for r in inst.replaces) + "</ul>"
             if inst.replaces else ""),
            ("files", "<br>".join(f"<code>{e(self.shown(f))}</code>" for f in inst.files)),
            ("counts", self.counts_html(iid)),
        ]))
        if inst.sections:
            inv = inventory.build(self.p, iid)
            out.append(f'<h2 id="sections">{w("inventory")}</h2>')
            out.append(f"<p>{inv.encoded}/{inv.operative} {w('inventory_summary')}; "
                       f"{inv.applied}/{inv.operative} {w('applied_summary')}</p>")
            rows = []
            for r in inv.rows:
                status = (f'<span class="tag op">{w("operative")}</span>' if r.operative
                          else f'<span class="tag">{w("informative")}</span>'
                          + (f" <span class=\"muted\">{e(r.reason)}</span>" if r.reason else ""))
                applied = ("<br>".join(self.link_any(here, i) for i in r.applied_by) if r.applied_by
                           else f'<span class="tag">{w("unapplied")}</span>' if r.unapplied else "")
                rows.append([f'<span id="s-{anchor(r.section)}">{ident_html(r.section)}</span>', e(r.title), status,
                             "<br>".join(self.link_any(here, i) for i in r.encoded_by), applied])
            out.append(table([w("section"), w("title"), w("status"), w("encoded_by"), w("applied_by")], rows))
        rules = sorted((r for r in self.p.rules.values() if r.instrument == iid), key=lambda r: r.id)
        out.append(f'<h2 id="rules">{w("rules")} ({len(rules)})</h2>')
        out.append(table([w("id"), w("citation"), w("label")], [
            [self.link_to(here, "rule", r.id)
             + (f' <span class="tag dec">{w("decision")}</span>' if r.decision else ""),
             e(r.citation), label(r.label)] for r in rules]))
        tables = sorted((t for t in self.p.tables.values() if t.instrument == iid), key=lambda t: t.id)
        if tables:
            out.append(f'<h2 id="tables">{w("tables")} ({len(tables)})</h2>')
            out.append(table([w("id"), w("citation"), w("label"), w("versions")], [
                [self.link_to(here, "table", t.id), e(t.citation), label(t.label), str(len(t.versions))]
                for t in tables]))
        cats = sorted((c for c in self.p.catalogues.values() if c.instrument == iid), key=lambda c: c.id)
        if cats:
            out.append(f'<h2 id="catalogues">{w("catalogues")} ({len(cats)})</h2>')
            out.append(table([w("id"), w("citation"), w("label"), w("entries")], [
                [self.link_to(here, "catalogue", c.id), e(c.citation), label(c.label), str(len(c.entries))]
                for c in cats]))
        queries = sorted((q for q in self.p.queries.values() if q.instrument == iid), key=lambda q: q.id)
        if queries:
            out.append(f'<h2 id="queries">{w("queries")} ({len(queries)})</h2>')
            out.append(self.queries_html(here, queries))
        return self.page(here, f"{iid}: {inst.title.en}", f"{iid} : {inst.title.fr}",
                         [(here, f"<code>{e(iid)}</code>")], "\n".join(out))

    def queries_html(self, here: str, queries) -> str:
        rows = []
        for q in queries:
            params = "<br>".join(f"<code>{e(n)}</code> {w('matches')} "
                                 + ", ".join(f"<code>{e(f)}</code>" for f in fields)
                                 for n, fields in q.parameters.items())
            rows.append([f'<span id="query-{anchor(q.id)}">{ident_html(q.id)}</span>', label(q.label),
                         self.link_to(here, "catalogue", q.catalogue), params + (
                             f'<p class="muted">{e(q.note)}</p>' if q.note else "")])
        return table([w("id"), w("label"), w("catalogue"), w("parameters")], rows)

    # -- rule -------------------------------------------------------------------------------
    def rule(self, rule) -> str:
        p = self.p
        here = page_rule(rule)
        iid = rule.instrument
        out = [f'<h1><span class="rid">{e(rule.id)}</span>{label(rule.label)}</h1>']
        disclosure = ""
        if rule.disclosure:
            disclosure = (", ".join(f"{e(k)}: {e(v)}" for k, v in rule.disclosure.items())
                          if isinstance(rule.disclosure, dict) else e(rule.disclosure))
        out.append(meta([
            ("citation", e(rule.citation)),
            ("clause", f"<code>{e(rule.clause)}</code>"),
            ("instrument", f'<a href="{e(rel(here, page_instrument(iid)))}">{label(p.instruments[iid].title)}</a>'
             if iid in p.instruments else e(iid)),
            ("label_en", e(rule.label.en)),
            ("label_fr", e(rule.label.fr)),
            ("decision", w("yes") if rule.decision else w("no")),
            ("type", f"<code>{e(rule.type)}</code>" if rule.type else ""),
            ("parent", self.link_to(here, "rule", rule.parent) if rule.parent else ""),
            ("note", e(rule.note.strip()) if rule.note else ""),
            ("message", label(rule.message) if rule.message else ""),
            ("disclosure", disclosure),
            ("defined_in", f"<code>{e(self.shown(rule.location.path))}:{e(rule.location.line)}</code>"
             if rule.location else ""),
        ]))
        # The source text beside the encoded rule, for each version.
        for v in rule.versions:
            if len(rule.versions) > 1:
                out.append(f'<h2>{w("version_from")} {e(v.effective) if v.effective else w("with_instrument")}'
                           + (f" – {e(last_day(v.end))}" if v.end else "") + "</h2>")
            citation = v.citation or rule.citation
            out.append('<div class="side">'
                       f'<section><h3>{w("source_text")}</h3><p class="muted">{e(citation)}</p>'
                       f"<blockquote>{e((v.text or rule.text or '').strip())}</blockquote></section>"
                       f'<section><h3>{w("encoded_rule")}</h3>{self.version_html(here, rule, v)}</section>'
                       "</div>")
        out.append(self.facts_html(rule))
        out.append(self.uses_html(here, rule))
        out.append(self.dependents_html(here, rule))
        out.append(self.tests_html(rule))
        out.append(self.versions_html(rule))
        crumbs = [(page_instrument(iid), f"<code>{e(iid)}</code>"), (here, f"<code>{e(rule.id)}</code>")]
        return self.page(here, f"{rule.id}: {rule.label.en}", f"{rule.id} : {rule.label.fr}", crumbs,
                         "\n".join(out))

    def version_html(self, here: str, rule, v, depth: int = 0) -> str:
        out = [self.body_html(here, rule, v, depth)]
        if v.requires:
            items = []
            for name, _loc in v.requires:
                target = self.p.rules.get(f"{rule.instrument}.{name}") or self.p.rules.get(name)
                if target is None:
                    items.append(f"<li><code>{e(name)}</code></li>")
                else:
                    items.append(f"<li>{self.link_to(here, 'rule', target.id)} {e(target.citation)} — "
                                 f"{label(target.label)}</li>")
            out.append(f'<div class="item"><strong>{w("requires")}</strong><ul class="compact">{"".join(items)}'
                       "</ul></div>")
        if v.exceptions:
            out.append(f'<div class="item"><strong>{w("exceptions")}</strong>')
            for ex in v.exceptions:
                out.append(
                    f'<div class="item exception" id="exc-{anchor(ex.id)}">'
                    f'<strong>{w("exception")}</strong> <code>{e(ex.id)}</code> — {e(ex.citation)}'
                    f'<div>{label(ex.label)}</div>'
                    + (f"<blockquote>{e(ex.text.strip())}</blockquote>" if ex.text else "")
                    + (f'<p class="muted">{e(ex.note.strip())}</p>' if ex.note else "")
                    + f'<div>{w("when")}</div>{code(ex.when.source) if ex.when else ""}'
                    + f'<div>{w("then")}</div>{code(ex.value.source) if ex.value else ""}'
                    + "</div>")
            out.append("</div>")
        return "".join(out)

    def body_html(self, here: str, rule, v, depth: int) -> str:
        return _BodyHtml(self, here, v, depth).visit(v.body)

    def facts_html(self, rule) -> str:
        names = self.p.facts_of(rule.id)
        out = [f'<h2>{w("facts_read")}</h2>']
        if not names:
            return out[0] + f"<p>{w('no_facts')}</p>"
        rows = []
        for name in names:
            decl = self.p.fact_decl(rule.id, name)
            if decl is None:
                rows.append([f"<code>{e(name)}</code>", "", "", ""])
                continue
            t = decl.type
            allowed = []
            if t.kind == "enum":
                allowed.append(", ".join(f"<code>{e(x)}</code>" for x in t.values))
            elif t.kind == "list" and t.of is not None and t.of.kind == "enum":
                allowed.append(", ".join(f"<code>{e(x)}</code>" for x in t.of.values))
            if decl.minimum is not None:
                allowed.append(f"{w('min')} {e(fmt(decl.minimum))}")
            if decl.maximum is not None:
                allowed.append(f"{w('max')} {e(fmt(decl.maximum))}")
            if decl.unit:
                allowed.append(f"{w('unit')}: {e(decl.unit)}")
            if decl.presumption is not None:
                pr = decl.presumption
                allowed.append(f"{w('presumed')}: <code>{e(fmt(pr.value))}</code>"
                               + (f" [{e(pr.citation)}]" if pr.citation else "") + f" — {label(pr.reason)}")
            kind = t.kind + (f" of {t.of.kind}" if t.kind == "list" and t.of is not None else "")
            rows.append([f"<code>{e(name)}</code>", f"<code>{e(kind)}</code>", "<br>".join(allowed),
                         label(decl.label) + (f'<div class="muted">{e(decl.description)}</div>'
                                              if decl.description else "")])
        return out[0] + table([w("fact"), w("kind"), w("allowed"), w("label")], rows)

    def uses_html(self, here: str, rule) -> str:
        node = ("rule", rule.id)
        used = sorted(n for n in self.g.predecessors(node) if n[0] in ("rule", "table")) if node in self.g else []
        out = f'<h2>{w("uses")}</h2>'
        if not used:
            return out + f"<p>{w('uses_nothing')}</p>"
        rows = []
        for kind, ident in used:
            obj = self.p.rules.get(ident) if kind == "rule" else self.p.tables.get(ident)
            rows.append([self.link_to(here, kind, ident), w(kind), e(obj.citation) if obj else "",
                         label(obj.label) if obj else ""])
        return out + table([w("id"), w("kind"), w("citation"), w("label")], rows)

    def dependents_html(self, here: str, rule) -> str:
        node = ("rule", rule.id)
        out = f'<h2>{w("depends")}</h2>'
        if node not in self.g:
            return out + f"<p>{w('no_dependents')}</p>"
        direct = {n for n in self.g.successors(node)}
        users = sorted(n[1] for n in self.p.graph.dependents("rule", rule.id) if n[0] == "rule")
        if not users:
            return out + f"<p>{w('no_dependents')}</p>"
        rows = []
        for rid in users:
            r = self.p.rules[rid]
            rows.append([self.link_to(here, "rule", rid)
                         + (f' <span class="tag dec">{w("decision")}</span>' if r.decision else ""),
                         e(r.citation), label(r.label),
                         w("direct") if ("rule", rid) in direct else ""])
        return out + table([w("rule"), w("citation"), w("label"), ""], rows)

    def tests_html(self, rule) -> str:
        covering = self.covering.get(rule.id, [])
        out = [f'<h2>{w("covering")} ({len(covering)})</h2>']
        if not covering:
            out.append(f"<p>{w('untested')}</p>")
            return "".join(out)
        groups: dict = {}
        for case, via in covering:
            groups.setdefault(via, []).append(case)
        for via in sorted(groups, key=lambda x: (x is not None, x or "")):
            cases = groups[via]
            if via is None:
                head = f"{w('tested_directly')} ({len(cases)} {w('cases')})"
            else:
                head = (f"{w('through')} <code>{e(via)}</code> ({len(cases)} {w('cases')})")
            items = "".join(f"<li>{e(c.name)} — <code>{e(self.shown(c.file))}:{e(c.line)}</code> "
                            f'<span class="muted">{w("as_of")} {e(fmt(c.as_of))}</span></li>' for c in cases)
            opened = " open" if via is None or len(cases) <= 10 else ""
            out.append(f'<details{opened}><summary>{head}</summary><ul class="compact">{items}</ul></details>')
        return "".join(out)

    def versions_html(self, rule) -> str:
        rows = []
        first_text = (rule.text or "").strip()
        for v in rule.versions:
            text = (v.text or "").strip()
            rows.append([e(v.effective) if v.effective else w("with_instrument"), e(last_day(v.end)),
                         e(v.approved or ""), e(v.citation or rule.citation),
                         f"<blockquote>{e(text)}</blockquote>" if text and text != first_text
                         else (f"<blockquote>{e(first_text)}</blockquote>" if len(rule.versions) == 1
                               else w("same_text"))])
        return (f'<h2>{w("versions")} ({len(rule.versions)})</h2>'
                + table([w("effective"), w("last_day"), w("approved"), w("citation"), w("text")], rows))

    # -- table ------------------------------------------------------------------------------
    def table_page(self, tbl) -> str:
        here = page_table(tbl)
        iid = tbl.instrument
        out = [f'<h1><span class="rid">{e(tbl.id)}</span>{label(tbl.label)}</h1>']
        keys = ", ".join(f"<code>{e(k.name)}</code> ({', '.join(e(fmt(x)) for x in k.values)})" for k in tbl.keys)
        out.append(meta([
            ("citation", e(tbl.citation)),
            ("clause", f"<code>{e(tbl.clause)}</code>"),
            ("instrument", f'<a href="{e(rel(here, page_instrument(iid)))}">{label(self.p.instruments[iid].title)}'
                           "</a>" if iid in self.p.instruments else e(iid)),
            ("label_en", e(tbl.label.en)), ("label_fr", e(tbl.label.fr)),
            ("keys", keys), ("value_type", f"<code>{e(tbl.value_type)}</code>"),
            ("approved", e(tbl.approved or "")),
            ("note", e(tbl.note.strip()) if tbl.note else ""),
            ("defined_in", f"<code>{e(self.shown(tbl.location.path))}:{e(tbl.location.line)}</code>"
             if tbl.location else ""),
        ]))
        out.append(f'<h2>{w("source_text")}</h2><blockquote>{e((tbl.text or "").strip())}</blockquote>')
        for v in tbl.versions:
            vid = "v-" + (v.effective.isoformat() if v.effective else "undated")
            title = (f'{w("version_from")} {e(v.effective)}' if v.effective
                     else f'{w("version")} ({w("with_instrument")})')
            out.append(f'<h2 id="{vid}">{title}</h2>')
            out.append(meta([("effective", e(v.effective or "")), ("last_day", e(last_day(v.end))),
                             ("approved", e(v.approved or tbl.approved or "")),
                             ("version_label", e(v.label or ""))]))
            out.append(self.grid(tbl, v))
        users = sorted(n[1] for n in self.g.successors(("table", tbl.id)) if n[0] == "rule") \
            if ("table", tbl.id) in self.g else []
        out.append(f'<h2>{w("used_by")}</h2>')
        out.append(table([w("rule"), w("citation"), w("label")], [
            [self.link_to(here, "rule", rid), e(self.p.rules[rid].citation), label(self.p.rules[rid].label)]
            for rid in users]) if users else f"<p>{w('no_dependents')}</p>")
        crumbs = [(page_instrument(iid), f"<code>{e(iid)}</code>"), (here, f"<code>{e(tbl.id)}</code>")]
        return self.page(here, f"{tbl.id}: {tbl.label.en}", f"{tbl.id} : {tbl.label.fr}", crumbs, "\n".join(out))

    def grid(self, tbl, v) -> str:
        keys = tbl.keys
        num = ' class="num"' if tbl.value_type.kind in ("money", "integer", "decimal") else ""
        if len(keys) == 1:
            rows = [[f"<th>{e(fmt(k))}</th>", f"<td{num}>{e(fmt(v.cells.get((k,))))}</td>"]
                    for k in keys[0].values if (k,) in v.cells]
            return table([f"<code>{e(keys[0].name)}</code>", w("value")], rows)
        row_keys = []
        for key in v.cells:
            if key[:-1] not in row_keys:
                row_keys.append(key[:-1])
        order = {}
        for i, k in enumerate(keys[:-1]):
            order[i] = {x: n for n, x in enumerate(k.values)}
        row_keys.sort(key=lambda rk: tuple(order[i].get(x, len(order[i])) for i, x in enumerate(rk)))
        cols = list(keys[-1].values)
        corner = " / ".join(f"<code>{e(k.name)}</code>" for k in keys[:-1]) + f" \\ <code>{e(keys[-1].name)}</code>"
        rows = []
        for rk in row_keys:
            cells = [f"<th>{e(' / '.join(fmt(x) for x in rk))}</th>"]
            for c in cols:
                val = v.cells.get(rk + (c,))
                cells.append(f"<td{num}>{e(fmt(val))}</td>")
            rows.append(cells)
        return table([corner] + [e(fmt(c)) for c in cols], rows)

    # -- catalogue --------------------------------------------------------------------------
    def catalogue(self, cat) -> str:
        here = page_catalogue(cat)
        iid = cat.instrument
        out = [f'<h1><span class="rid">{e(cat.id)}</span>{label(cat.label)}</h1>']
        out.append(meta([
            ("citation", e(cat.citation)), ("clause", f"<code>{e(cat.clause)}</code>"),
            ("instrument", f'<a href="{e(rel(here, page_instrument(iid)))}">{label(self.p.instruments[iid].title)}'
                           "</a>" if iid in self.p.instruments else e(iid)),
            ("note", e(cat.note.strip()) if cat.note else ""),
        ]))
        if cat.text:
            out.append(f'<h2>{w("source_text")}</h2><blockquote>{e(cat.text.strip())}</blockquote>')
        out.append(f'<h2>{w("fields")}</h2>')
        frows = []
        for name, decl in cat.fields.items():
            t = decl.type
            inner = t.of if t.kind == "list" else t
            allowed = ", ".join(f"<code>{e(x)}</code>" for x in inner.values) if inner is not None and \
                inner.kind == "enum" else ""
            frows.append([ident_html(name), f"<code>{e(t.kind)}</code>", allowed, label(decl.label)])
        out.append(table([w("field"), w("kind"), w("allowed"), w("label")], frows))
        queries = sorted((q for q in self.p.queries.values() if q.catalogue == cat.id), key=lambda q: q.id)
        if queries:
            out.append(f'<h2>{w("queries")}</h2>' + self.queries_html(here, queries))
        out.append(f'<h2>{w("entries")} ({len(cat.entries)})</h2>')
        rows = []
        for en in cat.entries:
            vals = []
            for name in cat.fields:
                if name in en.values:
                    vals.append(f"<code>{e(name)}</code>: {e(fmt(en.values[name]))}")
                if name in (en.uncertain or {}):
                    vals.append(f"<code>{e(name)}</code> <span class=\"tag\">{w('uncertain')}</span>: "
                                f"{e(fmt(en.uncertain[name]))}")
            extra = "".join(f'<p class="muted">{e(x.strip())}</p>' for x in (en.uncertain_note, en.note) if x)
            rows.append([f'<code id="{anchor(en.id)}">{e(en.id)}</code>', e(en.citation),
                         label(en.label) + f"<blockquote>{e((en.text or '').strip())}</blockquote>" + extra,
                         "<br>".join(vals)])
        out.append(table([w("id"), w("citation"), w("text"), w("fields")], rows))
        crumbs = [(page_instrument(iid), f"<code>{e(iid)}</code>"), (here, f"<code>{e(cat.id)}</code>")]
        return self.page(here, f"{cat.id}: {cat.label.en}", f"{cat.id} : {cat.label.fr}", crumbs, "\n".join(out))


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
