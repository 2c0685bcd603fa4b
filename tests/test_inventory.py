"""The clause inventory finds unencoded operative sections and citations to no section."""
import json

import policyengine
from policyengine.tools import inventory
from policyengine.cli import main
from helpers import write_policies

RULES = """\
sections:
  "B.12": {title: Salary Determination Table, status: operative}
  "B.13": {title: Performance Ratings, status: operative}
  "9": {title: Enquiries, status: informative, reason: contact information}
rules:
  rate:
    decision: true
    citation: "Appendix B, 12"
    text: t
    label: {en: R, fr: R}
    value: salary
  stray:
    decision: true
    citation: "Appendix B, 99(1)"
    text: t
    label: {en: S, fr: S}
    value: salary
"""


def test_inventory_reports_missing_and_stray(tmp_path):
    p = policyengine.load(write_policies(tmp_path, RULES))
    inv = inventory.build(p, "demo")
    by = {r.section: r for r in inv.rows}
    assert by["B.12"].encoded_by == ["demo.rate"] and by["B.12"].ok
    assert by["B.13"].encoded_by == [] and not by["B.13"].ok
    assert by["9"].ok
    assert [s[:2] for s in inv.stray] == [("demo.stray", "demo.B.99.1")]
    assert (inv.operative, inv.encoded, inv.complete) == (2, 1, False)
    text = inventory.render_text(inv)
    assert "1/2 operative sections encoded" in text and "cites demo.B.99.1, which is not a section of demo" in text


def test_inventory_command_exit_code(tmp_path, capsys):
    root = write_policies(tmp_path, RULES)
    assert main(["inventory", "demo", "--policies", str(root)]) == 1
    assert "MISSING" in capsys.readouterr().out


def test_informative_section_needs_a_reason(tmp_path):
    bad = RULES.replace(", reason: contact information", "")
    try:
        policyengine.load(write_policies(tmp_path, bad))
    except policyengine.PolicyError as exc:
        assert "informative section '9' needs a 'reason'" in str(exc)
    else:
        raise AssertionError("expected a PolicyError")


APPLIED = """\
sections:
  "B.10.7": {title: Performance Pay (PL-06), status: operative}
  "B.12": {title: Salary Determination Table, status: operative}
  "B.13": {title: Performance Ratings and Definitions, status: operative}
  "C.3.4": {title: CA salary protection, status: operative}
  "C.3.4.1": {title: Ratings of the previous plan, status: operative}
  "C.3.4.2": {title: Protection out of the PL group, status: operative}
  "C.3.5": {title: Graduation award, status: operative, reason: "paid by the home organization; no decision reads it"}
rules:
  entitled:
    decision: true
    citation: "Appendix B, 10.7(1)"
    text: t
    label: {en: Entitled, fr: Admissible}
    all:
      - level == "PL-02"
      - id: rounded
        citation: "Appendix B, 10.7(12)"
        text: t
        label: {en: Rounded, fr: Arrondi}
        value: salary > $0
  ratings:
    citation: "Appendix B, 13"
    text: t
    label: {en: Ratings, fr: Cotes}
    value: salary > $10
  protected:
    decision: true
    citation: "Appendix C, 3.4"
    text: t
    label: {en: Protected, fr: Protégé}
    value: salary
  out:
    decision: true
    citation: "Appendix C, 3.4.2"
    text: t
    label: {en: Out, fr: Sortie}
    value: salary
    exceptions:
      - id: out_at_level
        citation: "Appendix B, 12"
        text: t
        label: {en: At level, fr: Au niveau}
        when: level == "PL-01"
        value: salary + $1
  award:
    citation: "Appendix C, 3.5"
    text: t
    label: {en: Award, fr: Prime}
    value: salary
"""


def _applied(tmp_path):
    return inventory.build(policyengine.load(write_policies(tmp_path, APPLIED)), "demo")


def test_a_section_is_applied_by_the_decision_that_reads_its_sub_rule(tmp_path):
    by = {r.section: r for r in _applied(tmp_path).rows}
    # 10.7(12) is not listed, so the sub-rule citing it credits B.10.7
    assert by["B.10.7"].encoded_by == ["demo.entitled", "demo.entitled.rounded"]
    assert by["B.10.7"].applied_by == ["demo.entitled"] and by["B.10.7"].ok
    # an exception is applied by the decision it belongs to
    assert by["B.12"].encoded_by == ["demo.out_at_level"] and by["B.12"].applied_by == ["demo.out"]


def test_a_section_encoded_by_a_rule_no_decision_reads_is_flagged(tmp_path):
    inv = _applied(tmp_path)
    by = {r.section: r for r in inv.rows}
    assert by["B.13"].encoded_by == ["demo.ratings"] and by["B.13"].applied_by == []
    assert by["B.13"].unapplied and not by["B.13"].ok and not inv.complete
    # a reason on the operative section explains it: not flagged
    assert by["C.3.5"].applied_by == [] and not by["C.3.5"].unapplied and by["C.3.5"].ok


def test_a_citation_of_a_listed_parent_credits_the_parent_only(tmp_path):
    by = {r.section: r for r in _applied(tmp_path).rows}
    assert by["C.3.4"].encoded_by == ["demo.protected"] and by["C.3.4"].applied_by == ["demo.protected"]
    assert by["C.3.4.1"].encoded_by == [] and not by["C.3.4.1"].ok
    assert by["C.3.4.2"].encoded_by == ["demo.out"]


def test_inventory_command_shows_what_applies_each_section(tmp_path, capsys):
    root = write_policies(tmp_path, APPLIED)
    assert main(["inventory", "demo", "--policies", str(root)]) == 1
    text = capsys.readouterr().out
    assert "6/7 operative sections encoded (85 %), 4/7 applied by a public decision" in text
    line = next(s for s in text.splitlines() if " B.10.7 " in s)
    assert line.split()[0] == "ok" and "encoded by demo.entitled, demo.entitled.rounded; applied by demo.entitled" in line
    line = next(s for s in text.splitlines() if " B.13 " in s)
    assert line.split()[0] == "UNAPPLIED" and "applied by no public decision" in line
    assert "encoded, applied by no public decision" in text and text.rstrip().endswith(": B.13")
    assert main(["inventory", "demo", "--policies", str(root), "--format", "json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert (out["operative"], out["encoded"], out["applied"], out["complete"]) == (7, 6, 4, False)
    by = {s["section"]: s for s in out["sections"]}
    assert by["B.10.7"]["applied_by"] == ["demo.entitled"] and not by["B.10.7"]["unapplied"]
    assert by["B.13"]["applied_by"] == [] and by["B.13"]["unapplied"]


def test_bundled_ca_salary_protection_credits_appendix_c_3_4_itself():
    by = {r.section: r for r in inventory.build(policyengine.load("policies"), "ldp").rows}
    citing = {"ldp.transition.ca_salary_protection", "ldp.transition.ca_protected_rate"}
    assert citing <= set(by["C.3.4"].encoded_by)
    assert "ldp.transition.ca_salary_protection" in by["C.3.4"].applied_by
    assert not citing & set(by["C.3.4.1"].encoded_by) and not citing & set(by["C.3.4.2"].encoded_by)
