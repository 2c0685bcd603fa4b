"""The policy linter: each check on a policy folder with exactly one fault, and the bundled policies."""
import argparse
import json
from pathlib import Path

import pytest

import policyengine
from policyengine.tools import lint as lint_mod
from policyengine.errors import Location, PolicyError
from policyengine.tools.lint import Finding, lint
from helpers import INSTRUMENT, write_policies

POLICIES = Path(__file__).resolve().parents[1] / "policies"

# A lint-clean rule: a decision, cited, quoted, labelled in both languages, reading both facts.
CLEAN = """\
rules:
  pay:
    decision: true
    citation: "Appendix B, 12"
    text: "12. The annual rate of pay."
    label: {en: Annual rate, fr: Taux annuel}
    value: 'if level == "PL-01" then salary else salary + $100'
"""

STEP = INSTRUMENT + "  step: {type: integer, min: 1, max: 3, label: {en: Step, fr: Échelon}}\n"


def findings(tmp_path, rules_yaml, instrument=INSTRUMENT):
    root = write_policies(tmp_path, rules_yaml, instrument)
    return root, lint(policyengine.load(root))


def line_of(root, needle, file="rules.yaml", nth=1):
    """1-based line of the nth line of policies/demo/<file> containing needle."""
    hits = [i for i, line in enumerate((root / "demo" / file).read_text().splitlines(), 1) if needle in line]
    assert len(hits) >= nth, f"{needle!r} not in {file}"
    return hits[nth - 1]


def only(found, code):
    """The findings are exactly one, with this code."""
    assert [f.code for f in found] == [code], [str(f) for f in found]
    return found[0]


def test_clean_policy_has_no_findings(tmp_path):
    _, found = findings(tmp_path, CLEAN)
    assert found == []


# -- PE001 / PE002 -----------------------------------------------------------------------------------------
def test_pe001_clause_without_citation(tmp_path):
    root, found = findings(tmp_path, CLEAN.replace('citation: "Appendix B, 12"', 'citation: " "\n    clause: B.12'))
    f = only(found, "PE001")
    assert f.location == Location(str(root / "demo" / "rules.yaml"), line_of(root, "  pay:"), 3)
    assert "rule 'demo.pay' has no citation" in f.message


def test_pe002_exception_without_text(tmp_path):
    root, found = findings(tmp_path, CLEAN + """\
    exceptions:
      - id: pay.floor
        citation: "Appendix B, 12(2)"
        label: {en: Floor, fr: Plancher}
        when: salary < $10
        value: $10
""")
    f = only(found, "PE002")
    assert f.location.line == line_of(root, "- id: pay.floor")
    assert "exception 'demo.pay.floor'" in f.message and "no source text" in f.message


def test_pe002_table_without_text(tmp_path):
    root, found = findings(tmp_path, """\
tables:
  rates:
    citation: "Appendix B, 12"
    label: {en: Rates, fr: Taux}
    keys: [{name: level, values: [PL-01, PL-02]}]
    value: money
    versions:
      - rows: {PL-01: 100, PL-02: 200}
""" + CLEAN.replace("salary + $100'", "salary + rates[level]'"))
    f = only(found, "PE002")
    assert f.location.line == line_of(root, "  rates:") and "table 'demo.rates'" in f.message


def test_pe002_sub_item_citing_an_unquoted_clause(tmp_path):
    root, found = findings(tmp_path, """\
rules:
  eligible:
    decision: true
    citation: "Appendix B, 12"
    text: "12. Eligible when both hold."
    label: {en: Eligible, fr: Admissible}
    all:
      - id: inherits
        label: {en: Level one, fr: Niveau un}
        value: level == "PL-01"
      - id: own_clause
        citation: "Appendix B, 13"
        label: {en: Paid, fr: Payé}
        value: salary > $0
""")
    f = only(found, "PE002")
    assert f.location.line == line_of(root, "- id: own_clause")
    assert "demo.eligible.own_clause" in f.message


def test_pe002_sub_item_citing_a_clause_quoted_elsewhere_is_not_flagged(tmp_path):
    _, found = findings(tmp_path, """\
rules:
  eligible:
    decision: true
    citation: "Appendix B, 12"
    text: "12. Eligible when both hold."
    label: {en: Eligible, fr: Admissible}
    all:
      - id: quoted
        citation: "Appendix B, 13"
        text: "13. Paid at least something, at level one."
        label: {en: Paid, fr: Payé}
        value: salary > $0
      - id: same_clause
        citation: "Appendix B, 13"
        label: {en: Level one, fr: Niveau un}
        value: level == "PL-01"
""")
    assert found == []


# -- PE003 / PE004 --------------------------------------------------------------------------------------------
def test_pe003_empty_french_label_of_a_fact(tmp_path):
    root, found = findings(tmp_path, CLEAN, INSTRUMENT.replace("fr: Salaire", 'fr: " "'))
    f = only(found, "PE003")
    assert f.location.line == line_of(root, "  salary:", "instrument.yaml")
    assert f.message == "fact 'demo.salary' has no French label"


def test_pe003_empty_english_label_of_a_query(tmp_path):
    root, found = findings(tmp_path, CLEAN + """\
catalogues:
  duties:
    citation: "Appendix C"
    clause: C
    text: "Duties of each role."
    label: {en: Duties, fr: Obligations}
    fields:
      role: {type: text, label: {en: Role, fr: Rôle}}
    entries:
      - id: report
        citation: "Appendix C, 1"
        text: "1. Report."
        label: {en: Report yearly, fr: Faire rapport chaque année}
        role: manager
queries:
  duties_of:
    catalogue: duties
    label: {en: " ", fr: Obligations d'un rôle}
    parameters:
      role: {fields: [role]}
""")
    f = only(found, "PE003")
    assert f.location.line == line_of(root, "  duties_of:") and "query 'demo.duties_of'" in f.message


def test_pe004_untranslated_label(tmp_path):
    root, found = findings(tmp_path, CLEAN.replace("fr: Taux annuel", "fr: Annual rate"))
    f = only(found, "PE004")
    assert f.location.line == line_of(root, "  pay:")
    assert "rule 'demo.pay'" in f.message and "'Annual rate'" in f.message


def test_pe004_codes_without_lower_case_letters_are_exempt(tmp_path):
    _, found = findings(tmp_path, CLEAN.replace("{en: Annual rate, fr: Taux annuel}", "{en: PL-06 (EX), fr: PL-06 (EX)}"))
    assert found == []


# -- PE010 / PE011 ------------------------------------------------------------------------------------------------
def test_pe010_fact_never_used(tmp_path):
    root, found = findings(tmp_path, CLEAN, INSTRUMENT + "  grade: {type: integer, label: {en: Grade, fr: Note}}\n")
    f = only(found, "PE010")
    assert f.location.line == line_of(root, "  grade:", "instrument.yaml")
    assert "fact 'grade'" in f.message


def test_pe011_rule_nothing_reaches(tmp_path):
    root, found = findings(tmp_path, CLEAN + """\
  bonus:
    citation: "Appendix B, 13"
    text: "13. A bonus."
    label: {en: Bonus, fr: Prime}
    value: salary * 2
""")
    f = only(found, "PE011")
    assert f.location.line == line_of(root, "  bonus:") and "'demo.bonus'" in f.message


# -- PE020 / PE021 ----------------------------------------------------------------------------------------------------
TABLE = """\
tables:
  rates:
    citation: "Appendix B, 12"
    text: "12. Rates."
    label: {{en: Rates, fr: Taux}}
    keys:
      - {{name: level, values: [PL-01, PL-02]}}
      - {{name: step, values: [1, 2, 3]}}
    value: money
    versions:
      - effective: {first}
        rows:
          PL-01: [100, 110, 120]
          PL-02: {pl02}
      - effective: 2009-04-02
        rows:
          PL-01: [200, 210, 220]
          PL-02: [300, 310, 320]
rules:
  pay:
    decision: true
    citation: "Appendix B, 12"
    text: "12. The annual rate of pay."
    label: {{en: Annual rate, fr: Taux annuel}}
    value: 'if salary > $0 then rates[level, step] else $0'
"""


def test_table_fixture_is_clean(tmp_path):
    _, found = findings(tmp_path, TABLE.format(first="2006-04-02", pl02="[150, 160, 170]"), STEP)
    assert found == []


def test_pe020_uncovered_inputs(tmp_path):
    root, found = findings(tmp_path, TABLE.format(first="2006-04-02", pl02="{1: 150, 3: 170}"), STEP)
    f = only(found, "PE020")
    assert f.location.line == line_of(root, "- effective: 2006-04-02")
    assert "covers 5 of 6 inputs; no value for level=PL-02, step=2" in f.message


def test_pe020_first_version_after_the_instrument_starts(tmp_path):
    root, found = findings(tmp_path, TABLE.format(first="2007-04-02", pl02="[150, 160, 170]"), STEP)
    f = only(found, "PE020")
    assert f.location.line == line_of(root, "- effective: 2007-04-02")
    assert "no version in force from 2006-04-02" in f.message and "to 2007-04-02" in f.message


def test_pe021_pay_steps_not_increasing(tmp_path):
    root, found = findings(tmp_path, TABLE.format(first="2006-04-02", pl02="[150, 160, 155]"), STEP)
    f = only(found, "PE021")
    assert f.location.line == line_of(root, "- effective: 2006-04-02")
    assert "level=PL-02: step 3 (155) is not more than step 2 (160)" in f.message


# -- PE022 ----------------------------------------------------------------------------------------------------------
def test_pe022_duplicated_condition(tmp_path):
    root, found = findings(tmp_path, """\
rules:
  eligible:
    decision: true
    citation: "Appendix B, 12"
    text: "12. Eligible when any holds."
    label: {en: Eligible, fr: Admissible}
    any:
      - salary > $10
      - level == "PL-01"
      - salary  >  $10
""")
    f = only(found, "PE022")
    assert f.location == Location(str(root / "demo" / "rules.yaml"), line_of(root, "- salary  >  $10"), 9)
    assert f"first at {root / 'demo' / 'rules.yaml'}:{line_of(root, '- salary > $10')}:9" in f.message


# -- PE030 / PE031 ----------------------------------------------------------------------------------------------------
EXCEPTION = CLEAN + """\
    exceptions:
      - id: pay.floor
        citation: "Appendix B, 12(2)"
        text: "(2) At least ten dollars."
        label: {en: Floor, fr: Plancher}
        when: WHEN
        value: VALUE
"""


def exception(when, value):
    return EXCEPTION.replace("WHEN", when).replace("VALUE", value)


def test_exception_fixture_is_clean(tmp_path):
    _, found = findings(tmp_path, exception("salary < $10", "$10"))
    assert found == []


def test_pe030_exception_that_can_never_apply(tmp_path):
    root, found = findings(tmp_path, exception("false", "$10"))
    f = only(found, "PE030")
    assert f.location == Location(str(root / "demo" / "rules.yaml"), line_of(root, "when: false"), 15)
    assert "can never apply" in f.message


def test_pe030_constant_false_condition(tmp_path):
    root, found = findings(tmp_path, exception("'salary < $10 and not true'", "$10"))
    assert only(found, "PE030").location.line == line_of(root, "when: 'salary")


def test_pe031_redundant_exception(tmp_path):
    root, found = findings(tmp_path, exception(
        "salary < $10", """'if level == "PL-01"  then salary else salary+$100'"""))
    f = only(found, "PE031")
    assert f.location.line == line_of(root, "value: 'if level", nth=2)  # the exception's, not the rule's
    assert "gives the rule's own value" in f.message


# -- PE040 / PE041 ----------------------------------------------------------------------------------------------------
SECTIONS = INSTRUMENT + """\
sections:
  "B.12": {title: Salary Determination Table, status: operative}
  "9": {title: Enquiries, status: informative, reason: contact information}
"""


def test_sections_fixture_is_clean(tmp_path):
    _, found = findings(tmp_path, CLEAN, SECTIONS)
    assert found == []


def test_pe040_citation_of_a_section_not_listed(tmp_path):
    root, found = findings(tmp_path, CLEAN + """\
  bonus:
    decision: true
    citation: "Appendix B, 13(1)"
    text: "13. (1) A bonus."
    label: {en: Bonus, fr: Prime}
    value: salary * 2
""", SECTIONS)
    f = only(found, "PE040")
    assert f.location.line == line_of(root, "  bonus:")
    assert "'demo.bonus' cites demo.B.13.1, which is not a section of demo" in f.message


def test_pe041_operative_section_with_no_rule(tmp_path):
    root, found = findings(tmp_path, CLEAN, SECTIONS + '  "B.14": {title: Performance pay, status: operative}\n')
    f = only(found, "PE041")
    assert f.location.line == line_of(root, '"B.14"', "instrument.yaml")
    assert "operative section B.14 of demo (Performance pay)" in f.message


def test_pe042_operative_section_no_public_decision_applies(tmp_path):
    rules = CLEAN + """\
  withheld:
    citation: "Appendix B, 14"
    text: "An increment may be withheld."
    label: {en: Withheld, fr: Retenue}
    value: salary
"""
    sections = SECTIONS + '  "B.14": {title: Increments withheld, status: operative}\n'
    root, found = findings(tmp_path, rules.replace("  withheld:", "  # lint: ignore PE011\n  withheld:"), sections)
    f = only(found, "PE042")
    assert f.location.line == line_of(root, '"B.14"', "instrument.yaml")
    assert "B.14 of demo (Increments withheld) is encoded by demo.withheld, which no public decision reads" in f.message
    explained = sections.replace("status: operative}\n", "status: operative, reason: applied by hand}\n")
    _, found = findings(tmp_path / "explained", rules.replace("  withheld:", "  # lint: ignore PE011\n  withheld:"),
                        explained)
    assert [x for x in found if x.code == "PE042"] == []


# -- suppression, ordering ----------------------------------------------------------------------------------------------
def test_ignore_comment_silences_only_its_code(tmp_path):
    untranslated = CLEAN.replace("fr: Taux annuel}", "fr: Annual rate}")
    # on the line the finding points at
    _, found = findings(tmp_path, untranslated.replace("  pay:", "  pay:  # lint: ignore PE004 -- same in both"))
    assert found == []
    # on a comment line just above it
    _, found = findings(tmp_path / "above", untranslated.replace("  pay:", "  # lint: ignore PE011 PE004\n  pay:"))
    assert found == []
    # other codes stay
    rules = untranslated.replace("  pay:", "  # lint: ignore PE001, PE002\n  pay:")
    _, found = findings(tmp_path / "other", rules)
    assert [f.code for f in found] == ["PE004"]


def test_findings_are_sorted_by_location(tmp_path):
    _, found = findings(tmp_path, CLEAN.replace("fr: Taux annuel", "fr: Annual rate"),
                        INSTRUMENT + "  grade: {type: integer, label: {en: Grade, fr: Grade}}\n")
    assert [f.code for f in found] == ["PE004", "PE010", "PE004"]
    keys = [(f.location.path, f.location.line, f.location.col) for f in found]
    assert keys == sorted(keys)


def test_bundled_policies_are_lint_clean():
    found = lint(policyengine.load(POLICIES))
    assert found == [], "\n".join(map(str, found))


# -- command line ----------------------------------------------------------------------------------------------------------
def parse(argv):
    p = argparse.ArgumentParser(prog="policyengine")
    lint_mod.add_parser(p.add_subparsers(dest="command"))
    return p.parse_args(argv)


def test_parser_defaults():
    args = parse(["lint"])
    assert (args.command, args.dir, args.format) == ("lint", "policies", "text")
    with pytest.raises(SystemExit):
        parse(["lint", "--format", "xml"])


def test_run_text_output(tmp_path, capsys):
    root = write_policies(tmp_path, CLEAN.replace("fr: Taux annuel", "fr: Annual rate"))
    assert lint_mod.run(parse(["lint", str(root)])) == 1
    out = capsys.readouterr().out.splitlines()
    path = root / "demo" / "rules.yaml"
    assert out == [f"{path}:{line_of(root, '  pay:')}:3: PE004: rule 'demo.pay': French label is the English one "
                   "('Annual rate'): translate it", "1 finding(s)"]


def test_run_json_output(tmp_path, capsys):
    root = write_policies(tmp_path, CLEAN, INSTRUMENT + "  grade: {type: integer, label: {en: Grade, fr: Note}}\n")
    assert lint_mod.run(parse(["lint", str(root), "--format", "json"])) == 1
    data = json.loads(capsys.readouterr().out)
    assert data == [{"path": str(root / "demo" / "instrument.yaml"), "line": line_of(root, "  grade:", "instrument.yaml"),
                     "col": 3, "code": "PE010", "message": "fact 'grade' of demo is declared but no rule reads it",
                     "severity": "warning"}]


def test_run_clean_returns_zero(tmp_path, capsys):
    root = write_policies(tmp_path, CLEAN)
    assert lint_mod.run(parse(["lint", str(root)])) == 0
    assert capsys.readouterr().out == "0 finding(s)\n"
    assert lint_mod.run(parse(["lint", str(root), "--format", "json"])) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_run_lets_policy_errors_propagate(tmp_path):
    root = write_policies(tmp_path, CLEAN.replace("salary + $100", "salery + $100"))
    with pytest.raises(PolicyError):
        lint_mod.run(parse(["lint", str(root)]))


def test_finding_str():
    f = Finding(Location("p/x.yaml", 3, 5), "PE001", "rule 'a' has no citation")
    assert str(f) == "p/x.yaml:3:5: PE001: rule 'a' has no citation"
    assert str(Finding(None, "PE041", "m")) == "PE041: m"


def test_every_code_is_documented():
    for code in lint_mod.CODES:
        assert code in lint_mod.__doc__
