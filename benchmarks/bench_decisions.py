"""Per-call latency of two ldp decisions, timed three ways in one run.

  A  ldp.pay.annual_rate   {level PL-01..PL-05, step 1..3}, as of 2006-04-02..2012-04-02
  B  ldp.performance_pay   {PL-06 salary, rating, increase_pct, program and appointment date,
                           the eligibility facts of 10.7(5)-(8) and 10.8(4) and language training (10.7(7))},
                           as of April 1, 2007..2011

Implementations: a hand-written Python function (the floor), policyengine at trace
levels none/audit/full plus audit with `Decision.to_dict()` (what a caller that logs or
returns the trace pays), and GoRules zen-engine (a JDM graph) with and without trace.
Every implementation is checked against the hand-written one on every case before it
is timed, so a fast but wrong implementation cannot hide in the table.

    .venv/bin/python benchmarks/bench_decisions.py [--cases N] [--repeats R] [--json PATH] [--tree DIR]

--tree times the engine and policies of another checkout (e.g. a `git worktree` of an
older commit) with this script, so before/after figures come from the same harness.
"""
from __future__ import annotations

import argparse
import bisect
import datetime as dt
import gc
import json
import os
import platform
import random
import re
import statistics
import sys
import time
from decimal import ROUND_HALF_UP, Decimal
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
policyengine = None  # imported in main(), from --tree's src/ (default: this checkout's)
try:
    import zen
except ImportError:
    zen = None

# Appendix B, s. 12, copied from policies/ldp/pay.yaml: the floor must not read the YAML.
EFFECTIVE = ["2006-04-02", "2007-04-02", "2008-04-02", "2009-04-02", "2010-04-02"]
STEP_RATES = {  # effective -> level -> [step 1, step 2, step 3]
    "2006-04-02": {"PL-01": [48790, 50225, 51763], "PL-02": [54120, 55760, 57400], "PL-03": [60270, 62115, 63960],
                   "PL-04": [67445, 69495, 71545], "PL-05": [74825, 77798, 80873]},
    "2007-04-02": {"PL-01": [49912, 51380, 52954], "PL-02": [55365, 57042, 58720], "PL-03": [61656, 63544, 65431],
                   "PL-04": [68996, 71093, 73191], "PL-05": [76546, 79587, 82733]},
    "2008-04-02": {"PL-01": [50661, 52151, 53748], "PL-02": [56195, 57898, 59601], "PL-03": [62581, 64497, 66412],
                   "PL-04": [70331, 72159, 74289], "PL-05": [77694, 80781, 83974]},
    "2009-04-02": {"PL-01": [51421, 52933, 54554], "PL-02": [57038, 58766, 60495], "PL-03": [63520, 65464, 67408],
                   "PL-04": [71081, 73241, 75403], "PL-05": [78859, 81993, 85234]},
    "2010-04-02": {"PL-01": [52192, 53727, 55372], "PL-02": [57894, 59647, 61402], "PL-03": [64473, 66446, 68419],
                   "PL-04": [72147, 74340, 76534], "PL-05": [80042, 83223, 86513]},
}
PL06_MAX = {"2006-04-02": 94095, "2007-04-02": 96259, "2008-04-02": 97703, "2009-04-02": 99169, "2010-04-02": 100657}
RATINGS = {"surpassed": (6, 7), "met_all": (5, 5), "met_most": (0, 4),  # s. 13: per cent allowed per rating
           "did_not_meet": (0, 0), "unable_to_assess": (0, 0)}
PREVIOUS_SCALE = {"surpassed": 10, "met_all": 8, "met_most": 6,  # Appendix C, 3.4.1: "up to", no floor
                  "did_not_meet": 0, "unable_to_assess": 0}
ELIGIBLE = frozenset(("met_most", "met_all", "surpassed"))
LEVELS = ["PL-01", "PL-02", "PL-03", "PL-04", "PL-05"]

# -- 1. hand-written floor ---------------------------------------------------------------
RATE = {(eff, lvl, s + 1): Decimal(r) for eff, rows in STEP_RATES.items() for lvl, v in rows.items()
        for s, r in enumerate(v)}
JOB_RATE = {eff: Decimal(v) for eff, v in PL06_MAX.items()}
HUNDRED, ONE = Decimal(100), Decimal(1)


def hand_a(facts, as_of, _ctx=None):
    """Annual rate. ISO date strings sort like dates, so bisect works on the strings."""
    return RATE[EFFECTIVE[bisect.bisect_right(EFFECTIVE, as_of) - 1], facts["level"], facts["step"]]


def eligible_b(f):
    """10.7(1) with 10.7(7) (unable to assess but three months or more of language training is
    rated met most) and 10.7(5), (6), (8); every fact is given, so nothing is presumed."""
    entitled = f["rating"] in ELIGIBLE or (f["rating"] == "unable_to_assess" and f["months_on_language_training"] >= 3)
    on_april_1 = ((f["employed_on_april_1"] and not f["lwop_on_april_1"] and not f["died_before_april_1"])
                  or (f["lwop_on_april_1"] and f["months_on_strength"] > 3)
                  or (f["died_before_april_1"] and f["on_strength_sufficient_period"]))
    return (f["level"] == "PL-06" and entitled and f["signed_assignment_plan"] and on_april_1
            and (f["months_on_strength"] > 3 or f["in_pl_whole_cycle"]) and not f["lwop_full_fiscal_year"]
            and not f["salary_protected_into_pl"])


def hand_b(facts, as_of, _ctx=None):
    """PL-06 performance pay: 10.7(1), (4) to (8) and (12) in plain Decimal arithmetic (the cases'
    increases lie within the scale that applies, s. 13 or Appendix C 3.4.1, so none is refused)."""
    job = JOB_RATE[EFFECTIVE[bisect.bisect_right(EFFECTIVE, as_of) - 1]]
    salary = Decimal(facts["salary"])
    if not eligible_b(facts):
        return {"eligible": False, "new_salary": salary, "increase": Decimal(0), "award_eligible": False}
    raised = salary * (1 + Decimal(facts["increase_pct"]) / HUNDRED)
    rounded = (raised / HUNDRED).quantize(ONE, ROUND_HALF_UP) * HUNDRED
    new = min(rounded, job)
    return {"eligible": True, "new_salary": new, "increase": new - salary,
            "award_eligible": salary >= job or rounded > job}


# -- 3. zen-engine JDM graphs ------------------------------------------------------------
def _node(nid, kind, content=None):
    node = {"id": nid, "type": kind, "name": nid, "position": {"x": 0, "y": 0}}
    if content is not None:
        node["content"] = content
    return node


def _graph(*nodes):
    """A straight chain input -> ... -> output."""
    ids = [n["id"] for n in nodes]
    return {"nodes": list(nodes), "edges": [{"id": f"e{i}", "type": "edge", "sourceId": a, "targetId": b}
                                            for i, (a, b) in enumerate(zip(ids, ids[1:]))]}


def _since(eff):
    """Unary cell: as_of on or after `eff` (ZEN cannot compare plain strings; d() makes dates)."""
    return f'>= d("{eff}")'


def zen_graph_a():
    """One row per (version, level, step), newest version first, hit policy "first"."""
    rules = [{"_id": f"{eff}/{lvl}/{s + 1}", "level": json.dumps(lvl), "step": str(s + 1), "as_of": _since(eff),
              "rate": str(rate)}
             for eff in reversed(EFFECTIVE) for lvl, v in STEP_RATES[eff].items() for s, rate in enumerate(v)]
    table = {"hitPolicy": "first", "rules": rules,
             "inputs": [{"id": k, "name": k, "field": k} for k in ("level", "step", "as_of")],
             "outputs": [{"id": "rate", "name": "rate", "field": "rate"}]}
    return _graph(_node("in", "inputNode"), _node("rates", "decisionTableNode", table), _node("out", "outputNode"))


def zen_graph_b():
    """Job rate by as_of (table, passing the facts through), then the arithmetic (expression node)."""
    rules = [{"_id": eff, "as_of": _since(eff), "job_rate": str(PL06_MAX[eff])} for eff in reversed(EFFECTIVE)]
    table = {"hitPolicy": "first", "passThrough": True, "rules": rules,
             "inputs": [{"id": "as_of", "name": "as_of", "field": "as_of"}],
             "outputs": [{"id": "job_rate", "name": "job_rate", "field": "job_rate"}]}
    exprs = [("entitled", 'level == "PL-06" and (rating in ["met_most", "met_all", "surpassed"]'
                          ' or (rating == "unable_to_assess" and months_on_language_training >= 3))'),
             ("on_april_1", "(employed_on_april_1 and not lwop_on_april_1 and not died_before_april_1)"
                            " or (lwop_on_april_1 and months_on_strength > 3)"
                            " or (died_before_april_1 and on_strength_sufficient_period)"),
             ("eligible", "$.entitled and signed_assignment_plan and $.on_april_1"
                          " and (months_on_strength > 3 or in_pl_whole_cycle) and not lwop_full_fiscal_year"
                          " and not salary_protected_into_pl"),
             ("rounded", "round(salary * (1 + increase_pct / 100) / 100) * 100"),
             ("new_salary", "$.eligible ? min([$.rounded, job_rate]) : salary"),
             ("increase", "$.new_salary - salary"),
             ("award_eligible", "$.eligible and (salary >= job_rate or $.rounded > job_rate)")]
    expr = {"expressions": [{"id": k, "key": k, "value": v} for k, v in exprs]}
    return _graph(_node("in", "inputNode"), _node("job", "decisionTableNode", table),
                  _node("pay", "expressionNode", expr), _node("out", "outputNode"))


def _num(v):
    """zen hands back ints/floats; compare as Decimal via str so 94500.0 == Decimal(94500)."""
    return v if isinstance(v, bool) else Decimal(str(v))


def zen_value_a(resp):
    return _num(resp["result"]["rate"])


def zen_value_b(resp):
    return {k: _num(resp["result"][k]) for k in ("eligible", "new_salary", "increase", "award_eligible")}


_UNIT_US = {"ns": 1e-3, "µs": 1.0, "us": 1.0, "ms": 1e3, "s": 1e6}


def zen_in_engine_us(zen_decision, cases):
    """Median of zen's own `performance` field: time inside the engine, without the Python binding.
    Separates what the Rust engine costs from what crossing the binding costs; None if unreadable."""
    times = []
    try:
        for _, _, ctx in cases:
            m = re.fullmatch(r"([\d.]+)\s*(ns|µs|us|ms|s)", zen_decision.evaluate(ctx)["performance"].strip())
            times.append(float(m[1]) * _UNIT_US[m[2]])
    except Exception:  # a failing graph is reported by check(); this figure is only context
        return None
    return statistics.median(times)


# -- cases -------------------------------------------------------------------------------
def cases_a(rng, n):
    """Every level/step and every day of the directive's force, so all five table versions get hit."""
    start, days = dt.date(2006, 4, 2), (dt.date(2012, 4, 2) - dt.date(2006, 4, 2)).days
    out = []
    for _ in range(n):
        facts = {"level": rng.choice(LEVELS), "step": rng.randint(1, 3)}
        as_of = (start + dt.timedelta(days=rng.randint(0, days))).isoformat()
        out.append((facts, as_of, {**facts, "as_of": as_of}))
    return out


def cases_b(rng, n):
    """Increases inside the range of the scale that applies and salaries up to the job rate in
    force: out-of-range cases are refused (citing s. 13, Appendix C 3.4.1 or 10.7(12)), not
    decided.  A quarter are CAP participants covered by the transition (appointed on or before
    2006-04-01), paid on the previous plan's scale (Appendix C, 3.4.1); the eligibility facts of
    10.7(5)-(8) and the months of language training (10.7(7)) are all given, mostly the usual case."""
    out = []
    for _ in range(n):
        rating = rng.choice(list(RATINGS))
        year = rng.randint(2007, 2011)
        as_of = f"{year}-04-01"
        job_rate = PL06_MAX[f"{year - 1}-04-02"]  # 10.7(9): April 1 uses the previous April 2 rates
        transition = rng.random() < 0.25
        training = rng.choice([0, 0, 0, 2, 3, 6])
        scale_rating = "met_most" if rating == "unable_to_assess" and training >= 3 else rating  # 10.7(7)
        low, high = (0, PREVIOUS_SCALE[scale_rating]) if transition else RATINGS[scale_rating]
        usual = rng.random() < 0.8
        facts = {"level": "PL-06", "salary": rng.randint(84665, job_rate), "rating": rating,
                 "increase_pct": rng.randint(low, high), "program": "CAP",
                 "appointment_date": "2005-06-01" if transition else "2007-01-15",
                 "months_on_language_training": training,
                 "signed_assignment_plan": usual or rng.random() < 0.5,
                 "employed_on_april_1": usual or rng.random() < 0.5, "lwop_on_april_1": not usual and rng.random() < 0.5,
                 "died_before_april_1": not usual and rng.random() < 0.2,
                 "on_strength_sufficient_period": rng.random() < 0.5,
                 "months_on_strength": 12 if usual else rng.choice([0, 3, 3.5, 8]),
                 "in_pl_whole_cycle": usual or rng.random() < 0.5,
                 "lwop_full_fiscal_year": not usual and rng.random() < 0.3,
                 "salary_protected_into_pl": not usual and rng.random() < 0.2}
        out.append((facts, as_of, {**facts, "as_of": as_of}))
    return out


# -- harness -----------------------------------------------------------------------------
def implementations(policies, decision, hand, zen_decision, zen_value):
    """name -> (call(facts, as_of, ctx), to_value(result)). Engines go through a one-line adapter."""
    impls = {"hand-written Python": (hand, lambda v: v)}
    ev = policies.evaluate
    for level in ("none", "audit", "full"):
        impls[f"policyengine trace={level}"] = (
            lambda f, a, c, level=level: ev(decision, f, as_of=a, trace=level), _pe_value)
    impls[AUDIT_DICT] = (lambda f, a, c: _with_dict(ev(decision, f, as_of=a, trace="audit")), _pe_value)
    if zen_decision is not None:
        zev, traced = zen_decision.evaluate, {"trace": True}
        impls["zen-engine"] = (lambda f, a, c: zev(c), zen_value)
        impls["zen-engine trace"] = (lambda f, a, c: zev(c, traced), zen_value)
    return impls


AUDIT_DICT = "policyengine audit+to_dict"


def _with_dict(d):
    """Evaluate, then build the JSON-ready record (trace included) as a logging caller would."""
    d.to_dict()
    return d


def _pe_value(d):
    if d.status != "decided":
        raise ValueError(f"status {d.status}: {d.messages or d.missing}")
    return d.value


def check(name, call, to_value, hand, cases, problems):
    """Compare with the floor on every case (this is also the warm-up). False if unusable."""
    bad = 0
    for facts, as_of, ctx in cases:
        want = hand(facts, as_of)
        try:
            got = to_value(call(facts, as_of, ctx))
        except Exception as exc:  # report, never hide: the exact message goes in the output
            got = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
        if got != want:
            bad += 1
            if bad <= 3:
                problems.append(f"{name}: {facts} as of {as_of}: got {got!r}, expected {want!r}")
    if bad:
        problems.append(f"{name}: {bad} of {len(cases)} cases disagree with the hand-written function")
    return bad < len(cases)


def time_batch(call, cases, repeats):
    """Per-call µs of each repeat (whole batch time / cases). GC stays on: it is part of the cost."""
    per_call = []
    for _ in range(repeats):
        gc.collect()
        t0 = time.perf_counter()
        for facts, as_of, ctx in cases:
            call(facts, as_of, ctx)
        per_call.append((time.perf_counter() - t0) / len(cases) * 1e6)
    return per_call


def run_decision(title, impls, hand, cases, repeats, zen_notes):
    """Check, then time, every implementation on the same cases; print the table.
    Repeats are interleaved (one batch of each implementation per round), so a machine that
    slows down mid-run shifts every row alike and the ratios stay comparable."""
    problems, results = [], {}
    usable = {name: call for name, (call, to_value) in impls.items()
              if check(name, call, to_value, hand, cases, problems)}
    runs = {name: [] for name in usable}
    for _ in range(repeats):
        for name, call in usable.items():
            runs[name] += time_batch(call, cases, 1)
    for name in impls:
        results[name] = ({"us_per_call": statistics.median(runs[name]), "repeats_us": runs[name]} if name in usable
                         else {"us_per_call": None, "skipped": "failed on every case"})
    for ref, key in (("hand-written Python", "vs_floor"), ("zen-engine", "vs_zen"),
                     ("zen-engine trace", "vs_zen_trace")):
        base = results.get(ref, {}).get("us_per_call")
        for r in results.values():
            r[key] = r["us_per_call"] / base if base and r["us_per_call"] is not None else None
    summary = _summary(results)
    _print_table(title, results, len(cases), repeats, problems, zen_notes, summary)
    return {"results": results, "summary": summary, "disagreements": problems, "zen_notes": zen_notes}


def _summary(results):
    """What to_dict() adds on top of an audit evaluation, and whether evaluate+to_dict at audit
    stays within zen's traced call (which hands back its trace already built)."""
    audit = results.get("policyengine trace=audit", {}).get("us_per_call")
    both = results.get(AUDIT_DICT, {}).get("us_per_call")
    zen_trace = results.get("zen-engine trace", {}).get("us_per_call")
    return {"to_dict_us": both - audit if audit is not None and both is not None else None,
            "audit_to_dict_vs_zen_trace": both / zen_trace if both is not None and zen_trace else None}


def _print_table(title, results, n, repeats, problems, zen_notes, summary):
    def us(v):
        return "n/a" if v is None else f"{v:.2f}"

    def ratio(v):  # small ratios keep three significant figures instead of printing 0.00
        return "n/a" if v is None else f"{v:.2f}" if v >= 0.1 else f"{v:.3g}"
    print(f"\n{title}  ({n} cases, median of {repeats} repeats; ratio = time / that row's time)")
    print(f"{'implementation':<27}{'µs/call':>9}{'min-max':>17}{'/ floor':>9}{'/ zen':>9}{'/ zen trace':>13}")
    for name, r in results.items():
        spread = f"{min(r['repeats_us']):.2f}-{max(r['repeats_us']):.2f}" if r.get("repeats_us") else ""
        print(f"{name:<27}{us(r['us_per_call']):>9}{spread:>17}{ratio(r['vs_floor']):>9}{ratio(r['vs_zen']):>9}"
              f"{ratio(r['vs_zen_trace']):>13}")
    print(f"  to_dict() at audit, on top of evaluation: {us(summary['to_dict_us'])} µs")
    target = summary["audit_to_dict_vs_zen_trace"]
    print("  target evaluate+to_dict at audit <= zen traced call: " + (
        "n/a (zen skipped)" if target is None else f"{'met' if target <= 1 else 'NOT met'} ({ratio(target)}×)"))
    if zen_notes:
        print(f"  zen in-engine time (its own 'performance' field, median): {us(zen_notes['in_engine_us'])} µs\n"
              f"  zen empty input->output graph called from Python:       {us(zen_notes['empty_graph_us'])} µs")
    print("agreement: all implementations agree on every case" if not problems else "DISAGREEMENTS:")
    for p in problems:
        print(f"  {p}")


DECISIONS = {"A": ("ldp.pay.annual_rate", hand_a, cases_a, zen_graph_a, zen_value_a),
             "B": ("ldp.performance_pay", hand_b, cases_b, zen_graph_b, zen_value_b)}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cases", type=int, default=3000, help="cases per decision (default 3000)")
    ap.add_argument("--repeats", type=int, default=7, help="timed repeats; the median is reported (default 7)")
    ap.add_argument("--seed", type=int, default=20060402, help="random seed for the cases")
    ap.add_argument("--json", metavar="PATH", help="also write the figures to PATH as JSON")
    ap.add_argument("--tree", metavar="DIR", type=Path, default=ROOT,
                    help="checkout whose src/ and policies/ are timed (default: this script's)")
    args = ap.parse_args(argv)
    if args.cases < 1 or args.repeats < 1:
        ap.error("--cases and --repeats must be at least 1")
    global policyengine
    tree = args.tree.resolve()
    sys.path.insert(0, str(tree / "src"))  # time that checkout's engine, installed or not
    import policyengine
    if not Path(policyengine.__file__).resolve().is_relative_to(tree):
        sys.exit(f"policyengine was imported from {policyengine.__file__}, not from {tree}: "
                 f"run with PYTHONPATH={tree}/src or a virtualenv without the editable install")

    print(f"Python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}")
    print(f"machine: {' '.join(filter(None, (platform.machine(), platform.processor())))}, {os.cpu_count()} CPUs")
    zen_version = version("zen-engine") if zen else None
    print(f"policyengine {policyengine.__version__} from {Path(policyengine.__file__).parent}, "
          + (f"zen-engine {zen_version}" if zen else "zen-engine not installed (import zen failed): zen skipped"))
    policies = policyengine.load(tree / "policies")
    engine = zen.ZenEngine() if zen else None
    make = (lambda graph: engine.create_decision(json.dumps(graph))) if engine else (lambda graph: None)
    rng = random.Random(args.seed)
    report = {"python": sys.version, "tree": str(tree), "platform": platform.platform(), "machine": platform.machine(),
              "zen_engine": zen_version, "cases": args.cases, "repeats": args.repeats, "seed": args.seed,
              "unit": "microseconds per call (median of repeats)", "decisions": {}}
    empty_us = None
    if engine:  # what the binding alone costs per call: a graph that does nothing
        empty = make(_graph(_node("in", "inputNode"), _node("out", "outputNode")))
        runs = time_batch(lambda f, a, c: empty.evaluate(c), cases_a(random.Random(0), args.cases), args.repeats)
        empty_us = statistics.median(runs)
    for key, (decision, hand, gen, graph, zen_value) in DECISIONS.items():
        cases, zen_decision = gen(rng, args.cases), make(graph())
        impls = implementations(policies, decision, hand, zen_decision, zen_value)
        notes = zen_decision and {"in_engine_us": zen_in_engine_us(zen_decision, cases), "empty_graph_us": empty_us}
        title = f"Decision {key} - {decision}"
        report["decisions"][key] = {"decision": decision,
                                    **run_decision(title, impls, hand, cases, args.repeats, notes)}
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwrote {args.json}")
    return 1 if any(d["disagreements"] for d in report["decisions"].values()) else 0


if __name__ == "__main__":
    sys.exit(main())
