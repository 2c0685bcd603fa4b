"""The batch backend's fixed-point kernels (policyengine/batch/numbers.py) against the scalar
semantics they stand in for: the same numbers, the same Python types, the same outcome for
rows that are not values, and a refusal (None: the general path) where int64 could overflow
or a quotient would not terminate."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

np = pytest.importorskip("numpy")
pytest.importorskip("pyarrow")
from hypothesis import given, settings, strategies as st  # noqa: E402

import policyengine  # noqa: E402
from batch_cases import CaseMaker, batch_rows, same, scalar  # noqa: E402
from helpers import INSTRUMENT, write_policies  # noqa: E402
from policyengine.batch import compiler, numbers as N  # noqa: E402
from policyengine.batch.columns import FAILED, MISSING, Col, from_values  # noqa: E402
from policyengine.batch.engine import metadata  # noqa: E402
from policyengine.runtime import semantics as S  # noqa: E402

DAY = "__as_of"
HEAVY = os.environ.get("POLICYENGINE_HEAVY") == "1"  # .ci/run: more examples, every public decision
EXAMPLES = 600 if HEAVY else 60
# numbers as facts and rules hold them: whole numbers, or Decimals of up to 6 places
ints = st.integers(-10 ** 12, 10 ** 12)
decimals = st.builds(lambda i, p: Decimal(i).scaleb(-p), st.integers(-10 ** 12, 10 ** 12), st.integers(0, 6))
OUTCOMES = st.sampled_from([MISSING, FAILED])


def column(values, n=None):
    return N.of(from_values(values), len(values) if n is None else n, {})


def plain(col, n):
    """Each row's value from a Num or a Col."""
    if isinstance(col, N.Num):
        return [col.at(r) for r in range(n)]
    return col.values(n)


def expected(fn, pairs):
    """The scalar semantics row by row: the first operand that is not a value is the outcome."""
    out = []
    for a, b in pairs:
        first = next((x for x in (a, b) if x is MISSING or x is FAILED), None)
        out.append(first if first is not None else fn(a, b))
    return out


def agree(got, want):
    return all((g is w) if (w is MISSING or w is FAILED or type(w) is bool) else
               (type(g) is type(w) and g == w) for g, w in zip(got, want))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(st.one_of(st.lists(st.tuples(st.one_of(ints, OUTCOMES), st.one_of(ints, OUTCOMES)), min_size=1, max_size=30),
                 st.lists(st.tuples(st.one_of(decimals, OUTCOMES), st.one_of(decimals, OUTCOMES)), min_size=1,
                          max_size=30)),
       st.sampled_from(["+", "-", "*", "<", "<=", ">", ">=", "==", "!=", "min", "max"]))
def test_kernels_give_the_scalar_numbers(pairs, op):
    a, b = column([x for x, _ in pairs]), column([y for _, y in pairs])
    if a is None or b is None:  # a column of outcomes only is not a column of numbers
        return
    if op in S.ARITH:
        got, fn = N.arith(op, a, b), S.ARITH[op]
    elif op in S.CMP:
        got, fn = N.compare(op, a, b), S.CMP[op]
    else:
        got, fn = N.extreme(op, a, b), {"min": min, "max": max}[op]
    if got is None:  # only where int64 could overflow: then the general path computes the node
        assert overflows(op, a, b), (op, pairs)
        return
    assert agree(plain(got, len(pairs)), expected(fn, pairs))


def overflows(op, a, b) -> bool:
    """The kernels' guard: a product, or the operands at one scale, beyond LIMIT."""
    if op == "*":
        return a.bound() * b.bound() >= N.LIMIT
    scale = max(a.scale, b.scale)
    return a.bound() * 10 ** (scale - a.scale) + b.bound() * 10 ** (scale - b.scale) >= N.LIMIT


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(st.lists(st.one_of(ints, decimals), min_size=1, max_size=30),
       st.sampled_from([1, 100, Decimal("0.01"), Decimal("0.05"), 25, Decimal("2.5")]))
def test_half_up_rounding_is_the_scalar_one(values, to):
    if len({type(v) for v in values}) > 1:
        values = [Decimal(v) for v in values]
    got = N.round_to(column(values), to)
    assert got is not None
    assert agree(plain(got, len(values)), [S.round_half_up(v, to) for v in values])


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(st.lists(st.one_of(st.integers(0, 10 ** 12), st.builds(lambda i, p: Decimal(i).scaleb(-p),
                                                              st.integers(0, 10 ** 12), st.integers(0, 6))),
                min_size=1, max_size=30),
       st.sampled_from([100, 2, 10, Decimal("0.02"), Decimal("0.5")]))
def test_half_up_rounding_of_numbers_none_negative(values, to):
    """No negative number and a step even at the column's scale (salaries to $100): half a step
    up, then down to a multiple of the step - the same numbers as the scalar half-up."""
    if len({type(v) for v in values}) > 1:
        values = [Decimal(v) for v in values]
    got = N.round_to(column(values), to)
    assert got is not None
    assert agree(plain(got, len(values)), [S.round_half_up(v, to) for v in values])


@pytest.mark.parametrize("x, to, want", [
    (Decimal("93450"), 100, Decimal("93500")), (Decimal("-93450"), 100, Decimal("-93500")),  # halves away from zero
    (Decimal("93449.99"), 100, Decimal("93400")), (Decimal("0.005"), Decimal("0.01"), Decimal("0.01")),
    (Decimal("-0.004"), Decimal("0.01"), Decimal("0")),
])
def test_rounding_ties(x, to, want):
    got = N.round_to(column([x, Decimal("0")]), to)
    assert got.at(0) == want and type(got.at(0)) is Decimal and S.round_half_up(x, to) == want


small = st.one_of(st.integers(-10 ** 9, 10 ** 9),
                  st.builds(lambda i, p: Decimal(i).scaleb(-p), st.integers(-10 ** 9, 10 ** 9), st.integers(0, 6)))


@settings(max_examples=EXAMPLES, deadline=None, derandomize=True)
@given(st.lists(small, min_size=1, max_size=30), st.sampled_from([100, 8, -4, Decimal("2.5"), 1]))
def test_division_by_a_constant_whose_quotients_end(values, d):
    """(Magnitudes kept where the quotient fits: beyond, the kernel refuses, test_what_the_kernels_refuse.)"""
    if len({type(v) for v in values}) > 1:
        values = [Decimal(v) for v in values]
    got = N.divide(column(values), column([d] * len(values)))
    assert got is not None and not got.is_int
    assert agree(plain(got, len(values)), [S._div(v, d) for v in values])


def test_what_the_kernels_refuse():
    big = column([2 ** 40, 3])
    assert N.arith("*", big, big) is None  # 2^80 would overflow int64: the general path computes it
    assert N.divide(column([Decimal(1), Decimal(2)]), column([3, 3])) is None  # 1/3 does not end
    assert N.divide(column([1, 2]), column([0, 0])) is None  # the general path reports the division by zero
    assert N.divide(column([1, 2]), column([2, 4])) is None  # not the same divisor on every row
    assert N.round_to(column([Decimal(1)]), 3) is None  # a step of 3: the scalar quotient may be inexact
    assert column([1, Decimal(2)]) is None  # int and Decimal mixed: per row types, the general path
    assert column([True, False]) is None and column(["a"]) is None


def test_if_takes_only_the_branch_it_chooses():
    cond = Col(np.asarray([0, 1, 2, 3], dtype=np.int32), [True, False, MISSING, FAILED])
    then = column([MISSING, 5, 6, 7])
    otherwise = column([1, FAILED, 3, 4])
    got = N.choose(cond, column([10, 11, 12, 13]), otherwise)
    assert plain(got, 4) == [10, FAILED, MISSING, FAILED]
    got = N.choose(cond, then, column([1, 2, 3, 4]))
    assert plain(got, 4) == [MISSING, 2, MISSING, FAILED]


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def _decisions(policies):
    """Every public decision in the heavy tier; the everyday run takes ldp's (its pay rules are
    where the numbers are) and cap's, and tests/test_batch.py checks every decision as is."""
    wanted = ("ldp", "cap", "etm", "qs") if HEAVY else ("ldp", "cap")
    return [d for d in policies.decisions if d.split(".")[0] in wanted]


def _check(policies, decision, facts, days):
    table = policies.evaluate_batch(decision, [dict(f, **{DAY: d}) for f, d in zip(facts, days)], as_of_column=DAY)
    got = batch_rows(table, policies.rule(decision).type)
    for i, (f, d) in enumerate(zip(facts, days)):
        want = scalar(policies, decision, f, d)
        assert same(want, got[i]), f"{decision} row {i + 1}: facts {f} as of {d}\n  evaluate(): {want}\n  batch: {got[i]}"
    meta = metadata(table)
    assert not [f for f in meta["fallbacks"] if "disagree" in f["reason"]], meta["fallbacks"]
    return meta


def test_public_decisions_with_the_kernels_on_every_number(policies, monkeypatch):
    """The kernels take a node over from the per-combination path when an operand has more than
    VARIED distinct numbers; with VARIED at 0 they compute every numeric node they can."""
    monkeypatch.setattr(compiler, "VARIED", 0)
    used = 0
    for decision in _decisions(policies):
        facts, days = CaseMaker(policies, decision, seed=11).cases(300 if HEAVY else 12)
        used += _check(policies, decision, facts, days)["numeric_rows"]
    assert used > 0


def test_performance_pay_for_many_salaries_is_computed_as_numbers(policies):
    """10.7(12): a salary raised by the in-range increase and rounded half-up to $100, capped at the
    PL-06 job rate; 10.7(4): an award where the increase would pass the job rate."""
    rng = np.random.default_rng(5)
    ratings = ["surpassed", "met_all", "met_most", "did_not_meet"]
    n = 3000
    rating = [ratings[i] for i in rng.integers(0, 4, n)]
    pct = {"surpassed": (60, 70), "met_all": (50, 50), "met_most": (0, 40), "did_not_meet": (0, 0)}
    facts = [{"level": "PL-06", "salary": int(s), "rating": r,
              "increase_pct": Decimal(int(rng.integers(pct[r][0], pct[r][1] + 1))) / 10}
             for s, r in zip(rng.integers(80_000, 100_000, n), rating)]
    facts[0].update(salary=93_450, rating="met_all", increase_pct=Decimal(0))  # a tie kept as is
    days = [dt.date(2009, 4, 1)] * n
    meta = _check(policies, "ldp.performance_pay", facts, days)
    assert meta["numeric_rows"] == meta["statuses"]["decided"] > n // 2


@pytest.mark.parametrize("together", [True, False], ids=["periods-together", "period-by-period"])
def test_public_decisions_over_a_domain(policies, monkeypatch, together):
    """Columns of the few-valued facts over the period's domain (their distinct combinations,
    engine._domain), gathered to rows where they meet many-valued ones, and shared by the
    period's chunks: forced (facts of up to 3 values are few, chunks of 7 rows), every row
    still equals evaluate() - with the periods whose rules are alike decided together (the
    period one more fact of the domain, each lookup in its row's table version), and each
    period on its own."""
    from policyengine.batch import engine
    monkeypatch.setattr(engine, "PERIODS_TOGETHER", together)
    monkeypatch.setattr(compiler, "VARIED", 30 if HEAVY else 3)  # a few values for the cases drawn
    monkeypatch.setattr(engine, "DOMAIN_SHARE", 1.0)
    monkeypatch.setattr(engine, "CHUNK_ROWS", 7)  # a period in several chunks: the first computes the domain's columns
    # and in several slices, a later one taking an earlier one's domain (slices with more rows than VARIED)
    monkeypatch.setattr(engine, "SLICE_ROWS", 97 if HEAVY else 11)
    made, reused = [], []
    domain = engine._Batch._domain

    def counted(self, few, key, size, period):
        got = domain(self, few, key, size, period)
        made.append(got is not None)
        reused.append(got is not None and bool(got[2]))  # the period's columns, computed by an earlier slice
        return got
    monkeypatch.setattr(engine._Batch, "_domain", counted)
    for decision in _decisions(policies):
        facts, days = CaseMaker(policies, decision, seed=13).cases(300 if HEAVY else 24)
        _check(policies, decision, facts, days)
    assert sum(made) > 30  # the domain was used, for many decisions
    # a later slice takes an earlier one's domain when it has every combination of it: 17 in
    # the everyday draw period by period, 4 with the periods together (one combination more a period)
    assert sum(reused) >= (3 if together else 6), (sum(reused), sum(made))



def test_a_record_field_store_widens_past_127_values():
    """answers.Codes keeps a record field's codes in one byte a row while there are few
    distinct values (a flag's two), and widens to four bytes past 127: every row keeps its own
    value, whichever chunk wrote it, and rows decided by the scalar engine get theirs."""
    from policyengine.batch.answers import NUMERIC, Codes
    from policyengine.model.elements import Type
    store = Codes(400)
    first = Col(np.arange(100, dtype=np.int32), [f"v{i}" for i in range(100)])  # 100 values: one byte
    store.write(np.arange(100), first)
    assert store.ids.dtype == np.int8
    second = Col(np.arange(200, dtype=np.int32) % 150, [f"w{i}" for i in range(150)])  # 250 in all: widened
    store.write(np.arange(100, 300), second)
    assert store.ids.dtype == np.int32
    ids = np.full(400, NUMERIC, dtype=np.int32)
    ids[300:350], ids[350:] = 0, -1  # rows with a value id of their own, and rows not decided
    column = store.column(ids, ["x"], Type("text")).to_pylist()  # value id 0's field is "x"
    assert column[:100] == [f"v{i}" for i in range(100)]
    assert column[100:300] == [f"w{i % 150}" for i in range(200)]
    assert column[300:350] == ["x"] * 50 and column[350:] == [None] * 50


PERIODS_INSTRUMENT = INSTRUMENT + """\
  postings:
    type: list
    items: record
    label: {en: Postings, fr: Affectations}
    fields:
      group: {type: text, label: {en: Group, fr: Groupe}}
      years: {type: integer, label: {en: Years, fr: Années}}
"""

PERIODS_RULES = """\
tables:
  cap:
    citation: "1"
    text: "Caps by level."
    label: {en: Caps, fr: Plafonds}
    keys:
      - {name: level, values: [PL-01, PL-02]}
    value: money
    versions:
      - effective: 2006-04-02
        rows: {PL-01: 50000, PL-02: 60000}
      - effective: 2009-04-02
        rows: {PL-01: 52000, PL-02: 63000}
  years_needed:
    citation: "2"
    text: "Years of a posting that count."
    label: {en: Years needed, fr: Années requises}
    keys:
      - {name: group, values: [AB, CD]}
    value: integer
    versions:
      - effective: 2006-04-02
        rows: {AB: 3, CD: 5}
      - effective: 2010-04-02
        rows: {AB: 2, CD: 4}
rules:
  capped:
    decision: true
    citation: "3"
    text: "Salary, up to the cap of the level."
    label: {en: Capped salary, fr: Traitement plafonné}
    requires: [experienced]
    value: min(salary, cap[level])
  experienced:
    citation: "4"
    text: "A posting of the years needed."
    label: {en: Experienced, fr: Expérimenté}
    value: 'any(postings, group == "AB" and years >= years_needed["AB"])'
  seasoned:
    decision: true
    citation: "5"
    text: "Paid over $46,000, with a posting of the years needed among postings in AB."
    label: {en: Seasoned, fr: Chevronné}
    value: 'salary > $46000 and any(postings, years >= years_needed["AB"] and any(postings, group == "AB"))'
"""


def test_periods_alike_but_for_their_tables_are_decided_together(tmp_path, monkeypatch):
    """Rows of five periods whose rules are the same and whose tables are not (cap changes in
    2009, years_needed in 2010) are decided as one: the period is one more fact of the domain,
    each lookup - outside a quantifier and inside one - in its own row's table version, and
    rows of two periods never share a path.  Every row equals evaluate(): the cap and the
    years needed of its own date (a salary of 51,000 at PL-01 is capped at 50,000 before
    2009-04-02 and kept after; 2 years of AB are enough from 2010-04-02 only)."""
    from policyengine.batch import engine
    policies = policyengine.load(write_policies(tmp_path, PERIODS_RULES, PERIODS_INSTRUMENT))
    rng = np.random.default_rng(9)
    n = 4000
    days = [dt.date(2007, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 5 * 365, n)]
    facts = [{"level": ["PL-01", "PL-02"][int(lv)], "salary": Decimal(int(s)),
              "postings": [{"group": "AB", "years": int(y)}] if y else []}
             for lv, s, y in zip(rng.integers(0, 2, n), rng.integers(45_000, 66_000, n), rng.integers(0, 4, n))]
    facts[0] = {"level": "PL-01", "salary": Decimal(51_000), "postings": [{"group": "AB", "years": 3}]}
    facts[1] = dict(facts[0])
    days[0], days[1] = dt.date(2009, 4, 1), dt.date(2009, 4, 2)
    facts[2] = {"level": "PL-02", "salary": Decimal(50_000), "postings": [{"group": "AB", "years": 2}]}
    facts[3] = dict(facts[2])
    days[2], days[3] = dt.date(2010, 4, 1), dt.date(2010, 4, 2)
    calls = []
    decide = engine._Batch._decide_period

    def counted(self, rows, chunk, domain, shared, book, periods=None):
        calls.append(periods is not None)
        return decide(self, rows, chunk, domain, shared, book, periods)
    monkeypatch.setattr(engine._Batch, "_decide_period", counted)
    meta = _check(policies, "demo.capped", facts, days)
    assert calls and all(calls)  # the periods together, in every chunk
    table = policies.evaluate_batch("demo.capped", [dict(f, day=d) for f, d in zip(facts, days)], as_of_column="day")
    values = table.column("value").to_pylist()[:4]
    statuses = table.column("status").to_pylist()[:4]
    assert values[:2] == [Decimal(50_000), Decimal(51_000)]  # the 2009 cap of PL-01 is 52,000
    assert statuses[2:] == ["refused", "decided"] and values[3] == Decimal(50_000)  # 2 years of AB count from 2010-04-02
    assert meta["numeric_rows"] == meta["statuses"]["decided"] > n // 4  # every decided row by the kernels
    calls.clear()
    _check(policies, "demo.seasoned", facts, days)  # a lookup in a nested quantifier (compiled whole, per period)
    assert calls and all(calls)
    table = policies.evaluate_batch("demo.seasoned", [dict(f, day=d) for f, d in zip(facts, days)], as_of_column="day")
    assert table.column("value").to_pylist()[2:4] == [False, True]


def test_paths_are_kept_across_calls_on_the_same_policies():
    """A path's answer is the policies', not the input's: a second call on the same policies
    with other salaries, ratings and increases evaluates no path it met in the first, and
    every row of both still equals evaluate().  A call that needs each path's Decision (the
    rows view, retro) keeps its own book."""
    fresh = policyengine.load("policies")
    rng = np.random.default_rng(21)
    ratings = ["surpassed", "met_all", "met_most", "did_not_meet"]
    pct = {"surpassed": (60, 70), "met_all": (50, 50), "met_most": (0, 40), "did_not_meet": (0, 0)}

    def cases(n):
        rating = [ratings[i] for i in rng.integers(0, 4, n)]
        facts = [{"level": "PL-06", "salary": int(s), "rating": r,
                  "increase_pct": Decimal(int(rng.integers(pct[r][0], pct[r][1] + 1))) / 10}
                 for s, r in zip(rng.integers(84_000, 100_000, n), rating)]
        days = [dt.date(2008 + int(y), 4, 1) for y in rng.integers(0, 3, n)]
        return facts, days
    first = _check(fresh, "ldp.performance_pay", *cases(3000))
    second = _check(fresh, "ldp.performance_pay", *cases(3000))
    assert first["scalar_evaluations"] >= 12  # (three April 1sts, several paths each)
    assert second["scalar_evaluations"] < first["scalar_evaluations"] // 4, (first, second)
    from policyengine.batch.engine import evaluate_batch
    facts, days = cases(500)
    _, rows = evaluate_batch(fresh, "ldp.performance_pay", [dict(f, day=d) for f, d in zip(facts, days)],
                             as_of_column="day", _keep=True)
    assert all(rows.path_decision(i) is not None for i in range(500))  # its own book: each path's Decision
