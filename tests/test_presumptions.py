"""Presumptions: a declared, cited value for a fact callers rarely give.  A decision that
relies on one says so everywhere it is shown; strict evaluation makes it a missing fact;
a fact the caller gives always wins (docs/policy-format.md, "Presumptions")."""
import json

import pytest

import policyengine
from policyengine import PolicyError
from policyengine.audit import replay
from policyengine.cli import main
from policyengine.present.explain_html import render
from policyengine.tools import lint
from helpers import INSTRUMENT, write_policies

FACTS = """\
  signed_plan:
    type: boolean
    label: {en: Signed plan, fr: Plan signé}
    presumed:
      value: true
      citation: "Appendix B, 10.7(5)"
      reason: {en: Participants sign a plan every cycle, fr: Les participants signent un plan à chaque cycle}
  full_year_lwop:
    type: boolean
    label: {en: On leave without pay all year, fr: En congé non payé toute l'année}
    presumed:
      value: false
      citation: "Appendix B, 10.7(8)"
      reason: {en: Rare, fr: Rare}
  rated: {type: boolean, label: {en: Rated, fr: Coté}}
"""

RULES = """\
rules:
  pay_eligible:
    decision: true
    citation: "Appendix B, 10.7(5)"
    text: "To be eligible for performance pay, participants must have completed and signed a plan."
    label: {en: Eligible, fr: Admissible}
    all:
      - rated
      - signed_plan
      - not full_year_lwop
  level_only:
    decision: true
    citation: "Appendix B, 12"
    text: "Level."
    label: {en: Level, fr: Niveau}
    value: level == "PL-01"
"""


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    root = write_policies(tmp_path_factory.mktemp("presume"), RULES, INSTRUMENT + FACTS)
    return policyengine.load(root)


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_not_given_is_presumed_and_listed(policies, trace):
    d = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", trace=trace)
    assert (d.status, d.value) == ("decided", True)
    assert [(a["fact"], a["value"], a["citation"], a["clause"]) for a in d.assumptions] == [
        ("signed_plan", True, "Appendix B, 10.7(5)", "demo.B.10.7.5"),
        ("full_year_lwop", False, "Appendix B, 10.7(8)", "demo.B.10.7.8")]
    assert d.assumptions[0]["reason"] == {"en": "Participants sign a plan every cycle",
                                          "fr": "Les participants signent un plan à chaque cycle"}
    assert d.facts == {"rated": True}  # what was given, not what was presumed
    assert d.to_dict()["assumptions"] == d.assumptions and d.to_dict()["presume"] is True


def test_given_fact_wins_over_the_presumption(policies):
    d = policies.evaluate("demo.pay_eligible", {"rated": True, "signed_plan": False}, "2010-01-01")
    assert (d.status, d.value) == ("decided", False)
    assert [a["fact"] for a in d.assumptions] == []  # `all` stopped at the given false: nothing presumed was read
    d = policies.evaluate("demo.pay_eligible", {"rated": True, "full_year_lwop": True}, "2010-01-01")
    # signed_plan was read at its presumed value, but the given full_year_lwop decides the `all`
    # whatever it is: the decision does not rest on it, as a strict evaluation shows
    assert d.value is False and d.assumptions == []


def test_only_presumptions_read_are_listed(policies):
    d = policies.evaluate("demo.pay_eligible", {"rated": False}, "2010-01-01")
    assert (d.value, d.assumptions) == (False, [])
    d = policies.evaluate("demo.level_only", {"level": "PL-01"}, "2010-01-01")
    assert d.assumptions == []


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_strict_evaluation_makes_them_missing(policies, trace):
    d = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", trace=trace, presume=False)
    assert d.status == "undetermined" and d.missing == ["full_year_lwop", "signed_plan"]
    assert d.assumptions == [] and d.to_dict()["presume"] is False
    d = policies.evaluate("demo.pay_eligible", {"rated": True, "signed_plan": True, "full_year_lwop": False},
                          "2010-01-01", presume=False)
    assert (d.status, d.value) == ("decided", True)


def test_trace_marks_where_a_presumed_value_was_read(policies):
    d = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", trace="audit")
    rated, plan, lwop = d.trace[0]["children"]
    assert (rated["facts_read"], "presumed" in rated) == ({"rated": True}, False)
    assert (plan["facts_read"], plan["presumed"]) == ({"signed_plan": True}, ["signed_plan"])
    assert (lwop["facts_read"], lwop["presumed"]) == ({"full_year_lwop": False}, ["full_year_lwop"])


def test_text_and_html_explanations_in_both_languages(policies):
    d = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01")
    en, fr = d.explain("en"), d.explain("fr")
    assert "Decided under these presumptions (facts not given):" in en
    assert "signed_plan (Signed plan) = yes [Appendix B, 10.7(5)]: Participants sign a plan every cycle" in en
    assert "- signed_plan: yes (presumed: signed_plan)" in en and "- rated: yes\n" in en
    assert "Décidé selon ces présomptions (faits non fournis) :" not in fr  # the catalogue's own punctuation
    assert "Décidé selon ces présomptions (faits non fournis):" in fr
    assert "full_year_lwop (En congé non payé toute l'année) = non [Annexe B, 10.7(8)]: Rare" in fr
    html = render(d.to_dict(), "fr", policies)
    assert '<section class="assumptions">' in html and "Décidé selon ces présomptions" in html
    assert "Les participants signent un plan à chaque cycle" in html and "<span class=\"presumed\">(présumé : signed_plan)" not in html
    assert "<span class=\"presumed\">(présumé\u00a0: signed_plan)</span>" in html
    strict = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", presume=False)
    assert "Strict evaluation: no fact was presumed" in strict.explain("en")
    assert "Évaluation stricte" in render(strict.to_dict(), "fr", policies)


def test_logged_and_replayed_with_the_same_presumptions(policies, tmp_path):
    log = tmp_path / "log.sqlite"
    d = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", log=log)
    strict = policies.evaluate("demo.pay_eligible", {"rated": True}, "2010-01-01", log=log, presume=False)
    from policyengine.audit.log import DecisionLog
    with DecisionLog(log) as dl:
        logged = dl.get(d.log_id)
        assert [a["fact"] for a in logged["assumptions"]] == ["signed_plan", "full_year_lwop"]
        assert dl.get(strict.log_id)["presume"] is False
    assert replay(log, d.log_id).same and replay(log, strict.log_id).same
    assert replay(log, strict.log_id).replayed["status"] == "undetermined"


def test_cli_no_presume(policies, capsys):
    root = str(policies.root)
    assert main(["eval", "demo.pay_eligible", "--fact", "rated=true", "--as-of", "2010-01-01",
                 "--policies", root]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [a["fact"] for a in out["assumptions"]] == ["signed_plan", "full_year_lwop"]
    assert main(["eval", "demo.pay_eligible", "--fact", "rated=true", "--as-of", "2010-01-01",
                 "--policies", root, "--no-presume"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["status"], out["missing"], out["assumptions"]) == ("undetermined", ["full_year_lwop", "signed_plan"], [])


def test_presumed_value_is_checked_as_the_facts_value(tmp_path):
    bad = FACTS.replace("value: true", "value: maybe")
    with pytest.raises(PolicyError) as e:
        policyengine.load(write_policies(tmp_path, RULES, INSTRUMENT + bad))
    assert "presumed value of fact 'signed_plan'" in str(e.value) and "instrument.yaml:" in str(e.value)


def test_one_fact_one_presumption(tmp_path):
    root = write_policies(tmp_path, RULES, INSTRUMENT + FACTS)
    other = FACTS.split("  full_year_lwop:")[0].replace("value: true", "value: false")
    (root / "demo" / "more.yaml").write_text("format: policyengine/1\ninstrument: demo\nfacts:\n" + other)
    with pytest.raises(PolicyError) as e:
        policyengine.load(root)
    assert "fact 'signed_plan' is presumed differently here and at" in str(e.value)


def test_lint_flags_a_presumption_without_citation(tmp_path):
    root = write_policies(tmp_path, RULES, INSTRUMENT + FACTS.replace('      citation: "Appendix B, 10.7(8)"\n', ""))
    found = [f for f in lint.lint(policyengine.load(root)) if f.code == "PE012"]
    assert len(found) == 1 and "fact 'full_year_lwop' of demo is presumed False without a citation" in found[0].message
    assert found[0].location.path.endswith("instrument.yaml")


def test_yaml_cases_can_expect_assumptions_and_run_strictly(policies, tmp_path):
    from policyengine.tools.testing import load_cases, run_case
    f = tmp_path / "policies" / "demo" / "tests" / "t.yaml"
    f.parent.mkdir(parents=True)
    f.write_text(f"policies: {policies.root}\ntests:\n"
                 "  - {name: presumed, decision: demo.pay_eligible, as_of: 2010-01-01, facts: {rated: true},\n"
                 "     expect: {value: true, assumptions: [signed_plan, full_year_lwop]}}\n"
                 "  - {name: strict, decision: demo.pay_eligible, as_of: 2010-01-01, facts: {rated: true}, presume: false,\n"
                 "     expect: {status: undetermined, missing: [full_year_lwop, signed_plan], assumptions: []}}\n"
                 "  - {name: wrong, decision: demo.pay_eligible, as_of: 2010-01-01, facts: {rated: true},\n"
                 "     expect: {value: true, assumptions: []}}\n")
    ok, strict, wrong = load_cases(f)
    assert run_case(ok) == [] and run_case(strict) == []
    assert run_case(wrong)[0] == "assumptions: expected [], got ['full_year_lwop', 'signed_plan']"


def test_a_presumption_may_name_its_clause(tmp_path):
    facts = FACTS.replace('      citation: "Appendix B, 10.7(8)"\n',
                          '      citation: "Foreign Credential Recognition"\n      clause: foreign_credentials\n')
    p = policyengine.load(write_policies(tmp_path, RULES, INSTRUMENT + facts))
    d = p.evaluate("demo.pay_eligible", {"rated": True, "signed_plan": True}, "2010-01-01")
    assert [(a["citation"], a["clause"]) for a in d.assumptions] == [("Foreign Credential Recognition",
                                                                       "demo.foreign_credentials")]
    with pytest.raises(PolicyError) as e:
        policyengine.load(write_policies(tmp_path / "bad", RULES, INSTRUMENT + facts.replace(
            "      clause: foreign_credentials\n", "")))
    assert "cannot derive a clause id from citation 'Foreign Credential Recognition': add 'clause:'" in str(e.value)


def test_bundled_qs_states_that_education_is_presumed_canadian():
    p = policyengine.load("policies")
    facts = {"group": "PE", "level": 1, "education": "degree", "specialization_acceptable": True}
    d = p.evaluate("qs.meets_standard", facts, "2024-01-01")
    assert (d.value, [(a["fact"], a["value"], a["clause"]) for a in d.assumptions]) == (
        "met", [("foreign_credentials", False, "qs.foreign_credentials")])
    strict = p.evaluate("qs.meets_standard", facts, "2024-01-01", presume=False)
    assert strict.status == "undetermined" and "foreign_credentials" in strict.missing
    abroad = {**facts, "foreign_credentials": True}
    unassessed = p.evaluate("qs.meets_standard", {**abroad, "credentials_assessed_comparable": False}, "2024-01-01")
    assert unassessed.status == "undetermined" and "incumbencies" in unassessed.missing  # the degree does not count
    assessed = p.evaluate("qs.meets_standard", {**abroad, "credentials_assessed_comparable": True}, "2024-01-01")
    assert (assessed.value, assessed.assumptions) == ("met", [])
