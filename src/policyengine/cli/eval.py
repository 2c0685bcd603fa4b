"""Deciding: `eval` (one decision for one case), `query` (a catalogue's entries) and `retro`
(retroactive remuneration, registered from audit/retro.py)."""
from __future__ import annotations

import json
import re
import sys

from ..errors import InputError
from .args import (EXIT_INPUT, EXIT_OK, add_facts, add_format, add_lang, add_policies, default_log, load_policies,
                   pairs, read_facts)

_LOG_HELP = ("append the decision to a decision log: --log alone, the default file ($POLICYENGINE_LOG, else "
             "$XDG_DATA_HOME/policyengine/decisions.sqlite, else ~/.local/share/policyengine/decisions.sqlite); "
             "--log=PATH or --log PATH after DECISION, that file or postgresql:// URL. A subject_id fact names "
             "whom it is about")
_ID = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+")


def register(sub) -> None:
    e = sub.add_parser("eval", help="evaluate a decision for a case, as of a date",
                       description="Evaluate DECISION for the facts given, as of a date. JSON output is "
                                   "Decision.to_dict(); text output explains the outcome clause by clause "
                                   "(with --trace full, also the value of each step of each expression).")
    e.add_argument("decision", nargs="?", metavar="DECISION",
                   help="decision id, e.g. ldp.pay.annual_rate (see `policyengine decisions`)")
    add_facts(e)
    e.add_argument("--as-of", required=True, metavar="DATE", help="evaluation date, YYYY-MM-DD")
    e.add_argument("--known-on", metavar="DATE",
                   help="decide as known on DATE: only rule and table versions approved by then (or, where the "
                        "source gives no approval date, in effect by then) count; the decision lists those left out")
    add_format(e, ("json", "text", "html"),
               help="json (Decision.to_dict()), text, or html (a self-contained page to save; default: %(default)s)")
    e.add_argument("--log", nargs="?", const="", metavar="PATH", help=_LOG_HELP)
    add_lang(e)
    e.add_argument("--trace", choices=("none", "audit", "full"), default="audit",
                   help="trace level: none, audit (clauses and facts read), full (also the value of every "
                        "expression step; default: %(default)s)")
    e.add_argument("--no-presume", dest="presume", action="store_false",
                   help="strict evaluation: a fact the policy presumes (see `policyengine decisions`) is a "
                        "missing fact when not given, instead of taking its cited presumed value")
    e.add_argument("--view", choices=("full", "public"), default="full",
                   help="public: redact personal information under the instrument's confidentiality clause "
                        "(LDP 6.3.1: only the salary range); full: for authorized readers (default: %(default)s)")
    e.add_argument("--what-would-change", action="store_true",
                   help="for a negative or refused answer, also the minimal sets of fact changes that would turn "
                        "it, each with the clause it satisfies, and the date from which time alone would")
    e.add_argument("--keep", metavar="FACT,FACT", default="",
                   help="with --what-would-change: facts that cannot change (e.g. level,rating)")
    add_policies(e)
    e.set_defaults(func=run_eval, _parser=e)

    x = sub.add_parser("explain-diff", help="how an answer changed between two dates, two dates of knowledge, "
                                            "or two policy versions, clause by clause",
                       description="Decide one case twice and compare the two decisions clause by clause: the "
                                   "clauses only one side applied, and those whose outcome, value or table/rule "
                                   "version changed. Give --at twice (two dates), or --at once with --known-on "
                                   "twice, or --at once with --against DIR (another policy folder).")
    x.add_argument("decision", metavar="DECISION")
    add_facts(x)
    x.add_argument("--at", action="append", default=[], metavar="DATE", required=True,
                   help="as-of date (give it twice to compare two dates)")
    x.add_argument("--known-on", action="append", default=[], metavar="DATE",
                   help="as known on (give it twice to compare two dates of knowledge)")
    x.add_argument("--against", metavar="DIR", help="a second policy folder: decide the case under both")
    add_format(x, ("text", "json"))
    add_lang(x)
    add_policies(x)
    x.set_defaults(func=run_explain_diff, _parser=x)

    q = sub.add_parser("query", help="list the catalogue entries a query matches (e.g. a role's obligations)",
                       description="Run a named query over a catalogue of cited entries. Each --where NAME=VALUE "
                                   "filters on a parameter; entries that match only through a value the source "
                                   "does not show with certainty are kept and flagged as uncertain.")
    q.add_argument("query", help="query id, e.g. etm.obligations (see `policyengine decisions`)")
    q.add_argument("--where", action="append", default=[], metavar="NAME=VALUE", help="a parameter (repeatable)")
    q.add_argument("--as-of", metavar="DATE", help="check the instrument is in force on this date")
    add_format(q, ("json", "text"))
    add_lang(q)
    add_policies(q)
    q.set_defaults(func=run_query, _parser=q)


def register_retro(sub) -> None:
    """`retro`, whose parser audit/retro.py builds: registered apart, so that `eval` need not import it."""
    from ..audit import retro
    retro.add_parser(sub)
    r = sub.choices["retro"]
    add_policies(r)
    r.set_defaults(func=lambda args: retro.run(args, read_facts=read_facts), _parser=r)


def _looks_like_a_log(value: str) -> bool:
    """Whether --log's value names a log (a file or URL) rather than a decision id."""
    from pathlib import Path
    return (not _ID.fullmatch(value) or "://" in value or Path(value).exists()
            or Path(value).suffix.lower() in (".sqlite", ".sqlite3", ".db"))


def _decision_and_log(args) -> tuple[str, str | None]:
    """DECISION and the log target.  `--log` takes an optional value, so in `eval --log ID ...`
    argparse gives it the decision id: a value that is a dotted id, while DECISION is missing,
    is the decision, and --log the default log."""
    decision, log = args.decision, args.log
    if decision is None and log and not _looks_like_a_log(log):
        decision, log = log, ""
    if decision is None:
        args._parser.error("the following arguments are required: DECISION"
                           + (f" (--log took '{log}' as the log file: write --log=PATH, or put --log after "
                              "DECISION)" if log else ""))
    return decision, None if log is None else (log or default_log())


def print_record(record: dict, policies, fmt: str, lang: str, view_name: str, html_extra: str = "") -> None:
    from ..present.explain import explain_record
    if view_name == "full":  # the record itself (what redact.view returns for it): no need to import audit/
        shown = record
    else:
        from ..audit.redact import view
        shown = view(record, policies, view_name)
    if fmt == "json":
        print(json.dumps(shown, ensure_ascii=False, indent=2))
    elif fmt == "html":
        from ..present.explain_html import render
        page = render(shown, lang, policies)
        print(page.replace("</body>", html_extra + "\n</body>", 1) if html_extra else page, end="")
    else:
        print(explain_record(shown, policies, lang))


def run_eval(args) -> int:
    decision, log = _decision_and_log(args)
    facts = read_facts(args)
    policies = load_policies(args.policies)
    if decision not in policies.rules and decision in policies.queries:
        raise InputError([f"unknown decision '{decision}': it is a query; run it with "
                          f"`policyengine query {decision}`"])
    d = policies.evaluate(decision, facts, as_of=args.as_of, trace=args.trace, log=log,
                          presume=args.presume, known_on=args.known_on)
    record = d.to_dict()
    if d.log_id:
        record["id"] = d.log_id
        print(f"logged as {d.log_id} in {log}", file=sys.stderr)
    extra = ""
    if args.what_would_change:
        from ..tools import whatif
        w = d.counterfactuals(keep=whatif.parse_keep(args.keep))
        if args.format == "json":
            record["what_would_change"] = w.to_dict()
        elif args.format == "html":
            extra = whatif.render_html(w.to_dict(), args.lang)  # a section of the page, before </body>
    print_record(record, policies, args.format, args.lang, args.view, extra)
    if args.what_would_change and args.format == "text":
        print("\n" + w.text(args.lang))
    return EXIT_INPUT if d.status == "refused" else EXIT_OK


def run_explain_diff(args) -> int:
    from ..tools import explain_diff
    ats, knowns = args.at, args.known_on
    if len(ats) > 2 or len(knowns) > 2 or (len(ats) == 2) + (len(knowns) == 2) + bool(args.against) != 1:
        raise InputError(["explain-diff compares two decisions: give --at twice, or --known-on twice, "
                          "or --against DIR (with one --at)"])
    facts = read_facts(args)
    policies = load_policies(args.policies)
    first = {"as_of": ats[0], "known_on": knowns[0] if knowns else None}
    second = {"as_of": ats[-1], "known_on": knowns[-1] if knowns else None}
    other = load_policies(args.against) if args.against else None
    diff = explain_diff.decide_twice(policies, args.decision, facts, first, second, other)
    print(explain_diff.render_json(diff) if args.format == "json" else explain_diff.render_text(diff, args.lang))
    return EXIT_OK


def run_query(args) -> int:
    params = {name: value.strip() for name, value in pairs(args.where, "--where")}
    policies = load_policies(args.policies)
    if args.query not in policies.queries and args.query in policies.rules:
        raise InputError([f"unknown query '{args.query}': it is a decision; decide it with "
                          f"`policyengine eval {args.query} --as-of DATE`"])
    result = policies.query(args.query, as_of=args.as_of, **params)
    print(json.dumps(result.to_dict(), ensure_ascii=False, indent=2) if args.format == "json"
          else result.explain(args.lang))
    return EXIT_OK
