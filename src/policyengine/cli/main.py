"""The `policyengine` command: check, evaluate, explain, log, test and document cited policy rules.

Exit codes: 0 decided or undetermined; 1 policy files invalid (or, for `log verify` and
`log replay`, a broken chain or a different decision); 2 bad input (facts, dates, unknown
decision, unreadable log) or a case refused by a cited clause; 3 not in force.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from decimal import Decimal
from pathlib import Path


from .. import __version__
from ..errors import InputError, NotInForceError, PolicyEngineError, PolicyError
from ..policies import load

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
    e.add_argument("--known-on", metavar="DATE",
                   help="decide as known on DATE: only rule and table versions approved by then (or, where the "
                        "source gives no approval date, in effect by then) count; the decision lists those left out")
    e.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    e.add_argument("--format", choices=("json", "text", "html"), default="json",
                   help="json (Decision.to_dict()), text, or html (a self-contained page to save; default: %(default)s)")
    e.add_argument("--log", nargs="?", const="", metavar="PATH",
                   help="append the decision to a decision log (default file: $POLICYENGINE_LOG, else "
                        "$XDG_DATA_HOME/policyengine/decisions.sqlite, else ~/.local/share/policyengine/decisions.sqlite); "
                        "a subject_id fact names whom it is about")
    e.add_argument("--lang", choices=("en", "fr"), default="en", help="language of text output (default: %(default)s)")
    e.add_argument("--trace", choices=("none", "audit", "full"), default="audit",
                   help="trace level (default: %(default)s)")
    e.add_argument("--no-presume", dest="presume", action="store_false",
                   help="strict evaluation: a fact the policy presumes (see `policyengine decisions`) is a "
                        "missing fact when not given, instead of taking its cited presumed value")
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

    lg = sub.add_parser("log", help="the decision log: list, show, verify, replay",
                        description="Read the tamper-evident decision log. The log file is --log PATH, else "
                                    "$POLICYENGINE_LOG, else $XDG_DATA_HOME/policyengine/decisions.sqlite, else "
                                    "~/.local/share/policyengine/decisions.sqlite.")
    lsub = lg.add_subparsers(dest="log_command", metavar="LOG_COMMAND")
    ll = lsub.add_parser("list", help="list records (filter by decision, clause, dates, subject)",
                         description="List logged decisions in the order they were made.")
    ll.add_argument("--decision")
    ll.add_argument("--clause", help="clause id, e.g. ldp.B.10.7.12")
    ll.add_argument("--since", metavar="DATE", help="made on or after this date")
    ll.add_argument("--until", metavar="DATE", help="made on or before this date")
    ll.add_argument("--subject", help="subject id the facts carried")
    ll.add_argument("--format", choices=("text", "json"), default="text")
    ls = lsub.add_parser("show", help="show one record (text, JSON or HTML; full or public view)",
                         description="Show a logged decision: the outcome, the clauses with their citations and "
                                     "text, the facts, and its place in the chain.")
    ls.add_argument("id", help="record id (or a unique prefix of at least 6 characters)")
    ls.add_argument("--format", choices=("text", "json", "html"), default="text")
    ls.add_argument("--lang", choices=("en", "fr"), default="en")
    ls.add_argument("--view", choices=("full", "public"), default="full",
                    help="public: personal information redacted under the instrument's confidentiality clause")
    lv = lsub.add_parser("verify", help="walk the hash chain; exit 1 at the first altered, removed or reordered record",
                         description="Check the database's own storage, every record's hash, the chain between "
                                     "records, the log's head, the stored policy files and each policy version's "
                                     "hash. Exits 1 and names the first problem.")
    lv.add_argument("--head", metavar="SEQ:HASH",
                    help="a head printed earlier by `log head` and filed elsewhere: also prove that nothing up to "
                         "it was rewritten or removed")
    lh = lsub.add_parser("head", help="print the chain head (SEQ:HASH) to file elsewhere as an anchor",
                         description="Print the last record's sequence number and hash as SEQ:HASH. Filed outside "
                                     "the log (a signed report, another system), it lets `log verify --head` prove "
                                     "later that the log up to that point was not rewritten.")
    lr = lsub.add_parser("replay", help="re-decide a record under its logged policies (or --current ones)",
                         description="Re-evaluate the logged facts as of the logged date under the exact policy "
                                     "files stored in the log, and report any difference; with --current, under "
                                     "today's policies (--policies), to show what a policy change would have changed.")
    lr.add_argument("id")
    lr.add_argument("--current", action="store_true", help="replay under the current policies instead")
    lr.add_argument("--format", choices=("text", "json"), default="text")
    for p_ in (ll, ls, lv, lr, lh):
        p_.add_argument("--log", metavar="PATH|URL", default="",
                        help="decision log file, or postgresql:// URL (default: see `log --help`)")
        p_.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")

    from ..tools import coverage
    from ..tools import diff
    from ..tools import graph_views
    from ..tools import lint
    from ..gc import requirements
    from ..tools import site
    coverage.add_parser(sub)
    requirements.add_parser(sub)
    site.add_parser(sub)
    lint.add_parser(sub)
    diff.add_parser(sub)
    from ..audit import retro
    retro.add_parser(sub)
    from ..http import server
    server.add_parser(sub, DEFAULT_POLICIES)
    graph_views.add_parsers(sub)

    d = sub.add_parser("decisions", help="list the public decisions and the facts each reads",
                       description="List every public decision with its citation and the facts it reads.")
    d.add_argument("--policies", default=DEFAULT_POLICIES, metavar="DIR", help="policy folder (default: %(default)s)")
    d.add_argument("--lang", choices=("en", "fr"), default="en")
    d.add_argument("--format", choices=("text", "markdown"), default="text",
                   help="markdown: the full reference with every fact and its allowed values (docs/decisions.md)")
    return p


def _read_facts(args) -> dict:
    """The facts of --facts FILE (JSON or YAML) and of each --fact NAME=VALUE.

    Files are read as policy files are (regular, bounded, UTF-8, YAML through the
    bounded loader), so a facts file cannot hang or exhaust the command either; the
    values are checked by the decision's converters, like those given to evaluate().
    """
    from ..source.yamlsource import SourceError, decode, load_yaml, read_source

    facts: dict = {}
    if args.facts:
        name = "<stdin>" if args.facts == "-" else args.facts
        try:
            if args.facts == "-":
                from ..limits import MAX_FILE_BYTES
                stdin = getattr(sys.stdin, "buffer", None)
                raw = stdin.read(MAX_FILE_BYTES + 1) if stdin else sys.stdin.read(MAX_FILE_BYTES + 1).encode("utf-8")
                if len(raw) > MAX_FILE_BYTES:
                    raise InputError([f"--facts {name}: more than {MAX_FILE_BYTES:,} bytes"])
            else:
                raw = read_source(Path(args.facts))
            text = decode(raw, name)
        except SourceError as exc:
            raise InputError([f"--facts {name}: {exc.problem.message}"]) from None
        suffix = Path(name).suffix.lower()
        looks_json = suffix == ".json" or (suffix not in (".yaml", ".yml") and text.lstrip()[:1] in ("{", "["))
        data, json_problem = None, None
        if looks_json:
            try:
                data = json.loads(text, parse_float=Decimal, parse_int=_json_int)
            except json.JSONDecodeError as exc:
                json_problem = f"--facts {name}:{exc.lineno}:{exc.colno}: JSON error: {exc.msg}"
            except RecursionError:
                json_problem = f"--facts {name}: JSON nested too deeply"
        if not looks_json or (json_problem and suffix != ".json"):  # YAML (a flow mapping looks like JSON)
            data, _, problems = load_yaml(text, name)
            if problems:
                raise InputError([json_problem] if json_problem else [f"--facts {p}" for p in problems])
            json_problem = None
        if json_problem:
            raise InputError([json_problem])
        if not isinstance(data, dict):
            raise InputError([f"--facts {name}: expected a mapping of fact names to values"])
        facts.update(data)
    for item in args.fact:
        name, sep, raw = item.partition("=")
        if not sep or not name:
            raise InputError([f"--fact {item[:60]!r}: write NAME=VALUE"])
        try:
            facts[name.strip()] = json.loads(raw, parse_float=Decimal, parse_int=_json_int)
        except RecursionError:
            raise InputError([f"fact '{name.strip()}': nested too deeply"]) from None
        except ValueError:  # not JSON: the text itself, read by the fact's converter
            facts[name.strip()] = raw
    return facts


def _json_int(text: str):
    """A JSON integer: int, except -0 and very long ones, kept exact as Decimals so that the
    fact's converter can refuse them (int() would lose the sign, or refuse 4,300 digits)."""
    return int(text) if len(text) < 40 and text != "-0" else Decimal(text)


def _load(path: str):
    return load(path)


def _default_log() -> str:
    from ..audit.log import default_path
    return str(default_path())


def _print_record(record: dict, policies, fmt: str, lang: str, view_name: str) -> None:
    from ..present.explain import explain_record
    from ..audit.redact import view
    shown = view(record, policies, view_name)
    if fmt == "json":
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    elif fmt == "html":
        from ..present.explain_html import render
        print(render(shown, lang, policies))
    else:
        print(explain_record(shown, policies, lang))


def _log_command(args) -> int:
    from ..audit import records as audit
    from ..audit.log import DecisionLog
    if args.log_command is None:
        _parser().parse_args(["log", "--help"])
    path = args.log or _default_log()
    remote = str(path).startswith(("postgresql://", "postgres://"))
    if not remote and not Path(path).exists():
        raise InputError([f"{path}: no decision log here (log decisions with `policyengine eval ... --log`)"])
    with DecisionLog.open(path) as dl:
        if args.log_command == "list":
            rows = dl.list(decision=args.decision, clause=args.clause, since=args.since, until=args.until,
                           subject=args.subject)
            if args.format == "json":
                print(json.dumps(rows, ensure_ascii=False, indent=2))
            else:
                for r in rows:
                    print(f"{r['id'][:12]}  {r['made_at'][:19]}  {r['decision']}  as of {r['as_of']}  "
                          f"{r['status']}  {json.dumps(r['value'], ensure_ascii=False)}"
                          + (f"  subject {r['subject']}" if r.get("subject") else ""))
                print(f"{len(rows)} record(s) in {path}")
            return EXIT_OK
        if args.log_command == "show":
            record = dl.get(args.id)
            policies = audit._policies_from_log(dl, record["policy_hash"])
            _print_record(record, policies, args.format, args.lang, args.view)
            return EXIT_OK
        if args.log_command == "verify":
            result = dl.verify(head=args.head)
            print(f"{dl.name}: {result}" + (f" (anchored at {args.head})" if args.head and result.ok else ""))
            return EXIT_OK if result.ok else EXIT_POLICY
        if args.log_command == "head":
            seq, digest = dl.head()
            print(f"{seq}:{digest}")
            return EXIT_OK
        if args.log_command == "replay":
            current = _load(args.policies) if args.current else None
            r = audit.replay(dl, args.id, current)
            if args.format == "json":
                print(json.dumps(r.to_dict(), ensure_ascii=False, indent=2))
            else:
                head = f"record {r.record['id']} ({r.record['decision']} as of {r.record['as_of']}) under the {r.under} policies"
                if r.error:
                    print(f"{head}: could not be re-decided: {r.error}")
                elif r.same:
                    print(f"{head}: same decision")
                else:
                    print(f"{head}: differs")
                    for line in r.differences:
                        print(f"  {line}")
            return EXIT_OK if r.same else EXIT_POLICY
    return EXIT_INPUT


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
            from ..tools import inventory
            inv = inventory.build(_load(args.policies), args.instrument)
            print(json.dumps(inv.to_dict(), indent=2, ensure_ascii=False) if args.format == "json"
                  else inventory.render_text(inv))
            return EXIT_OK if inv.complete else EXIT_POLICY
        if args.command == "requirements":
            from ..gc import requirements
            return requirements.run(args)
        if args.command == "docs":
            from ..tools import site
            return site.run(args)
        if args.command == "lint":
            from ..tools import lint
            return lint.run(args)
        if args.command in ("graph", "impact"):
            return args.func(args)
        if args.command == "serve":
            from ..http import server
            return server.run(args)
        if args.command == "retro":
            from ..audit import retro
            return retro.run(args, read_facts=_read_facts)
        if args.command == "diff":
            from ..tools import diff
            return diff.run(args)
        if args.command == "test":
            from ..tools import coverage
            return coverage.run(args)
        if args.command == "log":
            return _log_command(args)
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
            from ..gc import report
            from ..runtime.facts import as_date
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
                from ..tools.reference import markdown
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
        log = None if args.log is None else (args.log or _default_log())
        d = policies.evaluate(args.decision, facts, as_of=args.as_of, trace=args.trace, log=log,
                              presume=args.presume, known_on=args.known_on)
        record = d.to_dict()
        if d.log_id:
            record["id"] = d.log_id
            print(f"logged as {d.log_id} in {log}", file=sys.stderr)
        _print_record(record, policies, args.format, args.lang, args.view)
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
    except PolicyEngineError as exc:  # e.g. a decision log that is not one, or an evaluation error
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_INPUT


def run() -> None:
    """Console entry point: `policyengine ... | head` ends quietly instead of with a traceback."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 0
    sys.exit(code)


if __name__ == "__main__":  # pragma: no cover
    run()
