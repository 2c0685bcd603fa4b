"""`policyengine check`: collisions, gaps and dead exceptions, proved or refuted with a case.

Every counterexample check reports is evaluated again here by the engine, to show the
problem it names; the YAML test case it prints is read back by the test runner."""
import argparse
import json
import os

import pytest

from helpers import INSTRUMENT, write_policies
from policyengine import load
from policyengine.errors import EvaluationError
from policyengine.tools import check
from policyengine.tools.testing import load_cases, run_case

try:
    import z3  # noqa: F401
    HAVE_Z3 = True
except ImportError:
    HAVE_Z3 = False

FACTS = INSTRUMENT + """\
  months:
    type: integer
    min: 0
    label: {en: Months, fr: Mois}
  weeks_worked:
    type: integer
    min: 0
    max: 52
    label: {en: Weeks worked, fr: Semaines travaillées}
  on_leave:
    type: boolean
    label: {en: On leave, fr: En congé}
  track:
    type: text
    label: {en: Track, fr: Volet}
  postings:
    type: list
    items: record
    label: {en: Postings, fr: Affectations}
    fields:
      group: {type: text, label: {en: Group, fr: Groupe}}
      level: {type: integer, label: {en: Level, fr: Niveau}}
      since: {type: date, label: {en: Since, fr: Depuis}}
"""


_CITATIONS = iter(range(1, 1000))


def clause(id_, when, value):
    return f"""
      - id: {id_}
        citation: "1.{next(_CITATIONS)}"
        text: "An exception."
        label: {{en: An exception, fr: Une exception}}
        when: '{when}'
        value: '{value}'"""


def rule(name, body, exceptions=""):
    return f"""
  {name}:
    decision: true
    citation: "1"
    text: "A rule."
    label: {{en: A rule, fr: Une règle}}
{body}""" + (f"\n    exceptions:{exceptions}" if exceptions else "")


FLAWED = "rules:" + rule(
    "bonus", "    value: months >= 12",
    clause("bonus.senior", 'level == "PL-02"', "true")
    + clause("bonus.on_leave", "on_leave and months < 24", "false")
    + clause("bonus.never", "months > 30 and months < 20", "false")) + rule(
    "rate", "    value: salary / weeks_worked", clause("rate.leave", "on_leave", "$0")) + rule(
    "stream", "    select:\n      by: track\n      cases:\n        A: months >= 12\n        B: months >= 6")

CLEAN = "rules:" + rule(
    "bonus", "    value: months >= 12",
    clause("bonus.senior", 'level == "PL-02" and not on_leave', "true")
    + clause("bonus.on_leave", "on_leave and months < 24", "false")) + rule(
    "rate", "    value: 'if weeks_worked > 0 then salary / weeks_worked else $0'",
    clause("rate.leave", "on_leave", "$0")) + rule(
    "stream", "    select:\n      by: track\n      cases:\n        A: months >= 12\n      default: months >= 6")


@pytest.fixture
def flawed(tmp_path):
    return load(write_policies(tmp_path, FLAWED, FACTS))


def applied(frames) -> set:
    """Ids of the exceptions a trace shows applying."""
    out = set()
    for f in frames or []:
        if f.get("kind") == "exception" and f.get("outcome") is True:
            out.add(f["id"])
        out |= applied(f.get("children"))
    return out


def by_kind(report, kind):
    return [f for f in report.findings if f.kind == kind]


@pytest.mark.parametrize("smt", [False, True] if HAVE_Z3 else [False])
def test_a_collision_is_found_with_a_case_the_engine_says_conflicts(flawed, smt):
    report = check.check(flawed, smt=smt)
    (f,) = by_kind(report, "collision")
    assert f.code == "PE032" and f.rule == "demo.bonus"
    assert "demo.bonus.senior" in f.message and "demo.bonus.on_leave" in f.message
    case = f.case
    d = flawed.evaluate(case["decision"], case["facts"], case["as_of"])
    assert d.status == "conflict"
    assert {m["kind"] for m in d.messages} == {"conflict"}


@pytest.mark.parametrize("smt", [False, True] if HAVE_Z3 else [False])
def test_gaps_are_found_with_cases_the_engine_cannot_answer(flawed, smt):
    report = check.check(flawed, smt=smt)
    gaps = {f.rule: f for f in by_kind(report, "gap")}
    assert set(gaps) == {"demo.rate", "demo.stream"}
    for f in gaps.values():
        assert f.code == "PE033"
        with pytest.raises(EvaluationError):
            flawed.evaluate(f.case["decision"], f.case["facts"], f.case["as_of"])
    assert gaps["demo.rate"].case["facts"]["weeks_worked"] == 0
    assert "no case for" in gaps["demo.stream"].message


def test_a_dead_exception_is_proved_dead_over_its_domain(flawed):
    report = check.check(flawed, smt=False)
    (f,) = by_kind(report, "dead")
    assert f.code == "PE030" and "demo.bonus.never" in f.message
    assert "exhaustive enumeration" in f.method
    # the proof's claim, tried again: whatever the months, the exception is never applied
    for months in range(0, 40):
        d = flawed.evaluate("demo.bonus", {"months": months, "level": "PL-01", "on_leave": False}, "2008-01-01")
        assert d.status == "decided" and "demo.bonus.never" not in applied(d.trace)


def test_the_live_exceptions_are_proved_live(flawed):
    report = check.check(flawed, smt=False)
    live = {r.property: r.verdict for r in report.results if r.property.endswith("can apply")}
    assert live["demo.bonus.senior can apply"] == "proved"
    assert live["demo.bonus.on_leave can apply"] == "proved"
    assert live["demo.rate.leave can apply"] == "proved"


def test_a_clean_policy_reports_nothing(tmp_path):
    policies = load(write_policies(tmp_path, CLEAN, FACTS))
    report = check.check(policies)
    assert report.findings == []
    verdicts = {(r.rule, r.property): r.verdict for r in report.results}
    assert verdicts[("demo.bonus", "no collision: demo.bonus.senior / demo.bonus.on_leave")] == "proved"
    assert verdicts[("demo.stream", "no gap")] == "proved"
    if HAVE_Z3:  # the division is guarded by `if weeks_worked > 0`: only the solver can see it
        assert verdicts[("demo.rate", "no gap")] == "proved"
    assert check.fast_findings(policies) == []


def test_the_printed_test_cases_load_and_fail_until_the_policy_is_fixed(flawed, tmp_path):
    report = check.check(flawed, smt=False)
    text = "tests:\n" + "\n".join(f.test_case_yaml() for f in report.findings if f.case)
    path = tmp_path / "policies" / "demo" / "tests" / "check.yaml"
    path.parent.mkdir()
    path.write_text(text)
    cases = {c.decision: c for c in load_cases(path)}
    assert set(cases) == {"demo.bonus", "demo.rate", "demo.stream"}
    diffs = run_case(cases["demo.bonus"])
    assert any("expected decided, got conflict" in d for d in diffs)
    with pytest.raises(EvaluationError):
        run_case(cases["demo.rate"])


def test_a_collision_hidden_in_a_list_of_records_needs_the_solver(tmp_path):
    """Two postings must both be present for the exceptions to collide: one record can never
    do it, and the records' fields have too many combinations to enumerate."""
    if not HAVE_Z3:
        pytest.skip("z3-solver is not installed")
    rules = "rules:" + rule(
        "standard", "    value: months >= 12",
        clause("standard.veteran", 'any(postings, group == "AB" and level >= 3 and since <= 2001-01-01) '
                                   'and any(postings, group == "CD" and level == 2)', "true")
        + clause("standard.barred", 'any(postings, group == "CD" and level == 2 and since >= 2010-01-01) '
                                    'and months < 6', "false")
        + clause("standard.impossible", 'any(postings, level > 5) and all(postings, level < 4) '
                                        'and any(postings, since > 2001-01-01)', "false"))
    policies = load(write_policies(tmp_path, rules, FACTS))
    report = check.check(policies, max_cases=200)
    (f,) = by_kind(report, "collision")
    assert f.method == "SMT model confirmed by the engine"
    d = policies.evaluate(f.case["decision"], f.case["facts"], f.case["as_of"])
    assert d.status == "conflict"
    (dead,) = by_kind(report, "dead")
    assert "standard.impossible" in dead.message and dead.method.startswith("SMT: unsatisfiable")


def test_an_exception_waiting_on_a_lost_text_is_not_a_finding(tmp_path):
    rules = "rules:" + rule(
        "standard", "    value: months >= 12", clause("standard.note", "on_leave and lost_date", "true")) + """
  lost_date:
    citation: "2"
    text: "Incumbents on , [...]"
    label: {en: The date the source lost, fr: La date que la source a perdue}
    gap: {missing: a date, where: seed line 1, searched: nowhere}
"""
    policies = load(write_policies(tmp_path, rules, FACTS))
    report = check.check(policies, smt=False)
    assert report.findings == []
    (r,) = [r for r in report.results if r.property == "demo.standard.note can apply"]
    assert r.verdict == "source gap" and "demo.lost_date" in r.method


def test_a_select_guarded_by_its_parents_requirement_has_no_gap(tmp_path):
    rules = "rules:" + rule("outer", """    requires: [known_track]
    all:
      - months >= 1
      - id: inner
        label: {en: Inner, fr: Intérieur}
        select:
          by: track
          cases: {A: months >= 12, B: months >= 6}""") + """
  known_track:
    citation: "2"
    text: "Give the track."
    label: {en: Known track, fr: Volet connu}
    message: {en: Give the track as A or B, fr: Indiquez le volet A ou B}
    value: track in ["A", "B"]
"""
    policies = load(write_policies(tmp_path, rules, FACTS))
    report = check.check(policies)
    inner = [r for r in report.results if r.rule == "demo.outer.inner"]
    assert inner and all(r.finding is None for r in inner)


def test_a_finding_can_be_silenced_like_a_lint_finding(tmp_path):
    text = FLAWED.replace("    value: salary / weeks_worked",
                          "    # lint: ignore PE033 -- callers always give weeks_worked above 0\n"
                          "    value: salary / weeks_worked")
    report = check.check(load(write_policies(tmp_path, text, FACTS)), smt=False)
    assert "demo.rate" not in {f.rule for f in report.findings}
    assert report.ignored == 1


def test_fast_findings_gives_lint_the_certain_ones(flawed):
    found = check.fast_findings(flawed)
    assert {f.code for f in found} == {"PE030", "PE032", "PE033"}
    for f in found:
        assert str(f).startswith(f"{f.location}: {f.code}: ") and f.to_dict()["severity"] == "warning"


def test_check_names_decisions_and_what_they_read(flawed):
    report = check.check(flawed, ["demo.stream"])
    assert {r.rule for r in report.results} == {"demo.stream"}


def run_cli(argv):
    parser = argparse.ArgumentParser()
    check.add_parser(parser.add_subparsers(dest="command"), "policies")
    args = parser.parse_args(argv)
    return args.func(args)


def test_the_command_prints_findings_with_test_cases_and_exits_1(flawed, tmp_path, capsys):
    assert run_cli(["check", "--policies", str(tmp_path / "policies"), "--no-smt"]) == 1
    out = capsys.readouterr().out
    assert "PE032" in out and "PE033" in out and "PE030" in out
    assert "  - name: 'check: exceptions demo.bonus.senior and demo.bonus.on_leave" in out
    assert "finding(s)" in out.splitlines()[-1]


def test_the_command_json_and_a_clean_exit(tmp_path, capsys):
    root = write_policies(tmp_path, CLEAN, FACTS)
    assert run_cli(["check", "--policies", str(root), "--format", "json", "--proofs"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["findings"] == [] and data["counts"]["refuted"] == 0 and data["results"]


def test_the_command_refuses_an_unknown_decision(flawed, tmp_path, capsys):
    assert run_cli(["check", "demo.bonnus", "--policies", str(tmp_path / "policies")]) == 2
    assert "did you mean 'demo.bonus'" in capsys.readouterr().err


@pytest.mark.skipif(os.environ.get("POLICYENGINE_HEAVY") != "1",
                    reason="heavy tier (~9 s of search): .ci/run runs it with POLICYENGINE_HEAVY=1")
def test_the_bundled_policies(capsys):
    """What check finds in the bundled policies (see docs/check.md, "The bundled policies").
    Each gap found is a select with no case for a sub-group or level the standard does not
    have, or the CAP table that holds only the seed's two examples (its note says so)."""
    report = check.check(load("policies"), budget=2.0)
    assert not by_kind(report, "collision")
    assert not by_kind(report, "dead")
    assert {f.rule for f in by_kind(report, "gap")} <= {
        "cap.eligible.experience.up_to_three_levels_below_ex", "qs.group.ec", "qs.group.ed", "qs.group.en",
        "qs.group.ex.other_than_education.experience", "qs.group.lc.leadership.experience"}
    for f in report.findings:
        policies = load("policies")
        with pytest.raises(EvaluationError):
            policies.evaluate(f.case["decision"], f.case["facts"], f.case["as_of"])
