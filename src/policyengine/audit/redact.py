"""Redacted views of decision records, under the instrument's own confidentiality clause.

What counts as personal is declared on each fact and rule (`disclosure:`; undeclared facts
and values are treated as "other personal information"); whether a kind may be shown is
decided by the instrument's disclosure rule — for the LDP directive, 6.3.1: only an
individual's salary *range* may be disclosed to readers whose work does not require
more.  Nothing here lists fields by hand.
"""
from __future__ import annotations

import copy

from ..errors import InputError
from ..values import plain

WITHHELD = "[withheld]"
VIEWS = ("full", "public")
KINDS = ("specific_salary", "group_and_level", "promotion_board_outcome", "other_personal")


class Redactor:
    def __init__(self, policies, record: dict):
        self.p = policies
        self.record = record
        rule = policies.rules.get(record["decision"])
        if rule is None:
            raise InputError([f"record of unknown decision '{record['decision']}'"])
        self.decision = rule
        self.config = policies.instruments[rule.instrument].disclosure
        self.allowed = {"public": True}
        self.basis = None
        if self.config.get("rule"):
            rid = f"{rule.instrument}.{self.config['rule']}"
            basis = policies.rules[rid]
            self.basis = {"rule": rid, "clause": basis.clause, "citation": basis.citation, "text": basis.text}
            for kind in KINDS:
                d = policies.evaluate(rid, {"information": kind, "work_requires": False}, as_of=record["as_of"],
                                      trace="none")
                self.allowed[kind] = d.value is True
        else:  # no clause says what may be shown: show nothing personal
            self.allowed.update(dict.fromkeys(KINDS, False))
        self.range = self._salary_range()

    def _salary_range(self):
        rid = self.config.get("salary_range")
        if not rid:
            return None
        d = self.p.evaluate(f"{self.decision.instrument}.{rid}", self.record.get("facts") or {},
                            as_of=self.record["as_of"], trace="none")
        return {"salary_range": plain(d.value)} if d.status == "decided" else None

    def hide(self, kind: str | None, value):
        kind = kind or "other_personal"
        if self.allowed.get(kind, False):
            return value
        if kind == "specific_salary" and self.range is not None:
            return self.range
        return WITHHELD

    def fact(self, name, value):
        decl = self.p.fact_decl(self.decision.id, name)
        return self.hide(decl.disclosure if decl else None, value)

    def value(self, rule, value):
        kind = rule.disclosure if rule is not None else None
        if isinstance(kind, dict) and isinstance(value, dict):
            return {k: self.hide(kind.get(k), v) for k, v in value.items()}
        if isinstance(value, dict) and not isinstance(kind, str):
            return {k: self.hide(None, v) for k, v in value.items()}
        return self.hide(kind if isinstance(kind, str) else None, value)

    def node(self, n: dict) -> None:
        if "facts_read" in n:
            n["facts_read"] = {k: self.fact(k, v) for k, v in n["facts_read"].items()}
        rule = self.p.rules.get(n.get("id", "")) if n["kind"] in ("rule", "ref") else None
        if "value" in n:
            n["value"] = self.value(rule, n["value"])
        if "outcome" in n and n["kind"] != "table":
            n["outcome"] = self.hide(rule.disclosure if rule and isinstance(rule.disclosure, str) else None, n["outcome"])
        if n["kind"] == "table":  # keys and cell come from the person's facts
            n["keys"] = WITHHELD
            n["value"] = WITHHELD
        if "steps" in n:
            n["steps"] = WITHHELD
        for c in n.get("children", []):
            self.node(c)

    def run(self) -> dict:
        out = copy.deepcopy(self.record)
        out["facts"] = {k: self.fact(k, v) for k, v in (out.get("facts") or {}).items()}
        out["value"] = self.value(self.decision, out.get("value"))
        for n in out.get("trace") or []:
            self.node(n)
        out["view"] = "public"
        out["redaction"] = {"basis": self.basis, "withheld": WITHHELD,
                            "shown_kinds": sorted(k for k, ok in self.allowed.items() if ok)}
        return out


def view(record: dict, policies, view: str = "full") -> dict:
    """The record as the chosen view shows it: 'full' for authorized readers, 'public' redacted."""
    if view not in VIEWS:
        raise InputError([f"view: expected one of {', '.join(VIEWS)}, got {view!r}"])
    if view == "full":
        return record
    return Redactor(policies, record).run()
