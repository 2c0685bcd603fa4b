"""Batch throughput on the PL pay workload, 1,000,000 cases of each part by default:

  rate  ldp.pay.annual_rate: PL-01..PL-05 annual rate by level, step and date (Appendix B,
        12), days 2006-04-02..2012-04-02, so all five table versions are used.
  perf  ldp.performance_pay: PL-06 performance pay on April 1 (10.7(9)) of 2007..2012,
        salary within the PL-06 range in force, rating surpassed / met all / met most /
        did not meet with increase_pct within its s. 13 range (tenths of a per cent),
        rounded half-up to $100 and capped at the job rate (10.7(12)); 10.7(5), (6), (8)
        are presumed (listed in each row's assumptions).

In one run, each approach checked against an exact Decimal reference before it is timed:
  batch      evaluate_batch (status, exact value and deciding clauses per row)
  numpy      a hand-written NumPy version of the same rules (the floor): no clause, no checks
  openfisca  the same rules in OpenFisca's vectorised engine (benchmarks/openfisca_pl.py;
             optional: skipped with a message when openfisca_core is not installed)
  scalar     a plain-Python loop of evaluate() (trace audit), on a sample, as cases/s
  dask:N     evaluate_batch on a dask.distributed LocalCluster of N workers (1 and 2)
The reference is the table's own rows for rate (every row), and evaluate() for perf (a
sample: the first rows plus every kind of edge case - half-dollar-hundred rounding, capped
at the job rate, at the job rate, not entitled); on every row, batch, numpy and OpenFisca
must also agree with each other.

Reported: median cases/s of --repeats (batch, numpy and OpenFisca timed in turn, one call
of each a round: see timed_in_turn), the ratios batch / numpy floor and batch /
OpenFisca (each part, and the whole workload: both parts one after the other), peak resident memory of one run of each approach in a fresh process (growth of
ru_maxrss over the process's RSS once it holds the input), beside the input columns' Arrow
size - for the batch both as the process's first call ("batch") and after a 1,000-row call
has done the engine's one-time setup ("batch-warm", as each other approach's setup is done
before its peak is reset); and a kernel comparison (NumPy / Polars / PyArrow) for gathering codes and
factorizing a combined key.

    .venv/bin/python benchmarks/bench_batch.py [--cases 1000000] [--repeats 5] [--no-dask]
        [--workloads rate,perf] [--no-rss] [--no-kernels] [--dask-timeout S] [--json FILE]
"""
from __future__ import annotations

import argparse
import datetime as dt
import gc
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import policyengine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
LEVELS = ["PL-01", "PL-02", "PL-03", "PL-04", "PL-05"]
FIRST, LAST = dt.date(2006, 4, 2), dt.date(2012, 4, 2)
PERF_YEARS = range(2007, 2013)  # April 1: the directive is in force 2006-04-02..2012-04-02
RATINGS = ["surpassed", "met_all", "met_most", "did_not_meet"]
DECISION = {"rate": "ldp.pay.annual_rate", "perf": "ldp.performance_pay"}


def _days(versions) -> np.ndarray:
    return np.asarray([np.datetime64(v.effective) for v in versions]).astype("datetime64[D]").astype(np.int64)


def _day_numbers(table) -> np.ndarray:
    return table.column("day").to_numpy().astype("datetime64[D]").astype(np.int64)


# -- inputs ---------------------------------------------------------------------------------
def rate_cases(policies, n: int, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    level = np.asarray(LEVELS)[rng.integers(0, 5, n)]
    step = rng.integers(1, 4, n)
    day = np.datetime64(FIRST) + rng.integers(0, (LAST - FIRST).days + 1, n).astype("timedelta64[D]")
    return pa.table({"level": pa.array(level), "step": pa.array(step), "day": pa.array(day, type=pa.date32())})


def perf_cases(policies, n: int, seed: int = 2) -> pa.Table:
    """PL-06 on April 1: salary uniform in the range in force (2 % exactly at the job rate),
    rating 20/45/30/5 % surpassed/met all/met most/did not meet, increase_pct uniform over
    the tenths in the rating's s. 13 range (surpassed 6.0-7.0, met all 5, met most 0.0-4.0,
    did not meet 0)."""
    rng = np.random.default_rng(seed)
    days = np.asarray([np.datetime64(f"{y}-04-01") for y in PERF_YEARS]).astype("datetime64[D]")
    yi = rng.integers(0, len(days), n)
    rv = policies.tables["ldp.pl06_range"].versions
    vi = np.searchsorted(_days(rv), days.astype(np.int64), side="right") - 1
    lo = np.asarray([int(v.cells[("minimum",)]) for v in rv])[vi][yi]
    hi = np.asarray([int(v.cells[("maximum",)]) for v in rv])[vi][yi]
    salary = np.where(rng.random(n) < 0.02, hi, rng.integers(lo, hi + 1))
    ri = rng.choice(4, n, p=[0.2, 0.45, 0.3, 0.05])
    tenths = np.select([ri == 0, ri == 1, ri == 2], [rng.integers(60, 71, n), np.full(n, 50), rng.integers(0, 41, n)], 0)
    return pa.table({"level": pa.array(np.full(n, "PL-06")), "salary": pa.array(salary),
                     "rating": pa.array(np.asarray(RATINGS)[ri]), "increase_pct": pa.array(tenths / 10),
                     "day": pa.array(days[yi], type=pa.date32())})


CASES = {"rate": rate_cases, "perf": perf_cases}


# -- the NumPy floor --------------------------------------------------------------------------
def rate_floor(policies, strings: str = "arrow"):
    """Version by date, then a 3-d lookup, in integer cents. The level strings become codes
    through Arrow's hash lookup (pc.index_in, strings="arrow": the floor), or through NumPy
    (to_numpy + searchsorted on a unicode array, strings="numpy": 10x slower)."""
    t = policies.tables["ldp.pl_step_rates"]
    starts = _days(t.versions)
    rates = np.zeros((len(t.versions), 5, 3), dtype=np.int64)
    for vi, v in enumerate(t.versions):
        for li, level in enumerate(LEVELS):
            for s in (1, 2, 3):
                rates[vi, li, s - 1] = int(v.cells[(level, s)] * 100)
    order, value_set = np.asarray(LEVELS), pa.array(LEVELS)

    def run(table):
        version = np.searchsorted(starts, _day_numbers(table), side="right") - 1
        if strings == "arrow":
            level = pc.index_in(table.column("level"), value_set=value_set).to_numpy()
        else:
            level = np.searchsorted(order, table.column("level").to_numpy(zero_copy_only=False))
        step = table.column("step").to_numpy() - 1
        return {"cents": rates[version, level, step]}
    return run


def perf_floor(policies):
    """10.7(1), (4), (12) for PL-06 in whole dollars: job rate by date; increase in
    hundredths of a per cent; half-up rounding to $100 in integers; the cap; not entitled
    (did not meet, unable to assess) keeps the salary."""
    rv = policies.tables["ldp.pl06_range"].versions
    starts = _days(rv)
    maxima = np.asarray([int(v.cells[("maximum",)]) for v in rv], dtype=np.int64)
    entitled_ratings = pa.array(["met_most", "met_all", "surpassed"])

    def run(table):
        job = maxima[np.searchsorted(starts, _day_numbers(table), side="right") - 1]
        salary = table.column("salary").to_numpy()
        hundredths = np.rint(table.column("increase_pct").to_numpy() * 100).astype(np.int64)
        entitled = (pc.is_in(table.column("rating"), value_set=entitled_ratings).to_numpy()
                    & pc.equal(table.column("level"), "PL-06").to_numpy())
        increased = (salary * (10_000 + hundredths) + 500_000) // 1_000_000 * 100
        new = np.where(entitled, np.minimum(increased, job), salary)
        award = entitled & ((salary >= job) | (increased > job))
        return {"new_salary": new, "increase": new - salary, "award_eligible": award, "eligible": entitled}
    return run


FLOORS = {"rate": rate_floor, "perf": perf_floor}


# -- OpenFisca ------------------------------------------------------------------------------
def openfisca_runner(policies, workload):
    """The workload in OpenFisca (None, with the reason, when openfisca_core is missing)."""
    try:
        import openfisca_pl as of
    except ImportError as exc:
        return None, f"OpenFisca skipped: openfisca_core is not importable ({exc}); pip install openfisca-core"
    tbs = of.build_system(policies)
    if workload == "rate":
        starts = _days(policies.tables["ldp.pl_step_rates"].versions)
        periods = [str(np.datetime64(int(s), "D")) for s in starts]

        def run(table):
            n = table.num_rows
            version = np.searchsorted(starts, _day_numbers(table), side="right") - 1
            groups = [(periods[v], np.flatnonzero(version == v)) for v in range(len(starts))]
            inputs = {"level": of.enum_codes(table.column("level"), of.LEVELS),
                      "step": table.column("step").to_numpy()}
            out = of.simulate(tbs, [g for g in groups if len(g[1])], inputs, ["annual_rate"], n)
            return {"cents": np.rint(out["annual_rate"].astype(np.float64) * 100).astype(np.int64)}
        return run, None

    def run(table):  # perf: one period per April 1
        n = table.num_rows
        day = _day_numbers(table)
        groups = [(str(np.datetime64(int(d), "D")), np.flatnonzero(day == d)) for d in np.unique(day)]
        inputs = {"level": of.enum_codes(table.column("level"), of.LEVELS),
                  "rating": of.enum_codes(table.column("rating"), of.RATINGS),
                  "salary": table.column("salary").to_numpy(),
                  "increase_hundredths": np.rint(table.column("increase_pct").to_numpy() * 100).astype(np.int64)}
        out = of.simulate(tbs, groups, inputs, ["new_salary", "award_eligible", "eligible"], n)
        return {"new_salary": out["new_salary"].astype(np.int64),
                "increase": out["new_salary"].astype(np.int64) - inputs["salary"],
                "award_eligible": out["award_eligible"], "eligible": out["eligible"]}
    return run, None


# -- references and checks ------------------------------------------------------------------
def rate_reference(policies, table) -> list:
    """The exact rate of each row, straight from the table's versions (Decimal)."""
    t = policies.tables["ldp.pl_step_rates"]
    starts = [v.effective for v in t.versions]
    out = []
    for level, step, day in zip(*(table.column(c).to_pylist() for c in ("level", "step", "day"))):
        i = max(k for k, s in enumerate(starts) if s <= day)
        out.append(t.versions[i].cells[(level, step)])
    return out


def perf_sample(table, floor_out, first: int, per_kind: int = 500) -> np.ndarray:
    """Rows for the evaluate() reference: the first rows and up to per_kind of each edge
    case (computed from the inputs, not from any approach's output)."""
    salary = table.column("salary").to_numpy()
    h = np.rint(table.column("increase_pct").to_numpy() * 100).astype(np.int64)
    half = (salary * (10_000 + h)) % 1_000_000 == 500_000
    award = floor_out["award_eligible"]
    at_job = floor_out["increase"] == 0
    refused = ~floor_out["eligible"]
    kinds = [np.flatnonzero(k)[:per_kind] for k in (half, award & ~at_job, award & at_job, refused)]
    return np.unique(np.concatenate([np.arange(min(first, table.num_rows))] + kinds))


def check_perf(name, out, rows, ref) -> None:
    for key in ("new_salary", "increase", "award_eligible", "eligible"):
        got = np.asarray(out[key])[rows]
        want = [r[key] for r in ref]
        if key in ("new_salary", "increase"):
            bad = [i for i, (g, w) in enumerate(zip(got.tolist(), want)) if Decimal(int(g)) != w]
        else:
            bad = [i for i, (g, w) in enumerate(zip(got.tolist(), want)) if bool(g) is not w]
        assert not bad, f"{name} differs from evaluate() on {key} at row {rows[bad[0]]}: {got[bad[0]]} != {want[bad[0]]}"


def plain(column):
    """A result column without dictionary encoding (the engine may dictionary-encode)."""
    if not pa.types.is_dictionary(column.type):
        return column
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    return pa.chunked_array([c.dictionary.take(c.indices) for c in chunks], type=column.type.value_type)


def same_table(x: pa.Table, y: pa.Table) -> bool:
    return x.column_names == y.column_names and all(
        plain(x.column(c)).equals(plain(y.column(c))) for c in x.column_names)


def batch_perf_arrays(out: pa.Table) -> dict:
    """evaluate_batch's perf columns as integer dollars (the cast is exact or raises)."""
    return {"new_salary": plain(out.column("value.new_salary")).cast(pa.int64()).to_numpy(),
            "increase": plain(out.column("value.increase")).cast(pa.int64()).to_numpy(),
            "award_eligible": plain(out.column("value.award_eligible")).to_numpy(zero_copy_only=False),
            "eligible": plain(out.column("value.eligible")).to_numpy(zero_copy_only=False)}


def timed(fn, repeats):
    times, out = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def timed_in_turn(fns: dict, repeats: int) -> dict:
    """Median seconds of each approach, timed in turn: each round calls every approach once,
    so a change in the machine's load during the run falls on all of them alike (timed one
    block after the other, a busy spell lands on one approach and moves the ratio).  No
    answer is kept past its own call."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            times[name].append(time.perf_counter() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


# -- one workload ---------------------------------------------------------------------------
def say(*args) -> None:
    print(time.strftime("%H:%M:%S"), *args, file=sys.stderr, flush=True)


def run_workload(p, w: str, a) -> dict:
    decision = DECISION[w]
    say(w, "checking")
    data = CASES[w](p, a.cases)
    floor = FLOORS[w](p)
    of_run, of_skip = openfisca_runner(p, w)
    rows = {}

    def batch():
        return p.evaluate_batch(decision, data, as_of_column="day")
    b_out = batch()
    statuses = pc.value_counts(plain(b_out.column("status"))).to_pylist()
    assert statuses == [{"values": "decided", "counts": a.cases}], f"batch statuses: {statuses}"
    f_out = floor(data)
    o_out = of_run(data) if of_run else None
    sample_n = min(a.scalar_sample, a.cases)
    if w == "rate":
        ref = rate_reference(p, data)
        assert plain(b_out.column("value")).to_pylist() == ref, "batch differs from the reference"
        cents_ref = np.asarray([int(r * 100) for r in ref], dtype=np.int64)
        assert np.array_equal(f_out["cents"], cents_ref), "numpy floor differs from the reference"
        if o_out is not None:
            assert np.array_equal(o_out["cents"], cents_ref), "OpenFisca differs from the reference"
        sample_rows = np.arange(sample_n)
        sample = data.take(sample_rows).to_pylist()

        def loop():
            return [p.evaluate(decision, {"level": r["level"], "step": r["step"]}, r["day"]) for r in sample]
        decided = loop()
        assert [d.value for d in decided] == ref[:sample_n], "evaluate() differs from the table"
        check = "every row against the table's own Decimal rows"
    else:
        sample_n = min(a.perf_sample, a.cases)
        sample_rows = perf_sample(data, f_out, sample_n)
        sample = data.take(sample_rows).to_pylist()

        def loop():
            return [p.evaluate(decision, {k: r[k] for k in ("level", "salary", "rating", "increase_pct")}, r["day"])
                    for r in sample]
        decided = loop()
        assert all(d.status == "decided" for d in decided), "evaluate() did not decide every sample row"
        ref = [d.value for d in decided]
        b_arr = batch_perf_arrays(b_out)
        for name, out in (("batch", b_arr), ("numpy floor", f_out)) + ((("OpenFisca", o_out),) if o_out else ()):
            check_perf(name, out, sample_rows, ref)
            if name != "batch":
                for key in b_arr:
                    assert np.array_equal(np.asarray(out[key]), b_arr[key]), f"{name} and batch differ on {key}"
        check = (f"evaluate() on {len(sample_rows):,} rows (first {sample_n:,} and the edge cases); "
                 f"batch = numpy = OpenFisca on all {a.cases:,} rows")
    # the deciding clauses per row are evaluate()'s
    b_clauses = plain(b_out.column("clauses")).take(pa.array(sample_rows)).to_pylist()
    bad = [i for i, (c, d) in enumerate(zip(b_clauses, decided)) if c != list(d.clauses)]
    assert not bad, f"batch clauses differ from evaluate() at row {sample_rows[bad[0]]}"
    del f_out, o_out, ref

    say(w, "timing")
    fns = {"batch": batch, "numpy": lambda: floor(data)}
    if w == "rate":
        slow = rate_floor(p, strings="numpy")
        assert np.array_equal(slow(data)["cents"], floor(data)["cents"])
        fns["numpy-strings"] = lambda: slow(data)
    if of_run:
        fns["openfisca"] = lambda: of_run(data)
    for name, sec in timed_in_turn(fns, a.repeats).items():
        rows[name] = a.cases / sec
    ssec, _ = timed(loop, max(1, a.repeats // 2))
    rows["scalar"] = len(sample) / ssec
    dask_runs = {}
    say(w, "dask")
    if not a.no_dask:
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "input.arrow")
            write_ipc(data, path)
            for workers in (1, 2):
                run = dask_in_child(w, workers, path, max(1, a.repeats // 2) + 1, a.dask_timeout)
                if run["result"] is not None:
                    assert same_table(run.pop("result"), b_out), "dask differs from batch"
                run.pop("result", None)
                times = [c["seconds"] for c in run["calls"][1:] if c["ok"]]  # the first call loads the workers
                if times:
                    rows[f"dask:{workers}"] = a.cases / statistics.median(times)
                dask_runs[f"dask:{workers}"] = run
    return {"decision": decision, "cases": a.cases, "input_bytes": data.nbytes, "check": check,
            "scalar_sample": len(sample), "rates": rows, "openfisca_skipped": of_skip, "dask_runs": dask_runs}


# -- Dask, in a child process (a hung call must not hang the run) ---------------------------
def write_ipc(table, path) -> None:
    with pa.OSFile(path, "wb") as f, pa.ipc.new_file(f, table.schema) as writer:
        writer.write_table(table)


def read_ipc(path) -> pa.Table:
    with pa.OSFile(path, "rb") as f:  # read into memory (not mapped): the input is resident
        return pa.ipc.open_file(f).read_all()


def dask_child(workload: str, workers: str, path: str, calls: str) -> None:
    """`calls` consecutive evaluate_batch(scheduler=client) calls on one LocalCluster; one
    JSON line per call as it ends; the first result is written beside the input."""
    import warnings
    warnings.simplefilter("ignore")
    from dask.distributed import Client, LocalCluster
    p = policyengine.load(ROOT / "policies")
    table = read_ipc(path)
    with LocalCluster(n_workers=int(workers), threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as client:
        written = False
        for i in range(int(calls)):
            t0 = time.perf_counter()
            try:
                out = p.evaluate_batch(DECISION[workload], table, as_of_column="day", scheduler=client)
            except Exception as exc:  # noqa: BLE001 - reported by the parent
                print(json.dumps({"call": i, "ok": False, "error": f"{type(exc).__name__}: {str(exc)[:160]}"}), flush=True)
                continue
            sec = time.perf_counter() - t0
            if not written:
                write_ipc(pa.table({c: plain(out.column(c)) for c in out.column_names}), path + ".dask.arrow")
                written = True
            print(json.dumps({"call": i, "ok": True, "seconds": sec}), flush=True)


def dask_in_child(workload, workers, path, calls, timeout) -> dict:
    """The calls of dask_child, the result of the first that worked, and whether it hung."""
    result = path + ".dask.arrow"
    if os.path.exists(result):
        os.remove(result)
    proc = subprocess.Popen([sys.executable, __file__, "--dask-child", workload, str(workers), path, str(calls)],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        stdout, _ = proc.communicate(timeout=timeout)
        hung = False
    except subprocess.TimeoutExpired:
        proc.kill()  # our own child, by its handle; its cluster's processes exit with it
        stdout, _ = proc.communicate()
        hung = True
    runs = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    table = read_ipc(result) if os.path.exists(result) else None
    if os.path.exists(result):
        os.remove(result)
    return {"calls": runs, "hung": hung, "asked": calls, "result": table}


# -- peak RSS in fresh processes (VmHWM, ru_maxrss where there is no /proc) ------------------------------------------------------------
def _rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def _peak() -> int:
    """This process's peak RSS: VmHWM (Linux; reset by clear_refs, and unlike ru_maxrss not
    raised to the parent's RSS at fork + exec), else ru_maxrss."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def child(workload: str, approach: str, path: str) -> None:
    """Set up one approach, read the input, then run it once; print the RSS figures."""
    p = policyengine.load(ROOT / "policies")
    if approach in ("batch", "batch-warm"):
        def fn(t):
            return p.evaluate_batch(DECISION[workload], t, as_of_column="day")
    elif approach == "numpy":
        fn = FLOORS[workload](p)
    elif approach == "openfisca":
        fn, _ = openfisca_runner(p, workload)
    else:
        def fn(t):
            return None
    table = read_ipc(path)
    if approach == "batch-warm":  # the engine's setup (its modules, each period's compiled rules) done first,
        fn(table.slice(0, 1000))  # as the floor's tables and OpenFisca's system are built before the reset
    gc.collect()
    try:  # Linux: reset the peak (VmHWM, ru_maxrss) to the current RSS, so setup's peaks do not hide the run's
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        reset = True
    except OSError:
        reset = False
    before_peak = _peak()
    before = _rss_now()
    out = fn(table)
    after_peak = _peak()
    print(json.dumps({"before": before, "before_peak": before_peak, "peak": after_peak,
                      "growth": after_peak - before, "input_bytes": table.nbytes, "reset": reset, "out": out is not None}))


def measure_rss(p, workloads, cases: int) -> dict:
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        for w in workloads:
            data = CASES[w](p, cases)
            path = os.path.join(tmp, f"{w}.arrow")
            write_ipc(data, path)
            del data
            approaches = ["none", "batch", "batch-warm", "numpy"] + (["openfisca"] if openfisca_runner(p, w)[0] else [])
            for approach in approaches:
                r = subprocess.run([sys.executable, __file__, "--child", w, approach, path],
                                   capture_output=True, text=True, check=True)
                res[(w, approach)] = json.loads(r.stdout.strip().splitlines()[-1])
    return res


# -- kernels --------------------------------------------------------------------------------
def kernels(n: int, repeats: int) -> list:
    """Median seconds of the batch backend's two core kernels in each array library."""
    import polars as pl
    rng = np.random.default_rng(3)
    k1, k2 = 64, 512
    codes = rng.integers(0, k1, n)
    mapping = rng.integers(0, 1000, k1)
    a, b = rng.integers(0, k1, n), rng.integers(0, k2, n)
    pa_codes, pa_map = pa.array(codes), pa.array(mapping)
    pl_codes, pl_map = pl.Series(codes), pl.Series(mapping)
    pa_a, pa_b, pl_a, pl_b = pa.array(a), pa.array(b), pl.Series(a), pl.Series(b)

    def np_dense():  # bounded key: a presence table, no sort
        key = a * k2 + b
        present = np.zeros(k1 * k2, dtype=bool)
        present[key] = True
        remap = np.cumsum(present) - 1
        return remap[key]

    def np_unique():
        return np.unique(a * k2 + b, return_inverse=True)[1]

    def pl_rank():
        return ((pl_a * k2 + pl_b).rank("dense") - 1).to_numpy()

    def pa_encode():
        return pc.dictionary_encode(pc.add(pc.multiply(pa_a, k2), pa_b)).indices.to_numpy()

    # each factorization is a bijection on the distinct keys (orders may differ)
    distinct = len(np.unique(a * k2 + b))
    for f in (np_dense, np_unique, pl_rank, pa_encode):
        inv = np.asarray(f())
        assert inv.max() + 1 == distinct and len(np.unique(np.stack([a * k2 + b, inv]), axis=1)[0]) == distinct
    assert np.array_equal(pc.take(pa_map, pa_codes).to_numpy(), mapping[codes])
    assert np.array_equal(pl_map.gather(pl_codes).to_numpy(), mapping[codes])
    cases = [
        ("gather: mapping[codes]", "NumPy fancy index", lambda: mapping[codes]),
        ("gather: mapping[codes]", "NumPy np.take", lambda: np.take(mapping, codes)),
        ("gather: mapping[codes]", "Polars Series.gather", lambda: pl_map.gather(pl_codes)),
        ("gather: mapping[codes]", "PyArrow pc.take", lambda: pc.take(pa_map, pa_codes)),
        ("key a*m+b, factorize", "NumPy np.unique(return_inverse)", np_unique),
        ("key a*m+b, factorize", "NumPy dense presence table", np_dense),
        ("key a*m+b, factorize", "Polars rank('dense')", pl_rank),
        ("key a*m+b, factorize", "PyArrow dictionary_encode", pa_encode),
    ]
    return [(k, lib, timed(f, repeats)[0]) for k, lib, f in cases]


# -- report ---------------------------------------------------------------------------------
NAMES = {"batch": "evaluate_batch (status, exact value, clauses)", "numpy": "hand-written NumPy floor",
         "numpy-strings": "NumPy floor, strings coded by NumPy (not Arrow)",
         "openfisca": "OpenFisca vectorised (openfisca_pl.py)", "scalar": "plain loop of evaluate()",
         "dask:1": "dask LocalCluster, 1 worker", "dask:2": "dask LocalCluster, 2 workers"}


def whole_workload(results: dict) -> dict:
    """The two parts one after the other, as one PL pay workload: each approach's seconds are
    the sum of its two medians (only the approaches timed on both)."""
    if set(results) != {"rate", "perf"}:
        return {}
    both = [k for k in ("batch", "numpy", "openfisca") if all(k in r["rates"] for r in results.values())]
    seconds = {k: sum(r["cases"] / r["rates"][k] for r in results.values()) for k in both}
    ratios = {"batch/numpy": seconds["numpy"] / seconds["batch"]}
    if "openfisca" in seconds:
        ratios["batch/openfisca"] = seconds["openfisca"] / seconds["batch"]
    return {"cases": sum(r["cases"] for r in results.values()), "seconds": seconds, "ratios": ratios}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        return child(*sys.argv[2:5])
    if len(sys.argv) > 1 and sys.argv[1] == "--dask-child":
        return dask_child(*sys.argv[2:6])
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--scalar-sample", type=int, default=20_000, help="rows of the evaluate() loop (rate)")
    ap.add_argument("--perf-sample", type=int, default=10_000,
                    help="first rows of the evaluate() loop and reference (perf), beside the edge cases")
    ap.add_argument("--workloads", default="rate,perf")
    ap.add_argument("--no-dask", action="store_true")
    ap.add_argument("--dask-timeout", type=float, default=240, help="seconds for all the calls on one cluster")
    ap.add_argument("--no-rss", action="store_true")
    ap.add_argument("--no-kernels", action="store_true")
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    p = policyengine.load(ROOT / "policies")
    workloads = a.workloads.split(",")
    load = os.getloadavg()
    results = {w: run_workload(p, w, a) for w in workloads}
    rss = {} if a.no_rss else measure_rss(p, workloads, a.cases)
    kern = [] if a.no_kernels else kernels(a.cases, a.repeats)
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, at end "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs; median of {a.repeats}")
    out = {"load_start": load, "load_end": os.getloadavg(), "repeats": a.repeats, "workloads": {}, "kernels": kern}
    for w, r in results.items():
        rates = r["rates"]
        print(f"\n{r['cases']:,} cases of {r['decision']}; checked: {r['check']}")
        if r["openfisca_skipped"]:
            print(f"  {r['openfisca_skipped']}")
        for k, rate in rates.items():
            extra = f" (sample of {r['scalar_sample']:,})" if k == "scalar" else ""
            if k in r["dask_runs"]:
                d = r["dask_runs"][k]
                extra = f" ({sum(c['ok'] for c in d['calls'][1:])} timed of {d['asked'] - 1})"
            print(f"  {NAMES[k] + extra:58s} {rate:>14,.0f} cases/s")
        ratios = {"batch/numpy": rates["batch"] / rates["numpy"], "batch/scalar": rates["batch"] / rates["scalar"]}
        if "openfisca" in rates:
            ratios["batch/openfisca"] = rates["batch"] / rates["openfisca"]
            ratios["numpy/openfisca"] = rates["numpy"] / rates["openfisca"]
        print("  " + "   ".join(f"{k}: {v:.2f}x" for k, v in ratios.items()))
        for k, d in r["dask_runs"].items():
            print(f"  {k}: " + ", ".join(f"call {c['call'] + 1} " + (f"{c['seconds']:.2f} s" if c["ok"] else f"FAILED {c['error']}")
                                          for c in d["calls"]) + (f"; HUNG after {len(d['calls'])} of {d['asked']} calls, "
                                                                  f"killed at the timeout" if d["hung"] else ""))
        wr = dict(r, ratios=ratios, rss={})
        for (rw, approach), m in rss.items():
            if rw != w:
                continue
            wr["rss"][approach] = m
            if approach == "none":
                print(f"  RSS: process holding the input {m['before'] / 2**20:.0f} MiB; input columns "
                      f"{m['input_bytes'] / 2**20:.1f} MiB" + ("" if m["reset"] else
                      "; peak could not be reset (no /proc/self/clear_refs): growth includes setup's peak"))
            else:
                print(f"  RSS {approach:10s} peak {m['peak'] / 2**20:6.0f} MiB, growth over the input-holding "
                      f"process {m['growth'] / 2**20:6.1f} MiB = {m['growth'] / m['input_bytes']:.2f}x the input columns")
        out["workloads"][w] = wr
    whole = whole_workload(results)
    if whole:
        out["whole"] = whole
        print(f"\nthe PL pay workload, both parts ({whole['cases']:,} cases: rate, then perf), from the medians above:")
        for k, sec in whole["seconds"].items():
            print(f"  {NAMES[k]:58s} {sec * 1000:10.1f} ms {whole['cases'] / sec:>14,.0f} cases/s")
        print("  " + "   ".join(f"{k}: {v:.2f}x" for k, v in whole["ratios"].items()))
    if kern:
        print(f"\nkernels on {a.cases:,} rows (median of {a.repeats}):")
        for k, lib, sec in kern:
            print(f"  {k:24s} {lib:34s} {sec * 1000:8.2f} ms")
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1, default=str))


if __name__ == "__main__":
    main()
