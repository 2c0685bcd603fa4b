"""Decision-log appends per second: SQLite and PostgreSQL (advisory lock and SERIALIZABLE
retries), with 1 and 4 writer processes, each append its own transaction, and 1 writer appending
`--batch` records per transaction (ChainedLog.append_many, what records.record_many and the HTTP
server's group commit use); median of repeats, all in the same run.

    .venv/bin/python benchmarks/bench_log.py --postgres postgresql://postgres@127.0.0.1:54329/postgres

(`bash .ci/postgres.sh start /tmp/pg` starts a throwaway cluster and prints its URL.)
Each writer is its own process appending records like those the engine logs (a small
trace), each append its own committed transaction.  Without --postgres only SQLite runs.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

WRITER = """
import sys
from policyengine.audit.log import DecisionLog
from policyengine.audit.postgres_log import PostgresLog
from policyengine.source.loader import policy_hash
target, locking, n, batch = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
files = {"demo/rules.yaml": b"rules: [1]\\n"}
P = policy_hash(files)
log = PostgresLog(target, locking) if target.startswith("postgresql://") else DecisionLog(target)
with log:
    log.store_policies(P, files)
    print("ready", flush=True)
    sys.stdin.readline()  # start together
    rec = {"decision": "ldp.pay.annual_rate", "as_of": "2009-06-01", "facts": {"level": "PL-03", "step": 1},
           "value": "63520", "status": "decided", "clauses": ["ldp.B.12"],
           "trace": [{"kind": "rule", "id": "ldp.pay.annual_rate", "value": "63520"}],
           "policy_hash": P, "engine_version": "0"}
    if batch == 1:
        for i in range(n):
            log.append(rec)
    else:
        for i in range(0, n, batch):
            log.append_many([rec] * min(batch, n - i))
"""


def run(target: str, locking: str, writers: int, n: int, batch: int = 1) -> float:
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, target, locking, str(n), str(batch)], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(writers)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    start = time.perf_counter()
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    for p in procs:
        p.wait()
        assert p.returncode == 0
    return writers * n / (time.perf_counter() - start)


def fresh_sqlite(tmp: Path) -> str:
    return str(tmp / f"{uuid.uuid4().hex}.sqlite")


def fresh_postgres(base: str) -> str:
    import psycopg
    from urllib.parse import urlsplit, urlunsplit
    name = "pe_bench_" + uuid.uuid4().hex[:10]
    with psycopg.connect(base, autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    p = urlsplit(base)
    return urlunsplit((p.scheme, p.netloc, "/" + name, p.query, p.fragment))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--postgres", metavar="URL", help="an administrative URL of a PostgreSQL cluster to test in")
    ap.add_argument("--appends", type=int, default=300, help="appends per writer (default %(default)s)")
    ap.add_argument("--repeats", type=int, default=5, help="repeats per configuration (default %(default)s)")
    ap.add_argument("--batch", type=int, default=32, help="records per transaction in the batched column "
                                                            "(default %(default)s)")
    args = ap.parse_args()
    configs = [("sqlite", "-")]
    if args.postgres:
        configs += [("postgresql", "advisory"), ("postgresql", "serializable")]
    print(f"{args.appends} appends per writer, median of {args.repeats} repeats, appends per second")
    print(f"{'backend':12} {'locking':13} {'1 writer':>10} {'4 writers':>10} {f'1 x {args.batch}/tx':>10}")
    with tempfile.TemporaryDirectory() as tmp:
        for backend, locking in configs:
            cells = []
            for writers, batch in ((1, 1), (4, 1), (1, args.batch)):
                rates = []
                for _ in range(args.repeats):
                    target = fresh_sqlite(Path(tmp)) if backend == "sqlite" else fresh_postgres(args.postgres)
                    rates.append(run(target, locking, writers, args.appends, batch))
                cells.append(statistics.median(rates))
            print(f"{backend:12} {locking:13} {cells[0]:10.0f} {cells[1]:10.0f} {cells[2]:10.0f}")


if __name__ == "__main__":
    main()
