"""Retroactive remuneration (Appendix B, 10.3): the amount known before and after the 2009 PL
revision, and the difference owed.

The 2009 rates (row C of each s. 12 table) take effect 2009-04-02 and were approved 2009-04-23
(seed 004, Appendix B s. 12, "Pay Note: Approval Date: 2009-04-23"): as of 2009-06-01, pay
known on 2009-04-10 is at the 2008 rates (row B), pay known on 2009-05-01 at row C, and the
difference C − B is owed per annum, paid under 10.3(2) within 90 days of notification.
"""
import argparse
import csv
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest

import policyengine
from policyengine import InputError, NotInForceError
from policyengine.audit import retro as retro_cli
from policyengine.audit.retro import read_population, retro, retro_population, to_csv, to_text
from policyengine.cli.main import _read_facts

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "retro_population_2009.csv"
AS_OF, BEFORE, AFTER = "2009-06-01", "2009-04-10", "2009-05-01"

# Seed 004, Appendix B s. 12, rows B) 2008-04-02 and C) 2009-04-02, steps 1 to 3.
ROW_B = {"PL-01": [50661, 52151, 53748], "PL-02": [56195, 57898, 59601], "PL-03": [62581, 64497, 66412],
         "PL-04": [70331, 72159, 74289], "PL-05": [77694, 80781, 83974]}
ROW_C = {"PL-01": [51421, 52933, 54554], "PL-02": [57038, 58766, 60495], "PL-03": [63520, 65464, 67408],
         "PL-04": [71081, 73241, 75403], "PL-05": [78859, 81993, 85234]}
# C − B worked out by hand from the seed (not by the engine):
OWED = {"PL-01": [760, 782, 806], "PL-02": [843, 868, 894], "PL-03": [939, 967, 996],
        "PL-04": [750, 1082, 1114], "PL-05": [1165, 1212, 1260]}

# Every eligibility fact of 10.7(5), (6) and (8) given, so no decision rests on a presumption.
PL06_ELIGIBLE = {"signed_assignment_plan": True, "employed_on_april_1": True, "lwop_on_april_1": False,
                 "died_before_april_1": False, "in_pl_whole_cycle": True, "lwop_full_fiscal_year": False,
                 "salary_protected_into_pl": False}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(ROOT / "policies")


def test_the_hand_worked_differences_are_rows_c_minus_b():
    for level in ROW_B:
        assert [c - b for b, c in zip(ROW_B[level], ROW_C[level])] == OWED[level]


# ---------------------------------------------------------------- 12: every PL-01..PL-05 level and step
@pytest.mark.parametrize("level", sorted(ROW_B))
@pytest.mark.parametrize("step", [1, 2, 3])
def test_every_level_and_step_owes_row_c_minus_row_b(policies, level, step):
    c = retro(policies, "ldp.pay.annual_rate", {"level": level, "step": step}, AS_OF, BEFORE, AFTER)
    assert c.status == "decided" and c.per_annum
    assert c.before.amount == ROW_B[level][step - 1] and c.after.amount == ROW_C[level][step - 1]
    assert c.difference == Decimal(OWED[level][step - 1]) and isinstance(c.difference, Decimal)
    # each amount cites the pay clause; the difference cites it and 10.3
    assert c.before.clauses == ["ldp.B.12"] and c.after.clauses == ["ldp.B.12"]
    assert c.clauses == ["ldp.B.12", "ldp.B.10.3.1", "ldp.B.10.3.2"]
    # before: the 2008 version used, the 2009 one left out as not yet approved; after: the 2009 one
    [used_b] = c.before.versions_used
    assert (used_b["id"], used_b["effective"], used_b["known_from"]) == ("ldp.pl_step_rates", "2008-04-02", "2008-04-02")
    [excluded] = c.before.versions_excluded
    assert excluded["id"] == "ldp.pl_step_rates"
    assert excluded["excluded"]["effective"] == "2009-04-02" and excluded["excluded"]["approved"] == "2009-04-23"
    assert excluded["used"]["effective"] == "2008-04-02"
    [used_a] = c.after.versions_used
    assert (used_a["effective"], used_a["approved"], used_a["known_by"]) == ("2009-04-02", "2009-04-23", "approval date")
    assert c.after.versions_excluded == []
    assert [v["effective"] for v in c.revision] == ["2009-04-02"]


def test_pl03_step1_as_a_record(policies):
    c = retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, AS_OF, BEFORE, AFTER)
    r = c.to_dict()
    assert (r["before"]["value"], r["after"]["value"], r["difference"]) == ("62581", "63520", "939")
    assert (r["as_of"], r["known_before"], r["known_after"]) == (AS_OF, BEFORE, AFTER)
    assert r["before"]["known_on"] == BEFORE and r["after"]["known_on"] == AFTER
    assert [b["citation"] for b in r["basis"]] == ["Appendix B, 12", "Appendix B, 10.3(1)", "Appendix B, 10.3(2)"]
    assert r["payment"]["clause"] == "ldp.B.10.3.2" and "within 90 days of notification" in r["payment"]["text"]
    assert r["payment"]["notified"] is None and r["payment"]["deadline"] is None  # no date is invented


def test_the_10_3_2_deadline_comes_only_from_a_notification_date_given(policies):
    c = retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, AS_OF, BEFORE, AFTER,
              notified="2009-05-15")
    assert c.payment["deadline"] == "2009-08-13" and c.payment["administered_by"] == "home organization"


def test_no_revision_no_difference(policies):
    # both dates after the approval: the same version, a difference of zero (decided, not missing)
    c = retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, AS_OF, "2009-05-01", "2009-06-01")
    assert c.status == "decided" and c.difference == 0 and c.revision == []


# ---------------------------------------------------------------- 12: PL-06 has a range, not steps
def test_pl06_annual_rate_is_refused_not_zero(policies):
    c = retro(policies, "ldp.pay.annual_rate", {"level": "PL-06", "step": 1}, AS_OF, BEFORE, AFTER)
    assert c.status == "refused" and c.difference is None and c.clauses == []
    assert c.before.messages[0]["clause"] == "ldp.B.12" and "salary range, not steps" in c.detail()


def test_missing_facts_are_undetermined_not_zero(policies):
    c = retro(policies, "ldp.pay.annual_rate", {"level": "PL-02"}, AS_OF, BEFORE, AFTER)
    assert c.status == "undetermined" and c.difference is None
    assert c.before.missing == ["step"] and c.after.missing == ["step"]
    assert c.detail() == "before and after undetermined: missing step"


# ---------------------------------------------------------------- 10.7: PL-06 performance pay on April 1
def pp(salary, rating="met_all", pct=5, **more):
    return {"level": "PL-06", "program": "MTP", "salary": salary, "rating": rating, "increase_pct": pct,
            **PL06_ELIGIBLE, **more}


def test_pl06_performance_pay_administered_april_1_2010_capped_by_the_job_rate(policies):
    # 10.7(9): administered April 1, 2010 for 2009-10, at the rates in force then: those of
    # 2009-04-02 (row C), whose PL-06 job rate is 99,169 once known (2009-04-23) and, known
    # before, the 2008 job rate 97,703.  96,000 x 1.05 = 100,800 (10.7(12): rounded, up to the
    # job rate), so the cap decides the new salary on both sides.
    c = retro(policies, "ldp.performance_pay", pp(96000), "2010-04-01", BEFORE, AFTER)
    assert c.status == "decided" and c.field == "new_salary"
    assert c.before.value["new_salary"] == 97703 and c.after.value["new_salary"] == 99169
    assert (c.before.amount, c.after.amount, c.difference) == (97703, 99169, Decimal(1466))
    assert c.differences == {"new_salary": Decimal(1466), "increase": Decimal(1466)}  # 3,169 − 1,703
    assert c.before.assumptions == [] and c.after.assumptions == []  # every fact given
    for side in (c.before, c.after):
        assert {"ldp.B.10.7.3", "ldp.B.10.7.12", "ldp.A.job_rate", "ldp.B.12"} <= set(side.clauses)
    assert [(v["id"], v["effective"]) for v in c.before.versions_used if v["id"] == "ldp.pl06_range"] == \
        [("ldp.pl06_range", "2008-04-02")]
    assert [(v["id"], v["effective"]) for v in c.revision] == [("ldp.pl06_range", "2009-04-02")]
    assert {v["id"] for v in c.before.versions_excluded} >= {"ldp.pl06_range"}
    assert c.clauses == ["ldp.B.10.7.3", "ldp.B.12", "ldp.B.10.3.1", "ldp.B.10.3.2"]


def test_pl06_below_the_cap_the_revision_changes_nothing(policies):
    # 90,000 x 1.05 = 94,500: under both job rates, so nothing is owed
    c = retro(policies, "ldp.performance_pay", pp(90000), "2010-04-01", BEFORE, AFTER)
    assert (c.before.amount, c.after.amount, c.difference) == (94500, 94500, 0)


def test_pl06_performance_pay_of_april_1_2009_is_before_the_revision(policies):
    # administered April 1, 2009 for 2008-09: the rates in force are those of 2008-04-02,
    # which the 2009 approval does not touch
    c = retro(policies, "ldp.performance_pay", pp(96000), "2009-04-01", BEFORE, AFTER)
    assert (c.before.amount, c.after.amount, c.difference) == (97703, 97703, 0)
    assert c.before.versions_excluded == []


def test_pl06_above_the_old_job_rate_is_refused_before(policies):
    # 98,000 is above the 97,703 known before: 10.7(12) refuses; no difference is made up
    c = retro(policies, "ldp.performance_pay", pp(98000), "2010-04-01", BEFORE, AFTER)
    assert c.status == "refused" and c.difference is None
    assert (c.before.status, c.after.status) == ("refused", "decided")
    assert c.detail().startswith("before refused:") and "[Appendix B, 10.7(12)]" in c.detail()


def test_a_record_field_must_be_money(policies):
    with pytest.raises(InputError) as e:
        retro(policies, "ldp.performance_pay", pp(96000), "2010-04-01", BEFORE, AFTER, field="eligible")
    assert "'eligible' is not a money field" in str(e.value)
    c = retro(policies, "ldp.performance_pay", pp(96000), "2010-04-01", BEFORE, AFTER, field="increase")
    assert c.difference == 1466 and c.before.amount == 1703


# ---------------------------------------------------------------- dates and bad input
@pytest.mark.parametrize("before,after", [("2009-05-01", "2009-04-10"), ("2009-04-10", "2009-04-10")])
def test_known_before_must_be_before_known_after(policies, before, after):
    with pytest.raises(InputError) as e:
        retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, AS_OF, before, after)
    assert str(e.value).startswith(f"known_before ({before}) must be before known_after ({after})")


@pytest.mark.parametrize("name,args", [("as_of", ("2009-06-31", BEFORE, AFTER)),
                                       ("known_before", (AS_OF, "2009/04/10", AFTER)),
                                       ("known_after", (AS_OF, BEFORE, "tomorrow"))])
def test_bad_dates_name_the_parameter(policies, name, args):
    with pytest.raises(InputError) as e:
        retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, *args)
    assert str(e.value).startswith(f"{name}: ")


def test_bad_facts_raise_for_one_case(policies):
    with pytest.raises(InputError) as e:
        retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 4}, AS_OF, BEFORE, AFTER)
    assert e.value.problems == ["fact 'step': 4 is above the maximum 3"]


def test_before_the_instrument_was_known(policies):
    with pytest.raises(NotInForceError):
        retro(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 1}, AS_OF, "2006-01-01", AFTER)


# ---------------------------------------------------------------- a population
def test_population_lists_bad_rows_by_number_and_totals_the_rest(policies):
    rows = [{"subject_id": "A", "level": "PL-01", "step": 1},
            {"subject_id": "B", "level": "PL-09", "step": 1},  # bad: not a level
            {"level": "PL-05", "step": 3},
            "not a record",
            {"subject_id": "E", "level": "PL-04", "step": 2, "stpe": 1}]  # bad: unknown fact
    p = retro_population(policies, "ldp.pay.annual_rate", rows, AS_OF, BEFORE, AFTER)
    assert [c.row for c in p.cases] == [1, 2, 3, 4, 5]
    assert [c.status for c in p.cases] == ["decided", "bad", "decided", "bad", "bad"]
    assert [c.subject_id for c in p.cases] == ["A", "B", None, None, "E"]
    assert p.cases[1].errors == ["fact 'level': 'PL-09' is not one of PL-01, PL-02, PL-03, PL-04, PL-05, PL-06"]
    assert p.cases[3].errors == ["a row must be a mapping of fact names to values"]
    assert "unknown fact 'stpe' (did you mean 'step'?)" in p.cases[4].errors[0]
    assert p.total == 760 + 1260
    assert p.counts == {"decided": 2, "undetermined": 0, "refused": 0, "conflict": 0, "bad": 3, "error": 0,
                        "rows": 5, "with_difference": 2}
    assert [c.row for c in p.bad_rows] == [2, 4, 5]


def test_population_through_the_batch_backend_equals_case_by_case(policies):
    """retro_population decides each side for all rows at once (batch); each case must be
    exactly what retro() gives for the row alone."""
    rows = read_population(EXAMPLE) + [{"level": "PL-03"}, {"level": "PL-02", "step": 3, "stpe": 1}]
    p = retro_population(policies, "ldp.pay.annual_rate", rows, AS_OF, BEFORE, AFTER)
    one = retro_cli._Retro(policies, "ldp.pay.annual_rate", policyengine.runtime.facts.as_date(AS_OF),
                           policyengine.runtime.facts.as_date(BEFORE), policyengine.runtime.facts.as_date(AFTER),
                           None, None, True)
    assert [c.to_dict() for c in p.cases] == [one.case(row, n).to_dict() for n, row in enumerate(rows, 1)]


def test_example_population_total(policies):
    # Rows C − B of Appendix B s. 12 for the eight decided rows of the example:
    # PL-01/1 760 + PL-01/3 806 + PL-02/2 868 + PL-03/1 939 + PL-03/3 996 + PL-04/2 1,082
    # + PL-05/1 1,165 + PL-05/3 1,260 = 7,876 a year.  PL-06 is refused (a range, not steps),
    # step 4 is a bad fact, a missing step is undetermined: none of them counts as zero.
    rows = read_population(EXAMPLE)
    assert {r["level"] for r in rows if r.get("step") in (1, 2, 3)} == set(ROW_B)  # every PL-01..PL-05 level
    p = retro_population(policies, "ldp.pay.annual_rate", rows, AS_OF, BEFORE, AFTER)
    assert 760 + 806 + 868 + 939 + 996 + 1082 + 1165 + 1260 == 7876
    assert p.total == Decimal(7876)
    assert [(c.row, c.subject_id, c.status) for c in p.cases if c.status != "decided"] == [
        (9, "E109", "refused"), (10, "E110", "bad"), (11, "E111", "undetermined")]
    assert [c.difference for c in p.cases if c.status == "decided"] == [760, 806, 868, 939, 996, 1082, 1165, 1260]
    assert p.counts == {"decided": 8, "undetermined": 1, "refused": 1, "conflict": 0, "bad": 1, "error": 0,
                        "rows": 11, "with_difference": 8}


def test_population_csv_output(policies):
    p = retro_population(policies, "ldp.pay.annual_rate", read_population(EXAMPLE), AS_OF, BEFORE, AFTER)
    lines = list(csv.DictReader(io.StringIO(to_csv(p))))
    assert len(lines) == 12 and lines[-1]["row"] == "total" and lines[-1]["difference"] == "7876"
    assert "bad 1" in lines[-1]["detail"] and "refused 1" in lines[-1]["detail"]
    first = lines[0]
    assert (first["row"], first["subject_id"], first["before"], first["after"], first["difference"]) == \
        ("1", "E101", "50661", "51421", "760")
    assert first["clauses"] == "ldp.B.12 ldp.B.10.3.1 ldp.B.10.3.2"
    assert (first["before_versions"], first["before_excluded"], first["after_versions"]) == \
        ("ldp.pl_step_rates@2008-04-02", "ldp.pl_step_rates@2009-04-02", "ldp.pl_step_rates@2009-04-02")
    bad = lines[9]
    assert (bad["row"], bad["status"], bad["difference"]) == ("10", "bad", "")
    assert bad["detail"] == "fact 'step': 4 is above the maximum 3"
    assert lines[8]["status"] == "refused" and lines[8]["difference"] == ""


def test_population_json_output(policies):
    p = retro_population(policies, "ldp.pay.annual_rate", read_population(EXAMPLE), AS_OF, BEFORE, AFTER)
    r = json.loads(json.dumps(p.to_dict()))
    assert r["total"] == "7876" and r["per_annum"] is True and len(r["rows"]) == 11
    assert r["rows"][9] == {**r["rows"][9], "row": 10, "subject_id": "E110", "status": "bad", "difference": None,
                            "errors": ["fact 'step': 4 is above the maximum 3"]}
    assert r["payment"]["clause"] == "ldp.B.10.3.2"


def test_population_text_output(policies):
    p = retro_population(policies, "ldp.pay.annual_rate", read_population(EXAMPLE), AS_OF, BEFORE, AFTER)
    text = to_text(p)
    assert "row 4 (E104): 62581 -> 63520, difference 939 a year [Appendix B, 12; Appendix B, 10.3(1); " \
           "Appendix B, 10.3(2)]" in text
    assert "row 10 (E110): bad facts: fact 'step': 4 is above the maximum 3" in text
    assert "total: 7876 a year over 8 decided row(s) of 11" in text
    assert "within 90 days of notification" in text


def test_population_files_json_array_and_json_lines(policies, tmp_path):
    records = [{"subject_id": "X1", "level": "PL-03", "step": 1}, {"subject_id": "X2", "level": "PL-07", "step": 1}]
    array, lines = tmp_path / "rows.json", tmp_path / "rows.jsonl"
    array.write_text(json.dumps(records, indent=2))
    lines.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    for path in (array, lines):
        p = retro_population(policies, "ldp.pay.annual_rate", read_population(path), AS_OF, BEFORE, AFTER)
        assert [(c.row, c.subject_id, c.status) for c in p.cases] == [(1, "X1", "decided"), (2, "X2", "bad")]
        assert p.total == 939


def test_population_of_pl06_performance_pay_from_csv(policies, tmp_path):
    # CSV cells are read as JSON where they can be: true/false are booleans
    path = tmp_path / "pl06.csv"
    head = "subject_id,level,program,salary,rating,increase_pct," + ",".join(PL06_ELIGIBLE)
    flags = ",".join("true" if v else "false" for v in PL06_ELIGIBLE.values())
    path.write_text(f"{head}\nP1,PL-06,MTP,96000,met_all,5,{flags}\nP2,PL-06,MTP,90000,met_all,5,{flags}\n"
                    f"P3,PL-06,MTP,96000,met_all,9,{flags}\nP4,PL-06,,96000,met_all,9,{flags}\n")
    p = retro_population(policies, "ldp.performance_pay", read_population(path), "2010-04-01", BEFORE, AFTER)
    # P3: 9% is outside s. 13 for met all; P4: it could be within the previous plan's scale
    # (Appendix C, 3.4.1) for a CAP participant, and the program is not given
    assert [(c.subject_id, c.status, c.difference) for c in p.cases] == [
        ("P1", "decided", 1466), ("P2", "decided", 0), ("P3", "refused", None), ("P4", "undetermined", None)]
    assert "[Appendix B, 13]" in p.cases[2].detail() and "program" in p.cases[3].after.missing
    assert p.total == 1466 and p.counts["with_difference"] == 1


# ---------------------------------------------------------------- the command
@pytest.fixture(autouse=True)
def _loaded_once(request, monkeypatch):
    """The command loads --policies each run; its tests reuse the module's load of the same folder."""
    if request.node.name.startswith("test_cli"):
        loaded = request.getfixturevalue("policies")
        real = retro_cli._load_policies
        monkeypatch.setattr(retro_cli, "_load_policies",
                            lambda path: loaded if Path(path) == ROOT / "policies" else real(path))


def command(argv):
    """As cli/main.py runs it once registered: add_parser on its subcommands, then run(args)
    with eval's reader of --facts/--fact."""
    parser = argparse.ArgumentParser(prog="policyengine")
    retro_cli.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(argv)
    return retro_cli.run(args, read_facts=_read_facts)


BASE = ["retro", "ldp.pay.annual_rate", "--as-of", AS_OF, "--known-before", BEFORE, "--known-after", AFTER,
        "--policies", str(ROOT / "policies")]


def test_cli_one_case_json(capsys):
    assert command(BASE + ["--fact", "level=PL-03", "--fact", "step=1", "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["before"]["value"], out["after"]["value"], out["difference"]) == ("62581", "63520", "939")
    assert out["clauses"] == ["ldp.B.12", "ldp.B.10.3.1", "ldp.B.10.3.2"]


def test_cli_facts_file_and_text(tmp_path, capsys):
    facts = tmp_path / "case.yaml"
    facts.write_text("level: PL-05\nstep: 2\n")
    assert command(BASE + ["--facts", str(facts), "--notified", "2009-05-15"]) == 0
    out = capsys.readouterr().out
    assert "80781 -> 81993, difference 1212 a year" in out
    assert "left out ldp.pl_step_rates 2009-04-02 (known from 2009-04-23)" in out
    assert "Notified 2009-05-15: pay by 2009-08-13." in out


def test_cli_performance_pay(capsys):
    argv = ["retro", "ldp.performance_pay", "--as-of", "2010-04-01", "--known-before", BEFORE, "--known-after", AFTER,
            "--policies", str(ROOT / "policies"), "--format", "json"]
    for k, v in {**pp(96000)}.items():
        argv += ["--fact", f"{k}={json.dumps(v)}" if not isinstance(v, str) else f"{k}={v}"]
    assert command(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["field"] == "new_salary" and out["difference"] == "1466"
    assert out["differences"] == {"new_salary": "1466", "increase": "1466"}


def test_cli_population_csv_and_exit_code(capsys):
    assert command(BASE + ["--population", str(EXAMPLE), "--format", "csv"]) == 2  # a bad row: exit 2, still listed
    lines = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["row"] for r in lines] == [str(n) for n in range(1, 12)] + ["total"]
    assert lines[-1]["difference"] == "7876"


def test_cli_population_json(capsys, tmp_path):
    good = tmp_path / "good.csv"
    good.write_text("subject_id,level,step\nG1,PL-01,2\nG2,PL-06,1\n")
    assert command(BASE + ["--population", str(good), "--format", "json"]) == 0  # a refused row is an answer
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == "782" and out["counts"]["refused"] == 1


def test_cli_single_refused_case_exits_2(capsys):
    assert command(BASE + ["--fact", "level=PL-06", "--fact", "step=1"]) == 2
    assert "salary range, not steps" in capsys.readouterr().out


@pytest.mark.parametrize("argv,message", [
    (["--known-before", "2009-05-01", "--known-after", "2009-04-10"],
     "error: --known-before (2009-05-01) must be before --known-after (2009-04-10)"),
    (["--known-before", "2009-04-31"], "error: --known-before: '2009-04-31' is not a valid date"),
    (["--known-after", "20090501"], "error: --known-after: expected a date (YYYY-MM-DD), got '20090501'"),
    (["--as-of", "2009-6-1"], "error: --as-of: expected a date (YYYY-MM-DD), got '2009-6-1'"),
    (["--notified", "soon"], "error: --notified: expected a date (YYYY-MM-DD), got 'soon'"),
    (["--fact", "step=9"], "error: fact 'step': 9 is above the maximum 3"),
    (["--field", "new_salary"], "error: --field: decision 'ldp.pay.annual_rate' gives one amount, not a record"),
    (["--population", "missing.csv"], "error: --population missing.csv: cannot read"),
])
def test_cli_bad_input_is_a_clear_error_with_exit_2(capsys, argv, message):
    base = BASE + ["--fact", "level=PL-03"] if "--population" not in argv else BASE
    assert command(base + argv) == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and "Traceback" not in err


def test_cli_needs_a_case(capsys):
    assert command(BASE) == 2
    assert "give the case" in capsys.readouterr().err


def test_cli_not_yet_known_exits_3(capsys):
    assert command(BASE[:4] + ["--known-before", "2006-01-01", "--known-after", AFTER] + BASE[8:]
                   + ["--fact", "level=PL-03", "--fact", "step=1"]) == 3
    assert "was not yet known on 2006-01-01" in capsys.readouterr().err


def test_command_end_to_end_loads_the_policies(capsys):
    # the one run that loads --policies itself (the test_cli_* runs reuse the module's load)
    assert command(BASE + ["--fact", "level=PL-04", "--fact", "step=1", "--format", "csv"]) == 0
    [line] = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (line["before"], line["after"], line["difference"], line["status"]) == ("70331", "71081", "750", "decided")
