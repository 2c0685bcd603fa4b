"""evaluate_batch decides every row as evaluate() decides the same case.

Every public decision of ldp, cap, etm and qs is checked on random cases drawn from its
fact declarations (tests/batch_cases.py): status, value, deciding clauses, missing facts,
presumptions relied on, and the problems of rows that cannot be decided.  The everyday run
draws 12 cases per decision; POLICYENGINE_HEAVY=1 (run by .ci/run) draws 100,000 per
decision (POLICYENGINE_BATCH_CASES and POLICYENGINE_BATCH_CASES_QS change that).
"""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pytest

pa = pytest.importorskip("pyarrow")
np = pytest.importorskip("numpy")
from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

from batch_cases import CaseMaker, batch_rows, same, scalar  # noqa: E402
from policyengine.batch.engine import metadata  # noqa: E402
from policyengine.errors import InputError, UnknownDecisionError  # noqa: E402

import policyengine  # noqa: E402

HEAVY = os.environ.get("POLICYENGINE_HEAVY") == "1"
CASES = int(os.environ.get("POLICYENGINE_BATCH_CASES", 100_000)) if HEAVY else 12
# qs decisions read lists of records (education, certifications): nearly every random case is a
# path of its own, so they cost about as much as evaluate(); CI may draw fewer of them (.ci/run).
CASES_QS = int(os.environ.get("POLICYENGINE_BATCH_CASES_QS", CASES)) if HEAVY else CASES
DAY = "__as_of"


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def _public(policies):
    return [d for d in policies.decisions if d.split(".")[0] in ("ldp", "cap", "etm", "qs")]


def _check(policies, decision, facts, days):
    table = policies.evaluate_batch(decision, [dict(f, **{DAY: d}) for f, d in zip(facts, days)], as_of_column=DAY)
    got = batch_rows(table, policies.rule(decision).type)
    assert table.num_rows == len(facts)
    for i, (f, d) in enumerate(zip(facts, days)):
        expected = scalar(policies, decision, f, d)
        assert same(expected, got[i]), f"{decision} row {i + 1}: facts {f} as of {d}\n  evaluate(): {expected}\n  batch: {got[i]}"
    meta = metadata(table)
    assert not [f for f in meta["fallbacks"] if "disagree" in f["reason"]], meta["fallbacks"]
    return table, meta


def _public_ids():
    return _public(policyengine.load("policies"))


@pytest.mark.parametrize("decision", _public_ids())
def test_every_public_decision_batch_equals_scalar(policies, decision):
    facts, days = CaseMaker(policies, decision).cases(CASES_QS if decision.startswith("qs.") else CASES)
    _check(policies, decision, facts, days)


def test_public_decisions_are_mostly_columnar(policies):
    decisions = _public(policies)
    assert len(decisions) > 150
    columnar = total = 0
    for decision in decisions:
        facts, days = CaseMaker(policies, decision, seed=7).cases(8)
        _, meta = _check(policies, decision, facts, days)
        columnar, total = columnar + meta["columnar_rows"], total + meta["rows"] - meta["input_errors"]
    assert columnar > 0.5 * total  # most rows are decided column-wise, not by the scalar fallback


@settings(max_examples=25 if not HEAVY else 400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 10 ** 6), size=st.integers(1, 40),
       decision=st.sampled_from(["ldp.pay.annual_rate", "ldp.pay.job_rate", "ldp.performance_pay",
                                 "ldp.performance_pay_admin.eligible", "cap.eligible", "qs.meets_standard",
                                 "etm.questionnaire_required"]))
def test_property_batch_equals_scalar(policies, seed, size, decision):
    if decision not in policies.rules:
        pytest.skip(f"{decision} not bundled")
    facts, days = CaseMaker(policies, decision, seed).cases(size)
    _check(policies, decision, facts, days)


def test_pay_table_versions_change_on_the_same_days(policies):
    """PL-03 step 2 either side of each revision of the s. 12 table (Appendix B, 12)."""
    days = ["2008-04-01", "2008-04-02", "2009-04-01", "2009-04-02", "2010-04-01", "2010-04-02"]
    t = policies.evaluate_batch("ldp.pay.annual_rate", {"level": ["PL-03"] * 6, "step": [2] * 6, "day": days},
                                as_of_column="day")
    assert t.column("value").to_pylist() == [Decimal("63544"), Decimal("64497"), Decimal("64497"),
                                             Decimal("65464"), Decimal("65464"), Decimal("66446")]
    assert t.column("clauses").to_pylist() == [["ldp.B.12"]] * 6


def test_bad_rows_are_listed_not_lost(policies):
    rows = [{"level": "PL-03", "step": 2}, {"level": "PL-9", "step": 2}, {"level": "PL-03", "step": "two"},
            {"level": "PL-06", "step": 1}, {"step": 1}, {"level": "PL-03", "step": 2, "levl": "PL-01"}]
    t = policies.evaluate_batch("ldp.pay.annual_rate", rows, as_of="2008-06-01")
    assert t.column("row").to_pylist() == [1, 2, 3, 4, 5, 6]
    assert t.column("status").to_pylist() == ["decided", "error", "error", "refused", "undetermined", "error"]
    errors = t.column("errors").to_pylist()
    assert errors[1] == [{"fact": "level", "problem": "fact 'level': 'PL-9' is not one of PL-01, PL-02, PL-03, "
                                                      "PL-04, PL-05, PL-06"}]
    assert errors[2][0]["fact"] == "step" and "whole number" in errors[2][0]["problem"]
    assert errors[5][0]["problem"].startswith("unknown fact 'levl'")
    assert t.column("missing").to_pylist()[4] == ["level"]
    assert metadata(t)["statuses"] == {"decided": 1, "undetermined": 1, "refused": 1, "conflict": 0, "error": 3}


def test_inputs_of_every_shape_give_one_answer(policies):
    cols = {"level": ["PL-01", "PL-05"], "step": [1, 3]}
    expected = [Decimal("50661"), Decimal("83974")]  # Appendix B, 12, rates B (2008-04-02)
    shapes = [cols, [{"level": "PL-01", "step": 1}, {"level": "PL-05", "step": 3}], pa.table(cols)]
    try:
        import polars
        shapes.append(polars.DataFrame(cols))
    except ImportError:
        pass
    for data in shapes:
        t = policies.evaluate_batch("ldp.pay.annual_rate", data, as_of=dt.date(2008, 6, 1))
        assert t.column("value").to_pylist() == expected, type(data)


def test_records_become_value_columns_and_money_stays_decimal(policies):
    t = policies.evaluate_batch("ldp.transition.holding_rate",
                                [{"holding_rate": Decimal("120000.125"), "level": "PL-03", "program": "MTP"}],
                                as_of="2008-06-01")
    names = t.column_names
    assert "value.rate_of_pay" in names and "value.continues" in names
    typ = t.schema.field("value.rate_of_pay").type  # a dictionary over the distinct values, of exact decimals
    assert pa.types.is_dictionary(typ) and pa.types.is_decimal(typ.value_type)
    assert t.column("value.rate_of_pay").to_pylist() == [Decimal("120000.125")]


def test_bad_calls_are_clear(policies):
    with pytest.raises(UnknownDecisionError, match="did you mean"):
        policies.evaluate_batch("ldp.pay.anual_rate", {"level": ["PL-01"]}, as_of="2008-06-01")
    with pytest.raises(InputError, match="as_of"):
        policies.evaluate_batch("ldp.pay.annual_rate", {"level": ["PL-01"]})
    with pytest.raises(InputError, match="no column 'day'"):
        policies.evaluate_batch("ldp.pay.annual_rate", {"level": ["PL-01"]}, as_of_column="day")
    with pytest.raises(InputError, match="different lengths"):
        policies.evaluate_batch("ldp.pay.annual_rate", {"level": ["PL-01"], "step": [1, 2]}, as_of="2008-06-01")


def test_known_on_column(policies):
    """As known on 2009-04-22 the C rates (approved 2009-04-23) are not yet known."""
    t = policies.evaluate_batch("ldp.pay.annual_rate", {"level": ["PL-03"] * 2, "step": [2] * 2,
                                                        "known": ["2009-04-22", "2009-04-23"]},
                                as_of="2009-06-01", known_on_column="known")
    assert t.column("value").to_pylist() == [Decimal("64497"), Decimal("65464")]


def test_arrow_columns_with_nulls_are_facts_not_given(policies):
    """An Arrow null is a fact not given, in every kind of column the batch reads: many
    salaries (kept as numbers), a short range of steps, enum texts (with one that is not a
    value), decimals and dates (a null day is the row's error).  Each row is evaluate()'s."""
    rng = np.random.default_rng(3)
    n = 1200
    salary = rng.integers(84_000, 101_000, n).tolist()
    rating = [["surpassed", "met_all", "met_most", "did_not_meet"][i] for i in rng.integers(0, 4, n)]
    pct = [Decimal(int(i)) / 10 for i in rng.integers(0, 71, n)]
    day = [dt.date(2007 + int(i), 4, 1) for i in rng.integers(0, 5, n)]
    for i in range(0, n, 7):
        salary[i] = None
    for i in range(3, n, 11):
        rating[i] = None
    rating[5] = "excellent"  # not a rating: that row's error
    for i in range(4, n, 13):
        pct[i] = None
    day[6] = None
    table = pa.table({"level": ["PL-06"] * n, "salary": pa.array(salary, type=pa.int64()), "rating": rating,
                      "increase_pct": pa.array(pct, type=pa.decimal128(6, 1)), "day": pa.array(day, type=pa.date32())})
    got = batch_rows(policies.evaluate_batch("ldp.performance_pay", table, as_of_column="day"),
                     policies.rule("ldp.performance_pay").type)
    facts = [{k: v for k, v in (("level", "PL-06"), ("salary", s), ("rating", r), ("increase_pct", p)) if v is not None}
             for s, r, p in zip(salary, rating, pct)]
    statuses = set()
    for i, (f, d) in enumerate(zip(facts, day)):
        if d is None:
            assert got[i]["status"] == "error" and "no date given" in got[i]["problems"][0], got[i]
            continue
        expected = scalar(policies, "ldp.performance_pay", f, d)
        assert same(expected, got[i]), f"row {i + 1}: facts {f} as of {d}\n  evaluate(): {expected}\n  batch: {got[i]}"
        statuses.add(expected["status"])
    assert {"decided", "undetermined", "error"} <= statuses
    steps = pa.table({"level": ["PL-03"] * 300, "step": pa.array([1, None, 3] * 100, type=pa.int64())})
    t = policies.evaluate_batch("ldp.pay.annual_rate", steps, as_of="2008-06-01")
    assert t.column("status").to_pylist()[:3] == ["decided", "undetermined", "decided"]
    assert t.column("missing").to_pylist()[1] == ["step"]


def test_a_text_column_of_one_value_and_one_that_differs_late(policies):
    """A column whose rows all hold one text (every participant PL-06) is read by one
    comparison; a column that holds it in its first rows only, or a text that is not a value
    throughout, is read by lookup: each row's answer is the one evaluate() gives it."""
    n = 3000
    base = {"salary": 90_000, "rating": "met_all", "increase_pct": Decimal(5)}
    day = dt.date(2009, 4, 1)
    for levels in (["PL-06"] * n, ["PL-06"] * (n - 1) + ["PL-05"], ["PL-6"] * n):
        got = batch_rows(policies.evaluate_batch("ldp.performance_pay", pa.table({
            "level": levels, "salary": [base["salary"]] * n, "rating": [base["rating"]] * n,
            "increase_pct": pa.array([base["increase_pct"]] * n, type=pa.decimal128(4, 1))}), as_of=day),
            policies.rule("ldp.performance_pay").type)
        for i in (0, n - 1):
            want = scalar(policies, "ldp.performance_pay", dict(base, level=levels[i]), day)
            assert same(want, got[i]), (levels[i], want, got[i])
    assert got[0]["status"] == "error" and "PL-6" in got[0]["problems"][0]


def test_many_salaries_are_read_as_numbers_and_a_bad_one_is_its_rows_error(policies):
    """A column of many whole salaries is kept as numbers (no Python value made for each), by
    range or by hash, from Arrow or from lists; one below the fact's minimum (0) sends the
    column value by value, and only its rows are errors."""
    from policyengine.batch.columns import WholeNumbers
    base = {"level": "PL-06", "rating": "met_all", "increase_pct": 5}
    wide = list(range(84_000, 84_000 + 600)) + [10 ** 12 + k for k in range(300)]  # a short range, then hashed
    for salaries in (list(range(84_000, 85_000)), wide):
        for data in ([dict(base, salary=s) for s in salaries], pa.table({**{k: [v] * len(salaries) for k, v in base.items()},
                                                                          "salary": salaries})):
            t = policies.evaluate_batch("ldp.performance_pay", data, as_of="2009-04-01")
            assert metadata(t)["statuses"]["decided"] + metadata(t)["statuses"]["refused"] == len(salaries)
            assert t.column("value.new_salary").to_pylist()[0] == Decimal(88_200)  # 84,000 x 1.05
    salaries = list(range(84_000, 85_000))
    salaries[10] = -5
    t = policies.evaluate_batch("ldp.performance_pay", {**{k: [v] * 1000 for k, v in base.items()}, "salary": salaries},
                                as_of="2009-04-01")
    assert t.column("status").to_pylist().count("error") == 1 and t.column("status")[10].as_py() == "error"
    assert "salary" in t.column("errors")[10].as_py()[0]["problem"]
    values = WholeNumbers(np.asarray([5, 7]), Decimal, True)
    assert len(values) == 3 and values[1] == Decimal(7) and type(values[0]) is Decimal
    assert list(values)[2] is values[2] is values[-1]  # the last one: MISSING, the rows with none
    assert values.classes().tolist() == [4, 4, 0]


def test_a_later_slice_takes_the_answers_of_cases_an_earlier_one_decided(policies, monkeypatch):
    """Rows with the same facts in the same period are one case (decided once, engine.decide);
    a slice whose cases an earlier slice of the call decided takes their answers instead of
    deciding them again.  Every row's answer - an input error's, a day outside the directive's
    force (2005), a level without steps (PL-06, refused), a missing level or step included - and the
    counts of rows decided column-wise and by the scalar engine are those of deciding each
    slice afresh, and evaluate()'s."""
    from policyengine.batch import engine
    monkeypatch.setattr(engine, "SLICE_ROWS", 300)
    rng = np.random.default_rng(21)
    levels, steps = ["PL-01", "PL-03", "PL-06", None], [1, 2, "two", None]
    days = [dt.date(2005, 6, 1), dt.date(2008, 6, 1), dt.date(2008, 9, 30), dt.date(2009, 4, 2), dt.date(2011, 1, 3)]
    facts, on = [], []
    for _ in range(3000):
        level, step = levels[rng.integers(len(levels))], steps[rng.integers(len(steps))]
        facts.append({k: v for k, v in (("level", level), ("step", step)) if v is not None})
        on.append(days[rng.integers(len(days))])
    decided = []
    decide_cases = engine._Batch._decide_cases

    def counted(self, reps, sizes):
        decided.append(len(reps))
        return decide_cases(self, reps, sizes)
    monkeypatch.setattr(engine._Batch, "_decide_cases", counted)
    kept, meta = _check(policies, "ldp.pay.annual_rate", facts, on)
    with_answers_kept = sum(decided)
    decided.clear()
    monkeypatch.setattr(engine, "CASE_KEYS", 0)  # no case named: each slice decides all of its own
    afresh, meta_afresh = _check(policies, "ldp.pay.annual_rate", facts, on)
    assert len(decided) == 10 and sum(decided) > 3 * with_answers_kept  # ten slices, each deciding its cases
    # once each: 4 levels (one missing) x 4 steps (one bad, one missing: two cases that read alike
    # but for the bad one's error) x 5 periods (the two 2008 days are one; 2005, outside the
    # directive's force, stands for itself) at most
    assert with_answers_kept <= 4 * 4 * 5
    for name in kept.column_names:
        assert kept.column(name).to_pylist() == afresh.column(name).to_pylist(), name
    for count in ("columnar_rows", "scalar_rows", "statuses", "input_errors"):
        assert meta[count] == meta_afresh[count], count
    assert meta["scalar_rows"] > 0 and meta["statuses"]["refused"] > 0 and meta["statuses"]["error"] > 0
