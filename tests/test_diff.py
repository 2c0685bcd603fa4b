"""`policyengine diff`: between dates, folders and git revisions; who a change affects."""
import json
import shutil
import subprocess

from policyengine.cli import main


def test_between_dates_lists_changed_cells_by_citation(capsys):
    assert main(["diff", "--from", "2007-04-02", "--to", "2008-04-02", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    cells = {(c["id"], c["detail"]["key"]): (c["detail"]["old"], c["detail"]["new"]) for c in out["changes"] if c["kind"] == "cell"}
    assert cells[("ldp.pl_step_rates", "level=PL-03, step=2")] == ("63544", "64497")
    assert cells[("ldp.pl06_range", "bound=maximum")] == ("96259", "97703")
    assert all(c["citation"] == "Appendix B, 12" for c in out["changes"] if c["kind"] == "cell")


def test_across_the_rescission_the_instrument_leaves_force(capsys):
    assert main(["diff", "--from", "2012-04-02", "--to", "2012-04-03"]) == 0
    assert "no longer in force   instrument ldp" in capsys.readouterr().out


def test_population_shows_who_is_affected_and_by_how_much(capsys):
    assert main(["diff", "--from", "2008-04-01", "--to", "2009-04-01", "--population", "examples/pl06_population.csv",
                 "--decision", "ldp.performance_pay", "--format", "json"]) == 0
    [row] = json.loads(capsys.readouterr().out)["affected"]
    assert row["subject"] == "E002" and row["difference"] == {"new_salary": "1444", "increase": "1444"}


def _amended(tmp_path):
    new = tmp_path / "new" / "policies"
    shutil.copytree("policies", new)
    pay = new / "ldp" / "pay.yaml"
    pay.write_text(pay.read_text().replace("PL-03: [62581, 64497, 66412]", "PL-03: [62581, 64600, 66412]"))
    return new


def test_between_folders(tmp_path, capsys):
    new = _amended(tmp_path)
    assert main(["diff", "--old", "policies", "--new", str(new), "--population", "examples/pl06_population.csv",
                 "--decision", "ldp.performance_pay", "--as-of", "2009-04-01"]) == 0
    out = capsys.readouterr().out
    assert "ldp.pl_step_rates [Appendix B, 12] level=PL-03, step=2: 64497 -> 64600" in out
    assert "0 decision(s) change" in out  # PL-06 cases do not read PL-03 rates


def test_against_a_git_revision(tmp_path, capsys):
    repo = tmp_path / "repo"
    shutil.copytree("policies", repo / "policies")
    run = lambda *a: subprocess.run(["git", "-C", str(repo), *a], check=True, capture_output=True)  # noqa: E731
    run("init", "-q")
    run("-c", "user.email=t@example.org", "-c", "user.name=t", "add", "policies")
    run("-c", "user.email=t@example.org", "-c", "user.name=t", "commit", "-qm", "policies")
    pay = repo / "policies" / "ldp" / "pay.yaml"
    pay.write_text(pay.read_text().replace("PL-01: [48790, 50225, 51763]", "PL-01: [48790, 50225, 51800]"))
    assert main(["diff", "--old", "HEAD", "--policies", str(repo / "policies")]) == 0
    out = capsys.readouterr().out
    assert "HEAD:policies ->" in out and "level=PL-01, step=3: 51763 -> 51800" in out


def test_bad_revision_is_a_clear_error(capsys):
    assert main(["diff", "--old", "no-such-rev-xyz"]) == 2
    assert "neither a policy folder nor a git revision" in capsys.readouterr().err


def _edited(tmp_path, old: str, new: str):
    folder = tmp_path / "edited" / "policies"
    shutil.copytree("policies", folder)
    program = folder / "ldp" / "program.yaml"
    text = program.read_text()
    assert text.count(old) == 1
    program.write_text(text.replace(old, new))
    return folder


def _rule_changes(new, capsys):
    assert main(["diff", "--old", "policies", "--new", str(new), "--format", "json"]) == 0
    return [c for c in json.loads(capsys.readouterr().out)["changes"] if c["kind"] == "rule"]


def test_reformatting_an_expression_is_not_a_change(tmp_path, capsys):
    new = _edited(tmp_path, "value: months_of_assignment_time >= 36",
                  "value: ((months_of_assignment_time>=36))")
    assert _rule_changes(new, capsys) == []


def test_changing_an_operator_is_a_change(tmp_path, capsys):
    new = _edited(tmp_path, "value: months_of_assignment_time >= 36", "value: months_of_assignment_time > 36")
    [change] = _rule_changes(new, capsys)
    assert change["id"] == "ldp.termination.time_limit_reached" and change["detail"]["fields"] == ["value"]
