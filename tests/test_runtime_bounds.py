"""Evaluation is total and bounded: what cannot be computed is an EvaluationError citing
where it is written, never a Python exception, a hang or a silently wrong number."""
import pytest

import policyengine
from helpers import INSTRUMENT, write_policies
from policyengine import EvaluationError

FACTS = """\
  d: {type: decimal, label: {en: D, fr: D}}
  n: {type: integer, label: {en: N, fr: N}}
  people:
    type: list
    items: record
    fields:
      age: {type: integer, label: {en: Age, fr: Âge}}
    label: {en: People, fr: Personnes}
"""


def rule(name, body):
    return f"""\
  {name}:
    decision: true
    citation: "1"
    text: "A rule."
    label: {{en: R, fr: R}}
    {body}
"""


RULES = "rules:\n" + "".join([
    rule("square", "value: d * d"),
    rule("ratio", "value: d / (d - d)"),
    rule("rounded", "value: round(d * d, to=100)"),
    rule("far", "value: as_of + 4000000 days"),
    rule("power", "value: n * n * n * n"),
    rule("pairs", "value: any(people, any(people, age > 1000))"),
    rule("sum", "value: d + d"),
    rule("zero", "value: d * -1"),
    rule("zero_div", "value: -d / 4"),
    rule("zero_round", "value: round(d - 1)"),
])


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    root = write_policies(tmp_path_factory.mktemp("bounds"), RULES, INSTRUMENT.replace("facts:\n", "facts:\n" + FACTS))
    return policyengine.load(root)


def error(policies, decision, facts, trace="audit"):
    with pytest.raises(EvaluationError) as info:
        policies.evaluate(f"demo.{decision}", facts, as_of="2008-01-01", trace=trace)
    return str(info.value)


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_a_product_beyond_the_precision_is_an_error_not_a_rounded_number(policies, trace):
    message = error(policies, "square", {"d": "9" * 20}, trace)
    assert "rules.yaml" in message and "cannot compute *" in message and "28 digits" in message


def test_division_by_zero_is_located(policies):
    message = error(policies, "ratio", {"d": 5})
    assert "division by zero" in message and "rules.yaml:" in message


def test_round_of_an_extreme_value_is_an_error(policies):
    assert "cannot compute" in error(policies, "rounded", {"d": "9" * 20})


def test_a_date_past_9999_is_an_error(policies):
    message = error(policies, "far", {})
    assert "years 1 to 9999" in message


def test_whole_numbers_are_bounded(policies):
    message = error(policies, "power", {"n": 10 ** 8})
    assert "28 digits" in message


def test_quantifiers_have_a_step_budget(policies):
    people = [{"age": 1}] * 1000  # 1,000 x 1,000 visits: past the budget of 100,000
    message = error(policies, "pairs", {"people": people})
    assert "100000 steps" in message and "any()" in message


def test_within_the_bounds_values_are_exact(policies):
    d = policies.evaluate("demo.sum", {"d": "0.1"}, as_of="2008-01-01")
    assert str(d.value) == "0.2"
    d = policies.evaluate("demo.pairs", {"people": [{"age": 1}] * 100}, as_of="2008-01-01")
    assert d.value is False


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_the_deepest_policy_the_loader_accepts_evaluates(tmp_path, trace):
    """A chain of MAX_RULE_DEPTH rules, each one expression MAX_EXPR_DEPTH deep with the
    reference to the previous rule at the bottom: the worst case the limits allow."""
    from policyengine import limits
    ones = " + 1" * (limits.MAX_EXPR_DEPTH - 1)
    rules = [rule("r_1", "value: 1")] + [rule(f"r_{i}", f"value: r_{i - 1}{ones}")
                                         for i in range(2, limits.MAX_RULE_DEPTH + 1)]
    p = policyengine.load(write_policies(tmp_path, "rules:\n" + "".join(rules)))
    d = p.evaluate(f"demo.r_{limits.MAX_RULE_DEPTH}", {}, as_of="2008-01-01", trace=trace)
    assert d.value == 1 + (limits.MAX_RULE_DEPTH - 1) * (limits.MAX_EXPR_DEPTH - 1)


def test_the_command_line_reports_the_error_without_a_traceback(policies, capsys):
    from policyengine.cli import main
    code = main(["eval", "demo.ratio", "--policies", str(policies.root), "--fact", "d=5", "--as-of", "2008-01-01"])
    out, err = capsys.readouterr()
    assert code == 2 and "Traceback" not in err
    assert "rules.yaml:" in err and "division by zero" in err


@pytest.mark.parametrize("decision", ["zero", "zero_div", "zero_round"])
def test_arithmetic_never_answers_negative_zero(policies, decision):
    """0 x -1, -0 / 4 and round(-0.4) are 0: "-0" is what the fact reader refuses as input."""
    facts = {"d": "0.6"} if decision == "zero_round" else {"d": 0}
    d = policies.evaluate(f"demo.{decision}", facts, as_of="2008-01-01")
    assert d.to_dict()["value"] == "0" and not d.value.is_signed()


def test_zero_divided_by_zero_says_division_by_zero():
    import decimal
    from policyengine.runtime.semantics import explain_failure
    try:
        decimal.Decimal(0) / decimal.Decimal(0)
    except decimal.InvalidOperation as exc:  # C decimal signals 0/0 as InvalidOperation([DivisionUndefined])
        assert explain_failure(exc) == "division by zero (0 / 0)"
