"""`policyengine requirements GROUP`: what a qualification standard asks of a candidate.

Read straight from the encoded rules (nothing re-typed): each element with its citation,
source text, the alternatives that satisfy it, the acquired rights that relax it, and the
parts the source lost — what a hiring manager would print on a statement of merit criteria.
"""
from __future__ import annotations

import json

from ..errors import InputError, did_you_mean
from ..expr import ast
from ..model import walk
from ..model.elements import SelectBody

DISPATCH = "qs.meets_standard"
WORDS = {
    "en": {"no_standard": "No qualification standard is prescribed for this group.", "all": "all of:",
           "any": "one of:", "relaxed": "acquired right", "gap": "MISSING FROM THE SOURCE", "level": "level",
           "case": "when", "title": "Qualification standard"},
    "fr": {"no_standard": "Aucune norme de qualification n'est prescrite pour ce groupe.", "all": "tous les éléments suivants :",
           "any": "l'un des éléments suivants :", "relaxed": "droit acquis", "gap": "ABSENT DU TEXTE SOURCE",
           "level": "niveau", "case": "si", "title": "Norme de qualification"},
}


def rule_id(group: str) -> str:
    return "qs.group." + group.strip().lower().replace("-", "_")


def no_standard_groups(policies) -> set:
    rule = policies.rules.get(DISPATCH)
    if rule is None or not rule.versions or not isinstance(rule.versions[0].body, SelectBody):
        return set()
    return {k for k, e in rule.versions[0].body.cases.items() if e.source.strip('"\'') == "no_standard_prescribed"}


def tree(policies, rid: str, level=None, sub_group=None, depth: int = 0) -> dict:
    rule = policies.rules[rid]
    node = {"id": rid, "citation": rule.citation, "label": {"en": rule.label.en, "fr": rule.label.fr},
            "text": rule.text}
    version = rule.versions[0] if rule.versions else None
    if version is None or depth > 12:
        return node
    node["kind"] = version.body.kind
    node.update(_BodyTree(policies, level, sub_group, depth).visit(version.body))
    if version.exceptions:
        node["acquired_rights"] = [{"id": ex.id, "citation": ex.citation, "text": ex.text,
                                    "label": {"en": ex.label.en, "fr": ex.label.fr}, "when": ex.when.source}
                                   for ex in version.exceptions]
    return node


class _BodyTree(walk.BodyVisitor):
    """What a body asks, per variant, with the rules it uses expanded (a select only on the
    case the candidate's level or sub-group picks)."""

    def __init__(self, policies, level, sub_group, depth):
        self.p, self.level, self.sub_group, self.depth = policies, level, sub_group, depth

    def uses(self, expr) -> list:
        return [tree(self.p, r, self.level, self.sub_group, self.depth + 1) for r in _rule_refs(expr)]

    def visit_gap(self, b) -> dict:
        return {"gap": b.gap}

    def visit_value(self, b) -> dict:
        if b.expr is None:
            return {}
        uses = self.uses(b.expr)
        return {"expression": b.expr.source, **({"uses": uses} if uses else {})}

    def visit_conditions(self, b) -> dict:
        return {"items": [tree(self.p, c.rule.id, self.level, self.sub_group, self.depth + 1) if c.rule
                          else {"expression": c.expr.source} for c in b.items]}

    def visit_select(self, b) -> dict:
        chosen = {"level": self.level, "sub_group": self.sub_group}.get(b.on.source)
        cases = {k: e for k, e in b.cases.items() if chosen is None or str(k) == str(chosen)}
        return {"by": b.on.source,
                "cases": {str(k): {"expression": e.source, "uses": self.uses(e)} for k, e in cases.items()}}

    def visit_record(self, b) -> dict:
        return {}  # a standard's elements are conditions and choices, not records


def _rule_refs(expr):
    for n in ast.walk(expr.node):
        if isinstance(n, ast.Name) and n.ref and n.ref[0] == "rule":
            yield n.ref[1].id


def render(node: dict, lang: str, out: list, depth: int = 0) -> None:
    w = WORDS[lang]
    pad = "  " * depth
    if "id" not in node:
        out.append(f"{pad}- {node['expression']}")
        return
    out.append(f"{pad}- {node['label'][lang]} [{node['citation']}]")
    if node.get("text") and depth > 0:
        out.append(f"{pad}  \"{node['text']}\"")
    if "gap" in node:
        g = node["gap"]
        out.append(f"{pad}  {w['gap']}: {g.get('missing')} ({g.get('where')})")
    if "expression" in node and not node.get("uses"):
        out.append(f"{pad}  {node['expression']}")
    for child in node.get("uses", []):
        render(child, lang, out, depth + 1)
    if "items" in node:
        out.append(f"{pad}  {w['all'] if node['kind'] == 'all' else w['any']}")
        for child in node["items"]:
            render(child, lang, out, depth + 2)
    for key, case in node.get("cases", {}).items():
        out.append(f"{pad}  {w['case']} {node['by']} = {key}: {case['expression']}")
        for child in case["uses"]:
            render(child, lang, out, depth + 2)
    for ex in node.get("acquired_rights", []):
        out.append(f"{pad}  ({w['relaxed']}) {ex['label'][lang]} [{ex['citation']}]: {ex['when']}")


def add_parser(subparsers) -> None:
    r = subparsers.add_parser(
        "requirements", help="what a group's qualification standard requires (for a statement of merit criteria)",
        description="Print the qualification standard of GROUP as encoded: each element with its citation and "
                    "source text, the alternatives that satisfy it, the acquired rights that relax it, and what "
                    "the source text lost. --level and --sub-group keep only the matching standard.")
    r.add_argument("group", help="group code, e.g. AS or CT-FIN")
    r.add_argument("--level", type=int)
    r.add_argument("--sub-group", dest="sub_group")
    r.add_argument("--lang", choices=("en", "fr"), default="en")
    r.add_argument("--format", choices=("text", "json"), default="text")
    r.add_argument("--policies", default="policies", metavar="DIR")


def run(args) -> int:
    from ..policies import load
    policies = load(args.policies)
    group = args.group.strip().upper()
    rid = rule_id(group)
    if group in no_standard_groups(policies):
        result = {"group": group, "no_standard_prescribed": True}
    elif rid in policies.rules:
        result = {"group": group, "level": args.level, "sub_group": args.sub_group,
                  "standard": tree(policies, rid, args.level, args.sub_group)}
    else:
        known = [r.removeprefix("qs.group.").upper().replace("_", "-") for r in policies.rules if r.startswith("qs.group.")
                 and r.count(".") == 2] + sorted(no_standard_groups(policies))
        raise InputError([f"no qualification standard encoded for group '{group}'{did_you_mean(group, known)}"])
    if args.format == "json":
        print(json.dumps(result, ensure_ascii=False, indent=2))
        return 0
    w = WORDS[args.lang]
    out = [f"{w['title']}: {group}" + (f", {w['level']} {args.level}" if args.level else "")]
    if result.get("no_standard_prescribed"):
        out.append(w["no_standard"])
    else:
        render(result["standard"], args.lang, out)
    print("\n".join(out))
    return 0
