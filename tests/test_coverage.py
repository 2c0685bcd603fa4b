"""`policyengine test`: YAML cases, failures with traces, clause coverage by citation."""
import json

from policyengine.cli import main
from helpers import write_policies

RULES = """\
rules:
  low:
    decision: true
    citation: "Appendix B, 1"
    text: t
    label: {en: Low, fr: Bas}
    value: salary < $100
  high:
    decision: true
    citation: "Appendix B, 2"
    text: t
    label: {en: High, fr: Haut}
    value: salary > $1000
"""


def _tests(root, body):
    (root / "demo" / "tests").mkdir()
    (root / "demo" / "tests" / "t.yaml").write_text("tests:\n" + body)


def test_coverage_lists_unexercised_clauses_and_min_coverage_fails(tmp_path, capsys):
    root = write_policies(tmp_path, RULES)
    _tests(root, "  - {name: low, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: true}}\n")
    assert main(["test", str(root), "--min-coverage", "100"]) == 1
    out = capsys.readouterr().out
    assert "demo: clauses 1/2" in out and "not exercised: demo.high [Appendix B, 2]" in out
    assert "below --min-coverage 100" in out and out.rstrip().endswith("1 passed, 0 failed")
    assert main(["test", str(root), "--min-coverage", "50"]) == 0
    capsys.readouterr()


def test_condition_outcomes_and_json(tmp_path, capsys):
    root = write_policies(tmp_path, RULES)
    _tests(root, "  - {name: low, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: true}}\n"
                 "  - {name: high, decision: demo.high, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: false}}\n")
    assert main(["test", str(root), "--format", "json"]) == 0
    cov = json.loads(capsys.readouterr().out)["coverage"][0]
    assert cov["clause_coverage_pct"] == 100.0
    assert cov["condition_outcomes"] == {"seen": 2, "total": 4, "pct": 50.0, "incomplete": [
        {"condition": "demo.low", "citation": "Appendix B, 1", "seen": [True]},
        {"condition": "demo.high", "citation": "Appendix B, 2", "seen": [False]}]}


def test_failure_shows_expected_actual_and_trace(tmp_path, capsys):
    root = write_policies(tmp_path, RULES)
    _tests(root, "  - {name: wrong, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: false}}\n")
    assert main(["test", str(root)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "wrong" in out and "value: expected False, got True" in out and "Clauses applied" in out


def test_bundled_policies_have_full_clause_coverage(capsys):
    assert main(["test", "policies", "--min-coverage", "100"]) == 0
    out = capsys.readouterr().out
    assert "0 failed" in out and "(100.0 %)" in out


GAPPED = """\
rules:
  cutoff:
    citation: "Appendix B, 3"
    text: t
    label: {en: Cut-off, fr: Date limite}
    gap: {missing: the date, where: line 9}
  low:
    decision: true
    citation: "Appendix B, 1"
    text: t
    label: {en: Low, fr: Bas}
    value: salary < $100
    exceptions:
      - id: grandfathered
        citation: "Appendix B, 2"
        text: t
        label: {en: Acquired right, fr: Droit acquis}
        when: salary > $1000 and cutoff
        value: true
"""


def test_exceptions_that_need_a_gap_are_reported_apart(tmp_path, capsys):
    root = write_policies(tmp_path, GAPPED)
    _tests(root, "  - {name: low, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: true}}\n")
    assert main(["test", str(root), "--min-coverage", "100", "--format", "json"]) == 1  # the gap rule itself is unexercised
    cov = json.loads(capsys.readouterr().out)["coverage"][0]
    assert cov["exceptions"]["total"] == 0
    assert cov["exceptions"]["blocked_by_gaps"] == [{"id": "demo.grandfathered", "citation": "Appendix B, 2"}]


def test_a_gap_nested_in_a_condition_sub_rule_also_blocks(tmp_path, capsys):
    nested = GAPPED.replace('''  cutoff:
    citation: "Appendix B, 3"
    text: t
    label: {en: Cut-off, fr: Date limite}
    gap: {missing: the date, where: line 9}''', '''  cutoff:
    citation: "Appendix B, 3"
    text: t
    label: {en: Cut-off, fr: Date limite}
    all:
      - salary > $0
      - id: date
        label: {en: Date, fr: Date}
        gap: {missing: the date, where: line 9}''')
    root = write_policies(tmp_path, nested)
    _tests(root, "  - {name: low, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: true}}\n")
    main(["test", str(root), "--format", "json"])
    cov = json.loads(capsys.readouterr().out)["coverage"][0]
    assert [b["id"] for b in cov["exceptions"]["blocked_by_gaps"]] == ["demo.grandfathered"]
