"""The one walker over rule bodies.

Every stage that looks inside rules (type checker, runtime compiler, coverage, lint, diff,
site, requirements) goes through here instead of switching on body kinds itself, so a new
body variant is added in one place: the model, this module, and the visitors that must
say what it means.
"""
from __future__ import annotations

from typing import Iterator

from .elements import (Body, ConditionsBody, Expr, GapBody, RecordBody, Rule, RuleVersion, SelectBody,
                       ValueBody)

_METHODS = {ValueBody: "visit_value", ConditionsBody: "visit_conditions", RecordBody: "visit_record",
            GapBody: "visit_gap", SelectBody: "visit_select"}


class BodyVisitor:
    """Dispatch on a body's variant (as Jinja2's NodeVisitor does on node classes).

    Subclasses define visit_value, visit_conditions, visit_record, visit_gap and
    visit_select; a variant with no method falls to `generic_visit`, which refuses, so
    a visitor that forgets a variant says so instead of silently skipping it.
    """

    def visit(self, body: Body, *args, **kwargs):
        method = getattr(self, _METHODS[type(body)], None)
        if method is None:
            return self.generic_visit(body, *args, **kwargs)
        return method(body, *args, **kwargs)

    def generic_visit(self, body: Body, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} does not handle {type(body).__name__}")


def body_expressions(body: Body) -> Iterator[tuple[str, Expr]]:
    """(role, expression) for every expression written directly in a body.

    Roles: "value", "condition", "field:NAME", "by", "case:KEY", "default".  Condition
    sub-rules are rules of their own (see `sub_rules`), not expressions of this body.
    """
    if isinstance(body, ValueBody):
        if body.expr is not None:
            yield "value", body.expr
    elif isinstance(body, ConditionsBody):
        for item in body.items:
            if item.expr is not None:
                yield "condition", item.expr
    elif isinstance(body, RecordBody):
        for name, e in body.fields.items():
            yield f"field:{name}", e
    elif isinstance(body, SelectBody):
        if body.on is not None:
            yield "by", body.on
        for key, e in body.cases.items():
            yield f"case:{key}", e
        if body.default is not None:
            yield "default", body.default


def version_expressions(version: RuleVersion) -> Iterator[tuple[str, Expr]]:
    """The body's expressions, then each exception's `when` and `value`."""
    yield from body_expressions(version.body)
    for ex in version.exceptions:
        if ex.when is not None:
            yield f"when:{ex.id}", ex.when
        if ex.value is not None:
            yield f"exception:{ex.id}", ex.value


def expressions(rule: Rule) -> Iterator[tuple[RuleVersion, str, Expr]]:
    """Every expression of every version of a rule, with its version and role."""
    for v in rule.versions:
        for role, e in version_expressions(v):
            yield v, role, e


def sub_rules(body: Body) -> list[Rule]:
    """The cited condition sub-rules of an all/any body (empty for other bodies)."""
    if isinstance(body, ConditionsBody):
        return [item.rule for item in body.items if item.rule is not None]
    return []
