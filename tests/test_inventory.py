"""The clause inventory finds unencoded operative sections and citations to no section."""
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
