"""How an answer changed, clause by clause: the same case on two dates, known on two dates,
or under two policy versions; and `log replay --current` saying the same."""
import shutil

import pytest

import policyengine
from policyengine.audit import replay
from policyengine.tools.explain_diff import compare, decide_twice, render_text


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def test_known_on_two_dates_changes_the_rate_and_the_table_version(policies):
    d = decide_twice(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1},
                     {"as_of": "2009-06-01", "known_on": "2009-04-10"}, {"as_of": "2009-06-01", "known_on": "2009-05-01"})
    assert not d.same and d.to_dict()["changed"] == ["value"]
    table = next(c for c in d.changes if c.id == "ldp.pl_step_rates")
    assert (table.what, table.fields) == ("changed", ["value", "version"])
    assert (table.before["value"], table.after["value"]) == ("62581", "63520")
    assert (table.before["version"], table.after["version"]) == ("2008-04-02", "2009-04-02")
    text = render_text(d)
    assert "PL-01 to PL-05 annual rates of pay (ldp.pl_step_rates): changed: value 62581 → 63520; version " \
           "2008-04-02 → 2009-04-02" in text
    assert "selon ce qui était connu le 2009-04-10" in render_text(d, "fr")


def test_two_april_firsts_of_performance_pay(policies):
    facts = {"level": "PL-06", "salary": 96000, "rating": "met_all", "increase_pct": 5, "program": "CAP",
             "appointment_date": "2007-01-15"}
    d = decide_twice(policies, "ldp.performance_pay", facts, {"as_of": "2009-04-01"}, {"as_of": "2010-04-01"})
    by = {c.id: c for c in d.changes}
    assert (by["ldp.pay.job_rate"].before["value"], by["ldp.pay.job_rate"].after["value"]) == ("97703", "99169")
    assert by["ldp.pl06_range"].after["version"] == "2009-04-02"


def test_an_exception_that_starts_applying_is_added(policies):
    facts = {"program": "CAP", "months_of_assignment_time": 40}
    d = decide_twice(policies, "ldp.termination.time_limit_reached", {**facts, "appointment_date": "2006-04-02"},
                     {"as_of": "2009-06-01"}, {"as_of": "2009-06-01"})
    assert d.same and "Same answer, same clauses" in render_text(d)
    a = policies.evaluate("ldp.termination.time_limit_reached", {**facts, "appointment_date": "2006-04-02"},
                          "2009-06-01").to_dict()
    b = policies.evaluate("ldp.termination.time_limit_reached", {**facts, "appointment_date": "2006-04-01"},
                          "2009-06-01").to_dict()
    d = compare(a, b)
    assert d.to_dict()["changed"] == ["value"]
    added = [c.id for c in d.changes if c.what == "added"]
    assert "ldp.termination.transition_cap_four_years" in added


def test_two_policy_versions_and_replay_current(policies, tmp_path):
    log = tmp_path / "log.sqlite"
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, "2008-06-01", log=log)
    changed = tmp_path / "policies"
    shutil.copytree("policies", changed)
    pay = changed / "ldp" / "pay.yaml"
    pay.write_text(pay.read_text().replace("PL-03: [62581, 64497, 66412]", "PL-03: [62581, 64600, 66412]"))
    current = policyengine.load(changed)
    r = replay(log, d.log_id, current)
    diff = r.clause_diff()
    assert not r.same and diff.to_dict()["changed"] == ["value"]
    assert diff.to_dict()["before"]["policy_hash"] != diff.to_dict()["after"]["policy_hash"]
    assert next(c for c in diff.changes if c.id == "ldp.pl_step_rates").after["value"] == "64600"
    live = decide_twice(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, {"as_of": "2008-06-01"},
                        {"as_of": "2008-06-01"}, other=current)
    assert [c.to_dict() for c in live.changes] == [c.to_dict() for c in diff.changes]


def test_a_decision_without_trace_cannot_be_compared(policies):
    a = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, "2008-06-01", trace="none").to_dict()
    with pytest.raises(policyengine.InputError, match="need a trace"):
        compare(a, a)


def test_the_command_line(tmp_path, capsys):
    from policyengine.cli import main
    assert main(["explain-diff", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=1",
                 "--at", "2009-06-01", "--known-on", "2009-04-10", "--known-on", "2009-05-01"]) == 0
    out = capsys.readouterr().out
    assert "changed: value 62581 → 63520; version 2008-04-02 → 2009-04-02" in out
    assert main(["explain-diff", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--at", "2009-06-01"]) == 2
    assert "give --at twice, or --known-on twice, or --against DIR" in capsys.readouterr().err


def test_what_would_change_on_the_command_line(capsys):
    from policyengine.cli import main
    assert main(["eval", "ldp.termination.time_limit_reached", "--fact", "program=CAP", "--fact",
                 "appointment_date=2006-09-01", "--fact", "months_of_assignment_time=30", "--as-of", "2008-06-01",
                 "--format", "text", "--what-would-change", "--keep", "program"]) == 0
    out = capsys.readouterr().out
    assert "has 30 → 36 (6 more months)" in out and "from 2008-12-01 if nothing else changes" in out
    assert main(["eval", "ldp.termination.time_limit_reached", "--fact", "program=CAP", "--fact",
                 "appointment_date=2006-09-01", "--fact", "months_of_assignment_time=30", "--as-of", "2008-06-01",
                 "--what-would-change"]) == 0
    import json
    w = json.loads(capsys.readouterr().out)["what_would_change"]
    assert w["time"]["date"] == "2008-12-01"


def test_check_on_the_command_line(capsys):
    from policyengine.cli import main
    assert main(["check", "ldp.performance_pay", "--budget", "1"]) == 0
    assert "0 finding(s)" in capsys.readouterr().out


def test_what_would_change_in_the_html_page_in_french(capsys):
    from policyengine.cli import main
    assert main(["eval", "ldp.termination.time_limit_reached", "--fact", "program=CAP", "--fact",
                 "appointment_date=2006-09-01", "--fact", "months_of_assignment_time=30", "--as-of", "2008-06-01",
                 "--format", "html", "--lang", "fr", "--what-would-change", "--keep", "program"]) == 0
    page = capsys.readouterr().out
    section = page.index('class="what-would-change"')
    assert section < page.index("</body>") < page.index("</html>")  # inside the page, not after it
    assert "2008-12-01" in page[section:]
