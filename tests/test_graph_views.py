"""Graph views: subgraphs, DOT and Mermaid drawings, impact analysis and their commands."""
import argparse
import json
import re
from pathlib import Path
from types import SimpleNamespace

import networkx as nx
import pytest

import policyengine
from policyengine import InputError
from policyengine.tools.graph_views import add_parsers, impact, run_graph, run_impact, subgraph, to_dot, to_mermaid
from policyengine.model import Label

POLICIES = str(Path(__file__).resolve().parents[1] / "policies")


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(POLICIES)


# -- subgraph ---------------------------------------------------------------------------------------

def test_subgraph_of_annual_rate(policies):
    g = subgraph(policies, "ldp.pay.annual_rate")
    assert ("rule", "ldp.pay.annual_rate") in g
    assert ("table", "ldp.pl_step_rates") in g
    assert ("fact", "ldp.level") in g and ("fact", "ldp.step") in g
    assert ("fact", "ldp.salary") not in g
    # everything in it is the decision or something the decision uses
    assert all(n == ("rule", "ldp.pay.annual_rate") or nx.has_path(g, n, ("rule", "ldp.pay.annual_rate"))
               for n in g)
    assert g.edges[("table", "ldp.pl_step_rates"), ("rule", "ldp.pay.annual_rate")]["location"] is not None


def test_subgraph_is_a_copy_and_none_is_everything(policies):
    whole = subgraph(policies, None)
    assert whole.number_of_nodes() == policies.graph.g.number_of_nodes()
    assert whole.number_of_edges() == policies.graph.g.number_of_edges()
    g = subgraph(policies, "ldp.pay.annual_rate")
    g.add_node(("rule", "scratch"))
    assert ("rule", "scratch") not in policies.graph.g


def test_subgraph_unknown_decision_suggests(policies):
    with pytest.raises(InputError) as exc:
        subgraph(policies, "ldp.pay.anual_rate")
    assert "did you mean 'ldp.pay.annual_rate'" in str(exc.value)


# -- DOT ----------------------------------------------------------------------------------------------

QUOTED = r'"(?:[^"\\]|\\.)*"'
NODE = re.compile(rf"^\s*({QUOTED})\s*\[(.*)\];$")
EDGE = re.compile(rf"^\s*({QUOTED})\s*->\s*({QUOTED})\s*;$")


def parse_dot(text: str):
    """A small structural check of the DOT we write; returns (nodes {id: attrs text}, edges)."""
    assert text.startswith("digraph")
    outside = re.sub(QUOTED, '""', text)  # braces inside strings do not count
    assert outside.count("{") == outside.count("}") == 1
    assert outside.rstrip().endswith("}")
    nodes, edges = {}, []
    for line in text.splitlines()[1:-1]:
        if m := EDGE.match(line):
            edges.append((m.group(1), m.group(2)))
        elif m := NODE.match(line):
            assert m.group(1) not in nodes, f"declared twice: {line}"
            nodes[m.group(1)] = m.group(2)
        else:
            assert re.match(r"^\s*(rankdir=\w+|node \[.*\]|edge \[.*\]);$", line), f"unexpected DOT line: {line!r}"
    for used, user in edges:
        assert used in nodes and user in nodes, (used, user)
    return nodes, edges


def test_dot_parses_and_cites(policies):
    g = subgraph(policies, "ldp.pay.annual_rate")
    text = to_dot(policies, g)
    nodes, edges = parse_dot(text)
    assert len(nodes) == g.number_of_nodes() and len(edges) == g.number_of_edges()
    assert "Appendix B, 12" in text
    decision = nodes['"rule:ldp.pay.annual_rate"']
    assert "shape=box" in decision and "peripheries=2" in decision and 'style="bold"' in decision
    assert r'label="Annual rate of pay (PL-01 to PL-05)\n[Appendix B, 12]"' in decision
    assert "shape=cylinder" in nodes['"table:ldp.pl_step_rates"']
    assert "shape=ellipse" in nodes['"fact:ldp.step"']
    assert "peripheries" not in nodes['"rule:ldp.pay.level_has_steps"']
    # used -> user
    assert ('"table:ldp.pl_step_rates"', '"rule:ldp.pay.annual_rate"') in edges
    assert to_dot(policies, g) == text  # deterministic


def test_dot_whole_graph_parses_sorted_and_in_french(policies):
    text = to_dot(policies, subgraph(policies, None), lang="fr")
    nodes, edges = parse_dot(text)
    assert len(nodes) == policies.graph.g.number_of_nodes()
    assert "Taux de rémunération annuel (PL-01 à PL-05)" in text
    ids = [n.strip('"').split(":", 1) for n in nodes]  # in the order written
    rank = {"rule": 0, "table": 1, "fact": 2}
    assert ids == sorted(ids, key=lambda kn: (rank[kn[0]], kn[1]))
    assert "Le rendement « n'a pas satisfait » aux attentes" in text
    # English labels quoting "did not meet" are escaped, not cut short
    assert r'Performance \"did not meet\" expectations' in to_dot(policies, subgraph(policies, None))


def fake_policies():
    rules = {
        'a"b': SimpleNamespace(label=Label('Say "hi" \\ back', 'Dis "salut"'), citation='s. 1 "x"', decision=True),
        "c": SimpleNamespace(label=Label("Uses #1 <b>", "Utilise"), citation="s. 2", decision=False),
    }
    facts = {"i.f": SimpleNamespace(label=Label('Fact "f"', "Fait"))}
    g = nx.DiGraph()
    g.add_edge(("fact", "i.f"), ("rule", "c"))
    g.add_edge(("rule", "c"), ("rule", 'a"b'))
    return SimpleNamespace(rules=rules, tables={}, facts=facts), g


def test_dot_escapes_quotes_and_backslashes():
    pol, g = fake_policies()
    text = to_dot(pol, g)
    nodes, edges = parse_dot(text)
    assert '"rule:a\\"b"' in nodes
    assert r'label="Say \"hi\" \\ back\n[s. 1 \"x\"]"' in nodes['"rule:a\\"b"']
    assert ('"rule:c"', '"rule:a\\"b"') in edges


# -- Mermaid ------------------------------------------------------------------------------------------

MERMAID_NODE = re.compile(r'^  (n\d+)(\[\(|\(\[|\[)"([^"]*)"(\)\]|\]\)|\])$')


def parse_mermaid(text: str):
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes, edges = {}, []
    for line in lines[1:]:
        if m := MERMAID_NODE.match(line):
            nodes[m.group(1)] = m.group(3)
        elif m := re.match(r"^  (n\d+) --> (n\d+)$", line):
            edges.append((m.group(1), m.group(2)))
        else:
            assert line.startswith(("  classDef ", "  class ")), f"unexpected Mermaid line: {line!r}"
    assert all(a in nodes and b in nodes for a, b in edges)
    return nodes, edges


def test_mermaid_flowchart(policies):
    g = subgraph(policies, "ldp.increment.may_withhold")
    text = to_mermaid(policies, g)
    assert text.startswith("flowchart LR\n")
    nodes, edges = parse_mermaid(text)
    assert len(nodes) == g.number_of_nodes() and len(edges) == g.number_of_edges()
    assert sorted(nodes, key=lambda i: int(i[1:])) == [f"n{i}" for i in range(len(nodes))]
    assert all('"' not in label for label in nodes.values())
    assert "Performance #quot;did not meet#quot; expectations" in text
    decision = next(i for i, label in nodes.items() if label.startswith("Home organization may withhold"))
    assert f"  class {decision} decision;" in text and "classDef decision" in text
    assert to_mermaid(policies, g) == text


def test_mermaid_shapes_and_escapes():
    pol, g = fake_policies()
    text = to_mermaid(pol, g)
    nodes, edges = parse_mermaid(text)
    # sorted: rules first (a"b, c), then the fact
    assert nodes == {"n0": "Say #quot;hi#quot; \\ back<br/>[s. 1 #quot;x#quot;]",
                     "n1": "Uses #35;1 #lt;b#gt;<br/>[s. 2]",
                     "n2": "Fact #quot;f#quot;<br/>(i.f)"}
    assert '  n2(["' in text and edges == [("n1", "n0"), ("n2", "n1")]
    assert "  class n0 decision;" in text


def test_mermaid_table_is_a_cylinder(policies):
    text = to_mermaid(policies, subgraph(policies, "ldp.pay.annual_rate"))
    assert '[("PL-01 to PL-05 annual rates of pay<br/>[Appendix B, 12]")]' in text


# -- impact ---------------------------------------------------------------------------------------------

def test_impact_of_clause(policies):
    r = impact(policies, "ldp.B.10.7.12")
    assert r["target"] == "ldp.B.10.7.12"
    assert {"ldp.performance_pay", "ldp.performance_award"} <= set(r["decisions"])
    assert r["decisions"] == sorted(r["decisions"])
    assert "ldp.performance_pay.new_salary" in r["rules"]
    assert not set(r["rules"]) & set(policies.decisions)
    assert all(m["clause"] == "ldp.B.10.7.12" for m in r["matched"])


def test_impact_of_clause_includes_subclauses(policies):
    parent = impact(policies, "ldp.B.10.7")
    assert {m["id"] for m in impact(policies, "ldp.B.10.7.12")["matched"]} <= {m["id"] for m in parent["matched"]}
    assert "ldp.performance_pay" in parent["decisions"]


def test_impact_of_table(policies):
    r = impact(policies, "ldp.pl06_range")
    assert {"ldp.pay.job_rate", "ldp.performance_pay"} <= set(r["decisions"])
    assert r["matched"][0]["kind"] == "table" and r["matched"][0]["id"] == "ldp.pl06_range"
    assert "ldp.pay.annual_rate" not in r["decisions"]


def test_impact_of_fact(policies):
    plain = impact(policies, "salary")
    assert "ldp.performance_pay" in plain["decisions"]
    assert [m["id"] for m in plain["matched"]] == ["ldp.salary"]
    assert impact(policies, "ldp.salary")["decisions"] == plain["decisions"]
    assert "ldp.pay.annual_rate" not in plain["decisions"]


def test_plain_fact_name_matches_every_instrument(policies):
    name = "level"
    owners = sorted(fid for fid, d in policies.facts.items() if d.name == name)
    assert len(owners) > 1
    assert [m["id"] for m in impact(policies, name)["matched"]] == owners


def test_impact_of_exception(policies):
    r = impact(policies, "ldp.termination.transition_mtp_four_years")
    assert "ldp.termination.time_limit_reached" in r["decisions"]
    assert r["matched"][0]["kind"] == "exception"
    assert r["matched"][0]["rule"] == "ldp.termination.time_limit_reached"


def test_impact_of_a_decision_includes_itself(policies):
    r = impact(policies, "ldp.pay.annual_rate")
    assert "ldp.pay.annual_rate" in r["decisions"]


def test_impact_unknown_target_suggests(policies):
    with pytest.raises(InputError) as exc:
        impact(policies, "ldp.pl06_rang")
    assert "did you mean 'ldp.pl06_range'" in str(exc.value)
    with pytest.raises(InputError) as exc:
        impact(policies, "salry")
    assert "did you mean 'salary'" in str(exc.value)


# -- commands ---------------------------------------------------------------------------------------------

def parser():
    p = argparse.ArgumentParser(prog="policyengine")
    add_parsers(p.add_subparsers(dest="command"))
    return p


def test_graph_command_dot_and_mermaid(capsys):
    args = parser().parse_args(["graph", "ldp.pay.annual_rate", "--policies", POLICIES])
    assert (args.format, args.lang) == ("dot", "en")
    assert run_graph(args) == 0
    nodes, _ = parse_dot(capsys.readouterr().out)
    assert '"table:ldp.pl_step_rates"' in nodes

    args = parser().parse_args(["graph", "ldp.pay.annual_rate", "--format", "mermaid", "--lang", "fr",
                                "--policies", POLICIES])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert out.startswith("flowchart LR") and "Taux de rémunération annuel" in out


def test_graph_command_defaults():
    args = parser().parse_args(["graph"])
    assert args.decision is None and args.policies == "policies" and args.func is run_graph


def test_impact_command_text_and_json(capsys):
    args = parser().parse_args(["impact", "ldp.B.10.7.12", "--policies", POLICIES])
    assert args.format == "text" and run_impact(args) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "ldp.B.10.7.12: 2 decision(s) depend on it"
    assert any(line.strip().startswith("ldp.performance_pay  [Appendix B, 10.7(3)]") for line in out)
    assert any("ldp.performance_pay.new_salary" in line for line in out)

    args = parser().parse_args(["impact", "salary", "--format", "json", "--policies", POLICIES])
    assert args.func(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["target"] == "salary" and "ldp.performance_pay" in data["decisions"]


def test_commands_let_errors_propagate(tmp_path):
    with pytest.raises(InputError):
        run_impact(parser().parse_args(["impact", "nothing_like_it", "--policies", POLICIES]))
    with pytest.raises(InputError):
        run_graph(parser().parse_args(["graph", "ldp.nope", "--policies", POLICIES]))
    with pytest.raises(policyengine.PolicyEngineError):
        run_graph(parser().parse_args(["graph", "--policies", str(tmp_path / "missing")]))


def test_help_and_description():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="command")
    add_parsers(sub)
    for name in ("graph", "impact"):
        assert sub.choices[name].description
    assert {a.dest: a.help for a in sub._choices_actions}.keys() >= {"graph", "impact"}
    assert all(a.help for a in sub._choices_actions)
