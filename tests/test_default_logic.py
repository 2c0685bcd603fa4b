"""Default logic: a rule with exceptions is decided whenever every outcome still possible
agrees (docs/policy-format.md, "Exceptions: what can still change").  One test per row
of the truth table, then the bundled qualification standards the rule was written for."""
import pytest

import policyengine
from helpers import INSTRUMENT, write_policies

FACTS = """\
  base_ok: {type: boolean, label: {en: Base, fr: Base}}
  a: {type: boolean, label: {en: A, fr: A}}
  b: {type: boolean, label: {en: B, fr: B}}
  n: {type: integer, label: {en: N, fr: N}}
"""

RULES = """\
rules:
  met:
    decision: true
    citation: "1"
    text: "Meets the standard."
    label: {en: Met, fr: Rempli}
    value: base_ok
    exceptions:
      - id: same
        citation: "2"
        text: "Those who hold A are deemed to meet it."
        label: {en: Deemed, fr: Réputé}
        when: a
        value: true
      - id: other
        citation: "3"
        text: "Those who hold B do not meet it."
        label: {en: Barred, fr: Exclu}
        when: b
        value: false
  why:
    decision: true
    citation: "4"
    text: "Either."
    label: {en: Either, fr: Soit}
    any: [a, "n / (n - n) > 1"]
"""


@pytest.fixture(scope="module")
def policies(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("default-logic")
    root = write_policies(tmp, RULES, INSTRUMENT.replace("facts:\n", "facts:\n" + FACTS))
    return policyengine.load(root)


def decide(policies, facts, decision="met", trace="audit"):
    d = policies.evaluate(f"demo.{decision}", facts, as_of="2008-01-01", trace=trace)
    return d.status, d.value, d.missing


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
@pytest.mark.parametrize("facts, expected", [
    # base decided, every exception that may apply agrees with it -> decided
    ({"base_ok": True, "b": False}, ("decided", True, [])),  # `same` may apply and gives true too
    # base decided, an exception that may apply would disagree -> undetermined, naming what decides it
    ({"base_ok": True}, ("undetermined", None, ["b"])),
    ({"base_ok": False, "b": False}, ("undetermined", None, ["a"])),
    # an exception certainly applies: it decides, whatever the base, unless one that may apply disagrees
    ({"a": True, "b": False}, ("decided", True, [])),
    ({"b": True, "a": False}, ("decided", False, [])),  # base unknown, but `other` certainly applies
    ({"base_ok": False, "a": True}, ("undetermined", None, ["b"])),  # `other` may apply and disagrees
    # both certainly apply and disagree -> conflict
    ({"a": True, "b": True}, ("conflict", None, [])),
    # no exception applies: the base decides, or is unknown
    ({"base_ok": False, "a": False, "b": False}, ("decided", False, [])),
    ({"a": False, "b": False}, ("undetermined", None, ["base_ok"])),
    # base unknown and an exception may apply: all that could decide is named
    ({}, ("undetermined", None, ["a", "b", "base_ok"])),
])
def test_truth_table(policies, facts, expected, trace):
    assert decide(policies, facts, trace=trace) == expected


def test_unknown_exceptions_that_cannot_change_the_result_are_shown(policies):
    d = policies.evaluate("demo.met", {"base_ok": True, "b": False}, as_of="2008-01-01")
    [rule] = d.trace
    assert rule["exceptions_unknown_unchanged"] == ["demo.same"]
    same = [c for c in rule["children"] if c.get("id") == "demo.same"][0]
    assert same["missing"] == ["a"] and "outcome" not in same
    text = d.explain()
    assert "exception that may apply: not known without a" in text
    assert "exceptions that may apply but could not change the result: demo.same" in text
    assert "pourraient s'appliquer sans pouvoir changer le résultat" in d.explain("fr")


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_tracing_never_changes_the_answer(policies, trace):
    """any: [a, 'n / (n - n) > 1'] with a = true is true at every level; the traced levels list the
    other item for "why not" without letting its division by zero escape."""
    assert decide(policies, {"a": True, "n": 5}, "why", trace) == ("decided", True, [])


# -- the bundled qualification standards ------------------------------------------------------
@pytest.fixture(scope="module")
def bundled():
    return policyengine.load("policies")


def meets(bundled, **facts):
    d = bundled.evaluate("qs.meets_standard", facts, as_of="2024-01-01", trace="audit")
    return d.status, d.value, d.missing, d.gaps


def test_cr_with_two_years_of_secondary_school_is_met(bundled):
    """Seed 003, CR: 'Successful completion of two years of secondary school'.  The
    GSPAT-120 acquired right and Note 2 may apply but give 'met' too."""
    assert meets(bundled, group="CR", education="two_years_secondary") == ("decided", "met", [], [])


def test_pe_with_a_degree_is_met_without_the_note_1_date(bundled):
    """Seed 003, PE: a degree with acceptable specialization; Note 1's lost date could only
    deem the candidate to meet the standard, which they already do."""
    assert meets(bundled, group="PE", education="degree", specialization_acceptable=True) == \
        ("decided", "met", [], [])


QUALIFIED = {"education": "degree", "specialization_acceptable": True, "level": 2}
CERTIFICATIONS = {"AC": ["soa_60_credits", "cia_fellowship"], "VM": ["veterinary_association_eligibility"],
                  "CT-FIN": ["cpa"]}


@pytest.mark.parametrize("group", ["AC", "CM", "CR", "DA", "OE", "ST", "CT-FIN", "FB", "PE", "PH", "VM"])
def test_plainly_qualified_candidates_are_met(bundled, group):
    facts = dict(QUALIFIED, group=group)
    if group in CERTIFICATIONS:
        facts["certifications"] = CERTIFICATIONS[group]
    assert meets(bundled, **facts) == ("decided", "met", [], [])


@pytest.mark.parametrize("group", ["AC", "CM", "CR", "DA", "OE", "ST", "CT-FIN", "FB", "PE", "PH", "VM"])
def test_qualified_indeterminate_incumbents_are_met(bundled, group):
    facts = dict(QUALIFIED, group=group, incumbencies=[{"group": group, "level": 2, "since": "2020-01-01",
                                                        "indeterminate": True}])
    if group in CERTIFICATIONS:
        facts["certifications"] = CERTIFICATIONS[group]
    assert meets(bundled, **facts) == ("decided", "met", [], [])


@pytest.mark.parametrize("group", ["CO", "IT", "TR", "UT"])
def test_a_lost_education_standard_still_leaves_a_degree_undetermined(bundled, group):
    """Where the seed lost the education standard itself, a degree cannot decide it: the
    answer stays undetermined and names the gap (and the alternatives that could decide)."""
    status, value, missing, gaps = meets(bundled, group=group, **QUALIFIED)
    assert status == "undetermined" and gaps
    assert "alternatives_accepted" in missing or "experience" in missing


def test_the_html_explanation_shows_them_in_both_languages(policies):
    from policyengine.present.explain_html import render
    d = policies.evaluate("demo.met", {"base_ok": True, "b": False}, as_of="2008-01-01")
    en, fr = render(d.to_dict(), "en", policies), render(d.to_dict(), "fr", policies)
    assert "exception that may apply: not known without a" in en
    assert "could not change the result" in en and "<code>demo.same</code>" in en
    assert "pourraient s&#x27;appliquer sans pouvoir changer le résultat" in fr or \
        "pourraient s'appliquer sans pouvoir changer le résultat" in fr


LC_COMPETENCIES = ["create_vision_and_strategy", "mobilize_people", "uphold_integrity_and_respect",
                   "collaborate_with_partners_and_stakeholders", "promote_innovation_and_guide_change",
                   "achieve_results"]
THROUGH_THE_SEED = {  # what the seed asks where its main text is lost, or beyond a degree
    "IT": {"alternatives_accepted": True, "acceptable_combination": True},  # Note 3
    "TR": {"alternatives_accepted": True, "acceptable_combination": True},  # Note 2
    "CO": {"alternatives_accepted": True, "acceptable_combination": True},  # Note 2
    "UT": {"education": "degree", "specialization_acceptable": True,
           "experience": ["recognized_professional_practice"]},  # Note 2
    "LC": {"certifications": ["bar_or_notaries"], "competencies": LC_COMPETENCIES,
           "experience": ["managing_human_resources"]},  # certification, competencies, LC-02 experience
}


@pytest.mark.parametrize("incumbent", [False, True])
@pytest.mark.parametrize("group", sorted(THROUGH_THE_SEED))
def test_candidates_meeting_what_the_seed_asks_are_met_despite_lost_dates(bundled, group, incumbent):
    """IT, TR, CO, UT and LC acquired rights hang on lost dates or text; a candidate who meets
    the standard anyway is decided `met`, as an incumbent or not."""
    facts = dict(THROUGH_THE_SEED[group], group=group, level=2)
    if incumbent:
        facts["incumbencies"] = [{"group": group, "level": 2, "since": "2020-01-01", "indeterminate": True}]
    assert meets(bundled, **facts) == ("decided", "met", [], [])
