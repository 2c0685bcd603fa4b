"""The command line: outputs and exit codes."""
import json

from policyengine.cli import main


def test_eval_json(capsys):
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=2", "--as-of", "2008-06-01"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["value"] == "64497" and out["clauses"] == ["ldp.B.12"]


def test_eval_text_in_french(capsys, tmp_path):
    facts = tmp_path / "f.json"
    facts.write_text('{"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}')
    assert main(["eval", "ldp.performance_pay", "--facts", str(facts), "--as-of", "2009-04-01",
                 "--format", "text", "--lang", "fr"]) == 0
    out = capsys.readouterr().out
    assert "Résultat\u00a0: décidé" in out and "Droit à la rémunération au rendement [Annexe B, 10.7(1)]" in out
    assert "new_salary = 93\u00a0500\u00a0$" in out  # money as money, in French


def test_bad_input_exit_2_each_problem_on_its_line(capsys):
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-9", "--fact", "stp=2", "--as-of", "2008-06-01"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == ["error: fact 'level': 'PL-9' is not one of PL-01, PL-02, PL-03, PL-04, PL-05, PL-06",
                   "error: unknown fact 'stp' (did you mean 'step'?)"]


def test_not_in_force_exit_3(capsys):
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=2", "--as-of", "2013-01-01"]) == 3
    assert "rescinded 2012-04-03" in capsys.readouterr().err


def test_refused_exit_2(capsys):
    assert main(["eval", "ldp.performance_pay", "--fact", "level=PL-06", "--fact", "salary=90000",
                 "--fact", "rating=met_all", "--fact", "increase_pct=7", "--fact", "program=CAP",
                 "--fact", "appointment_date=2007-01-15", "--as-of", "2009-04-01"]) == 2
    assert json.loads(capsys.readouterr().out)["messages"][0]["clause"] == "ldp.B.13"


def test_undetermined_exit_0(capsys):
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--as-of", "2008-06-01"]) == 0
    assert json.loads(capsys.readouterr().out)["missing"] == ["step"]


def test_validate(capsys, tmp_path):
    assert main(["validate", "policies"]) == 0
    assert "OK" in capsys.readouterr().out
    bad = tmp_path / "p" / "x"
    bad.mkdir(parents=True)
    (bad / "a.yaml").write_text("format: policyengine/1\ninstrument: nope\n")
    assert main(["validate", str(tmp_path / "p")]) == 1
    assert "a.yaml:2:13: unknown instrument 'nope'" in capsys.readouterr().err
