"""Views of the dependency graph: what a decision rests on, drawn; what a change would touch.

    g = subgraph(policies, "ldp.pay.annual_rate")   # the decision and everything it uses
    print(to_dot(policies, g))                        # Graphviz; or to_mermaid(policies, g)
    impact(policies, "ldp.B.10.7.12")                 # the decisions a clause feeds

Nodes are ("rule", id), ("table", id) and ("fact", "instrument.name"); edges run from
what is used to what uses it (see graph.py), and the drawings keep that direction.
"""
from __future__ import annotations

import argparse
import json

import networkx as nx

from ..errors import InputError, UnknownDecisionError, did_you_mean

_KIND_ORDER = {"rule": 0, "table": 1, "fact": 2}


def _sort_key(n: tuple) -> tuple:
    return (_KIND_ORDER.get(n[0], 9), n[0], n[1])


def _sorted_nodes(g) -> list[tuple]:
    return sorted(g.nodes, key=_sort_key)


def _sorted_edges(g) -> list[tuple]:
    return sorted(g.edges, key=lambda e: (_sort_key(e[0]), _sort_key(e[1])))


# -- subgraph ---------------------------------------------------------------------------------

def subgraph(policies, decision: str | None) -> nx.DiGraph:
    """The decision (any rule id) and everything it depends on; the whole graph for None.

    The result is an independent copy, safe to modify.
    """
    g = policies.graph.g
    if decision is None:
        return g.copy()
    start = ("rule", decision)
    if decision not in policies.rules or start not in g:
        hint = did_you_mean(decision, policies.decisions) or did_you_mean(decision, policies.rules)
        raise UnknownDecisionError([f"unknown decision '{decision}'{hint}"])
    keep = nx.ancestors(g, start) | {start}
    return g.subgraph(keep).copy()


# -- node descriptions ------------------------------------------------------------------------

def _node_text(policies, n: tuple, lang: str) -> tuple[str, str | None]:
    """(label, citation or None) of a node, in `lang`."""
    kind, name = n
    if kind == "rule" and name in policies.rules:
        r = policies.rules[name]
        return r.label.get(lang) or name, r.citation
    if kind == "table" and name in policies.tables:
        t = policies.tables[name]
        return t.label.get(lang) or name, t.citation
    if kind == "fact" and name in policies.facts:
        return policies.facts[name].label.get(lang) or name, None
    return name, None


def _is_decision(policies, n: tuple) -> bool:
    return n[0] == "rule" and n[1] in policies.rules and bool(policies.rules[n[1]].decision)


# -- DOT ----------------------------------------------------------------------------------------

def _dot_escape(text: str) -> str:
    """Text for a DOT double-quoted string; a newline in the text becomes a label line break."""
    return (str(text).replace("\\", "\\\\").replace('"', '\\"')
            .replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\\n"))


def _dot_id(n: tuple) -> str:
    return '"' + _dot_escape(f"{n[0]}:{n[1]}") + '"'


def to_dot(policies, g, lang: str = "en") -> str:
    """Graphviz DOT for a (sub)graph: rules as boxes, tables as cylinders, facts as ellipses.

    Rule and table labels are "label\\n[citation]", fact labels "label\\n(id)"; public
    decisions are bold with a double border.  Nodes and edges are in sorted order.
    """
    lines = ["digraph policies {",
             "  rankdir=LR;",
             '  node [fontname="Helvetica", fontsize=10];',
             '  edge [color="#555555"];']
    for n in _sorted_nodes(g):
        kind, name = n
        label, citation = _node_text(policies, n, lang)
        if kind == "fact":
            text = _dot_escape(label) + "\\n(" + _dot_escape(name) + ")"
        else:
            text = _dot_escape(label) + ("\\n[" + _dot_escape(citation) + "]" if citation else "")
        attrs = [f'label="{text}"', f'tooltip="{_dot_escape(name)}"']
        if kind == "rule":
            attrs.insert(0, "shape=box")
            if _is_decision(policies, n):
                attrs += ['style="bold"', "peripheries=2"]
        elif kind == "table":
            attrs.insert(0, "shape=cylinder")
        else:
            attrs.insert(0, "shape=ellipse")
        lines.append(f"  {_dot_id(n)} [{', '.join(attrs)}];")
    for used, user in _sorted_edges(g):
        lines.append(f"  {_dot_id(used)} -> {_dot_id(user)};")
    lines.append("}")
    return "\n".join(lines) + "\n"


# -- Mermaid --------------------------------------------------------------------------------------

def _mermaid_escape(text: str) -> str:
    """Text for a quoted Mermaid label: quotes, '#', '<' and '>' as entity codes, one line."""
    text = str(text).replace("#", "#35;")  # first: the codes below begin with '#'
    text = text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
    return " ".join(text.split())


def to_mermaid(policies, g, lang: str = "en") -> str:
    """A Mermaid `flowchart LR` for a (sub)graph; node ids n0, n1, ... in sorted node order.

    Rules are rectangles, tables cylinders, facts stadiums; public decisions carry the
    class `decision`.
    """
    nodes = _sorted_nodes(g)
    ids = {n: f"n{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    decisions = []
    for n in nodes:
        kind, name = n
        label, citation = _node_text(policies, n, lang)
        if kind == "fact":
            text = _mermaid_escape(label) + "<br/>(" + _mermaid_escape(name) + ")"
        else:
            text = _mermaid_escape(label) + ("<br/>[" + _mermaid_escape(citation) + "]" if citation else "")
        open_, close = {"rule": ("[", "]"), "table": ("[(", ")]"), "fact": ("([", "])")}.get(kind, ("[", "]"))
        lines.append(f'  {ids[n]}{open_}"{text}"{close}')
        if _is_decision(policies, n):
            decisions.append(ids[n])
    for used, user in _sorted_edges(g):
        lines.append(f"  {ids[used]} --> {ids[user]}")
    lines.append("  classDef decision font-weight:bold,stroke-width:3px;")
    if decisions:
        lines.append(f"  class {','.join(decisions)} decision;")
    return "\n".join(lines) + "\n"


# -- impact ------------------------------------------------------------------------------------------

def _exceptions(policies):
    """(exception, rule) for every exception of every version, each exception id once."""
    seen = set()
    for rule in policies.rules.values():
        for version in rule.versions:
            for exc in version.exceptions:
                if exc.id not in seen:
                    seen.add(exc.id)
                    yield exc, rule


def _section_ids(policies) -> set[str]:
    return {f"{iid}.{sid}" for iid, inst in policies.instruments.items()
            for sid in (getattr(inst, "sections", None) or {})}


def _describe_rule(r, kind: str = "rule") -> dict:
    return {"kind": kind, "id": r.id, "clause": r.clause, "citation": r.citation, "label": r.label.en}


def impact(policies, target: str) -> dict:
    """What depends on `target`: a clause id (and its sub-clauses), a rule, table or exception
    id, or a fact name (plain: every instrument's fact of that name; or "instrument.name").

    Returns {"target", "matched": [{"kind", "id", ...}], "decisions": [public decision ids],
    "rules": [other rule ids]}.  A matched rule counts itself (an exception counts its rule).
    Raises InputError, with a did-you-mean, when nothing of that name exists.
    """
    target = str(target).strip()
    g = policies.graph.g
    matched: dict[tuple, dict] = {}  # (kind, id) -> description
    starts: set[tuple] = set()

    def in_clause(clause: str | None) -> bool:
        return bool(clause) and (clause == target or clause.startswith(target + "."))

    # ids
    if target in policies.rules:
        matched[("rule", target)] = _describe_rule(policies.rules[target])
        starts.add(("rule", target))
    if target in policies.tables:
        matched[("table", target)] = _describe_rule(policies.tables[target], "table")
        starts.add(("table", target))
    if target in policies.facts:
        decl = policies.facts[target]
        matched[("fact", target)] = {"kind": "fact", "id": target, "name": decl.name, "label": decl.label.en}
        starts.add(("fact", target))
    # clauses (and exceptions, by id or clause)
    for rule in policies.rules.values():
        if in_clause(rule.clause):
            matched.setdefault(("rule", rule.id), _describe_rule(rule))
            starts.add(("rule", rule.id))
    for table in policies.tables.values():
        if in_clause(table.clause):
            matched.setdefault(("table", table.id), _describe_rule(table, "table"))
            starts.add(("table", table.id))
    for exc, rule in _exceptions(policies):
        if exc.id == target or in_clause(exc.clause):
            d = _describe_rule(exc, "exception")
            d["rule"] = rule.id
            matched.setdefault(("exception", exc.id), d)
            starts.add(("rule", rule.id))
    # plain fact names
    if "." not in target:
        for fid, decl in policies.facts.items():
            if decl.name == target:
                matched.setdefault(("fact", fid), {"kind": "fact", "id": fid, "name": decl.name,
                                                   "label": decl.label.en})
                starts.add(("fact", fid))

    if not matched and target not in _section_ids(policies):
        candidates = (
            set(_section_ids(policies))
            | {r.clause for r in policies.rules.values() if r.clause}
            | {t.clause for t in policies.tables.values() if t.clause}
            | set(policies.rules) | set(policies.tables)
            | {exc.id for exc, _ in _exceptions(policies)}
            | set(policies.facts) | {d.name for d in policies.facts.values()}
        )
        raise InputError([f"unknown clause, rule, table, exception or fact '{target}'"
                          f"{did_you_mean(target, sorted(candidates))}"])

    affected: set[tuple] = set()
    for start in starts:
        if start in g:
            affected.add(start)
            affected |= nx.descendants(g, start)
    public = set(policies.decisions)
    rule_ids = {n[1] for n in affected if n[0] == "rule"}
    return {
        "target": target,
        "matched": [matched[k] for k in sorted(matched, key=lambda k: (k[0], k[1]))],
        "decisions": sorted(rule_ids & public),
        "rules": sorted(rule_ids - public),
    }


def impact_text(policies, result: dict) -> str:
    """The impact report as text: the decisions (citation, English label), then the other rules."""
    lines = [f"{result['target']}: {len(result['decisions'])} decision(s) depend on it"]
    for did in result["decisions"]:
        r = policies.rules[did]
        lines.append(f"  {did}  [{r.citation}]  {r.label.en}")
    lines.append(f"intermediate rules affected: {len(result['rules'])}")
    for rid in result["rules"]:
        r = policies.rules[rid]
        lines.append(f"  {rid}  [{r.citation}]  {r.label.en}")
    lines.append(f"matched: {len(result['matched'])}")
    for m in result["matched"]:
        where = f"  [{m['citation']}]" if m.get("citation") else ""
        extra = f"  (exception of {m['rule']})" if m["kind"] == "exception" else ""
        lines.append(f"  {m['kind']} {m['id']}{where}{extra}")
    return "\n".join(lines)


# -- command line ----------------------------------------------------------------------------------

def add_parsers(subparsers) -> None:
    """Register the `graph` and `impact` commands on an argparse subparsers object.

    Each sets `func` (run_graph or run_impact) as a default on the parsed arguments.
    """
    gp = subparsers.add_parser(
        "graph", help="draw a decision and everything it depends on (Graphviz DOT or Mermaid)",
        description="Print the dependency graph of DECISION (the rules, tables and facts it uses, directly "
                    "or not), or of every rule when no decision is given, as Graphviz DOT or a Mermaid "
                    "flowchart. Arrows run from what is used to what uses it; rules show their citation.")
    gp.add_argument("decision", nargs="?", metavar="DECISION",
                    help="decision or rule id, e.g. ldp.pay.annual_rate (default: the whole graph)")
    gp.add_argument("--format", choices=("dot", "mermaid"), default="dot", help="output format (default: %(default)s)")
    gp.add_argument("--lang", choices=("en", "fr"), default="en", help="language of the labels (default: %(default)s)")
    gp.add_argument("--policies", default="policies", metavar="DIR", help="policy folder (default: %(default)s)")
    gp.set_defaults(func=run_graph)

    ip = subparsers.add_parser(
        "impact", help="list the decisions a clause, rule, table, exception or fact feeds",
        description="Show what a change to TARGET would affect: the public decisions that depend on it, "
                    "directly or not, and the intermediate rules in between. TARGET is a clause id "
                    "(e.g. ldp.B.10.7.12, with its sub-clauses), a rule, table or exception id, or a fact "
                    "name (salary: every instrument's; ldp.salary: one instrument's).")
    ip.add_argument("target", metavar="TARGET", help="clause, rule, table, exception id or fact name")
    ip.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: %(default)s)")
    ip.add_argument("--policies", default="policies", metavar="DIR", help="policy folder (default: %(default)s)")
    ip.set_defaults(func=run_impact)


def _load(path: str):
    from ..policies import load
    return load(path)


def run_graph(args: argparse.Namespace) -> int:
    policies = _load(args.policies)
    g = subgraph(policies, getattr(args, "decision", None))
    lang = getattr(args, "lang", "en")
    fmt = getattr(args, "format", "dot")
    print(to_mermaid(policies, g, lang) if fmt == "mermaid" else to_dot(policies, g, lang), end="")
    return 0


def run_impact(args: argparse.Namespace) -> int:
    policies = _load(args.policies)
    result = impact(policies, args.target)
    if getattr(args, "format", "text") == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
    else:
        print(impact_text(policies, result))
    return 0
