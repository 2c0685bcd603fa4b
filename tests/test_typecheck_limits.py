"""What cannot be computed is refused at load, located; what can is computed exactly.

Each policy here is one small rules file; its first rule's `value:` is on line 8 and the
expression starts at column 12, so `8:12` is the expression's first character.
"""
import datetime as dt
from decimal import Decimal

import pytest

import policyengine
from helpers import INSTRUMENT, write_policies
from policyengine import limits
from policyengine.values import Duration

INST = INSTRUMENT + """\
  n:
    type: integer
    label: {en: N, fr: N}
  d:
    type: date
    label: {en: D, fr: D}
  t:
    type: text
    label: {en: T, fr: T}
"""

TABLE = """\
tables:
  tb:
    citation: "Appendix B, 12"
    text: t
    label: {en: T, fr: T}
    keys:
      - {name: k, values: [a, b]}
    value: money
    versions:
      - effective: 2006-04-02
        rows: {a: 1, b: 2}
"""


def rule(name: str, value: str, extra: str = "") -> str:
    return (f"  {name}:\n    citation: \"Appendix B, 12\"\n    text: t\n    label: {{en: R, fr: R}}\n"
            f"    value: {value}\n{extra}")


def load(tmp_path, *rules: str, tables: str = ""):
    return policyengine.load(write_policies(tmp_path, "rules:\n" + "".join(rules) + tables, INST))


def problem(tmp_path, value: str, tables: str = "") -> str:
    """The one problem a rule `r: value` has, as 'line:col: message' (the path dropped)."""
    with pytest.raises(policyengine.PolicyError) as info:
        load(tmp_path, rule("r", value), tables=tables)
    [p] = info.value.problems
    return f"{p.location.line}:{p.location.col}: {p.message}"


def value(tmp_path, expr: str, facts=None):
    p = load(tmp_path, rule("r", expr))
    return p.evaluate("demo.r", facts or {}, as_of="2008-06-01").value


# -- 1. negating a duration ---------------------------------------------------------------------
def test_a_negated_duration_keeps_its_unit():
    assert -Duration.of(1, "year") == Duration(-12, "months")
    assert -Duration.of(2, "weeks") == Duration(-14, "days")


def test_adding_a_negative_duration_is_subtracting_it(tmp_path):
    p = load(tmp_path, rule("r", "as_of + -3 days"), rule("s", "as_of - 3 days"), rule("m", "d + -(1 month)"))
    plus = p.evaluate("demo.r", {}, as_of="2008-06-01").value
    minus = p.evaluate("demo.s", {}, as_of="2008-06-01").value
    assert plus == minus == dt.date(2008, 5, 29)
    assert p.evaluate("demo.m", {"d": "2008-03-31"}, as_of="2008-06-01").value == dt.date(2008, 2, 29)


# -- 2. min and max need two values ---------------------------------------------------------------
def test_max_of_one_value_is_refused(tmp_path):
    assert problem(tmp_path, "max(n)") == "8:12: max() needs at least two values, e.g. max(a, b)"


def test_min_of_one_value_is_refused(tmp_path):
    assert problem(tmp_path, "min(salary)") == "8:12: min() needs at least two values, e.g. min(a, b)"


# -- 3. days and months never mix ---------------------------------------------------------------
MONTH = "a month is not a fixed number of days"


def test_adding_days_to_months_is_refused(tmp_path):
    assert problem(tmp_path, "1 month + 1 day") == f"8:20: cannot add months and days: {MONTH}"


def test_subtracting_weeks_from_years_is_refused(tmp_path):
    assert problem(tmp_path, "1 year - 2 weeks") == f"8:19: cannot subtract months and days: {MONTH}"


def test_comparing_days_with_months_is_refused(tmp_path):
    assert problem(tmp_path, "30 days < 1 month") == f"8:20: cannot compare days with months: {MONTH}"


def test_equal_days_and_months_is_refused(tmp_path):
    assert problem(tmp_path, "1 month == 30 days") == f"8:20: cannot compare months with days: {MONTH}"


def test_max_of_days_and_months_is_refused(tmp_path):
    assert problem(tmp_path, "max(1 month, 40 days)") == f"8:25: cannot compare months with days: {MONTH}"


def test_if_branches_of_days_and_months_are_refused(tmp_path):
    assert problem(tmp_path, "if n > 1 then 1 month else 3 days") == \
        f"8:12: the two branches of 'if' mix months and days: {MONTH}"


def test_membership_of_days_in_months_is_refused(tmp_path):
    assert problem(tmp_path, "3 days in [1 month]") == f"8:23: cannot compare days with months: {MONTH}"


def test_an_exception_in_months_over_a_rule_in_days_is_refused(tmp_path):
    exception = """\
    exceptions:
      - id: longer
        citation: "Appendix C, 2.1"
        text: t
        label: {en: L, fr: L}
        when: n > 1
        value: 1 month
"""
    with pytest.raises(policyengine.PolicyError) as info:
        load(tmp_path, rule("r", "30 days", exception))
    [p] = info.value.problems
    assert (p.location.line, p.location.col) == (15, 16)
    assert p.message == f"rule 'demo.r' and its exception 'demo.longer' mix days and months: {MONTH}"


def test_durations_of_one_unit_compute(tmp_path):
    p = load(tmp_path, rule("r", "1 week + 3 days"), rule("s", "2 years - 3 months"),
             rule("c", "2 weeks > 10 days"), rule("m", "max(1 year, 18 months)"))
    got = {r: p.evaluate(f"demo.{r}", {}, as_of="2008-06-01").value for r in "rscm"}
    assert got == {"r": Duration(10, "days"), "s": Duration(21, "months"), "c": True, "m": Duration(18, "months")}


@pytest.mark.parametrize("op", [
    lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a < b, lambda a, b: a <= b,
    lambda a, b: a > b, lambda a, b: a >= b, lambda a, b: max(a, b),
])
def test_durations_refuse_to_mix_at_run_time(op):
    with pytest.raises(ValueError, match=MONTH):
        op(Duration.of(1, "month"), Duration.of(30, "days"))


def test_bundled_durations_still_load_and_compute():
    p = policyengine.load("policies")
    assert p.evaluate("cap.duration", {}, as_of="2008-06-01").value == Duration(36, "months")


# -- 4. chains of rules ----------------------------------------------------------------------------
def chain(length: int) -> list[str]:
    return [rule("r_1", "1")] + [rule(f"r_{i}", f"r_{i - 1} + 1") for i in range(2, length + 1)]


def test_a_chain_at_the_limit_loads_and_evaluates(tmp_path):
    n = limits.MAX_RULE_DEPTH
    p = load(tmp_path, *chain(n))
    assert p.evaluate(f"demo.r_{n}", {}, as_of="2008-06-01").value == n


def test_a_chain_beyond_the_limit_is_refused_naming_its_ends(tmp_path):
    n = limits.MAX_RULE_DEPTH + 1
    with pytest.raises(policyengine.PolicyError) as info:
        load(tmp_path, *chain(n))
    [p] = info.value.problems
    # rule i's value is on line 8 + 5 (i - 1); the last rule uses r_{n-1} at its first column
    assert (p.location.line, p.location.col) == (8 + 5 * (n - 1), 12)
    assert p.message.startswith(f"chain of {n} rules using rules, from 'demo.r_{n}' down to 'demo.r_1' "
                                f"(at most {limits.MAX_RULE_DEPTH})")


# -- 5. depth of one expression -----------------------------------------------------------------------
def test_a_sum_at_the_depth_limit_computes(tmp_path):
    n = limits.MAX_EXPR_DEPTH  # n terms nest n levels: ((1 + 1) + 1) ...
    assert value(tmp_path, " + ".join(["1"] * n)) == n


def test_a_long_unbracketed_sum_is_refused(tmp_path):
    n = limits.MAX_EXPR_DEPTH + 1
    assert problem(tmp_path, " + ".join(["1"] * n)) == (
        f"8:12: syntax error: expression nests too deeply ({n} levels, at most {limits.MAX_EXPR_DEPTH}): "
        f"split it into named rules")


def test_a_250_term_sum_is_refused_not_a_crash(tmp_path):
    assert "expression nests too deeply (250 levels" in problem(tmp_path, " + ".join(["1"] * 250))


def test_repeated_negation_is_refused_not_a_crash(tmp_path):
    # 0 - (-(-(... 1))): the subtraction, 299 negations and the 1
    assert "8:12: syntax error: expression nests too deeply (301 levels" in problem(tmp_path, "0 " + "- " * 300 + "1")


def test_named_arguments_add_no_level(tmp_path):
    # round(...) is one level, its to= none: the whole is exactly at the limit
    inner = " + ".join(["salary"] * (limits.MAX_EXPR_DEPTH - 1))
    assert value(tmp_path, f"round({inner}, to=$1)", {"salary": "1"}) == limits.MAX_EXPR_DEPTH - 1


# -- 6. literals ---------------------------------------------------------------------------------------
def test_an_integer_literal_at_the_limit_loads(tmp_path):
    assert value(tmp_path, "9" * limits.MAX_INTEGER_DIGITS) == 10 ** limits.MAX_INTEGER_DIGITS - 1


def test_an_integer_literal_beyond_the_limit_is_refused(tmp_path):
    n = limits.MAX_INTEGER_DIGITS + 1
    assert problem(tmp_path, "n + " + "1" * n) == \
        f"8:16: syntax error: a whole number of {n} digits: at most {limits.MAX_INTEGER_DIGITS}"


def test_a_decimal_literal_beyond_the_precision_is_refused(tmp_path):
    n = limits.PRECISION + 1
    assert problem(tmp_path, "n + 1." + "0" * (n - 1)) == \
        f"8:16: syntax error: a number of {n} significant digits: at most {limits.PRECISION}"


def test_a_money_literal_beyond_the_limit_is_refused(tmp_path):
    n = limits.MAX_INTEGER_DIGITS + 1
    assert problem(tmp_path, "salary + $" + "5" * n) == \
        f"8:21: syntax error: a whole number of {n} digits: at most {limits.MAX_INTEGER_DIGITS}"


def test_a_decimal_literal_beyond_the_exponent_is_refused(tmp_path):
    e = limits.MAX_EXPONENT + 1
    assert problem(tmp_path, "n * 0." + "0" * (e - 1) + "1") == \
        f"8:16: syntax error: a number of magnitude 10^-{e}: at most 10^±{limits.MAX_EXPONENT}"


# -- 7. round(x, to=STEP) ------------------------------------------------------------------------------
def test_a_round_step_too_fine_is_refused(tmp_path):
    step = "0." + "0" * (limits.PRECISION - 1) + "1"  # 1E-PRECISION
    p = problem(tmp_path, f"round(salary, to={step})")
    assert p.startswith(f"8:29: round(..., to=STEP) needs a step of at most {limits.PRECISION} digits, "
                        f"from 1E-{limits.PRECISION - 1} to 1E+{limits.PRECISION - 1}")


def test_the_finest_round_step_computes(tmp_path):
    step = "0." + "0" * (limits.PRECISION - 2) + "1"  # 1E-(PRECISION-1)
    assert value(tmp_path, f"round(n, to={step})", {"n": 1}) == 1


def test_a_round_step_of_too_many_digits_is_refused(tmp_path):
    step = "1." + "0" * limits.PRECISION
    assert problem(tmp_path, f"round(salary, to={step})").startswith(
        f"8:29: syntax error: a number of {limits.PRECISION + 1} significant digits")


def test_a_round_step_must_still_be_positive(tmp_path):
    assert problem(tmp_path, "round(salary, to=0)") == \
        "8:29: round(..., to=STEP) needs a positive number, e.g. to=100"


# -- 8. everything else that would fail at run time ---------------------------------------------------
@pytest.mark.parametrize("expr, expected", [
    ("-t", "8:12: cannot negate text"),
    ("not n", "8:16: 'not' needs a true/false value, found integer"),
    ("d < 3", "8:14: cannot compare date with integer"),
    ("n in 3", "8:17: 'in' needs a list, found integer"),
    ("months_between(n, d)", "8:27: months_between() needs dates, found integer"),
    ("days_between(d)", "8:12: days_between() takes two dates: days_between(start, end)"),
    ("d + d", "8:14: cannot add dates: use days_between(a, b) or months_between(a, b)"),
    ("n / 0", "8:14: division by zero"),
    ("salary / 0.00", "8:19: division by zero"),
    ("abs(3 days)", "8:16: abs() needs a number or an amount, found duration"),
    ("3 days * 2", "8:19: cannot apply '*' to duration and integer"),
])
def test_what_cannot_be_computed_is_refused(tmp_path, expr, expected):
    assert problem(tmp_path, expr) == expected


@pytest.mark.parametrize("key, kind", [("n", "integer"), ("d", "date"), ("salary", "money")])
def test_a_table_key_of_the_wrong_type_is_refused(tmp_path, key, kind):
    assert problem(tmp_path, f"tb[{key}]", TABLE) == f"8:15: no {kind} is a 'k' of table 'tb' (a, b)"


def test_a_table_key_of_the_right_type_computes(tmp_path):
    p = load(tmp_path, rule("r", "tb[t]"), tables=TABLE)
    assert p.evaluate("demo.r", {"t": "b"}, as_of="2008-06-01").value == Decimal(2)
