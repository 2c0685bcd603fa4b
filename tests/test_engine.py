"""The Python API on the bundled policies: values, clauses, traces, errors."""
import json
from decimal import Decimal

import pytest

import policyengine
from helpers import write_policies


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def test_issue_example(policies):
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01")
    assert d.value == Decimal("64497")
    assert d.clauses == ["ldp.B.12"]
    assert d.missing == []
    assert d.to_dict()["policy_hash"] == policies.policy_hash


def test_to_dict_is_json_ready_and_exact(policies):
    d = policies.evaluate("ldp.performance_pay", {"level": "PL-06", "salary": "89000", "rating": "met_all",
                                                  "increase_pct": 5}, as_of="2009-04-01")
    out = json.loads(json.dumps(d.to_dict()))
    assert out["value"] == {"eligible": True, "new_salary": "93500", "increase": "4500", "award_eligible": False}
    assert set(out) >= {"decision", "as_of", "value", "clauses", "trace", "missing", "policy_hash"}


def test_audit_trace_names_table_version_and_facts(policies):
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01")
    [rule] = d.trace
    assert rule["id"] == "ldp.pay.annual_rate" and rule["citation"] == "Appendix B, 12"
    assert rule["facts_read"] == {"level": "PL-03", "step": 2}
    table = [c for c in rule["children"] if c["kind"] == "table"][0]
    # the seed's one approval date (Pay Note) is that of the 2009 revision; B) has none of its own
    assert table["version"] == {"effective": "2008-04-02", "approved": None,
                                "label": "B) Rates - Effective April 2, 2008"}
    assert table["keys"] == {"level": "PL-03", "step": 2} and table["value"] == "64497"
    assert '"steps":' not in json.dumps(d.trace)


def test_full_trace_records_intermediate_values(policies):
    d = policies.evaluate("ldp.performance_pay", {"level": "PL-06", "salary": 89000, "rating": "met_all",
                                                  "increase_pct": 5}, as_of="2009-04-01", trace="full")
    text = json.dumps(d.trace)
    assert '"steps":' in text and '"value": "93450"' in text  # the unrounded figure before 10.7(12) rounding


def test_no_trace_gives_same_value_and_no_clauses(policies):
    facts = {"level": "PL-06", "salary": 97000, "rating": "surpassed", "increase_pct": 6}
    fast = policies.evaluate("ldp.performance_pay", facts, as_of="2009-04-01", trace="none")
    audit = policies.evaluate("ldp.performance_pay", facts, as_of="2009-04-01")
    assert fast.value == audit.value and fast.clauses is None and fast.trace is None


def test_alternatives_record_which_one_satisfied(policies):
    d = policies.evaluate("ldp.performance_pay.award_eligible",
                          {"level": "PL-06", "salary": 97703, "rating": "met_most", "increase_pct": 0}, as_of="2009-04-01")
    anyrule = d.trace[0]["children"][1]
    assert anyrule["id"] == "ldp.performance_pay.award_eligible.job_rate_reached"
    outcomes = {c["id"].rsplit(".", 1)[1]: c["outcome"] for c in anyrule["children"] if c["kind"] == "rule"}
    # the first alternative satisfies the `any`: the trace names it, and the answer needed no other
    assert outcomes == {"at_job_rate": True}


def test_a_failed_all_lists_every_condition_that_fails(policies):
    """'Why not' of an `all`: the conditions after the first failure are traced too (after
    the answer, without changing it)."""
    d = policies.evaluate("ldp.promotion.eligible", {"program": "MTP", "meets_cbc": False,
                                                   "months_in_assignments": 3, "last_rating": "did_not_meet"},
                          as_of="2009-04-01")
    assert d.value is False
    failed = [line for line in d.explain().split("Conditions not met:")[1].splitlines() if line.startswith("  - ")]
    assert len(failed) >= 2


def test_float_money_is_read_as_the_decimal_written(policies):
    d = policies.evaluate("ldp.performance_pay", {"level": "PL-06", "salary": 89000.1, "rating": "met_all",
                                                  "increase_pct": 5}, as_of="2009-04-01")
    # Decimal(89000.1) would be 89000.100000000005820766...; the caller wrote 89000.1
    assert d.trace[0]["facts_read"]["salary"] == "89000.1"
    assert d.value["increase"] == Decimal("4499.9")  # 93500 - 89000.1, exact


def test_bad_facts_are_all_named(policies):
    with pytest.raises(policyengine.InputError) as info:
        policies.evaluate("ldp.performance_pay", {"levle": "PL-06", "salary": -5, "rating": "met_al",
                                                  "increase_pct": "x"}, as_of="2009-04-01")
    msgs = info.value.problems
    assert "unknown fact 'levle' (did you mean 'level'?)" in msgs
    assert "fact 'salary': -5 is below the minimum 0" in msgs
    assert any(m.startswith("fact 'rating': 'met_al' is not one of") for m in msgs)
    assert "fact 'increase_pct': expected a number, got 'x'" in msgs


def test_wrong_types_are_refused(policies):
    for facts in ({"level": "PL-03", "step": True}, {"level": "PL-03", "step": 2.5}, {"level": 3, "step": 1}):
        with pytest.raises(policyengine.InputError):
            policies.evaluate("ldp.pay.annual_rate", facts, as_of="2009-04-01")


def test_not_in_force_names_instrument_and_dates(policies):
    with pytest.raises(policyengine.NotInForceError) as info:
        policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2005-01-01")
    assert "ldp" in str(info.value) and "2006-04-02" in str(info.value) and "2012-04-03" in str(info.value)


def test_unknown_decision_suggests(policies):
    with pytest.raises(policyengine.UnknownDecisionError, match="did you mean 'ldp.pay.annual_rate'"):
        policies.evaluate("ldp.pay.anual_rate", {}, as_of="2009-04-01")


def test_bad_as_of(policies):
    with pytest.raises(policyengine.InputError, match="as_of"):
        policies.evaluate("ldp.pay.annual_rate", {}, as_of="2009-13-01")


def test_decisions_and_unused_rules(policies):
    assert {"ldp.pay.annual_rate", "ldp.pay.job_rate", "ldp.performance_pay"} <= set(policies.decisions)
    assert policies.unused_rules() == []
    assert policies.facts_of("ldp.pay.annual_rate") == ["level", "step"]


def test_policy_hash_changes_with_the_files(tmp_path):
    rule = "rules:\n  r:\n    decision: true\n    citation: \"Appendix B, 1\"\n    text: t\n    label: {en: R, fr: R}\n    value: salary\n"
    a = policyengine.load(write_policies(tmp_path / "a", rule)).policy_hash
    b = policyengine.load(write_policies(tmp_path / "b", rule.replace("salary", "salary + $1"))).policy_hash
    assert a != b and a.startswith("sha256:")


EXCEPTIONS = """\
rules:
  limit:
    decision: true
    citation: "Appendix B, 9.1"
    text: after 36 months worth of assignment time
    label: {en: Limit, fr: Limite}
    value: months_between(start, as_of) >= 36
    exceptions:
      - id: transition.four_years
        citation: "Appendix C, 2.1"
        text: Participants are entitled to four years in the program.
        label: {en: Four years, fr: Quatre ans}
        when: start <= 2006-04-01
        value: months_between(start, as_of) >= 48
      - id: other
        citation: "Appendix C, 3.1"
        text: Participants are entitled to four years on the program.
        label: {en: Four years, fr: Quatre ans}
        when: start <= 2005-01-01
        value: months_between(start, as_of) >= 50
"""


def _exceptions(tmp_path):
    inst = __import__("helpers").INSTRUMENT + "  start:\n    type: date\n    label: {en: Start, fr: Début}\n"
    return policyengine.load(write_policies(tmp_path, EXCEPTIONS, inst))


def test_exception_overrides_and_is_cited(tmp_path):
    p = _exceptions(tmp_path)
    general = p.evaluate("demo.limit", {"start": "2007-01-01"}, as_of="2010-01-02")
    assert general.value is True and "demo.C.2.1" not in general.clauses
    old = p.evaluate("demo.limit", {"start": "2006-01-01"}, as_of="2009-06-01")  # 41 months
    assert old.value is False and "demo.C.2.1" in old.clauses


def test_disagreeing_exceptions_are_reported(tmp_path):
    p = _exceptions(tmp_path)
    d = p.evaluate("demo.limit", {"start": "2004-12-01"}, as_of="2008-12-15")  # 48 months: yes; 50: no
    assert d.status == "conflict"
    assert "transition.four_years" in d.messages[0]["en"] and "other" in d.messages[0]["en"]


def test_missing_fact_in_exception_condition(tmp_path):
    p = _exceptions(tmp_path)
    d = p.evaluate("demo.limit", {}, as_of="2010-01-01")
    assert d.status == "undetermined" and d.missing == ["start"]


def test_missing_facts_of_exception_and_base_are_both_named(tmp_path):
    src = EXCEPTIONS.replace("value: months_between(start, as_of) >= 36", "value: salary > $0")
    inst = __import__("helpers").INSTRUMENT + "  start:\n    type: date\n    label: {en: Start, fr: Début}\n"
    p = policyengine.load(write_policies(tmp_path, src, inst))
    assert p.evaluate("demo.limit", {}, as_of="2010-01-01").missing == ["salary", "start"]


GIVEN = """\
rules:
  notice:
    decision: true
    citation: "Appendix B, 10.6(4)"
    text: If written notice is not given, the increment will not be withheld.
    label: {en: Notice, fr: Préavis}
    value: given(start) and start <= 2006-04-01
"""


def test_given_makes_absence_an_answer(tmp_path):
    inst = __import__("helpers").INSTRUMENT + "  start:\n    type: date\n    label: {en: Start, fr: Début}\n"
    p = policyengine.load(write_policies(tmp_path, GIVEN, inst))
    assert p.evaluate("demo.notice", {}, as_of="2007-01-01").value is False
    assert p.evaluate("demo.notice", {"start": "2006-01-01"}, as_of="2007-01-01").value is True
    assert p.evaluate("demo.notice", {}, as_of="2007-01-01", trace="none").value is False


VERSIONS = """\
rules:
  rate:
    decision: true
    citation: "Appendix B, 12"
    text: original text
    label: {en: Rate, fr: Taux}
    versions:
      - effective: 2007-04-02
        value: salary * 2
      - effective: 2009-04-02
        approved: 2009-04-23
        text: amended text
        value: salary * 3
        to: 2010-04-01
"""


def test_rule_versions_follow_as_of(tmp_path):
    p = policyengine.load(write_policies(tmp_path, VERSIONS))
    facts = {"salary": 10}
    with pytest.raises(policyengine.NotInForceError, match="no version in force on 2007-04-01"):
        p.evaluate("demo.rate", facts, as_of="2007-04-01")
    assert p.evaluate("demo.rate", facts, as_of="2007-04-02").value == 20
    assert p.evaluate("demo.rate", facts, as_of="2009-04-01").value == 20
    d = p.evaluate("demo.rate", facts, as_of="2009-04-02")
    assert d.value == 30
    assert d.trace[0]["version"] == {"effective": "2009-04-02", "approved": "2009-04-23"}
    assert d.trace[0]["text"] == "amended text"
    assert p.evaluate("demo.rate", facts, as_of="2010-04-01").value == 30
    with pytest.raises(policyengine.NotInForceError, match="versions from 2007-04-02 to 2009-04-01, from 2009-04-02 to 2010-04-01"):
        p.evaluate("demo.rate", facts, as_of="2010-04-02")


def test_overlapping_rule_versions_are_an_error(tmp_path):
    bad = VERSIONS.replace("        value: salary * 2\n", "        value: salary * 2\n        to: 2009-06-01\n")
    with pytest.raises(policyengine.PolicyError, match="overlaps the next one"):
        policyengine.load(write_policies(tmp_path, bad))


def test_facts_belong_to_their_instrument(tmp_path):
    """Two instruments may each declare 'level' with their own values."""
    root = write_policies(tmp_path, "rules:\n  r:\n    decision: true\n    citation: \"Appendix B, 1\"\n    text: t\n"
                                    "    label: {en: R, fr: R}\n    value: level == \"PL-01\"\n")
    (root / "other").mkdir()
    (root / "other" / "i.yaml").write_text(
        "format: policyengine/1\ninstrument:\n  id: other\n  kind: program\n  title: {en: O, fr: O}\n"
        "  source: {seed: x.txt}\n  in_force: {from: 2000-01-01}\n"
        "facts:\n  level: {type: enum, values: [EX-01, EX-02], label: {en: Level, fr: Niveau}}\n"
        "rules:\n  q:\n    decision: true\n    citation: \"1\"\n    text: t\n    label: {en: Q, fr: Q}\n"
        "    value: level == \"EX-02\"\n")
    p = policyengine.load(root)
    assert p.evaluate("other.q", {"level": "EX-02"}, as_of="2020-01-01").value is True
    assert p.evaluate("demo.r", {"level": "PL-01"}, as_of="2007-01-01").value is True
    with pytest.raises(policyengine.InputError, match="'EX-02' is not one of PL-01, PL-02"):
        p.evaluate("demo.r", {"level": "EX-02"}, as_of="2007-01-01")
    assert p.facts_of("other.q") == ["level"]


GAP = """\
rules:
  standard:
    decision: true
    citation: "1"
    text: "The minimum standard is: [list lost in the scrape]"
    label: {en: Standard, fr: Norme}
    any:
      - id: recovered
        label: {en: Recovered alternative, fr: Solution de rechange récupérée}
        value: salary > $10
      - id: education
        label: {en: Education, fr: Études}
        gap:
          missing: the education requirement after "The minimum standard is:"
          where: seed 003, line 199
          searched: "docs/qs-gaps.md: not found"
"""


def test_a_gap_leaves_the_decision_undetermined_and_says_where(tmp_path):
    p = policyengine.load(write_policies(tmp_path, GAP))
    d = p.evaluate("demo.standard", {"salary": 5}, as_of="2007-01-01")
    assert d.status == "undetermined" and d.missing == []
    [gap] = d.gaps
    assert gap["rule"] == "demo.standard.education" and gap["where"] == "seed 003, line 199"
    assert "Missing from the source text [1]: the education requirement" in d.explain("en")
    assert "Absent du texte source" in d.explain("fr")
    assert d.to_dict()["gaps"] == [gap]


def test_an_alternative_still_decides_around_a_gap(tmp_path):
    p = policyengine.load(write_policies(tmp_path, GAP))
    d = p.evaluate("demo.standard", {"salary": 50}, as_of="2007-01-01")
    assert d.value is True and d.gaps == []


def test_subject_id_is_reserved_and_never_read(policies):
    d = policies.evaluate("ldp.pay.annual_rate", {"subject_id": "E1", "level": "PL-03", "step": 2}, as_of="2008-06-01")
    assert d.value == Decimal("64497")


RECORDS_INSTRUMENT = __import__("helpers").INSTRUMENT + """\
  incumbencies:
    type: list
    items: record
    label: {en: Positions held, fr: Postes occupés}
    fields:
      group: {type: text, label: {en: Group, fr: Groupe}}
      since: {type: date, label: {en: Since, fr: Depuis}}
      indeterminate: {type: boolean, label: {en: Indeterminate, fr: Durée indéterminée}}
"""
RECORDS = """\
rules:
  acquired:
    decision: true
    citation: "1"
    text: "Indeterminate incumbents of AC positions on October 1, 1999 ..."
    label: {en: Acquired right, fr: Droit acquis}
    value: any(incumbencies, group == "AC" and indeterminate and since <= 1999-10-01)
  all_indeterminate:
    decision: true
    citation: "2"
    text: t
    label: {en: All indeterminate, fr: Toutes indéterminées}
    value: all(incumbencies, indeterminate)
"""


def test_any_and_all_over_a_list_of_records(tmp_path):
    p = policyengine.load(write_policies(tmp_path, RECORDS, RECORDS_INSTRUMENT))
    held = [{"group": "CR", "since": "1990-01-01", "indeterminate": True},
            {"group": "AC", "since": "1999-10-01", "indeterminate": True}]
    assert p.evaluate("demo.acquired", {"incumbencies": held}, as_of="2007-01-01").value is True
    held[1]["since"] = "1999-10-02"
    assert p.evaluate("demo.acquired", {"incumbencies": held}, as_of="2007-01-01").value is False
    assert p.evaluate("demo.acquired", {"incumbencies": []}, as_of="2007-01-01").value is False
    assert p.evaluate("demo.all_indeterminate", {"incumbencies": held}, as_of="2007-01-01").value is True
    held[0]["indeterminate"] = False
    assert p.evaluate("demo.all_indeterminate", {"incumbencies": held}, as_of="2007-01-01", trace="none").value is False
    assert p.evaluate("demo.acquired", {}, as_of="2007-01-01").missing == ["incumbencies"]


def test_records_are_checked_field_by_field(tmp_path):
    p = policyengine.load(write_policies(tmp_path, RECORDS, RECORDS_INSTRUMENT))
    with pytest.raises(policyengine.InputError, match="field 'since': expected a date"):
        p.evaluate("demo.acquired", {"incumbencies": [{"group": "AC", "since": "soon", "indeterminate": True}]},
                   as_of="2007-01-01")
    with pytest.raises(policyengine.InputError, match="lacks indeterminate"):
        p.evaluate("demo.acquired", {"incumbencies": [{"group": "AC", "since": "1999-01-01"}]}, as_of="2007-01-01")


def test_quantifier_needs_a_list_of_records(tmp_path):
    bad = RECORDS.replace("any(incumbencies, ", "any(salary, ")
    with pytest.raises(policyengine.PolicyError, match=r"any\(\) needs a list-of-records fact first"):
        policyengine.load(write_policies(tmp_path, bad, RECORDS_INSTRUMENT))


SELECT = """\
rules:
  standard:
    decision: true
    citation: "1"
    text: t
    label: {en: Standard met, fr: Norme satisfaite}
    select:
      by: level
      cases:
        PL-01: low
        PL-02: salary > $100
      default: false
  low:
    citation: "2"
    text: t
    label: {en: Low, fr: Bas}
    value: salary > $10
"""


def test_select_picks_the_case_of_the_value(tmp_path):
    p = policyengine.load(write_policies(tmp_path, SELECT))
    assert p.evaluate("demo.standard", {"level": "PL-01", "salary": 50}, as_of="2007-01-01").value is True
    d = p.evaluate("demo.standard", {"level": "PL-02", "salary": 50}, as_of="2007-01-01")
    assert d.value is False and "demo.low" not in json.dumps(d.trace)  # only the chosen case is evaluated
    assert p.evaluate("demo.standard", {"level": "PL-02"}, as_of="2007-01-01").missing == ["salary"]
    assert p.evaluate("demo.standard", {"salary": 50}, as_of="2007-01-01").missing == ["level"]


def test_select_case_keys_are_checked(tmp_path):
    with pytest.raises(policyengine.PolicyError, match="case 'PL-3' is not a value of one of PL-01, PL-02"):
        policyengine.load(write_policies(tmp_path, SELECT.replace("PL-02: salary", "PL-3: salary")))
