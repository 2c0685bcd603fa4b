"""Evaluation "as known on" a date: only versions approved (or, without an approval date,
in effect) by then count.  The 2009 PL rates took effect 2009-04-02 but were approved
2009-04-23 (seed 004, Appendix B s. 12, "Pay Note: Approval Date: 2009-04-23")."""
import json

import pytest

import policyengine
from policyengine import InputError, NotInForceError
from policyengine.audit import replay
from policyengine.cli import main
from policyengine.present.explain_html import render
from helpers import INSTRUMENT, write_policies


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def rate(policies, level, step, as_of, known_on=None, trace="audit"):
    return policies.evaluate("ldp.pay.annual_rate", {"level": level, "step": step}, as_of, trace=trace,
                             known_on=known_on)


@pytest.mark.parametrize("trace", ["none", "audit", "full"])
def test_pl03_step1_before_and_after_the_2009_approval(policies, trace):
    assert rate(policies, "PL-03", 1, "2009-06-01", "2009-04-10", trace).value == 62581  # B) 2008-04-02
    assert rate(policies, "PL-03", 1, "2009-06-01", "2009-05-01", trace).value == 63520  # C) 2009-04-02
    assert rate(policies, "PL-03", 1, "2009-06-01", trace=trace).value == 63520


def test_the_approval_day_itself_is_known(policies):
    assert rate(policies, "PL-03", 1, "2009-06-01", "2009-04-22").value == 62581
    assert rate(policies, "PL-03", 1, "2009-06-01", "2009-04-23").value == 63520


@pytest.mark.parametrize("level,before,after", [
    ("PL-01", [50661, 52151, 53748], [51421, 52933, 54554]),
    ("PL-02", [56195, 57898, 59601], [57038, 58766, 60495]),
    ("PL-03", [62581, 64497, 66412], [63520, 65464, 67408]),
    ("PL-04", [70331, 72159, 74289], [71081, 73241, 75403]),
    ("PL-05", [77694, 80781, 83974], [78859, 81993, 85234]),
])
def test_every_level_and_step(policies, level, before, after):
    for step in (1, 2, 3):
        assert rate(policies, level, step, "2009-06-01", "2009-04-10").value == before[step - 1]
        assert rate(policies, level, step, "2009-06-01", "2009-05-01").value == after[step - 1]


def test_pl06_job_rate(policies):
    job = lambda known: policies.evaluate("ldp.pay.job_rate", {"level": "PL-06"}, "2009-06-01", known_on=known).value
    assert (job("2009-04-10"), job("2009-05-01")) == (97703, 99169)


def test_record_and_trace_carry_both_dates_and_what_was_left_out(policies):
    d = rate(policies, "PL-03", 1, "2009-06-01", "2009-04-10")
    r = d.to_dict()
    assert (r["as_of"], r["known_on"]) == ("2009-06-01", "2009-04-10")
    assert r["versions_excluded"] == [{
        "kind": "table", "id": "ldp.pl_step_rates", "citation": "Appendix B, 12",
        "excluded": {"effective": "2009-04-02", "approved": "2009-04-23", "known_from": "2009-04-23",
                     "known_by": "approval date"},
        "used": {"effective": "2008-04-02", "approved": None, "known_from": "2008-04-02",
                 "known_by": "effective date (the source gives no approval date)"}}]
    table = d.trace[0]["children"][1]
    assert table["id"] == "ldp.pl_step_rates"
    assert table["version"]["known_from"] == "2008-04-02"
    assert table["version"]["known_by"] == "effective date (the source gives no approval date)"
    after = rate(policies, "PL-03", 1, "2009-06-01", "2009-05-01")
    assert after.versions_excluded == []
    assert after.trace[0]["children"][1]["version"]["known_by"] == "approval date"
    plain = rate(policies, "PL-03", 1, "2009-06-01").to_dict()
    assert plain["known_on"] is None and "known_by" not in plain["trace"][0]["children"][1]["version"]


def test_explanations_say_so_in_both_languages(policies):
    d = rate(policies, "PL-03", 1, "2009-06-01", "2009-04-10")
    en, fr = d.explain("en"), d.explain("fr")
    assert en.startswith("Decision: Annual rate of pay (PL-01 to PL-05) (ldp.pay.annual_rate), as of 2009-06-01, "
                         "as known on 2009-04-10")
    assert ("ldp.pl_step_rates [Appendix B, 12]: version in force from 2009-04-02, known from 2009-04-23 (its "
            "approval date); used instead: version in force from 2008-04-02, known from 2008-04-02 (its effective "
            "date: the source gives no approval date)") in en
    assert "selon ce qui était connu le 2009-04-10" in fr and "sa date d'approbation" in fr
    html = render(d.to_dict(), "fr", policies)
    assert '<time class="known-on">2009-04-10</time>' in html and '<section class="versions-excluded">' in html


def test_before_the_instrument_was_known(policies):
    with pytest.raises(NotInForceError) as e:
        rate(policies, "PL-03", 1, "2009-06-01", "2006-01-01")
    assert "was not yet known on 2006-01-01" in str(e.value) and "takes effect 2006-04-02" in str(e.value)


def test_bad_known_on_names_the_parameter(policies):
    with pytest.raises(InputError) as e:
        rate(policies, "PL-03", 1, "2009-06-01", "2009-13-01")
    assert str(e.value).startswith("known_on:")


RULES = """\
rules:
  bonus:
    decision: true
    citation: "1"
    label: {en: Bonus, fr: Prime}
    text: "t"
    versions:
      - effective: 2008-01-01
        value: $100
      - effective: 2009-01-01
        approved: 2009-03-01
        value: $200
  ended:
    decision: true
    citation: "2"
    label: {en: Ended, fr: Terminée}
    text: "t"
    versions:
      - effective: 2008-01-01
        to: 2008-11-30
        value: $1
      - effective: 2009-01-01
        approved: 2009-03-01
        value: $2
"""


def test_rule_versions_as_known(tmp_path):
    p = policyengine.load(write_policies(tmp_path, RULES, INSTRUMENT.replace("2006-04-02", "2007-01-01")))
    bonus = lambda known: p.evaluate("demo.bonus", {}, "2009-02-01", known_on=known)
    assert (bonus("2009-02-15").value, bonus("2009-03-01").value, bonus(None).value) == (100, 200, 200)
    assert bonus("2009-02-15").versions_excluded[0]["excluded"]["approved"] == "2009-03-01"
    # a version with its own last day is not stretched over a successor not yet known
    with pytest.raises(NotInForceError) as e:
        p.evaluate("demo.ended", {}, "2009-02-01", known_on="2009-02-15")
    assert "no version in force on 2009-02-01 as known on 2009-02-15" in str(e.value)
    assert "from 2009-01-01 (known from 2009-03-01, its approval date)" in str(e.value)
    assert p.evaluate("demo.ended", {}, "2009-02-01", known_on="2009-03-01").value == 2


def test_cli_log_and_replay(policies, tmp_path, capsys):
    log = tmp_path / "log.sqlite"
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=1", "--as-of", "2009-06-01",
                 "--known-on", "2009-04-10", "--log", str(log)]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["value"], out["known_on"]) == ("62581", "2009-04-10")
    again = replay(log, out["log_id"] if "log_id" in out else _only_id(log))
    assert again.same and again.replayed["value"] == "62581"


def _only_id(log):
    from policyengine.audit.log import DecisionLog
    with DecisionLog(log) as dl:
        (rec,) = dl.list()
        return rec["id"]


def test_errors_name_the_day_asked_not_the_first_of_its_period(policies):
    """Plans are shared by every day of a period; their errors must still name the day asked."""
    for day in ("2001-01-01", "2002-02-02"):
        with pytest.raises(NotInForceError, match=f"not in force on {day}"):
            rate(policies, "PL-03", 1, day)
    for known in ("2006-01-01", "2005-05-05"):
        with pytest.raises(NotInForceError, match=f"was not yet known on {known}"):
            rate(policies, "PL-03", 1, "2009-06-01", known)
