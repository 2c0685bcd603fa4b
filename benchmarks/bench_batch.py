"""Batch throughput on the PL pay workload: the annual rate of PL-01..PL-05 by level, step
and date (Appendix B, 12), 1,000,000 cases by default.

In one run, each checked against an exact Decimal reference (the table's own rows) before
it is timed:
  batch    evaluate_batch (status, exact value and deciding clause per row)
  numpy    a hand-written NumPy version of the same rules (the floor): no clause, no checks
  scalar   a plain-Python loop of evaluate() (trace audit), on a sample, as cases/s
  dask:N   evaluate_batch on a dask.distributed LocalCluster of N workers (1 and 2)
Reported: median cases/s of --repeats, the ratio of batch to the floor, and peak memory of
the batch run (NumPy and Python through tracemalloc, plus Arrow's pool) beside the size
of the input columns.

    .venv/bin/python benchmarks/bench_batch.py [--cases 1000000] [--repeats 5] [--no-dask]
"""
from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa

import policyengine

ROOT = Path(__file__).resolve().parents[1]
LEVELS = ["PL-01", "PL-02", "PL-03", "PL-04", "PL-05"]
FIRST, LAST = dt.date(2006, 4, 2), dt.date(2012, 4, 2)


def cases(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    level = np.asarray(LEVELS)[rng.integers(0, 5, n)]
    step = rng.integers(1, 4, n)
    day = np.datetime64(FIRST) + rng.integers(0, (LAST - FIRST).days + 1, n).astype("timedelta64[D]")
    return pa.table({"level": pa.array(level), "step": pa.array(step), "day": pa.array(day, type=pa.date32())})


def reference(policies, table) -> list:
    """The exact rate of each row, straight from the table's versions (Decimal)."""
    t = policies.tables["ldp.pl_step_rates"]
    starts = [v.effective for v in t.versions]
    out = []
    for level, step, day in zip(*(table.column(c).to_pylist() for c in ("level", "step", "day"))):
        i = max(k for k, s in enumerate(starts) if s <= day)
        out.append(t.versions[i].cells[(level, step)])
    return out


def numpy_floor(policies):
    """The same rules by hand: version by date, then a 3-d lookup, in integer cents."""
    t = policies.tables["ldp.pl_step_rates"]
    starts = np.asarray([np.datetime64(v.effective) for v in t.versions]).astype("datetime64[D]").astype(np.int64)
    rates = np.zeros((len(t.versions), 5, 3), dtype=np.int64)
    for vi, v in enumerate(t.versions):
        for li, level in enumerate(LEVELS):
            for s in (1, 2, 3):
                rates[vi, li, s - 1] = int(v.cells[(level, s)] * 100)
    order = np.asarray(LEVELS)

    def run(table):
        day = table.column("day").to_numpy().astype("datetime64[D]").astype(np.int64)
        version = np.searchsorted(starts, day, side="right") - 1
        level = np.searchsorted(order, table.column("level").to_numpy(zero_copy_only=False))
        step = table.column("step").to_numpy() - 1
        return rates[version, level, step]
    return run


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scalar-sample", type=int, default=20_000)
    ap.add_argument("--no-dask", action="store_true")
    a = ap.parse_args()
    p = policyengine.load(ROOT / "policies")
    data = cases(a.cases)
    ref = reference(p, data)
    input_bytes = data.nbytes
    decision = "ldp.pay.annual_rate"

    def batch():
        return p.evaluate_batch(decision, data, as_of_column="day")
    out = batch()
    assert out.column("value").to_pylist() == ref, "batch differs from the reference"
    assert set(map(tuple, out.column("clauses").to_pylist()[:1000])) == {("ldp.B.12",)}
    floor = numpy_floor(p)
    cents = floor(data)
    assert [Decimal(int(c)) / 100 for c in cents[:100_000]] == ref[:100_000], "floor differs from the reference"
    rows = []
    sec, _ = timed(batch, a.repeats)
    rows.append(("batch (evaluate_batch)", a.cases / sec))
    fsec, _ = timed(lambda: floor(data), a.repeats)
    rows.append(("numpy floor (hand-written)", a.cases / fsec))
    sample = data.slice(0, a.scalar_sample).to_pylist()

    def loop():
        return [p.evaluate(decision, {"level": r["level"], "step": r["step"]}, r["day"]).value for r in sample]
    got = loop()
    assert got == ref[:a.scalar_sample]
    ssec, _ = timed(loop, max(1, a.repeats // 2))
    rows.append(("scalar loop of evaluate()", a.scalar_sample / ssec))
    tracemalloc.start()
    pool = pa.default_memory_pool()
    base_arrow = pool.max_memory()
    batch()
    _, peak_py = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    peak = peak_py + max(0, pool.max_memory() - base_arrow)
    if not a.no_dask:
        from dask.distributed import Client, LocalCluster
        for workers in (1, 2):
            with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                def distributed():
                    return p.evaluate_batch(decision, data, as_of_column="day", scheduler=client)
                assert distributed().column("value").to_pylist() == ref
                dsec, _ = timed(distributed, max(1, a.repeats // 2))
                rows.append((f"dask LocalCluster, {workers} worker(s)", a.cases / dsec))
    print(f"{a.cases:,} cases of {decision} (level, step, date 2006-04-02..2012-04-02), median of {a.repeats}")
    for name, rate in rows:
        print(f"  {name:34s} {rate:>14,.0f} cases/s")
    print(f"  batch / numpy floor: {rows[0][1] / rows[1][1]:.2f}x   batch / scalar loop: {rows[0][1] / rows[2][1]:.1f}x")
    print(f"  peak memory of one batch run: {peak / 2**20:.1f} MiB; input columns {input_bytes / 2**20:.1f} MiB "
          f"({peak / input_bytes:.2f}x)")


if __name__ == "__main__":
    main()
