"""How load time grows with the size of the policy folder, and what start-up costs.

    .venv/bin/python benchmarks/bench_load.py [--repeats 5] [--startup-only] [--tree DIR]

Copies of the bundled instruments (1x, 2x, 4x, 8x: each copy renamed ldp_2, qs_2, ...) are
loaded cold (POLICYENGINE_CACHE=off) and warm (from the model cache), each in a fresh
process, median of the repeats; then whole-process start-up of `policyengine eval` on a warm
cache beside `python -c "import policyengine"` and `python -c pass`, in the same run, the
three interleaved (one of each per round) so that a machine slowing down moves all alike.

Every process runs with Python's default bytecode cache (__pycache__; a
PYTHONDONTWRITEBYTECODE in the caller's environment is left out, as in an installed package,
else a checkout without __pycache__ compiles every module again at each start); one run of
each command before the timed ones fills it and the model cache.
--tree DIR times another checkout (its src/ and policies/), e.g. one made with
`git archive HEAD src policies | tar -x -C DIR`.
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
EVAL = ["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=2", "--as-of", "2008-06-01",
        "--format", "text"]


def folder(copies: int, where: Path, policies: Path) -> Path:
    """The bundled policies, `copies` times, each copy's instruments renamed."""
    out = where / f"x{copies}"
    if out.exists():
        return out
    for k in range(1, copies + 1):
        for inst in sorted(p for p in policies.iterdir() if p.is_dir()):
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


def run(cmd: list[str], env: dict) -> str:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout


def timed(cmd: list[str], env: dict, repeats: int, inner: bool = False) -> float:
    runs = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = run(cmd, env)
        runs.append(float(out.strip().splitlines()[-1]) if inner else time.perf_counter() - t)
    return statistics.median(runs)


def interleaved(cmds: dict[str, list[str]], env: dict, repeats: int) -> dict[str, list[float]]:
    """Wall time of each command, one run of each per round."""
    runs: dict[str, list[float]] = {name: [] for name in cmds}
    for _ in range(repeats):
        for name, cmd in cmds.items():
            t = time.perf_counter()
            run(cmd, env)
            runs[name].append(time.perf_counter() - t)
    return runs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--startup-only", action="store_true", help="skip the folder sizes; time start-up only")
    ap.add_argument("--tree", type=Path, help="another checkout: its src/ and policies/")
    args = ap.parse_args()
    py = sys.executable
    tree = (args.tree or ROOT).resolve()
    base = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if args.tree:
        base["PYTHONPATH"] = str(tree / "src")
    where = run([py, "-c", "import policyengine; print(policyengine.__file__)"], base).strip()
    if not Path(where).is_relative_to(tree / "src"):
        sys.exit(f"policyengine was imported from {where}, not from {tree / 'src'}")
    print(f"policyengine from {Path(where).parent}")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        cold = {**base, "POLICYENGINE_CACHE": "off"}
        warm = {**base, "XDG_CACHE_HOME": str(tmp / "cache")}
        if not args.startup_only:
            print(f"load() in a fresh process, median of {args.repeats} (seconds)")
            print(f"{'size':6} {'files':>6} {'cold':>7} {'warm':>7}")
            for copies in (1, 2, 4, 8):
                f = folder(copies, tmp, tree / "policies")
                n = sum(1 for _ in f.rglob("*.yaml"))
                c = timed([py, "-c", LOAD, str(f)], cold, args.repeats, inner=True)
                run([py, "-c", LOAD, str(f)], warm)  # fill the cache
                w = timed([py, "-c", LOAD, str(f)], warm, args.repeats, inner=True)
                print(f"{copies}x{'':4} {n:6} {c:7.2f} {w:7.2f}")
        pe = str(Path(py).parent / "policyengine")
        cmds = {"eval": [pe, *EVAL, "--policies", str(tree / "policies")],
                "import": [py, "-c", "import policyengine"], "pass": [py, "-c", "pass"]}
        for cmd in cmds.values():
            run(cmd, warm)  # fill the model cache and the bytecode cache
        runs = interleaved(cmds, warm, args.repeats)
        e, i, p = (statistics.median(runs[k]) for k in ("eval", "import", "pass"))
        print(f"\nwhole processes, interleaved, median of {args.repeats} (seconds; min-max):")
        for name, label in (("eval", "policyengine eval (warm cache)"), ("import", "python -c 'import policyengine'"),
                            ("pass", "python -c pass")):
            print(f"  {label:34} {statistics.median(runs[name]):.3f}  ({min(runs[name]):.3f}-{max(runs[name]):.3f})")
        print(f"eval / import = {e / i:.2f}x (target <= 2); eval / pass = {e / p:.1f}x (target <= 12)")


if __name__ == "__main__":
    main()
