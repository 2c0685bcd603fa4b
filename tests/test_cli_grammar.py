"""The command line has one grammar (issue 15, item 4): the policy folder given the same way
everywhere, one dispatch, one package of command groups; and each problem found with it
(points 1 to 12) reported as path:line:col: message, naming what is wrong and where."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import policyengine
from policyengine.cli import main
from policyengine.source.yamlsource import load_yaml
from policyengine.tools.testing import Case, load_cases, run_case
from helpers import write_policies

POLICIES = Path("policies").resolve()
PAY = ["--fact", "level=PL-03", "--fact", "step=2", "--as-of", "2008-06-01"]
PERF = ["--fact", "level=PL-06", "--fact", "salary=89000", "--fact", "rating=met_all", "--fact", "increase_pct=5",
        "--as-of", "2009-04-01"]


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    """A fresh copy of the bundled policies, to break one file of."""
    def make(name):
        root = tmp_path_factory.mktemp(name) / "policies"
        shutil.copytree(POLICIES, root, ignore=shutil.ignore_patterns("tests"))
        return root
    return make


# -- the grammar: one package, one dispatch, the policy folder given either way -----------------------------
def test_cli_is_a_package_of_command_groups_with_its_entry_points():
    import importlib
    import tomllib
    from policyengine.cli import run as console
    main_module = importlib.import_module("policyengine.cli.main")
    assert main_module.main is main and callable(console)
    assert tomllib.loads(Path("pyproject.toml").read_text())["project"]["scripts"]["policyengine"] == "policyengine.cli:run"
    for group in ("args", "check", "eval", "log", "test", "diff", "report", "docs", "serve"):
        importlib.import_module(f"policyengine.cli.{group}")


def _leaves(parser):
    """(command, parser) for every command that runs, subcommands included."""
    import argparse
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                inner = list(_leaves(sub))
                yield from ((f"{name} {n}", p) for n, p in inner) if inner else [(name, sub)]


def test_one_dispatch_and_policies_option_everywhere():
    from policyengine.cli.main import _parser
    leaves = dict(_leaves(_parser()))
    assert {"validate", "lint", "test", "eval", "query", "report", "diff", "decisions", "inventory", "docs",
            "requirements", "graph", "impact", "retro", "serve", "log replay"} <= set(leaves)
    for name, p in leaves.items():
        assert p.get_default("func") is not None, name  # every command runs through args.func(args)
        assert "--policies" in p._option_string_actions, name


@pytest.mark.parametrize("argv", [["validate"], ["lint"], ["decisions"], ["inventory", "ldp"]])
def test_policy_folder_positional_or_option(capsys, argv):
    code, out, _ = run(capsys, *argv, "--policies", str(POLICIES))
    assert code in (0, 1)
    code2, out2, _ = run(capsys, *argv, str(POLICIES))
    assert (code, out) == (code2, out2)


def test_validate_lint_and_test_take_policies_too(capsys, tmp_path):
    code, out, _ = run(capsys, "validate", "--policies", str(POLICIES))
    assert code == 0 and out.startswith(f"{POLICIES}: OK")
    assert run(capsys, "lint", "--policies", str(POLICIES))[1].strip().endswith("0 finding(s)")
    root = write_policies(tmp_path, "rules:\n  low:\n    decision: true\n    citation: \"Appendix B, 1\"\n"
                                    "    text: t\n    label: {en: Low, fr: Bas}\n    value: salary < $100\n")
    (root / "demo" / "tests").mkdir()
    (root / "demo" / "tests" / "t.yaml").write_text(
        "tests:\n  - {name: low, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: true}}\n")
    code, out, _ = run(capsys, "test", "--policies", str(root))
    assert code == 0 and out.rstrip().endswith("1 passed, 0 failed")


def test_other_commands_take_the_folder_as_a_last_positional(capsys):
    """`eval ID --as-of D DIR`: argparse alone would call DIR unrecognized (an option between)."""
    code, out, _ = run(capsys, "eval", "ldp.pay.annual_rate", *PAY, str(POLICIES))
    assert code == 0 and json.loads(out)["value"] == "64497"
    code, out, _ = run(capsys, "eval", "ldp.pay.annual_rate", str(POLICIES), *PAY)
    assert code == 0 and json.loads(out)["value"] == "64497"


def test_the_folder_given_twice_differently_is_refused(capsys, tmp_path):
    code, _, err = run(capsys, "validate", str(POLICIES), "--policies", str(tmp_path))
    assert code == 2 and f"the policy folder is given twice, as {POLICIES} and as --policies {tmp_path}" in err


# -- 1. eval --log DECISION -----------------------------------------------------------------------------------------
def test_1_log_before_the_decision_does_not_swallow_it(capsys, tmp_path, monkeypatch):
    log = tmp_path / "default.sqlite"
    monkeypatch.setenv("POLICYENGINE_LOG", str(log))
    monkeypatch.chdir(tmp_path)
    code, out, err = run(capsys, "eval", "--log", "ldp.pay.annual_rate", *PAY, "--policies", str(POLICIES))
    assert code == 0 and json.loads(out)["value"] == "64497"
    assert f"in {log}" in err and log.exists() and not (tmp_path / "ldp.pay.annual_rate").exists()
    other = tmp_path / "other.sqlite"
    code, _, err = run(capsys, "eval", f"--log={other}", "ldp.pay.annual_rate", *PAY, "--policies", str(POLICIES))
    assert code == 0 and other.exists() and f"in {other}" in err


def test_1_a_log_file_without_a_decision_says_what_happened(capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        main(["eval", "--log", str(tmp_path / "x.sqlite"), *PAY])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "required: DECISION" in err and "--log=PATH" in err


# -- 2. eval of a query -------------------------------------------------------------------------------------------------------
def test_2_eval_of_a_query_points_to_query(capsys):
    code, _, err = run(capsys, "eval", "etm.obligations", "--as-of", "2020-01-01", "--policies", str(POLICIES))
    assert code == 2 and "use query()" not in err
    assert err.strip() == ("error: unknown decision 'etm.obligations': it is a query; run it with "
                           "`policyengine query etm.obligations`")


# -- 3. --trace full in text ----------------------------------------------------------------------------------------------
def test_3_trace_full_text_shows_each_expression_step(capsys):
    _, audit, _ = run(capsys, "eval", "ldp.performance_pay", *PERF, "--format", "text")
    _, full, _ = run(capsys, "eval", "ldp.performance_pay", *PERF, "--format", "text", "--trace", "full")
    assert full != audit and "steps" not in audit
    assert "steps (trace level full):" in full
    assert "increase_pct / 100 = 0.05" in full
    assert "salary * (1 + increase_pct / 100) = 93450" in full
    assert "performance_pay.new_salary - salary = 4500" in full  # a record's fields, each in its expression
    assert "increase_pct >= rating_ranges[rating, \"minimum\"] = yes" in full
    _, fr, _ = run(capsys, "eval", "ldp.performance_pay", *PERF, "--format", "text", "--trace", "full", "--lang", "fr")
    assert "étapes (niveau de trace full):" in fr and "increase_pct / 100 = 0.05" in fr


# -- 4. policyengine test: counts, --show-uncovered, a broken pipe --------------------------------------------------
def test_4_uncovered_clauses_are_counted_unless_asked_for(capsys):
    one = str(POLICIES / "ldp" / "tests" / "pay_table.yaml")
    code, out, _ = run(capsys, "test", one)
    # instruments with a few uncovered clauses list them (etm: 7); ldp's 286 and qs's 302 are counted
    assert code == 0 and out.count("not exercised:") <= 10 and len(out.splitlines()) < 30
    assert "ldp.pay.job_rate" not in out
    assert re.search(r"  ldp: .*\n    286 clause\(s\) not exercised, 9 exception\(s\) never applied: "
                     r"list them with --show-uncovered", out)
    code, out, _ = run(capsys, "test", one, "--show-uncovered")
    assert out.count("    not exercised:") > 500


def _closed_pipe_run(*argv) -> int:
    """The exit code of `policyengine ARGV` writing into a pipe whose reader has gone (`| head`)."""
    r, w = os.pipe()
    os.close(r)
    try:
        done = subprocess.run([sys.executable, "-c", "from policyengine.cli import run; run()", *argv],
                              stdout=w, stderr=subprocess.PIPE, timeout=120)
    finally:
        os.close(w)
    assert b"Traceback" not in done.stderr
    return done.returncode


def test_4_a_broken_pipe_is_not_a_success(tmp_path):
    root = write_policies(tmp_path, "rules:\n  low:\n    decision: true\n    citation: \"Appendix B, 1\"\n"
                                    "    text: t\n    label: {en: Low, fr: Bas}\n    value: salary < $100\n")
    (root / "demo" / "tests").mkdir()
    (root / "demo" / "tests" / "t.yaml").write_text(
        "tests:\n  - {name: wrong, decision: demo.low, as_of: 2007-01-01, facts: {salary: 50}, expect: {value: false}}\n")
    assert _closed_pipe_run("test", str(root)) not in (0, None)  # a failing run stays a failure
    assert _closed_pipe_run("decisions", "--policies", str(POLICIES)) == 141  # output cut short: incomplete


# -- 5. diff --population: unknown decisions and bad rows -------------------------------------------------------------
def test_5_misspelled_decision_is_named_with_did_you_mean(capsys):
    code, out, err = run(capsys, "diff", "--from", "2008-04-01", "--to", "2009-04-01", "--population",
                         "examples/pl06_population.csv", "--decision", "ldp.performance_py")
    assert code == 2 and "decision(s) change" not in out
    assert err.strip() == "error: --decision: unknown decision 'ldp.performance_py' (did you mean 'ldp.performance_pay'?)"


def test_5_bad_rows_are_listed_with_their_numbers(capsys, tmp_path):
    pop = tmp_path / "pop.csv"
    pop.write_text("subject_id,level,salary,rating,increase_pct\nE001,PL-06,89000,met_all,5\n"
                   "E002,PL-9,96000,surpassed,6\nE003,PL-06,90000,did_not_met,0\n")
    code, out, err = run(capsys, "diff", "--from", "2008-04-01", "--to", "2009-04-01", "--population", str(pop),
                         "--decision", "ldp.performance_pay")
    assert code == 2
    assert (f"error: --population {pop}: row 2 (line 3), ldp.performance_pay: fact 'level': 'PL-9' is not one of "
            "PL-01, PL-02, PL-03, PL-04, PL-05, PL-06") in err
    assert "row 3 (line 4), ldp.performance_pay: fact 'rating': 'did_not_met' is not one of" in err
    assert "2 row(s)" in err
    code, out, _ = run(capsys, "diff", "--from", "2008-04-01", "--to", "2009-04-01", "--population", str(pop),
                       "--decision", "ldp.performance_pay", "--format", "json")
    assert code == 2 and [(b["row"], b["line"]) for b in json.loads(out)["bad_rows"]] == [(2, 3), (3, 4)]


# -- 6. one broken file, not fourteen problems ------------------------------------------------------------------
def _problems(root) -> list[str]:
    with pytest.raises(policyengine.PolicyError) as info:
        policyengine.load(root)
    return [str(p) for p in info.value.problems]


def test_6_a_yaml_error_in_one_file_is_reported_without_its_follow_ons(copy):
    root = copy("syntax")
    pay = root / "ldp" / "pay.yaml"
    lines = pay.read_text().splitlines(keepends=True)
    at = next(i for i, l in enumerate(lines) if l.startswith("    requires: [pay.level_has_steps]"))
    lines[at] = lines[at].rstrip("\n") + " [unclosed\n"
    pay.write_text("".join(lines))
    problems = _problems(root)
    assert not any("new_job_rate" in p or "unknown name" in p or "unknown table" in p for p in problems), problems
    assert len(problems) == 2, problems
    assert problems[0].startswith(f"{pay}:{at + 1}:") and "YAML syntax error" in problems[0]
    assert problems[1].startswith(problems[0].split(" YAML")[0]) and \
        "13 problem(s) in other files that may follow from it were not reported" in problems[1]


def test_6_an_unparsable_instrument_file_hides_its_unknown_instrument_errors(copy):
    root = copy("instrument")
    (root / "ldp" / "instrument.yaml").write_text("format: policyengine/1\ninstrument:\n  id: ldp\n  kind: [\n")
    problems = _problems(root)
    assert not any("unknown instrument" in p for p in problems), problems
    assert len(problems) == 2 and "may follow from it" in problems[1]


def test_6_a_real_typo_elsewhere_is_still_reported(tmp_path):
    root = write_policies(tmp_path, "rules:\n  r:\n    citation: \"Appendix B, 12\"\n    text: t\n"
                                    "    label: {en: R, fr: R}\n    value: salery * 2\n")
    (root / "demo" / "broken.yaml").write_text("format: policyengine/1\ninstrument: demo\nrules: [\n")
    problems = _problems(root)
    assert any("unknown name 'salery' (did you mean 'salary'?)" in p for p in problems)
    assert not any("may follow" in p for p in problems)


# -- 7. non-UTF-8 files: the line and column of the bad byte -----------------------------------------------------
def test_7_non_utf8_is_located_at_the_bad_byte(capsys, tmp_path, copy):
    root = copy("latin1")
    pay = root / "ldp" / "pay.yaml"
    raw = pay.read_bytes().split(b"\n")
    raw[4] += b" # caf\xe9"
    pay.write_bytes(b"\n".join(raw))
    col = len(raw[4])  # the é is the last byte of line 5
    assert _problems(root)[0].startswith(f"{pay}:5:{col}: not UTF-8 text (byte 0xe9")
    facts = tmp_path / "f.yaml"
    facts.write_bytes(b"level: PL-03\nstep: 2\n# caf\xe9\n")
    code, _, err = run(capsys, "eval", "ldp.pay.annual_rate", "--facts", str(facts), "--as-of", "2008-06-01")
    assert code == 2 and err.startswith(f"error: --facts {facts}:3:6: not UTF-8 text")
    test_file = tmp_path / "tests" / "t.yaml"
    test_file.parent.mkdir()
    test_file.write_bytes(b"tests:\n  - name: caf\xe9\n")
    with pytest.raises(policyengine.PolicyError, match=re.escape(f"{test_file}:2:14: not UTF-8 text")):
        load_cases(test_file)


# -- 8. an impossible date: one problem, not two ------------------------------------------------------------------------
def test_8_a_bad_date_is_reported_once(tmp_path):
    inst = __import__("helpers").INSTRUMENT.replace("from: 2006-04-02", "from: 2006-13-02")
    problems = _problems(write_policies(tmp_path, "", inst))
    assert not any("None is not of type" in p or "null" in p for p in problems), problems
    assert any("'2006-13-02' is not a valid value: month must be in 1..12" in p for p in problems)
    # rules.yaml's "unknown instrument 'demo'" follows from instrument.yaml not being usable: said once
    assert not any("unknown instrument" in p for p in problems) and len(problems) == 2, problems
    test_file = tmp_path / "policies" / "demo" / "tests" / "t.yaml"
    test_file.parent.mkdir()
    test_file.write_text("tests:\n  - {name: x, decision: demo.r, as_of: 2008-02-30, expect: {value: 1}}\n")
    with pytest.raises(policyengine.PolicyError) as info:
        load_cases(test_file)
    assert [p.message for p in info.value.problems] == ["'2008-02-30' is not a valid value: day is out of range for month"]


# -- 9. test files and report rows in the loader's words --------------------------------------------------------------
def test_9_test_files_get_did_you_mean(tmp_path):
    test_file = tmp_path / "policies" / "demo" / "tests" / "t.yaml"
    test_file.parent.mkdir(parents=True)
    test_file.write_text("tests:\n  - name: x\n    decision: demo.r\n    as_of: 2008-01-01\n    expected: {value: 1}\n")
    with pytest.raises(policyengine.PolicyError) as info:
        load_cases(test_file)
    lines = [str(p) for p in info.value.problems]
    assert f"{test_file}:5:5: unknown key 'expected' in tests/0 (did you mean 'expect'?)" in lines
    assert any("missing key 'expect' (required)" in l for l in lines)
    assert not any("Additional properties" in l or "was unexpected" in l for l in lines)


def test_9_report_rows_get_did_you_mean(capsys, tmp_path):
    f = tmp_path / "r.csv"
    f.write_text("dept,pri,name,initial,appointment_date_pl06,march31_salary,ratng,rating_pct,base_salary_increase,"
                 "revised_salary,final_salary_april1,performance_award_lump_sum\n"
                 "TBS,1,X,Y,2006-09-01,89000,3,5,4450,93450,93500,0\n")
    code, out, _ = run(capsys, "report", str(f))
    assert code == 2
    assert "row 1 (line 2): ratng: unknown field 'ratng' in the row (did you mean 'rating'?)" in out
    assert "row 1 (line 2): rating: missing (the report must give it)" in out
    assert "Additional properties" not in out and "required property" not in out
    f.write_text(f.read_text().replace("ratng", "rating").replace(",3,5,", ",5,5,"))
    code, out, _ = run(capsys, "report", str(f))
    assert "row 1 (line 2): rating: 5 is not one of 4 (Surpassed), 3 (Met All), 2 (Met Most), 1 (Did Not Meet), " \
           "0 (Unable to assess)" in out


# -- 10. malformed JSON facts are JSON errors ---------------------------------------------------------------------------
def test_10_json_facts_with_a_byte_order_mark(capsys, tmp_path, monkeypatch):
    good = tmp_path / "f.json"
    good.write_bytes(b'\xef\xbb\xbf{"level": "PL-03", "step": 2}')
    code, out, err = run(capsys, "eval", "ldp.pay.annual_rate", "--facts", str(good), "--as-of", "2008-06-01")
    assert (code, err) == (0, "") and json.loads(out)["value"] == "64497"
    bad = tmp_path / "f.txt"
    bad.write_bytes(b'\xef\xbb\xbf{"level": "PL-03",, "step": 2}')
    code, _, err = run(capsys, "eval", "ldp.pay.annual_rate", "--facts", str(bad), "--as-of", "2008-06-01")
    assert code == 2 and err.strip() == (f"error: --facts {bad}:1:20: JSON error: Expecting property name "
                                         "enclosed in double quotes")
    import io

    class Stdin:
        buffer = io.BytesIO(bad.read_bytes())
    monkeypatch.setattr(sys, "stdin", Stdin)
    code, _, err = run(capsys, "eval", "ldp.pay.annual_rate", "--facts", "-", "--as-of", "2008-06-01")
    assert code == 2 and "YAML" not in err and err.startswith("error: --facts <stdin>:1:20: JSON error")


def test_10_yaml_errors_never_show_pyyaml_rendering():
    import yaml
    from policyengine.source import yamlsource
    mark = yaml.Mark("<unicode string>", 0, 2, 4, None, None)
    for exc in (yaml.MarkedYAMLError("while parsing a flow mapping", mark, None, None),
                yaml.YAMLError('unacceptable character in "<unicode string>", position 5')):
        text = yamlsource._what(exc)
        assert "<unicode string>" not in text and text
    for text in ('{"a": 1,, }', '{"a": 1', "[1, 2", '{"a" 1}', "a: [b\n"):
        _, _, problems = load_yaml(text, "f.json")
        assert problems and all("<unicode string>" not in str(p) and re.match(r"f\.json:\d+:\d+: ", str(p))
                                for p in problems)


# -- 11. values as people write them ---------------------------------------------------------------------------------------
def _case(expect, facts, decision):
    return Case("c", decision, "2009-04-01", facts, expect, "x.yaml", 1, POLICIES)


def test_11_no_python_reprs_in_test_differences():
    facts = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}
    diffs = run_case(_case({"value": {"new_salary": 93400}}, facts, "ldp.performance_pay"))
    assert diffs[0] == "value.new_salary: expected 93400, got 93500"
    diffs = run_case(_case({"value": {"increase": 2.5}}, facts, "ldp.performance_pay"))
    assert diffs[0] == "value.increase: expected 2.5, got 4500"
    diffs = run_case(_case({"error": "input"}, {"level": "PL-03", "step": 2}, "ldp.pay.annual_rate"))
    assert diffs[0] == "expected a input error, got decided 64497"
    diffs = run_case(_case({"status": "decided"}, {"level": "PL-03"}, "ldp.pay.annual_rate"))
    assert diffs[0] == "status: expected decided, got undetermined (missing step)"
    for d in diffs[:-1]:
        assert "Decimal(" not in d and "'93500'" not in d and "{'" not in d


def test_11_table_cells_are_shown_as_written(tmp_path):
    tables = ("tables:\n  rates:\n    citation: \"Appendix B, 12\"\n    label: {en: Rates, fr: Taux}\n"
              "    keys:\n      - {name: level, values: [PL-01, PL-02]}\n    value: money\n    versions:\n"
              "      - effective: 2006-04-02\n        rows: [2006-04-02, abc]\n")
    problems = _problems(write_policies(tmp_path, tables))
    assert any(p.endswith("table cell must be a number, found 2006-04-02") for p in problems), problems
    assert any(p.endswith("table cell must be a number, found 'abc'") for p in problems), problems
    assert not any("datetime" in p for p in problems)


# -- 12. non-UTF-8 data files: a clear error, not a UnicodeDecodeError ----------------------------------------------------
def test_12_report_and_population_files_not_utf8(capsys, tmp_path):
    f = tmp_path / "r.csv"
    f.write_bytes(Path("examples/pl06_report_2009.csv").read_bytes().replace(b"Tremblay", b"Tr\xe9mblay"))
    code, out, err = run(capsys, "report", str(f))
    assert (code, out) == (2, "") and err.startswith(f"error: {f}:2:17: not UTF-8 text (byte 0xe9")
    pop = tmp_path / "pop.csv"
    pop.write_bytes(b"subject_id,level,salary,rating,increase_pct\nE\xe9,PL-06,89000,met_all,5\n")
    code, _, err = run(capsys, "diff", "--from", "2008-04-01", "--to", "2009-04-01", "--population", str(pop),
                       "--decision", "ldp.performance_pay")
    assert code == 2 and err.startswith(f"error: --population {pop}:2:2: not UTF-8 text (byte 0xe9")
    facts = tmp_path / "f.json"
    facts.write_bytes(b'{"level": "PL-03",\n "step": 2, "x": "caf\xe9"}')
    code, _, err = run(capsys, "eval", "ldp.pay.annual_rate", "--facts", str(facts), "--as-of", "2008-06-01")
    assert code == 2 and err.startswith(f"error: --facts {facts}:2:22: not UTF-8 text")
