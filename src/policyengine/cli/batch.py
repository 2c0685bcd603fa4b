"""`policyengine batch`: one decision for every row of a CSV, JSON lines or Parquet file."""
from __future__ import annotations

import sys
import time

from ..errors import InputError
from .args import add_policies, load_policies

_HELP = """Decide DECISION for every row of --in (CSV, JSON lines or Parquet, by extension) and write
one result row per input row, in order, to --out: row, status, value (value.FIELD for
records), clauses, missing, assumptions, errors.  Rows whose facts are bad are listed with
their problems and the batch goes on.  The file is read in chunks of --chunk-size rows, so
files larger than memory work."""


def register(sub) -> None:
    b = sub.add_parser("batch", help="decide a whole file of cases (CSV, JSON lines, Parquet)", description=_HELP)
    b.add_argument("decision", help="the decision id (see `policyengine decisions`)")
    b.add_argument("--in", dest="input", required=True, metavar="FILE", help="cases: .csv, .jsonl or .parquet")
    b.add_argument("--out", required=True, metavar="FILE", help="results: .csv, .jsonl or .parquet")
    when = b.add_mutually_exclusive_group(required=True)
    when.add_argument("--as-of", metavar="DATE", help="decide every row as of DATE (YYYY-MM-DD)")
    when.add_argument("--as-of-column", metavar="NAME", help="decide each row as of the date in column NAME")
    known = b.add_mutually_exclusive_group()
    known.add_argument("--known-on", metavar="DATE", help="only the versions known (approved) by DATE")
    known.add_argument("--known-on-column", metavar="NAME", help="as known on the date in column NAME")
    b.add_argument("--no-presume", action="store_true", help="a presumed fact not given is missing instead")
    b.add_argument("--chunk-size", type=int, default=100_000, metavar="N", help="rows per chunk (default 100000)")
    b.add_argument("--log", metavar="PATH|URL", help="append one decision log record per row, one transaction "
                                                      "per chunk (SQLite path or postgresql:// URL)")
    b.add_argument("--dask", metavar="ADDRESS", help="split the rows across a dask.distributed cluster: "
                                                     "tcp://HOST:PORT, or local:N for N local workers")
    b.add_argument("--quiet", action="store_true", help="no progress bar and no summary")
    add_policies(b)
    b.set_defaults(func=run, _parser=b)


def run(args) -> int:
    from ..batch import io
    from ..batch import evaluate_batch
    from ..batch.engine import STATUSES, metadata
    if args.chunk_size < 1:
        raise InputError([f"--chunk-size: expected a positive number of rows, got {args.chunk_size}"])
    io.file_format(args.input, "--in")
    io.file_format(args.out, "--out")
    policies = load_policies(args.policies)
    policies.rule(args.decision)  # an unknown decision is said before any file is opened
    client, cluster = _dask(args.dask) if args.dask else (None, None)
    log = None
    if args.log:
        from ..audit.log import DecisionLog
        log = DecisionLog.open(args.log)
    totals = dict.fromkeys(STATUSES, 0)
    rows = bad_rows = 0
    started = time.perf_counter()
    bar = _progress(args)
    writer = io.Writer(args.out)
    try:
        for columns, read_errors in io.read_chunks(args.input, args.chunk_size):
            table = evaluate_batch(policies, args.decision, columns, as_of=args.as_of,
                                   as_of_column=args.as_of_column, known_on=args.known_on,
                                   known_on_column=args.known_on_column, presume=not args.no_presume,
                                   scheduler=client, row_offset=rows, input_errors=read_errors)
            if log is not None:
                _log_chunk(policies, args, columns, table, log)
            writer.write(table)
            meta = metadata(table)
            for k, v in meta["statuses"].items():
                totals[k] += v
            bad_rows += meta["input_errors"]
            rows += table.num_rows
            if bar is not None:
                bar.update(table.num_rows)
    finally:
        writer.close()
        if bar is not None:
            bar.close()
        if log is not None:
            log.close()
        if client is not None:
            client.close()
            cluster and cluster.close()
    seconds = time.perf_counter() - started
    if not args.quiet:
        print(f"{rows:,} rows: {totals['decided']:,} decided, {totals['undetermined']:,} undetermined, "
              f"{totals['refused']:,} refused, {totals['conflict']:,} in conflict, {totals['error']:,} not decided "
              f"({bad_rows:,} with input errors) in {seconds:.2f} s ({rows / seconds if seconds else 0:,.0f} rows/s)"
              f" -> {args.out}", file=sys.stderr)
    return 0


def _progress(args):
    if args.quiet or not sys.stderr.isatty():
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(unit=" rows", unit_scale=True, desc=args.decision, file=sys.stderr)


def _dask(address: str):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise InputError(["--dask needs dask.distributed: pip install 'policyengine[dask]'"]) from None
    if address.startswith("local:"):
        try:
            n = int(address.split(":", 1)[1])
        except ValueError:
            n = 0
        if n < 1:
            raise InputError([f"--dask {address}: expected local:N with N workers, e.g. local:2"])
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(address, timeout=10), None
    except (OSError, TimeoutError) as exc:
        raise InputError([f"--dask {address}: cannot reach the scheduler ({exc})"]) from None


def _log_chunk(policies, args, columns, table, log) -> None:
    """One log record per decided, undetermined or refused row, in one transaction per chunk
    where the log offers record_many (else one per record).  A record holds the full audit
    trace, so each row is evaluated by the scalar engine here."""
    from ..audit import records
    from ..batch.engine import _columns
    from ..runtime.evaluator import SUBJECT
    n, cols = _columns(columns)
    status = table.column("status").to_pylist()
    decisions, subjects = [], []
    for i in range(n):
        if status[i] == "error":
            continue
        facts = {k: v[i] for k, v in cols.items() if k not in (args.as_of_column, args.known_on_column, SUBJECT)}
        facts = {k: (v.as_py() if hasattr(v, "as_py") else v) for k, v in facts.items()}
        facts = {k: v for k, v in facts.items() if v is not None and v != ""}
        day = args.as_of or _py(cols[args.as_of_column][i])
        known = args.known_on or (_py(cols[args.known_on_column][i]) if args.known_on_column else None)
        decisions.append(policies.evaluate(args.decision, facts, day, presume=not args.no_presume, known_on=known))
        subjects.append(_py(cols[SUBJECT][i]) if SUBJECT in cols else None)
    if decisions and hasattr(records, "record_many"):
        records.record_many(policies, decisions, log, subjects=subjects)
    else:
        for d, s in zip(decisions, subjects):
            records.record(policies, d, log, s)


def _py(v):
    return v.as_py() if hasattr(v, "as_py") else v
