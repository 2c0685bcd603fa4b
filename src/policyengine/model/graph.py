"""The dependency graph of rules, tables and facts.

Edges run from what is used to what uses it, so a topological order evaluates
dependencies first.  Each edge remembers where the reference is written, so a cycle
can be reported link by link.

The graph is kept as plain dicts, which is all evaluation needs (what a decision
depends on), so a model from the cache unpickles without networkx, whose import costs
more than the rest of `policyengine eval`.  The checks the loader runs (cycles, depth,
order) and the tools that draw or walk the graph use `g`, a networkx DiGraph built from
the dicts on first use.
"""
from __future__ import annotations

from .. import limits
from ..errors import Location, Problem


def node(kind: str, name: str) -> tuple[str, str]:
    return (kind, name)


class DependencyGraph:
    def __init__(self):
        self._nodes: dict[tuple, dict] = {}  # node -> attributes, in the order first seen
        self._succ: dict[tuple, dict[tuple, Location | None]] = {}  # used -> {user: where written}
        self._pred: dict[tuple, dict[tuple, Location | None]] = {}  # user -> {used: where written}
        self._g = None

    def __getstate__(self) -> dict:
        return {**self.__dict__, "_g": None}  # the networkx view is rebuilt when wanted, never pickled

    def _node(self, n: tuple) -> None:
        if n not in self._nodes:
            self._nodes[n], self._succ[n], self._pred[n] = {}, {}, {}

    def add(self, kind: str, name: str, **attrs) -> None:
        self._node((kind, name))
        self._nodes[(kind, name)].update(attrs)
        self._g = None

    def link(self, used: tuple, user: tuple, location: Location | None) -> None:
        self._node(used)
        self._node(user)
        if user not in self._succ[used]:
            self._succ[used][user] = location
            self._pred[user][used] = location
            self._g = None

    @property
    def g(self):
        """The graph as a networkx DiGraph (nodes and edges in the order they were added; each edge's
        `location`), for reading: changes to it are not seen by the methods below."""
        if self._g is None:
            import networkx as nx
            g = nx.DiGraph()
            g.add_nodes_from(self._nodes.items())
            g.add_edges_from((used, user, {"location": loc}) for used, users in self._succ.items()
                             for user, loc in users.items())
            self._g = g
        return self._g

    def _generations(self):
        """Nodes in dependency order, generation by generation (each in the order added, as
        networkx's topological_generations gives them), and whether every node was reached
        (False: there is a cycle)."""
        indegree = {v: len(self._pred[v]) for v in self._nodes}
        ready = [v for v, d in indegree.items() if d == 0]
        order = []
        while ready:
            order += ready
            nxt = []
            for v in ready:
                for w in self._succ[v]:
                    indegree[w] -= 1
                    if indegree[w] == 0:
                        nxt.append(w)
            ready = nxt
        return order, len(order) == len(self._nodes)

    def cycles(self) -> list[Problem]:
        """One problem per cycle among rules, naming each link and where it is written.
        Acyclic (the usual case) is found without networkx, which only words a cycle."""
        if self._generations()[1]:
            return []  # facts and tables use nothing: with no cycle at all, none among rules
        import networkx as nx
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
                loc = self._succ[used][user]
                links.append(f"'{user[1]}' uses '{used[1]}' at {loc}")
            names = [user[1] for _, user in cycle] + [cycle[0][1][1]]
            first = self._succ[cycle[0][0]][cycle[0][1]]
            problems.append(Problem(first, "cycle: " + " -> ".join(names) + "; " + "; ".join(links)))
        return problems

    def too_deep(self) -> list[Problem]:
        """The longest chain of rules using rules, if longer than limits.MAX_RULE_DEPTH.

        Evaluation nests one call per link, so a long chain would exhaust the stack; the
        longest path of the (acyclic: call after `cycles`) rule graph is found iteratively.
        """
        depth: dict = {}
        for v in self._generations()[0]:  # the longest chain of rules ending at each rule, in rules
            if v[0] == "rule":
                depth[v] = 1 + max((depth[u] for u in self._pred[v] if u[0] == "rule"), default=0)
        if max(depth.values(), default=0) <= limits.MAX_RULE_DEPTH:
            return []
        import networkx as nx  # only to name the chain, as the message does
        rules_only = self.g.subgraph(n for n in self.g if n[0] == "rule")
        chain = nx.dag_longest_path(rules_only)
        if len(chain) <= limits.MAX_RULE_DEPTH:
            return []
        where = self._succ[chain[-2]][chain[-1]]
        return [Problem(where, f"chain of {len(chain)} rules using rules, from '{chain[-1][1]}' down to "
                               f"'{chain[0][1]}' (at most {limits.MAX_RULE_DEPTH}): evaluation would nest too "
                               f"deeply; compute intermediate values in fewer steps")]

    def order(self) -> list[tuple]:
        """Every node after what it uses (call after `cycles`)."""
        return self._generations()[0]

    def _reach(self, start: tuple, step: dict) -> set[tuple]:
        if start not in step:
            raise KeyError(f"{start} is not in the dependency graph")
        seen: set[tuple] = set()
        todo = [start]
        while todo:
            for n in step[todo.pop()]:
                if n not in seen:
                    seen.add(n)
                    todo.append(n)
        seen.discard(start)
        return seen

    def dependencies(self, kind: str, name: str) -> set[tuple]:
        """Everything the node uses, directly or not."""
        return self._reach((kind, name), self._pred)

    def dependents(self, kind: str, name: str) -> set[tuple]:
        """Everything that uses the node, directly or not."""
        return self._reach((kind, name), self._succ)

    def facts_of(self, rule_id: str) -> set[str]:
        return {n[1] for n in self.dependencies("rule", rule_id) if n[0] == "fact"}

    def unused_rules(self, decisions: set[str]) -> list[str]:
        """Rules nothing uses and that are not public decisions."""
        return sorted(n[1] for n in self._nodes if n[0] == "rule" and n[1] not in decisions and not self._succ[n])
