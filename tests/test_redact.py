"""Redacted (public) views under the directive's confidentiality clause, 6.3.1."""
import json

import pytest

import policyengine
from policyengine.cli import main
from policyengine.audit.redact import WITHHELD, view

FACTS = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def test_public_view_shows_only_the_salary_range(policies):
    d = policies.evaluate("ldp.performance_pay", FACTS, as_of="2009-04-01")
    r = view(d.to_dict(), policies, "public")
    rng = {"salary_range": {"minimum": "87911", "maximum": "97703"}}  # PL-06 range in force 2008-04-02
    assert r["facts"] == {"level": WITHHELD, "salary": rng, "rating": WITHHELD, "increase_pct": WITHHELD}
    assert r["value"] == {"eligible": WITHHELD, "new_salary": rng, "increase": rng, "award_eligible": WITHHELD}
    assert r["redaction"]["basis"]["clause"] == "ldp.6.3.1"
    text = json.dumps(r)
    for secret in ("89000", "93500", "4500", ': "met_all"', ': "PL-06"'):  # values, not expressions
        assert secret not in text, secret
    # the clauses and their texts are policy, not personal: they stay
    assert r["clauses"] == d.clauses and "10.7 (12)" in text


def test_full_view_is_unchanged(policies):
    d = policies.evaluate("ldp.performance_pay", FACTS, as_of="2009-04-01")
    assert view(d.to_dict(), policies, "full") == d.to_dict()


def test_range_follows_the_level_and_date(policies):
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01")
    r = view(d.to_dict(), policies, "public")
    assert r["value"] == {"salary_range": {"minimum": "62581", "maximum": "66412"}}
    assert r["facts"]["step"] == r["value"]


def test_what_may_be_shown_comes_from_the_clause(policies):
    """6.3.1 decides: the salary range may be disclosed, other personal information may not."""
    may = lambda kind, work: policies.evaluate("ldp.confidentiality.may_disclose",  # noqa: E731
                                               {"information": kind, "work_requires": work}, as_of="2009-04-01").value
    assert may("salary_range", False) is True
    assert may("specific_salary", False) is False and may("specific_salary", True) is True


def test_cli_public_view(capsys):
    assert main(["eval", "ldp.performance_pay", "--fact", "level=PL-06", "--fact", "salary=89000", "--fact", "rating=met_all",
                 "--fact", "increase_pct=5", "--as-of", "2009-04-01", "--view", "public", "--format", "text", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "Vue publique" in out and "6.3.1" in out and "89000" not in out and "[retenu]" in out
