"""The YAML test runner fails when the policy disagrees with the expectation."""
from policyengine.tools.testing import Case, run_case, policies_for
from pathlib import Path

ROOT = Path("policies").resolve()


def case(expect, facts=None, decision="ldp.pay.annual_rate", as_of="2008-06-01"):
    return Case("c", decision, as_of, facts or {"level": "PL-03", "step": 2}, expect, "x.yaml", 1, ROOT)


def test_right_value_passes():
    assert run_case(case({"value": 64497, "clauses": ["ldp.B.12"]})) == []


def test_wrong_value_fails_with_trace():
    diffs = run_case(case({"value": 64498}))
    assert diffs[0] == "value: expected 64498, got 64497" and diffs[-1].startswith("trace:")


def test_wrong_clause_and_error_expectations_fail():
    assert run_case(case({"clauses": ["ldp.B.13"]}))
    assert run_case(case({"error": "not_in_force"}))
    assert run_case(case({"value": 1}, as_of="2001-01-01"))


def test_record_fields_compared_exactly():
    facts = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}
    assert run_case(case({"value": {"new_salary": 93500}}, facts, "ldp.performance_pay", "2009-04-01")) == []
    assert run_case(case({"value": {"new_salary": 93400}}, facts, "ldp.performance_pay", "2009-04-01"))


def test_policies_folder_found_from_test_file():
    assert policies_for(Path("policies/ldp/tests/pay_table.yaml")) == ROOT
