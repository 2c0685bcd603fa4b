"""How load time grows with the size of the policy folder, and what start-up costs.

    .venv/bin/python benchmarks/bench_load.py [--repeats 5]

Copies of the bundled instruments (1x, 2x, 4x, 8x: each copy renamed ldp_2, qs_2, ...) are
loaded cold (POLICYENGINE_CACHE=off) and warm (from the model cache), each in a fresh
process, median of the repeats; then whole-process start-up of `policyengine eval` on a warm
cache beside `python -c "import policyengine"` and `python -c pass`, in the same run.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD = "import sys, time; t = time.perf_counter(); import policyengine; policyengine.load(sys.argv[1]); " \
       "print(time.perf_counter() - t)"


def folder(copies: int, where: Path) -> Path:
    """The bundled policies, `copies` times, each copy's instruments renamed."""
    out = where / f"x{copies}"
    if out.exists():
        return out
    for k in range(1, copies + 1):
        for inst in sorted(p for p in (ROOT / "policies").iterdir() if p.is_dir()):
            name = inst.name if k == 1 else f"{inst.name}_{k}"
            target = out / name
            shutil.copytree(inst, target, ignore=shutil.ignore_patterns("tests"))
            if k == 1:
                continue
            for f in target.rglob("*.yaml"):
                text = f.read_text(encoding="utf-8")
                text = re.sub(rf"^instrument: {inst.name}$", f"instrument: {name}", text, flags=re.M)
                text = re.sub(rf"^  id: {inst.name}$", f"  id: {name}", text, flags=re.M)
                f.write_text(text, encoding="utf-8")
    return out


def timed(cmd: list[str], env: dict, repeats: int, inner: bool = False) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
        runs.append(float(out.strip().splitlines()[-1]) if inner else time.perf_counter() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    py = sys.executable
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold = {**os.environ, "POLICYENGINE_CACHE": "off"}
        warm = {**os.environ, "XDG_CACHE_HOME": str(tmp / "cache")}
        print(f"load() in a fresh process, median of {args.repeats} (seconds)")
        print(f"{'size':6} {'files':>6} {'cold':>7} {'warm':>7}")
        for copies in (1, 2, 4, 8):
            f = folder(copies, tmp)
            n = sum(1 for _ in f.rglob("*.yaml"))
            c = timed([py, "-c", LOAD, str(f)], cold, args.repeats, inner=True)
            subprocess.run([py, "-c", LOAD, str(f)], env=warm, capture_output=True, check=True)  # fill the cache
            w = timed([py, "-c", LOAD, str(f)], warm, args.repeats, inner=True)
            print(f"{copies}x{'':4} {n:6} {c:7.2f} {w:7.2f}")
        pe = str(Path(py).parent / "policyengine")
        evaluate = [pe, "eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=2",
                    "--as-of", "2008-06-01", "--policies", str(ROOT / "policies")]
        subprocess.run(evaluate, env=warm, capture_output=True, check=True)
        e = timed(evaluate, warm, args.repeats)
        i = timed([py, "-c", "import policyengine"], warm, args.repeats)
        p = timed([py, "-c", "pass"], warm, args.repeats)
        print(f"\nwhole processes, median of {args.repeats} (seconds): policyengine eval (warm cache) {e:.3f}; "
              f"python -c 'import policyengine' {i:.3f}; python -c pass {p:.3f}")
        print(f"eval / import = {e / i:.2f}x (target <= 2); eval / pass = {e / p:.1f}x (target <= 12)")


if __name__ == "__main__":
    main()
