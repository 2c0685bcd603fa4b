"""The decision log: `log list`, `log show`, `log verify`, `log head`, `log replay`."""
from __future__ import annotations

import json
from pathlib import Path

from ..errors import InputError
from .args import EXIT_INPUT, EXIT_OK, EXIT_POLICY, add_format, add_lang, add_policies, default_log, load_policies


def register(sub) -> None:
    lg = sub.add_parser("log", help="the decision log: list, show, verify, replay",
                        description="Read the tamper-evident decision log. The log file is --log PATH, else "
                                    "$POLICYENGINE_LOG, else $XDG_DATA_HOME/policyengine/decisions.sqlite, else "
                                    "~/.local/share/policyengine/decisions.sqlite.")
    lg.set_defaults(func=lambda args: _help(lg))
    lsub = lg.add_subparsers(dest="log_command", metavar="LOG_COMMAND")
    ll = lsub.add_parser("list", help="list records (filter by decision, clause, dates, subject)",
                         description="List logged decisions in the order they were made.")
    ll.add_argument("--decision")
    ll.add_argument("--clause", help="clause id, e.g. ldp.B.10.7.12")
    ll.add_argument("--since", metavar="DATE", help="made on or after this date")
    ll.add_argument("--until", metavar="DATE", help="made on or before this date")
    ll.add_argument("--subject", help="subject id the facts carried")
    add_format(ll)
    ll.set_defaults(func=_list)
    ls = lsub.add_parser("show", help="show one record (text, JSON or HTML; full or public view)",
                         description="Show a logged decision: the outcome, the clauses with their citations and "
                                     "text, the facts, and its place in the chain.")
    ls.add_argument("id", help="record id (or a unique prefix of at least 6 characters)")
    add_format(ls, ("text", "json", "html"))
    add_lang(ls)
    ls.add_argument("--view", choices=("full", "public"), default="full",
                    help="public: personal information redacted under the instrument's confidentiality clause")
    ls.set_defaults(func=_show)
    lv = lsub.add_parser("verify", help="walk the hash chain; exit 1 at the first altered, removed or reordered record",
                         description="Check the database's own storage, every record's hash, the chain between "
                                     "records, the log's head, the stored policy files and each policy version's "
                                     "hash. Exits 1 and names the first problem.")
    lv.add_argument("--head", metavar="SEQ:HASH",
                    help="a head printed earlier by `log head` and filed elsewhere: also prove that nothing up to "
                         "it was rewritten or removed")
    lv.set_defaults(func=_verify)
    lh = lsub.add_parser("head", help="print the chain head (SEQ:HASH) to file elsewhere as an anchor",
                         description="Print the last record's sequence number and hash as SEQ:HASH. Filed outside "
                                     "the log (a signed report, another system), it lets `log verify --head` prove "
                                     "later that the log up to that point was not rewritten.")
    lh.set_defaults(func=_head)
    lr = lsub.add_parser("replay", help="re-decide a record under its logged policies (or --current ones)",
                         description="Re-evaluate the logged facts as of the logged date under the exact policy "
                                     "files stored in the log, and report any difference; with --current, under "
                                     "today's policies (--policies), to show what a policy change would have changed.")
    lr.add_argument("id")
    lr.add_argument("--current", action="store_true", help="replay under the current policies instead")
    add_format(lr)
    lr.set_defaults(func=_replay)
    for p in (ll, ls, lv, lr, lh):
        p.add_argument("--log", metavar="PATH|URL", default="",
                       help="decision log file, or postgresql:// URL (default: see `log --help`)")
        add_policies(p, positional=p is lr)  # only replay --current reads the folder
        p.set_defaults(_parser=p)


def _help(parser) -> int:
    parser.print_help()
    return EXIT_INPUT


def _open(args):
    from ..audit.log import DecisionLog
    path = args.log or default_log()
    remote = str(path).startswith(("postgresql://", "postgres://"))
    if not remote and not Path(path).exists():
        raise InputError([f"{path}: no decision log here (log decisions with `policyengine eval ... --log`)"])
    return path, DecisionLog.open(path)


def _list(args) -> int:
    path, log = _open(args)
    with log as dl:
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


def _show(args) -> int:
    from ..audit import records as audit
    from .eval import print_record
    _, log = _open(args)
    with log as dl:
        record = dl.get(args.id)
        policies = audit._policies_from_log(dl, record["policy_hash"])
        print_record(record, policies, args.format, args.lang, args.view)
    return EXIT_OK


def _verify(args) -> int:
    _, log = _open(args)
    with log as dl:
        result = dl.verify(head=args.head)
        print(f"{dl.name}: {result}" + (f" (anchored at {args.head})" if args.head and result.ok else ""))
    return EXIT_OK if result.ok else EXIT_POLICY


def _head(args) -> int:
    _, log = _open(args)
    with log as dl:
        seq, digest = dl.head()
    print(f"{seq}:{digest}")
    return EXIT_OK


def _replay(args) -> int:
    from ..audit import records as audit
    _, log = _open(args)
    with log as dl:
        current = load_policies(args.policies) if args.current else None
        r = audit.replay(dl, args.id, current)
        diff = r.clause_diff() if args.current else None  # what explain-diff says, clause by clause
        if args.format == "json":
            out = r.to_dict()
            if diff is not None:
                out["clauses_changed"] = diff.to_dict()["clauses"]
            print(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            head = (f"record {r.record['id']} ({r.record['decision']} as of {r.record['as_of']}) "
                    f"under the {r.under} policies")
            if r.error:
                print(f"{head}: could not be re-decided: {r.error}")
            elif r.same:
                print(f"{head}: same decision")
            else:
                print(f"{head}: differs")
                for line in r.differences:
                    print(f"  {line}")
                if diff is not None and diff.changes:
                    from ..tools.explain_diff import render_text
                    print(render_text(diff, getattr(args, "lang", "en")))
    return EXIT_OK if r.same else EXIT_POLICY
