"""The one walker over rule bodies, and the one structural equality of expressions."""
import pytest

import policyengine
from policyengine.expr import ast
from policyengine.expr.parser import parse
from policyengine.model import walk
from policyengine.model.elements import ConditionsBody, GapBody, RecordBody, SelectBody, ValueBody

VARIANTS = [ValueBody(None), ConditionsBody("all"), ConditionsBody("any"), RecordBody(), GapBody(), SelectBody()]


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


class Names(walk.BodyVisitor):
    def visit_value(self, b):
        return "value"

    def visit_conditions(self, b):
        return b.kind

    def visit_record(self, b):
        return "record"

    def visit_gap(self, b):
        return "gap"

    def visit_select(self, b):
        return "select"


def test_the_visitor_dispatches_each_variant_to_its_method():
    assert [Names().visit(b) for b in VARIANTS] == ["value", "all", "any", "record", "gap", "select"]


def test_a_visitor_that_forgets_a_variant_refuses_it():
    class ValuesOnly(walk.BodyVisitor):
        def visit_value(self, b):
            return "value"

    assert ValuesOnly().visit(ValueBody(None)) == "value"
    with pytest.raises(NotImplementedError, match="ValuesOnly does not handle GapBody"):
        ValuesOnly().visit(GapBody())


def test_expressions_of_a_rule_with_exceptions_include_each_when_and_value(policies):
    rule = policies.rules["ldp.termination.time_limit_reached"]
    found = [(role, e.source) for _, role, e in walk.expressions(rule)]
    mtp, cap = "ldp.termination.transition_mtp_four_years", "ldp.termination.transition_cap_four_years"
    assert found == [("value", "months_of_assignment_time >= 36"),
                     (f"when:{mtp}", 'program == "MTP" and transition.covered'),
                     (f"exception:{mtp}", "months_of_assignment_time >= 48"),
                     (f"when:{cap}", 'program == "CAP" and transition.covered'),
                     (f"exception:{cap}", "months_of_assignment_time >= 48")]


def test_expressions_of_a_select_rule_are_its_value_and_every_case(policies):
    rule = policies.rules["qs.meets_standard"]
    body = rule.versions[0].body
    found = {role: e.source for _, role, e in walk.expressions(rule)}
    assert found["by"] == "group"
    assert found["case:FR"] == '"no_standard_prescribed"'
    assert found["case:AC"] == 'if group.ac then "met" else "not_met"'
    assert len(found) == 1 + len(body.cases) + (body.default is not None)


def test_reformatting_keeps_an_expression_the_same():
    assert ast.same(parse("a+b"), parse("(a + b)"))
    assert ast.same(parse('x in ["a", "b"]'), parse("x in ['a','b']"))


def test_reordering_or_changing_an_operator_is_a_different_expression():
    assert not ast.same(parse("a+b"), parse("b+a"))
    assert not ast.same(parse("a >= 36"), parse("a > 36"))


def test_children_follow_the_declared_fields():
    call = parse("f(a, k = b)")
    assert [n.name for n in ast.children(call)] == ["a", "b"]
    assert [type(n).__name__ for n in ast.walk(parse("not (a < 1)"))] == ["Unary", "Compare", "Name", "Literal"]
