"""Checking and listing the policies: `validate`, `check` (proofs), `lint`, `inventory`, `decisions`."""
from __future__ import annotations

import json

from .args import DEFAULT_POLICIES, EXIT_OK, EXIT_POLICY, add_format, add_lang, add_policies, load_policies


def register(sub) -> None:
    v = sub.add_parser("validate", help="check policy files; report every problem as path:line:col: message",
                       description="Load and check every policy file (schema, expressions, names, types, "
                                   "cycles). Prints each problem as path:line:col: message; exits 1 if any.")
    add_policies(v)
    v.set_defaults(func=run_validate, _parser=v)

    from ..tools import check as proofs
    proofs.add_parser(sub, DEFAULT_POLICIES)
    cp = sub.choices["check"]
    add_policies(cp, positional=False)  # its positionals are decision ids
    cp.set_defaults(func=proofs.run, _parser=cp)

    from ..tools import lint
    lint.add_parser(sub)
    lp = sub.choices["lint"]
    add_policies(lp, folder_dest="dir")
    lp.set_defaults(func=lint.run, _parser=lp)

    i = sub.add_parser("inventory", help="list every section of an instrument and the rules that encode it",
                       description="The clause inventory: each numbered section and paragraph of the instrument, "
                                   "with the rules, exceptions and tables that encode it, or 'informative' with the "
                                   "reason. Exits 1 when an operative section has no rule or a rule cites a section "
                                   "the instrument does not have.")
    i.add_argument("instrument", help="instrument id, e.g. ldp")
    add_format(i)
    add_policies(i)
    i.set_defaults(func=run_inventory, _parser=i)

    d = sub.add_parser("decisions", help="list the public decisions and the facts each reads",
                       description="List every public decision with its citation and the facts it reads.")
    add_lang(d)
    add_format(d, ("text", "markdown"),
               help="markdown: the full reference with every fact and its allowed values (docs/decisions.md)")
    add_policies(d)
    d.set_defaults(func=run_decisions, _parser=d)


def run_validate(args) -> int:
    policies = load_policies(args.policies)
    print(f"{args.policies}: OK - {len(policies.instruments)} instrument(s), {len(policies.rules)} rules, "
          f"{len(policies.tables)} tables, {len(policies.decisions)} decisions; {policies.policy_hash}")
    unused = policies.unused_rules()
    if unused:
        print("rules nothing uses: " + ", ".join(unused))
    return EXIT_OK


def run_inventory(args) -> int:
    from ..tools import inventory
    inv = inventory.build(load_policies(args.policies), args.instrument)
    print(json.dumps(inv.to_dict(), indent=2, ensure_ascii=False) if args.format == "json"
          else inventory.render_text(inv))
    return EXIT_OK if inv.complete else EXIT_POLICY


def run_decisions(args) -> int:
    policies = load_policies(args.policies)
    if args.format == "markdown":
        from ..tools.reference import markdown
        print(markdown(policies), end="")
        return EXIT_OK
    for did in policies.decisions:
        r = policies.rules[did]
        print(f"{did}  [{r.citation}]  {r.label.get(args.lang)}\n    facts: {', '.join(policies.facts_of(did))}")
    for qid, q in sorted(policies.queries.items()):
        print(f"{qid}  (query)  {q.label.get(args.lang)}\n    parameters: {', '.join(q.parameters)}")
    return EXIT_OK
