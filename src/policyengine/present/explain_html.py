"""Decisions as self-contained HTML documents for auditors, in English or French.

Works from a decision record alone (``Decision.to_dict()``, possibly with the keys the
decision log adds: id, seq, made_at, hash, prev_hash, subject), so a decision logged
years ago renders as it did.  The document is one file: the stylesheet inline, no scripts,
no external resources, so it can be saved and opened offline or printed.

The page's structure is the template templates/explanation.html; this module only gathers
what it shows.  Words come from the catalogue (words.py), values from the formatter
(format.py), and every text from the record is escaped by the template engine.
"""
from __future__ import annotations

from .explain import _failed, _known
from .format import Formatter
from .templating import render as _render
from .words import LANGS, WORDS


def render(record: dict, lang: str = "en", policies=None) -> str:
    """The decision record as one self-contained HTML5 document in `lang` ('en' or 'fr').

    `policies` is optional; it supplies the labels of missing facts (else the fact name alone
    is shown) and the types that format values (money as money)."""
    lang = lang if lang in LANGS else "en"
    return _render("explanation.html", doc=_Doc(record, lang, policies), r=record, lang=lang, w=WORDS[lang])


class _Doc:
    """What the template asks of the record: labels, typed values, the "why not" list, the footer."""

    def __init__(self, r: dict, lang: str, policies):
        self.r, self.lang, self.policies = r, lang, policies
        self.w = WORDS[lang]
        self.f = Formatter(lang, policies, r.get("decision"))
        self.quoted: set = set()
        trace = r.get("trace")
        top = trace[0] if trace else {}
        self.title = self.label(top) if top.get("label") else r.get("decision", "")
        decision = r.get("decision", "")
        self.decision_id = decision if decision and decision != self.title else ""

    def label(self, n: dict) -> str:
        lab = n.get("label") or {}
        if isinstance(lab, dict):
            return lab.get(self.lang) or lab.get("en") or n.get("id") or ""
        return str(lab)

    def first_quote(self, text: str) -> bool:
        """True the first time a source text is met: it is quoted once, then referred to."""
        if text in self.quoted:
            return False
        self.quoted.add(text)
        return True

    def known(self, v: dict) -> str:
        return _known(v, self.w)

    def fact_label(self, name: str):
        decl = self.f._decl(name)
        lab = getattr(decl, "label", None) if decl is not None else None
        if lab is None:
            return None
        return lab.get(self.lang) if hasattr(lab, "get") else getattr(lab, self.lang, None)

    def outcome_fields(self):
        """(name, value, type) of a record outcome; None when the outcome is not a record."""
        value = self.r.get("value")
        if not isinstance(value, dict) or set(value) == {"salary_range"}:
            return None
        types = self.f.field_types(self.f.outcome_type())
        return [(k, v, types.get(k)) for k, v in value.items()]

    def why_not(self):
        """(node, the clause it belongs to) for each condition that failed, when the answer is no."""
        trace = self.r.get("trace")
        if not trace or self.r.get("value") is not False:
            return []
        parents: dict = {}

        def walk(nodes, parent):
            for n in nodes:
                parents[id(n)] = parent
                walk(n.get("children") or [], n)
        walk(trace, None)
        out = []
        for n in _failed(trace):
            owner = n if n.get("citation") else parents.get(id(n))
            while owner is not None and not owner.get("citation"):
                owner = parents.get(id(owner))
            out.append((n, owner))
        return out

    def footer(self):
        r = self.r
        rows = [("policy", r.get("policy_hash")), ("engine_version", r.get("engine_version")),
                ("trace_level", r.get("trace_level"))]
        rows += [(k, r.get(src)) for k, src in (("log_id", "id"), ("seq", "seq"), ("made_at", "made_at"),
                                                 ("hash", "hash"), ("prev_hash", "prev_hash"))]
        if r.get("view") != "public":  # who the decision is about is personal: kept out of public views
            rows.append(("subject", r.get("subject")))
        return [(k, self.f.value(v) if isinstance(v, (dict, list)) else str(v)) for k, v in rows
                if v is not None and v != ""]
