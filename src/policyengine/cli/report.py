"""`policyengine report`: check an annual PL-06 performance pay report (gc/report.py)."""
from __future__ import annotations

from pathlib import Path

from .args import EXIT_INPUT, EXIT_OK, add_policies, load_policies


def register(sub) -> None:
    r = sub.add_parser("report", help="check an annual PL-06 performance pay report (Appendix B, s. 14)",
                       description="Check each row of an annual PL-06 performance pay report (CSV with a header "
                                   "row, JSON array or JSON lines) against schemas/pl06_performance_pay_report.schema.json. "
                                   "With --as-of (the April 1 the pay was administered) each row is also re-decided "
                                   "under ldp.performance_pay; with --submitted the July 15 due date is checked. "
                                   "Prints each wrong row and why; exits 2 if any.")
    r.add_argument("file", help="the report file (.csv, .json or .jsonl)")
    r.add_argument("--as-of", metavar="DATE", help="April 1 on which the performance pay was administered")
    r.add_argument("--submitted", metavar="DATE", help="date the report was submitted (due July 15)")
    add_policies(r)
    r.set_defaults(func=run, _parser=r)


def run(args) -> int:
    from ..gc import report
    from ..runtime.facts import as_date
    as_of = as_date(args.as_of, "--as-of") if args.as_of else None
    submitted = as_date(args.submitted, "--submitted") if args.submitted else None
    policies = load_policies(args.policies) if as_of else None
    count, problems = report.check(Path(args.file), policies, as_of, submitted)
    for p in problems:
        print(p)
    print(f"{args.file}: {count} row(s), {len(problems)} problem(s)")
    return EXIT_INPUT if problems else EXIT_OK
