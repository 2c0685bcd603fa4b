"""The loaded policy model: everything the loader checked, nothing that evaluates.

Tools that only read policies (lint, graph, site, inventory, diff) need no more than
this; evaluation lives in runtime/, the decision log in audit/, and `Policies` (the
object `policyengine.load()` returns) puts the three together.
"""
from __future__ import annotations

from pathlib import Path

from ..errors import UnknownDecisionError, did_you_mean
from .elements import Rule, Table, known_from
from .graph import DependencyGraph


class PolicyModel:
    """A loaded, checked set of instruments, facts, rules, tables and catalogues."""

    def __init__(self, root: Path, instruments, facts, rules, tables, graph: DependencyGraph, policy_hash: str,
                 catalogues=None, queries=None, sources=None):
        self.root = root
        self.instruments = instruments
        self.facts = facts
        self.rules: dict[str, Rule] = rules
        self.tables: dict[str, Table] = tables
        self.graph = graph
        self.policy_hash = policy_hash
        self.catalogues: dict = catalogues or {}
        self.queries: dict = queries or {}
        self.sources: dict[str, bytes] = sources or {}  # relative path -> bytes, kept for the decision log

    @property
    def decisions(self) -> list[str]:
        return sorted(r.id for r in self.rules.values() if r.decision)

    def unused_rules(self) -> list[str]:
        return self.graph.unused_rules(set(self.decisions))

    def rule(self, decision: str) -> Rule:
        """The rule of a decision id, or UnknownDecisionError with "did you mean"."""
        rule = self.rules.get(decision)
        if rule is None:
            hint = did_you_mean(decision, self.rules)
            if decision in self.queries:
                hint = f": '{decision}' is a query (use query())"
            raise UnknownDecisionError([f"unknown decision '{decision}'{hint}"])
        return rule

    def facts_of(self, decision: str) -> list[str]:
        """Names of the facts a decision may read."""
        return sorted(self.facts[f].name for f in self.graph.facts_of(self.rule(decision).id))

    def fact_decl(self, decision: str, name: str):
        """The declaration of the fact `name` as `decision` reads it, or None."""
        for fid in self.graph.facts_of(self.rule(decision).id):
            if self.facts[fid].name == name:
                return self.facts[fid]
        return None

    def owner(self, node) -> str:
        """The instrument a rule or table graph node belongs to."""
        kind, name = node
        return (self.rules[name] if kind == "rule" else self.tables[name]).instrument

    def known_dates(self) -> list:
        """Every date on which a rule or table version becomes known (approved, or else in
        effect): between two of them, evaluation "as known on" sees the same versions."""
        dates = set()
        for obj in list(self.rules.values()) + list(self.tables.values()):
            dates.update(d for d in (known_from(v)[0] for v in obj.versions) if d)
        dates.update(inst.start for inst in self.instruments.values() if inst.start)
        return sorted(dates)

    def change_dates(self) -> list:
        """Every date on which an instrument, rule version or table version starts or ends."""
        bounds = set()
        for inst in self.instruments.values():
            bounds.update(d for d in (inst.start, inst.end) if d)
        for rule in self.rules.values():
            for v in rule.versions:
                bounds.update(d for d in (v.effective, v.end) if d)
        for table in self.tables.values():
            bounds.update(v.effective for v in table.versions if v.effective)
        return sorted(bounds)
