"""How an answer changed: one case decided twice (two dates, two dates of knowledge, or two
policy versions), compared clause by clause.

Works on decision records (`Decision.to_dict()`, or records from the decision log), so a
live comparison and `log replay --current` say the same thing the same way: the clauses
that only one side applied, and those both applied whose outcome, value or version
differs.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from ..errors import InputError
from ..present.format import WORDS, fmt as _fmt

HEAD = {
    "en": {"title": "How the answer changed", "same": "Same answer, same clauses", "added": "applied only after",
           "removed": "applied only before", "changed": "changed", "outcome": "outcome", "value": "value",
           "version": "version", "before": "before", "after": "after", "status": "status"},
    "fr": {"title": "Comment la réponse a changé", "same": "Même réponse, mêmes dispositions",
           "added": "appliquée seulement après", "removed": "appliquée seulement avant", "changed": "changée",
           "outcome": "résultat", "value": "valeur", "version": "version", "before": "avant", "after": "après",
           "status": "statut"},
}


def _frames(nodes, out: dict) -> dict:
    """The clauses a record's trace applied: rule and table frames, and exceptions that
    applied, each by (kind, id), first appearance kept."""
    for n in nodes or ():
        kind = n.get("kind")
        if kind in ("rule", "table") or (kind == "exception" and n.get("outcome")):
            key = (kind, n["id"])
            if key not in out:
                v = n.get("version") or {}
                out[key] = {"kind": kind, "id": n["id"], "clause": n.get("clause"), "citation": n.get("citation"),
                            "label": n.get("label") or {}, "outcome": n.get("outcome"), "value": n.get("value"),
                            "version": v.get("effective"), "version_label": v.get("label")}
        _frames(n.get("children"), out)
    return out


@dataclass
class ClauseChange:
    kind: str
    id: str
    citation: str | None
    label: dict
    what: str  # "added" | "removed" | "changed"
    before: dict | None = None
    after: dict | None = None
    fields: list = field(default_factory=list)  # for "changed": which of outcome, value, version

    def to_dict(self) -> dict:
        pick = ("outcome", "value", "version", "version_label")
        return {"kind": self.kind, "id": self.id, "citation": self.citation, "label": self.label, "what": self.what,
                "fields": self.fields,
                "before": None if self.before is None else {k: self.before[k] for k in pick},
                "after": None if self.after is None else {k: self.after[k] for k in pick}}


@dataclass
class ExplainDiff:
    before: dict
    after: dict
    changes: list

    @property
    def same(self) -> bool:
        return not self.changes and self._top() == []

    def _top(self) -> list:
        return [k for k in ("status", "value") if self.before.get(k) != self.after.get(k)]

    def to_dict(self) -> dict:
        side = ("as_of", "known_on", "policy_hash", "status", "value")
        return {"decision": self.after.get("decision"), "same": self.same, "changed": self._top(),
                "before": {k: self.before.get(k) for k in side}, "after": {k: self.after.get(k) for k in side},
                "clauses": [c.to_dict() for c in self.changes]}


def compare(before: dict, after: dict) -> ExplainDiff:
    """Two records of one decision, clause by clause.  Both need a trace (audit or full)."""
    if before.get("decision") != after.get("decision"):
        raise InputError([f"cannot compare {before.get('decision')} with {after.get('decision')}: one decision"])
    if before.get("trace") is None or after.get("trace") is None:
        raise InputError(["both decisions need a trace (trace level audit or full) to be compared clause by clause"])
    a, b = _frames(before["trace"], {}), _frames(after["trace"], {})
    changes = []
    for key, f in b.items():
        if key not in a:
            changes.append(ClauseChange(f["kind"], f["id"], f["citation"], f["label"], "added", None, f))
    for key, f in a.items():
        if key not in b:
            changes.append(ClauseChange(f["kind"], f["id"], f["citation"], f["label"], "removed", f, None))
        else:
            g = b[key]
            diff = [k for k in ("outcome", "value", "version") if f[k] != g[k]]
            if diff:
                changes.append(ClauseChange(f["kind"], f["id"], f["citation"], f["label"], "changed", f, g, diff))
    order = {"changed": 0, "removed": 1, "added": 2}
    changes.sort(key=lambda c: (order[c.what], c.citation or "", c.id))
    return ExplainDiff(before, after, changes)


def decide_twice(policies, decision: str, facts: dict, first: dict, second: dict, other=None) -> ExplainDiff:
    """The case decided under `first` and `second` (each: as_of and, optionally, known_on),
    with `other` policies for the second when two policy versions are compared."""
    a = policies.evaluate(decision, facts, first["as_of"], trace="audit", known_on=first.get("known_on"))
    b = (other or policies).evaluate(decision, facts, second["as_of"], trace="audit",
                                     known_on=second.get("known_on"))
    return compare(a.to_dict(), b.to_dict())


def render_text(d: ExplainDiff, lang: str = "en") -> str:
    h, w = HEAD.get(lang, HEAD["en"]), WORDS.get(lang, WORDS["en"])
    b, a = d.before, d.after

    def when(r):
        return f"{w['as_of']} {r.get('as_of')}" + (f", {w['known_on']} {r['known_on']}" if r.get("known_on") else "")

    lines = [f"{h['title']}: {a.get('decision')}",
             f"  {h['before']}: {when(b)} — {w.get(b.get('status'), b.get('status'))}"
             + (f" {_fmt(b.get('value'), w)}" if b.get("status") == "decided" else ""),
             f"  {h['after']}:  {when(a)} — {w.get(a.get('status'), a.get('status'))}"
             + (f" {_fmt(a.get('value'), w)}" if a.get("status") == "decided" else "")]
    if b.get("policy_hash") != a.get("policy_hash"):
        lines.append(f"  {w['policy']}: {b.get('policy_hash')} → {a.get('policy_hash')}")
    if d.same:
        lines.append(h["same"])
        return "\n".join(lines)
    for c in d.changes:
        label = c.label.get(lang) or c.label.get("en") or c.id
        head = f"- [{c.citation}] {label} ({c.id}): {h[c.what]}"
        if c.what == "changed":
            parts = []
            for k in c.fields:
                old, new = c.before[k], c.after[k]
                if k == "version":
                    parts.append(f"{h['version']} {old} → {new}")
                else:
                    parts.append(f"{h[k]} {_fmt(old, w)} → {_fmt(new, w)}")
            head += ": " + "; ".join(parts)
        elif c.what == "added" and c.after.get("value") is not None:
            head += f" ({h['value']} {_fmt(c.after['value'], w)})"
        elif c.what == "removed" and c.before.get("value") is not None:
            head += f" ({h['value']} {_fmt(c.before['value'], w)})"
        lines.append(head)
    return "\n".join(lines)


def render_json(d: ExplainDiff) -> str:
    return json.dumps(d.to_dict(), ensure_ascii=False, indent=2)
