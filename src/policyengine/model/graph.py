"""The dependency graph of rules, tables and facts (networkx).

Edges run from what is used to what uses it, so a topological order evaluates
dependencies first.  Each edge remembers where the reference is written, so a cycle
can be reported link by link.
"""
from __future__ import annotations

import networkx as nx

from .. import limits
from ..errors import Location, Problem


def node(kind: str, name: str) -> tuple[str, str]:
    return (kind, name)


class DependencyGraph:
    def __init__(self):
        self.g = nx.DiGraph()

    def add(self, kind: str, name: str, **attrs) -> None:
        self.g.add_node((kind, name), **attrs)

    def link(self, used: tuple, user: tuple, location: Location | None) -> None:
        if not self.g.has_edge(used, user):
            self.g.add_edge(used, user, location=location)

    def cycles(self) -> list[Problem]:
        """One problem per cycle among rules, naming each link and where it is written."""
        problems = []
        rules_only = self.g.subgraph(n for n in self.g if n[0] == "rule")
        for comp in nx.strongly_connected_components(rules_only):
            if len(comp) == 1:
                only = next(iter(comp))
                if not rules_only.has_edge(only, only):
                    continue
            cycle = nx.find_cycle(rules_only.subgraph(comp))
            links = []
            for used, user in cycle:
                loc = self.g.edges[used, user].get("location")
                links.append(f"'{user[1]}' uses '{used[1]}' at {loc}")
            names = [user[1] for _, user in cycle] + [cycle[0][1][1]]
            first = self.g.edges[cycle[0]].get("location")
            problems.append(Problem(first, "cycle: " + " -> ".join(names) + "; " + "; ".join(links)))
        return problems

    def too_deep(self) -> list[Problem]:
        """The longest chain of rules using rules, if longer than limits.MAX_RULE_DEPTH.

        Evaluation nests one call per link, so a long chain would exhaust the stack; the
        longest path of the (acyclic: call after `cycles`) rule graph is found iteratively.
        """
        rules_only = self.g.subgraph(n for n in self.g if n[0] == "rule")
        chain = nx.dag_longest_path(rules_only)
        if len(chain) <= limits.MAX_RULE_DEPTH:
            return []
        where = self.g.edges[chain[-2], chain[-1]].get("location")
        return [Problem(where, f"chain of {len(chain)} rules using rules, from '{chain[-1][1]}' down to "
                               f"'{chain[0][1]}' (at most {limits.MAX_RULE_DEPTH}): evaluation would nest too "
                               f"deeply; compute intermediate values in fewer steps")]

    def order(self) -> list[tuple]:
        return list(nx.topological_sort(self.g))

    def dependencies(self, kind: str, name: str) -> set[tuple]:
        """Everything the node uses, directly or not."""
        return nx.ancestors(self.g, (kind, name))

    def dependents(self, kind: str, name: str) -> set[tuple]:
        """Everything that uses the node, directly or not."""
        return nx.descendants(self.g, (kind, name))

    def facts_of(self, rule_id: str) -> set[str]:
        return {n[1] for n in self.dependencies("rule", rule_id) if n[0] == "fact"}

    def unused_rules(self, decisions: set[str]) -> list[str]:
        """Rules nothing uses and that are not public decisions."""
        return sorted(n[1] for n in self.g if n[0] == "rule" and n[1] not in decisions
                      and self.g.out_degree(n) == 0)
