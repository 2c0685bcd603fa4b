"""The `policyengine` command: validate policies, evaluate decisions.

Exit codes: 0 decided or undetermined; 1 policy files invalid; 2 bad input (facts,
dates, unknown decision) or a case refused by a cited clause; 3 not in force.
"""
from __future__ import annotations

import argparse
import json
import sys
from decimal import Decimal
from pathlib import Path

import yaml

from . import __version__
from .errors import InputError, NotInForceError, PolicyEngineError, PolicyError
from .loader import load

EXIT_OK, EXIT_POLICY, EXIT_INPUT, EXIT_NOT_IN_FORCE = 0, 1, 2, 3
DEFAULT_POLICIES = "policies"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="policyengine", description=__doc__.split("\n\n")[0],
                                epilog="Exit codes: 0 decided/undetermined, 1 invalid policies, "
                                       "2 bad input or refused, 3 not in force.")
    p.add_argument("--version", action="version", version=f"policyengine {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    v = sub.add_parser("validate", help="check policy files; report every problem as path:line:col: message",
                       description="Load and check every policy file (schema, expressions, names, types, "
                                   "cycles). Prints each problem as path:line:col: message; exits 1 if any.")
    v.add_argument("dir", nargs="?", default=DEFAULT_POLICIES, help="policy folder (default: %(default)s)")

    e = sub.add_parser("eval", help="evaluate a decision for a case, as of a date",
                       description="Evaluate DECISION for the facts given, as of a date. JSON output is "
                                   "Decision.to_dict(); text output explains the outcome clause by clause.")
    e.add_argument("decision", help="decision id, e.g. ldp.pay.annual_rate (see `policyengine decisions`)")
    e.add_argument("--facts", metavar="FILE", help="JSON or YAML mapping of facts; '-' reads standard input")
    e.add_argument("--fact", action="append", default=[], metavar="NAME=VALUE",
                   help="one fact (repeatable); VALUE is read as JSON when it can be, else as text")
    e.add_argument("--as-of", required=True, metavar="DATE", help="evaluation date, YYYY-MM-DD")
    e.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    e.add_argument("--format", choices=("json", "text"), default="json", help="output format (default: %(default)s)")
    e.add_argument("--lang", choices=("en", "fr"), default="en", help="language of text output (default: %(default)s)")
    e.add_argument("--trace", choices=("none", "audit", "full"), default="audit",
                   help="trace level (default: %(default)s)")
    e.add_argument("--view", choices=("full", "public"), default="full",
                   help="public: redact personal information under the instrument's confidentiality clause "
                        "(LDP 6.3.1: only the salary range); full: for authorized readers (default: %(default)s)")

    i = sub.add_parser("inventory", help="list every section of an instrument and the rules that encode it",
                       description="The clause inventory: each numbered section and paragraph of the instrument, "
                                   "with the rules, exceptions and tables that encode it, or 'informative' with the "
                                   "reason. Exits 1 when an operative section has no rule or a rule cites a section "
                                   "the instrument does not have.")
    i.add_argument("instrument", help="instrument id, e.g. ldp")
    i.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    i.add_argument("--format", choices=("text", "json"), default="text")

    q = sub.add_parser("query", help="list the catalogue entries a query matches (e.g. a role's obligations)",
                       description="Run a named query over a catalogue of cited entries. Each --where NAME=VALUE "
                                   "filters on a parameter; entries that match only through a value the source "
                                   "does not show with certainty are kept and flagged as uncertain.")
    q.add_argument("query", help="query id, e.g. etm.obligations (see `policyengine decisions`)")
    q.add_argument("--where", action="append", default=[], metavar="NAME=VALUE", help="a parameter (repeatable)")
    q.add_argument("--as-of", metavar="DATE", help="check the instrument is in force on this date")
    q.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    q.add_argument("--format", choices=("json", "text"), default="json", help="output format (default: %(default)s)")
    q.add_argument("--lang", choices=("en", "fr"), default="en")

    r = sub.add_parser("report", help="check an annual PL-06 performance pay report (Appendix B, s. 14)",
                       description="Check each row of an annual PL-06 performance pay report (CSV with a header "
                                   "row, JSON array or JSON lines) against schemas/pl06_performance_pay_report.schema.json. "
                                   "With --as-of (the April 1 the pay was administered) each row is also re-decided "
                                   "under ldp.performance_pay; with --submitted the July 15 due date is checked. "
                                   "Prints each wrong row and why; exits 2 if any.")
    r.add_argument("file", help="the report file (.csv, .json or .jsonl)")
    r.add_argument("--as-of", metavar="DATE", help="April 1 on which the performance pay was administered")
    r.add_argument("--submitted", metavar="DATE", help="date the report was submitted (due July 15)")
    r.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")

    d = sub.add_parser("decisions", help="list the public decisions and the facts each reads",
                       description="List every public decision with its citation and the facts it reads.")
    d.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    d.add_argument("--lang", choices=("en", "fr"), default="en")
    d.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="markdown: the full reference with every fact and its allowed values (docs/decisions.md)")
    return p


def _read_facts(args) -> dict:
    facts: dict = {}
    if args.facts:
        try:
            text = sys.stdin.read() if args.facts == "-" else Path(args.facts).read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError([f"--facts: cannot read {args.facts}: {exc.strerror}"]) from None
        try:
            data = json.loads(text, parse_float=Decimal)
        except json.JSONDecodeError:
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise InputError([f"--facts {args.facts}: neither JSON nor YAML: {exc}"]) from None
        if not isinstance(data, dict):
            raise InputError([f"--facts {args.facts}: expected a mapping of fact names to values"])
        facts.update(data)
    for item in args.fact:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise InputError([f"--fact {item!r}: write NAME=VALUE"])
        try:
            facts[name.strip()] = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError:
            facts[name.strip()] = raw
    return facts


def _load(path: str):
    return load(path)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command is None:
        _parser().print_help()
        return EXIT_INPUT
    try:
        if args.command == "validate":
            policies = _load(args.dir)
            n_rules = len(policies.rules)
            print(f"{args.dir}: OK - {len(policies.instruments)} instrument(s), {n_rules} rules, "
                  f"{len(policies.tables)} tables, {len(policies.decisions)} decisions; {policies.policy_hash}")
            unused = policies.unused_rules()
            if unused:
                print("rules nothing uses: " + ", ".join(unused))
            return EXIT_OK
        if args.command == "inventory":
            from . import inventory
            inv = inventory.build(_load(args.policies), args.instrument)
            print(json.dumps(inv.to_dict(), indent=2, ensure_ascii=False) if args.format == "json"
                  else inventory.render_text(inv))
            return EXIT_OK if inv.complete else EXIT_POLICY
        if args.command == "query":
            params = {}
            for item in args.where:
                name, sep, value = item.partition("=")
                if not sep:
                    raise InputError([f"--where {item!r}: write NAME=VALUE"])
                params[name.strip()] = value.strip()
            result = _load(args.policies).query(args.query, as_of=args.as_of, **params)
            print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.format == "json"
                  else result.explain(args.lang))
            return EXIT_OK
        if args.command == "report":
            from . import report
            from .engine import as_date
            as_of = as_date(args.as_of) if args.as_of else None
            submitted = as_date(args.submitted) if args.submitted else None
            policies = _load(args.policies) if as_of else None
            count, problems = report.check(Path(args.file), policies, as_of, submitted)
            for p in problems:
                print(p)
            print(f"{args.file}: {count} row(s), {len(problems)} problem(s)")
            return EXIT_INPUT if problems else EXIT_OK
        if args.command == "decisions":
            policies = _load(args.policies)
            if args.format == "markdown":
                from .reference import markdown
                print(markdown(policies), end="")
                return EXIT_OK
            for did in policies.decisions:
                r = policies.rules[did]
                print(f"{did}  [{r.citation}]  {r.label.get(args.lang)}\n    facts: {', '.join(policies.facts_of(did))}")
            for qid, q in sorted(policies.queries.items()):
                print(f"{qid}  (query)  {q.label.get(args.lang)}\n    parameters: {', '.join(q.parameters)}")
            return EXIT_OK
        facts = _read_facts(args)
        policies = _load(args.policies)
        d = policies.evaluate(args.decision, facts, as_of=args.as_of, trace=args.trace)
        from .explain import explain_record
        from .redact import view
        record = view(d.to_dict(), policies, args.view)
        if args.format == "json":
            print(json.dumps(record, ensure_ascii=False, indent=2))
        else:
            print(explain_record(record, policies, args.lang))
        return EXIT_INPUT if d.status == "refused" else EXIT_OK
    except PolicyError as exc:
        for p in exc.problems:
            print(p, file=sys.stderr)
        print(f"{len(exc.problems)} problem(s) found", file=sys.stderr)
        return EXIT_POLICY
    except NotInForceError as exc:
        print(f"not in force: {exc}", file=sys.stderr)
        return EXIT_NOT_IN_FORCE
    except InputError as exc:
        for p in exc.problems:
            print(f"error: {p}", file=sys.stderr)
        return EXIT_INPUT
    except PolicyEngineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
