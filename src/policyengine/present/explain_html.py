"""Decisions as self-contained HTML documents for auditors, in English or French.

Works from a decision record alone (``Decision.to_dict()``, possibly with the keys the
decision log adds: id, seq, made_at, hash, prev_hash, subject), so a decision logged
years ago renders as it did.  The document is one file: inline CSS, no scripts, no
external resources, so it can be saved and opened offline or printed.

Every piece of text comes from the record (labels, citations, source text, fact values)
and is escaped; the engine's own words come from explain.WORDS plus the few below.
"""
from __future__ import annotations

from html import escape

from .explain import WORDS, _failed, _known

# Words the text account does not need; every key exists in both languages.
HTML_WORDS = {
    "en": {
        "status": "Status", "value_head": "Value", "field": "Field", "fact": "Fact",
        "facts_given": "Facts given", "no_facts": "No facts were given.",
        "messages": "Refusals and conflicts", "conflict_under": "Conflict under",
        "clause": "clause", "rule": "rule", "table": "table", "see_above": "see above",
        "quoted_above": "source text quoted above",
        "keys": "table keys", "missing_here": "facts missing here", "refused_by": "refused by",
        "not_determined": "not determined", "location": "location", "condition": "condition",
        "audit": "Audit record", "engine_version": "Engine version", "trace_level": "Trace level",
        "log_id": "Log entry", "seq": "Sequence number", "made_at": "Recorded at", "hash": "Record hash",
        "prev_hash": "Previous record hash", "subject": "Subject", "in_clause": "in",
        "exception_not_applied": "exception not applied", "version_label": "version",
    },
    "fr": {
        "status": "Statut", "value_head": "Valeur", "field": "Champ", "fact": "Fait",
        "facts_given": "Faits fournis", "no_facts": "Aucun fait n'a été fourni.",
        "messages": "Refus et conflits", "conflict_under": "Conflit en vertu de",
        "clause": "disposition", "rule": "règle", "table": "table", "see_above": "voir ci-dessus",
        "quoted_above": "texte source cité plus haut",
        "keys": "clés de la table", "missing_here": "faits manquants ici", "refused_by": "refusé par",
        "not_determined": "non déterminé", "location": "emplacement", "condition": "condition",
        "audit": "Données de vérification", "engine_version": "Version du moteur", "trace_level": "Niveau de trace",
        "log_id": "Entrée du journal", "seq": "Numéro d'ordre", "made_at": "Enregistrée le",
        "hash": "Empreinte de l'enregistrement", "prev_hash": "Empreinte de l'enregistrement précédent",
        "subject": "Personne visée", "in_clause": "dans",
        "exception_not_applied": "exception non appliquée", "version_label": "version",
    },
}

CSS = """
:root { color-scheme: light; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Noto Sans",
       "Liberation Sans", sans-serif; color: #000; background: #fff; line-height: 1.45;
       max-width: 60rem; margin: 1.5rem auto; padding: 0 1rem; font-size: 11pt; }
h1 { font-size: 1.5em; margin: 0 0 .25em; }
h2 { font-size: 1.15em; margin: 1.4em 0 .4em; border-bottom: 1px solid #000; padding-bottom: .1em; }
code, .mono { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "Liberation Mono", monospace;
              font-size: .92em; overflow-wrap: anywhere; }
table { border-collapse: collapse; margin: .3em 0 .6em; }
th, td { border: 1px solid #444; padding: .2em .6em; text-align: left; vertical-align: top; }
th { background: #eee; }
.meta { margin: 0 0 .3em; }
.badge { display: inline-block; border: 2px solid #000; padding: 0 .4em; font-weight: bold; }
.status-decided { border-color: #1a6b2a; color: #1a6b2a; }
.status-undetermined { border-color: #8a5a00; color: #8a5a00; }
.status-refused, .status-conflict { border-color: #a11; color: #a11; }
.yes { color: #1a6b2a; font-weight: bold; }
.no { color: #a11; font-weight: bold; }
.unknown { color: #8a5a00; font-style: italic; }
ul.trace, ul.trace ul { list-style: none; padding-left: 1.2em; margin: .2em 0; border-left: 1px dotted #888; }
ul.trace { border-left: none; padding-left: 0; }
ul.trace li { margin: .35em 0; }
.node-head { font-weight: bold; }
.cite { font-weight: normal; }
.detail { margin: .1em 0; font-size: .95em; }
.kind { font-variant: small-caps; font-weight: normal; }
.ref { color: #333; }
blockquote { font-family: Georgia, "Times New Roman", Times, serif; margin: .3em 0 .3em .2em;
             padding: .2em .8em; border-left: 3px solid #000; background: #f6f6f6; }
.messages li { margin: .3em 0; }
footer { margin-top: 2em; border-top: 2px solid #000; padding-top: .4em; font-size: .9em; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0; }
footer dt { font-weight: bold; }
footer dd { margin: 0; overflow-wrap: anywhere; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  th, blockquote { background: #fff; }
  .badge, .yes, .no, .unknown { color: #000; }
  blockquote, table, li { break-inside: avoid; }
  h2 { break-after: avoid; }
}
"""


def render(record: dict, lang: str = "en", policies=None) -> str:
    """The decision record as one self-contained HTML5 document in `lang` ('en' or 'fr').

    `policies` is optional; it only supplies the labels of missing facts (else the fact
    name alone is shown)."""
    lang = lang if lang in WORDS and lang in HTML_WORDS else "en"
    w = {**WORDS[lang], **HTML_WORDS[lang]}
    return _Doc(record, lang, w, policies).build()


def _e(value) -> str:
    return escape(str(value), quote=True)


class _Doc:
    def __init__(self, r: dict, lang: str, w: dict, policies):
        self.r, self.lang, self.w, self.policies = r, lang, w, policies
        self.out: list[str] = []
        self.quoted: set = set()

    # -- values --------------------------------------------------------------------------
    def text(self, value) -> str:
        """Plain (unescaped) text of a value, as explain.py writes it."""
        w = self.w
        if value is None:
            return w["not_given"]
        if value is True or value is False:
            return w[str(value).lower()]
        if isinstance(value, dict) and set(value) == {"salary_range"} and isinstance(value["salary_range"], dict):
            rng = value["salary_range"]
            return f"{w['range']} {rng.get('minimum')}–{rng.get('maximum')}"
        if isinstance(value, dict):
            return ", ".join(f"{k} = {self.text(v)}" for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return ", ".join(self.text(v) for v in value)
        return str(value)

    def val(self, value) -> str:
        """A value as escaped HTML; booleans and unknowns carry a class as well as their word."""
        if value is True:
            return f'<span class="yes">{_e(self.w["true"])}</span>'
        if value is False:
            return f'<span class="no">{_e(self.w["false"])}</span>'
        if value is None:
            return f'<span class="unknown">{_e(self.w["not_given"])}</span>'
        return _e(self.text(value))

    def pairs(self, d: dict) -> str:
        return ", ".join(f"<code>{_e(k)}</code> = {self.val(v)}" for k, v in d.items())

    def label(self, n: dict) -> str:
        lab = n.get("label") or {}
        if isinstance(lab, dict):
            return lab.get(self.lang) or lab.get("en") or n.get("id") or ""
        return str(lab)

    # -- document ------------------------------------------------------------------------
    def build(self) -> str:
        r, w = self.r, self.w
        trace = r.get("trace")
        top = trace[0] if trace else {}
        title = self.label(top) if top.get("label") else r.get("decision", "")
        decision = r.get("decision", "")
        head_title = f"{w['decision']}: {title}" + (f" ({decision})" if decision and decision != title else "")
        o = self.out
        o.append("<!DOCTYPE html>")
        o.append(f'<html lang="{_e(self.lang)}">')
        o.append("<head>")
        o.append('<meta charset="utf-8">')
        o.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
        o.append(f"<title>{_e(head_title)}</title>")
        o.append(f"<style>{CSS}</style>")
        o.append("</head>")
        o.append("<body>")
        o.append("<header>")
        o.append(f'<h1>{_e(w["decision"])}: {_e(title)}'
                 + (f' <code class="decision-id">({_e(decision)})</code>' if decision and decision != title else "")
                 + "</h1>")
        o.append(f'<p class="meta as-of">{_e(w["as_of"])} <time>{_e(r.get("as_of", ""))}</time>'
                 + (f', {_e(w["known_on"])} <time class="known-on">{_e(r["known_on"])}</time>'
                    if r.get("known_on") else "") + "</p>")
        if r.get("view") == "public" and (r.get("redaction") or {}).get("basis"):
            basis = r["redaction"]["basis"]
            o.append(f'<p class="meta view">{_e(w["view_public"])} {_e(basis.get("citation", ""))}</p>')
        o.append("</header>")
        self.outcome()
        self.assumptions()
        self.excluded()
        self.missing()
        self.messages()
        self.facts()
        self.clauses()
        self.why_not()
        self.footer()
        o.append("</body>")
        o.append("</html>")
        return "\n".join(o) + "\n"

    def outcome(self) -> None:
        r, w, o = self.r, self.w, self.out
        status = r.get("status", "")
        word = w.get(status, status)
        o.append('<section class="outcome">')
        o.append(f'<h2>{_e(w["outcome"])}</h2>')
        o.append(f'<p>{_e(w["status"])}: <span class="badge status-{_e(status)}">{_e(word)}</span></p>')
        if status == "decided":
            value = r.get("value")
            if isinstance(value, dict) and set(value) != {"salary_range"}:
                o.append('<table class="value">')
                o.append(f'<thead><tr><th scope="col">{_e(w["field"])}</th>'
                         f'<th scope="col">{_e(w["value_head"])}</th></tr></thead>')
                o.append("<tbody>")
                for k, v in value.items():
                    o.append(f'<tr><th scope="row"><code>{_e(k)}</code></th><td>{self.val(v)}</td></tr>')
                o.append("</tbody>")
                o.append("</table>")
            else:
                o.append(f'<p class="value">{_e(w["value_head"])}: {self.val(value)}</p>')
        o.append("</section>")

    def missing(self) -> None:
        names = self.r.get("missing") or []
        if not names:
            return
        items = []
        for n in names:
            lab = self.fact_label(n)
            items.append(f"<li><code>{_e(n)}</code>" + (f" ({_e(lab)})" if lab else "") + "</li>")
        self.listed("missing", self.w["missing"], items)

    def listed(self, css: str, title: str, items: list[str]) -> None:
        """A section with a heading and a list of ready-made <li> items."""
        self.out.extend([f'<section class="{css}">', f"<h2>{_e(title)}</h2>", "<ul>", *items, "</ul>", "</section>"])

    def assumptions(self) -> None:
        """The presumptions the decision rests on, each with its clause and reason."""
        r, w, o = self.r, self.w, self.out
        items = r.get("assumptions") or []
        if not items:
            if r.get("presume") is False:
                o.append(f'<p class="strict">{_e(w["strict"])}</p>')
            return
        lines = []
        for a in items:
            lab = self.fact_label(a.get("fact", ""))
            cite = f' <span class="cite">[{_e(a["citation"])}]</span>' if a.get("citation") else ""
            reason = (a.get("reason") or {}).get(self.lang) or (a.get("reason") or {}).get("en", "")
            lines.append(f'<li><code>{_e(a.get("fact", ""))}</code>' + (f" ({_e(lab)})" if lab else "")
                         + f" = {self.val(a.get('value'))}{cite}: {_e(reason)}</li>")
        self.listed("assumptions", w["presumptions"], lines)

    def fact_label(self, name: str):
        if self.policies is None:
            return None
        try:
            decl = self.policies.fact_decl(self.r["decision"], name)
        except Exception:  # a decision no longer in these policies: the name alone will do
            return None
        if decl is None:
            return None
        lab = getattr(decl, "label", None)
        if lab is None:
            return None
        return lab.get(self.lang) if hasattr(lab, "get") else getattr(lab, self.lang, None)

    def messages(self) -> None:
        msgs = self.r.get("messages") or []
        if not msgs:
            return
        w, items = self.w, []
        for m in msgs:
            kind = m.get("kind", "")
            lead = w["refusal"] if kind == "refused" else w["conflict_under"]
            text = m.get(self.lang) or m.get("en") or ""
            clause = f' <code>{_e(m["clause"])}</code>' if m.get("clause") else ""
            items.append(f'<li class="message {_e(kind)}"><strong>{_e(lead)} {_e(m.get("citation", ""))}</strong>'
                         f"{clause}: {_e(text)}</li>")
        self.listed("messages", w["messages"], items)

    def facts(self) -> None:
        w, o = self.w, self.out
        facts = self.r.get("facts") or {}
        o.append('<section class="facts">')
        o.append(f'<h2>{_e(w["facts_given"])}</h2>')
        if not facts:
            o.append(f"<p>{_e(w['no_facts'])}</p>")
        else:
            o.append('<table class="facts">')
            o.append(f'<thead><tr><th scope="col">{_e(w["fact"])}</th>'
                     f'<th scope="col">{_e(w["value_head"])}</th></tr></thead>')
            o.append("<tbody>")
            for k, v in facts.items():
                o.append(f'<tr><th scope="row"><code>{_e(k)}</code></th><td>{self.val(v)}</td></tr>')
            o.append("</tbody>")
            o.append("</table>")
        o.append("</section>")

    # -- trace ---------------------------------------------------------------------------
    def clauses(self) -> None:
        w, o = self.w, self.out
        trace = self.r.get("trace")
        o.append('<section class="clauses">')
        o.append(f'<h2>{_e(w["clauses"])}{_e(w["source_lang"])}</h2>')
        if trace is None:
            o.append(f"<p>{_e(w['not_recorded'])}</p>")
        else:
            o.append('<ul class="trace">')
            for n in trace:
                self.node(n)
            o.append("</ul>")
        o.append("</section>")

    def node(self, n: dict) -> None:
        w, o = self.w, self.out
        kind = n.get("kind", "")
        if kind == "exception" and not n.get("outcome") and "missing" not in n:
            return  # as in the text account: exceptions that certainly do not apply are not shown
        o.append(f'<li class="node {_e(kind)}">')
        if kind == "exception" and not n.get("outcome"):
            o.append(f'<div class="node-head">{_e(self.label(n))} <span class="cite">[{_e(n.get("citation", ""))}]'
                     f'</span> <span class="unknown">({_e(w["exception_unknown"])} '
                     f'{_e(", ".join(n["missing"]) or w["source_gap"])})</span></div></li>')
            return
        if kind == "condition":
            shown = (self.val(n["outcome"]) if "outcome" in n
                     else f'<span class="unknown">{_e(w["not_determined"])}</span>')
            o.append(f'<div class="node-head"><span class="kind">{_e(w["condition"])}</span> '
                     f'<code class="expr">{_e(n.get("expression", ""))}</code>: {shown}</div>')
            if n.get("location"):
                o.append(f'<div class="detail">{_e(w["location"])}: <code>{_e(n["location"])}</code></div>')
        elif kind == "ref":
            o.append(f'<div class="node-head ref">{_e(self.label(n))} '
                     f'<span class="cite">[{_e(n.get("citation", ""))}]</span> = {self.val(n.get("value"))} '
                     f'<span class="cite">({_e(w["see_above"])})</span></div>')
        else:
            extra = f' <span class="kind">({_e(w["exception_applied"])})</span>' if kind == "exception" else ""
            o.append(f'<div class="node-head">{_e(self.label(n))} '
                     f'<span class="cite">[{_e(n.get("citation", ""))}]</span>{extra}</div>')
            ids = []
            if n.get("clause"):
                ids.append(f'{_e(w["clause"])} <code>{_e(n["clause"])}</code>')
            if n.get("id"):
                ids.append(f'{_e(w["table" if kind == "table" else "rule"])} <code>{_e(n["id"])}</code>')
            if ids:
                o.append(f'<div class="detail ids">{"; ".join(ids)}</div>')
            self.version(n.get("version"))
            text = n.get("text")
            if text:
                if text in self.quoted:
                    o.append(f'<div class="detail quoted">({_e(w["quoted_above"])})</div>')
                else:
                    self.quoted.add(text)
                    o.append(f'<blockquote lang="en">{_e(text)}</blockquote>')
            if kind == "table" and "keys" in n:
                keys = n["keys"]
                shown = self.pairs(keys) if isinstance(keys, dict) else self.val(keys)
                o.append(f'<div class="detail keys">{_e(w["keys"])}: {shown} → {self.val(n.get("value"))}</div>')
            elif "value" in n:
                o.append(f'<div class="detail value">{_e(w["value"])}: {self.val(n["value"])}</div>')
        if n.get("facts_read") and isinstance(n["facts_read"], dict):
            presumed = (f' <span class="presumed">({_e(w["presumed"])}: {_e(", ".join(n["presumed"]))})</span>'
                        if n.get("presumed") else "")
            o.append(f'<div class="detail facts-read">{_e(w["facts_read"])}: {self.pairs(n["facts_read"])}'
                     f'{presumed}</div>')
        if n.get("missing"):
            o.append(f'<div class="detail missing-here">{_e(w["missing_here"])}: '
                     + ", ".join(f"<code>{_e(m)}</code>" for m in n["missing"]) + "</div>")
        if n.get("exceptions_unknown_unchanged"):
            o.append(f'<div class="detail unchanged">{_e(w["unchanged"])}: '
                     + ", ".join(f"<code>{_e(m)}</code>" for m in n["exceptions_unknown_unchanged"]) + "</div>")
        if n.get("refused"):
            o.append(f'<div class="detail refused-by">{_e(w["refused_by"])}: '
                     + ", ".join(f"<code>{_e(m)}</code>" for m in n["refused"]) + "</div>")
        children = n.get("children") or []
        if children:
            o.append("<ul>")
            for c in children:
                self.node(c)
            o.append("</ul>")
        o.append("</li>")

    def version(self, v) -> None:
        if not v or not isinstance(v, dict) or not v.get("effective"):
            return
        w = self.w
        line = f'{_e(w["version"])} {_e(v["effective"])}'
        if v.get("approved"):
            line += f', {_e(w["approved"])} {_e(v["approved"])}'
        if v.get("label"):
            line += f' — {_e(w["version_label"])} « {_e(v["label"])} »' if self.lang == "fr" \
                else f' — {_e(w["version_label"])} “{_e(v["label"])}”'
        if v.get("known_by"):
            line += f'; {_e(w["known_from"])} {_e(v["known_from"])} ({_e(w[v["known_by"]])})'
        self.out.append(f'<div class="detail version">{line}</div>')

    def excluded(self) -> None:
        """Versions in force on as_of that evaluation "as known on" left out, and what it used."""
        items = self.r.get("versions_excluded") or []
        if not items:
            return
        w = self.w
        self.listed("versions-excluded", w["excluded"], [
            f'<li><code>{_e(x["id"])}</code> <span class="cite">[{_e(x["citation"])}]</span>: '
            f'{_e(_known(x["excluded"], w))}; {_e(w["used_instead"])}: '
            f'{_e(_known(x["used"], w)) if x.get("used") else _e(w["none_known"])}</li>' for x in items])

    def why_not(self) -> None:
        trace = self.r.get("trace")
        if not trace or self.r.get("value") is not False:
            return
        failed = list(_failed(trace))
        if not failed:
            return
        parents: dict = {}

        def walk(nodes, parent):
            for n in nodes:
                parents[id(n)] = parent
                walk(n.get("children") or [], n)
        walk(trace, None)
        w, o = self.w, self.out
        o.append('<section class="why-not">')
        o.append(f'<h2>{_e(w["why_not"])}</h2>')
        o.append("<ul>")
        for n in failed:
            if n.get("expression"):
                what = f'<code class="expr">{_e(n["expression"])}</code>'
            else:
                what = _e(self.label(n) or n.get("id", ""))
            owner = n if n.get("citation") else parents.get(id(n))
            while owner is not None and not owner.get("citation"):
                owner = parents.get(id(owner))
            where = ""
            if owner is not None:
                where = f' — {_e(w["in_clause"])} {_e(self.label(owner))} [{_e(owner["citation"])}]'
            facts = n.get("facts_read")
            read = f' ({_e(w["facts_read"])}: {self.pairs(facts)})' if isinstance(facts, dict) and facts else ""
            o.append(f"<li>{what}: {self.val(False)}{where}{read}</li>")
        o.append("</ul>")
        o.append("</section>")

    def footer(self) -> None:
        r, w, o = self.r, self.w, self.out
        rows = [("policy", r.get("policy_hash")), ("engine_version", r.get("engine_version")),
                ("trace_level", r.get("trace_level"))]
        rows += [(k, r.get(src)) for k, src in (("log_id", "id"), ("seq", "seq"), ("made_at", "made_at"),
                                                 ("hash", "hash"), ("prev_hash", "prev_hash"))]
        if r.get("view") != "public":  # who the decision is about is personal: kept out of public views
            rows.append(("subject", r.get("subject")))
        o.append('<footer class="audit">')
        o.append(f'<h2>{_e(w["audit"])}</h2>')
        o.append("<dl>")
        for key, value in rows:
            if value is None or value == "":
                continue
            shown = self.text(value) if isinstance(value, (dict, list)) else str(value)
            o.append(f'<dt>{_e(w[key])}</dt><dd><code>{_e(shown)}</code></dd>')
        o.append("</dl>")
        o.append("</footer>")
