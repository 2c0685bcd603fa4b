"""The clause inventory: every numbered section of an instrument, and what encodes it.

Proves coverage the way an auditor would check it: operative sections each have at
least one rule, informative ones say why they have none, and no rule cites a section
the instrument does not have.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError, did_you_mean


@dataclass
class Row:
    section: str
    title: str
    operative: bool
    reason: str | None
    encoded_by: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.encoded_by) or not self.operative


@dataclass
class Inventory:
    instrument: str
    rows: list[Row]
    stray: list[tuple[str, str, str]]  # (element id, clause id, where) citing no listed section

    @property
    def operative(self) -> int:
        return sum(r.operative for r in self.rows)

    @property
    def encoded(self) -> int:
        return sum(r.operative and bool(r.encoded_by) for r in self.rows)

    @property
    def complete(self) -> bool:
        return all(r.ok for r in self.rows) and not self.stray

    def to_dict(self) -> dict:
        return {"instrument": self.instrument, "operative": self.operative, "encoded": self.encoded,
                "complete": self.complete,
                "sections": [{"section": r.section, "title": r.title,
                              "status": "operative" if r.operative else "informative",
                              "encoded_by": r.encoded_by, "reason": r.reason} for r in self.rows],
                "citations_to_missing_sections": [{"id": i, "clause": c, "location": w} for i, c, w in self.stray]}


def clauses_of(policies, instrument: str):
    """Every citable element of an instrument: rules, their exceptions, tables."""
    for rule in policies.rules.values():
        if rule.instrument != instrument:
            continue
        yield rule
        for v in rule.versions:
            yield from v.exceptions
    yield from (t for t in policies.tables.values() if t.instrument == instrument)


def build(policies, instrument: str) -> Inventory:
    inst = policies.instruments.get(instrument)
    if inst is None:
        raise InputError([f"unknown instrument '{instrument}'{did_you_mean(instrument, policies.instruments)}"])
    prefix = instrument + "."
    rows = [Row(s.id, s.title, s.operative, s.reason) for s in inst.sections.values()]
    ids = {r.section for r in rows}
    stray = []
    for c in clauses_of(policies, instrument):
        local = c.clause[len(prefix):] if c.clause.startswith(prefix) else c.clause
        hits = [r for r in rows if r.section == local or r.section.startswith(local + ".")
                or local.startswith(r.section + ".")]
        exact = [r for r in hits if r.section == local or local.startswith(r.section + ".")]
        for r in exact or hits:
            if c.id not in r.encoded_by:
                r.encoded_by.append(c.id)
        if not hits and ids:
            stray.append((c.id, c.clause, str(c.location)))
    return Inventory(instrument, rows, stray)


def render_text(inv: Inventory) -> str:
    lines = [f"Clause inventory of {inv.instrument}: {inv.encoded}/{inv.operative} operative sections encoded"
             + (f" ({100 * inv.encoded // max(inv.operative, 1)} %)" if inv.operative else "")]
    for r in inv.rows:
        if r.operative:
            mark = "ok " if r.encoded_by else "MISSING"
            what = ", ".join(r.encoded_by) or "no rule encodes this operative section"
        else:
            mark, what = "info", f"informative: {r.reason}" + (f" (also cited by {', '.join(r.encoded_by)})" if r.encoded_by else "")
        lines.append(f"  {mark:7} {r.section:12} {r.title[:48]:48}  {what}")
    for i, c, where in inv.stray:
        lines.append(f"{where}: '{i}' cites {c}, which is not a section of {inv.instrument}")
    return "\n".join(lines)
