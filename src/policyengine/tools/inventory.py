"""The clause inventory: every numbered section of an instrument, what encodes it, and what applies it.

Proves coverage the way an auditor would check it: operative sections each have at
least one rule, informative ones say why they have none, and no rule cites a section
the instrument does not have.  Citation alone proves little — a rule nothing reads
changes no answer — so each section also lists the public decisions that apply it:
those whose dependency closure reaches an element encoding it.  An operative section
encoded but applied by no public decision is flagged, unless sections.yaml gives it a
`reason` (why it is legitimately standalone).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..errors import InputError, did_you_mean


@dataclass
class Row:
    section: str
    title: str
    operative: bool
    reason: str | None  # informative: why no rule; operative: why no public decision applies it
    encoded_by: list[str] = field(default_factory=list)  # rules, exceptions, tables citing the section
    applied_by: list[str] = field(default_factory=list)  # public decisions that read one of them

    @property
    def unapplied(self) -> bool:
        """Encoded, yet no public decision reads what encodes it, and no reason says why."""
        return self.operative and bool(self.encoded_by) and not self.applied_by and not self.reason

    @property
    def ok(self) -> bool:
        return not self.operative or (bool(self.encoded_by) and not self.unapplied)


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
    def applied(self) -> int:
        return sum(r.operative and bool(r.applied_by) for r in self.rows)

    @property
    def complete(self) -> bool:
        return all(r.ok for r in self.rows) and not self.stray

    def to_dict(self) -> dict:
        return {"instrument": self.instrument, "operative": self.operative, "encoded": self.encoded,
                "applied": self.applied, "complete": self.complete,
                "sections": [{"section": r.section, "title": r.title,
                              "status": "operative" if r.operative else "informative",
                              "encoded_by": r.encoded_by, "applied_by": r.applied_by,
                              "unapplied": r.unapplied, "reason": r.reason} for r in self.rows],
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


def applied_elements(policies, decision: str) -> list:
    """The citable elements a decision applies: itself and every rule (with its exceptions)
    and table it reads, directly or not.

    Read from the dependency graph, so "applies" means what evaluating the decision can
    reach — the one notion the inventory and the decisions reference share.
    """
    nodes = {("rule", decision)} | policies.graph.dependencies("rule", decision)
    out, seen = [], set()
    for kind, name in sorted(nodes):
        if kind == "rule":
            rule = policies.rules[name]
            found = [rule] + [e for v in rule.versions for e in v.exceptions]
        elif kind == "table":
            found = [policies.tables[name]]
        else:
            continue
        for element in found:
            if element.id not in seen:
                seen.add(element.id)
                out.append(element)
    return out


def credited(local: str, sections: list[str]) -> list[str]:
    """The listed sections a clause id (without instrument prefix) encodes.

    The most specific listed section that is the clause or contains it: "Appendix B,
    10.7(12)" credits B.10.7.12, or B.10.7 when the paragraph is not listed; "Appendix C,
    3.4" credits C.3.4 alone, not its listed paragraphs C.3.4.1 and C.3.4.2.  Only when
    no such section is listed does a citation of a whole heading credit the paragraphs
    under it ("Appendix B, 11" -> B.11.1, B.11.2, B.11.3).
    """
    containing = [s for s in sections if s == local or local.startswith(s + ".")]
    if containing:
        return [max(containing, key=len)]
    return [s for s in sections if s.startswith(local + ".")]


def build(policies, instrument: str) -> Inventory:
    inst = policies.instruments.get(instrument)
    if inst is None:
        raise InputError([f"unknown instrument '{instrument}'{did_you_mean(instrument, policies.instruments)}"])
    prefix = instrument + "."
    rows = {s.id: Row(s.id, s.title, s.operative, s.reason) for s in inst.sections.values()}
    stray = []
    for c in clauses_of(policies, instrument):
        local = c.clause[len(prefix):] if c.clause.startswith(prefix) else c.clause
        hits = credited(local, list(rows))
        for sid in hits:
            if c.id not in rows[sid].encoded_by:
                rows[sid].encoded_by.append(c.id)
        if not hits and rows:
            stray.append((c.id, c.clause, str(c.location)))
    reach = {d: {e.id for e in applied_elements(policies, d)} for d in policies.decisions}
    for row in rows.values():
        row.applied_by = [d for d, ids in reach.items() if ids.intersection(row.encoded_by)]
    return Inventory(instrument, list(rows.values()), stray)


def _ids(ids: list[str], most: int = 4) -> str:
    return ", ".join(ids[:most]) + (f" (+{len(ids) - most} more)" if len(ids) > most else "")


def render_text(inv: Inventory) -> str:
    head = f"Clause inventory of {inv.instrument}: {inv.encoded}/{inv.operative} operative sections encoded"
    if inv.operative:
        head += (f" ({100 * inv.encoded // inv.operative} %), {inv.applied}/{inv.operative} applied by a "
                 f"public decision")
    lines = [head]
    for r in inv.rows:
        if not r.operative:
            mark, what = "info", f"informative: {r.reason}" + (f" (also cited by {', '.join(r.encoded_by)})"
                                                                if r.encoded_by else "")
        elif not r.encoded_by:
            mark, what = "MISSING", "no rule encodes this operative section"
        else:
            applied = (f"applied by {_ids(r.applied_by)}" if r.applied_by
                       else "applied by no public decision" + (f": {r.reason}" if r.reason else ""))
            mark, what = ("UNAPPLIED" if r.unapplied else "ok"), f"encoded by {', '.join(r.encoded_by)}; {applied}"
        lines.append(f"  {mark:9} {r.section:12} {r.title[:48]:48}  {what}")
    for i, c, where in inv.stray:
        lines.append(f"{where}: '{i}' cites {c}, which is not a section of {inv.instrument}")
    unapplied = [r.section for r in inv.rows if r.unapplied]
    if unapplied:
        lines.append(f"encoded, applied by no public decision (read it from a decision, or give the section a "
                     f"reason): {', '.join(unapplied)}")
    return "\n".join(lines)
