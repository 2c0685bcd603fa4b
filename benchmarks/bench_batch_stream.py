"""`policyengine batch` on files of growing size: peak memory is bounded by the chunk size,
not by the file (issue 13, item 3: "a file larger than memory works").

For each format and row count, the PL rate workload (level, step, day: the cases of
bench_batch.rate_cases) is written to a file, then `policyengine batch
ldp.pay.annual_rate --in FILE --out OUT --as-of-column day --chunk-size N --quiet` runs as a
process of its own, which reports its peak resident memory (VmHWM) when it ends. The output is
checked: one row per input row, every one decided, in input order (the `row` column counts
1..n).

    .venv/bin/python benchmarks/bench_batch_stream.py [--rows 200000,1600000] [--formats csv,jsonl,parquet]
        [--chunk-size 100000] [--json FILE]

Reported per format: each size's peak RSS, file size and rows/s, and the peak of the largest
file over the smallest's (1.0x: memory does not grow with the file).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

import policyengine

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import rate_cases  # noqa: E402  (the same cases as the in-memory benchmark)

# The command line run in a process of its own, which prints its peak resident memory when
# done: VmHWM, the high-water mark of its own address space.  (Not wait4's ru_maxrss: Linux
# carries the parent's peak into a forked child, so a child of this big process would
# report this process's peak.)
_CHILD = """import sys
from policyengine.cli.main import main
code = main(sys.argv[1:])
hwm = [line for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
print(int(hwm.split()[1]) * 1024)
sys.exit(code)
"""


def write_cases(table: pa.Table, path: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(table, path, row_group_size=100_000)
    elif fmt == "csv":
        pacsv.write_csv(table, path)
    else:
        with path.open("w") as f:
            for batch in table.to_batches(100_000):
                for r in batch.to_pylist():
                    f.write(json.dumps({"level": r["level"], "step": r["step"], "day": r["day"].isoformat()}) + "\n")


def read_out(path: Path, fmt: str) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(path, columns=["row", "status"])
    if fmt == "csv":
        return pacsv.read_csv(path, convert_options=pacsv.ConvertOptions(include_columns=["row", "status"]))
    rows = [json.loads(line) for line in path.open()]
    return pa.table({"row": [r["row"] for r in rows], "status": [r["status"] for r in rows]})


def run_one(src: Path, out: Path, chunk: int) -> tuple[int, float]:
    args = ["batch", "ldp.pay.annual_rate", "--in", str(src), "--out", str(out), "--as-of-column", "day",
            "--chunk-size", str(chunk), "--quiet", "--policies", str(ROOT / "policies")]
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _CHILD, *args], capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"policyengine batch failed on {src}: {done.stderr[-2000:]}")
    return int(done.stdout.split()[-1]), seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", default="200000,1600000", help="row counts, comma-separated")
    ap.add_argument("--formats", default="csv,jsonl,parquet")
    ap.add_argument("--chunk-size", type=int, default=100_000)
    ap.add_argument("--json", help="also write the figures to this file")
    a = ap.parse_args()
    sizes = [int(x) for x in a.rows.split(",")]
    policies = policyengine.load(ROOT / "policies")
    report = {"chunk_size": a.chunk_size, "load_start": os.getloadavg(), "runs": []}
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; chunk {a.chunk_size:,} rows")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in a.formats.split(","):
            peaks = []
            for n in sizes:
                src, out = Path(tmp, f"cases-{n}.{fmt}"), Path(tmp, f"out-{n}.{fmt}")
                write_cases(rate_cases(policies, n), src, fmt)
                peak, seconds = run_one(src, out, a.chunk_size)
                got = read_out(out, fmt)
                assert got.num_rows == n, f"{fmt} {n}: {got.num_rows} result rows"
                assert pc.all(pc.equal(got.column("row"), pa.array(range(1, n + 1)))).as_py(), f"{fmt} {n}: order"
                counts = pc.value_counts(got.column("status")).to_pylist()
                assert counts == [{"values": "decided", "counts": n}], f"{fmt} {n}: {counts}"
                size = src.stat().st_size
                peaks.append(peak)
                report["runs"].append({"format": fmt, "rows": n, "file_bytes": size, "peak_rss": peak,
                                       "seconds": seconds, "rows_per_s": n / seconds})
                print(f"  {fmt:8} {n:>10,} rows  file {size / 2**20:8.1f} MiB  peak RSS {peak / 2**20:7.1f} MiB"
                      f"  {n / seconds:>10,.0f} rows/s (process start and policies included)")
                src.unlink()
                out.unlink()
            print(f"  {fmt:8} peak of {sizes[-1]:,} rows / of {sizes[0]:,} rows: {peaks[-1] / peaks[0]:.2f}x")
    report["load_end"] = os.getloadavg()
    if a.json:
        Path(a.json).write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
