"""The s. 14 PL-06 performance pay report check: schema errors and policy errors by row."""
import json

from policyengine.cli import main

EXAMPLE = "examples/pl06_report_2009.csv"


def test_report_rows_checked_against_schema_and_policy(capsys):
    assert main(["report", EXAMPLE, "--as-of", "2009-04-01", "--submitted", "2009-07-20"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "report submitted 2009-07-20, after the July 15 due date (2009-07-15) [6.2.1; Appendix B, 14]",
        "row 3 (line 4): unable_to_assess_reason: 'unable_to_assess_reason' is a required property",
        "row 4 (line 5): rating_pct: The in-range increase is outside the percentage that Appendix B, s. 13 "
        "sets for this rating [Appendix B, 13]",
        "row 5 (line 6): final_salary_april1: reported 95500, but the policy gives 95600 (rounded to the nearest "
        "$100 up to the job rate) [Appendix B, 10.7(12)]",
        f"{EXAMPLE}: 5 row(s), 4 problem(s)",
    ]


def test_report_on_time_and_correct_rows_pass(tmp_path, capsys):
    rows = [{"dept": "TBS", "pri": "123456789", "name": "Tremblay", "initial": "M", "appointment_date_pl06": "2006-09-01",
             "march31_salary": 89000, "rating": 3, "rating_pct": 5, "base_salary_increase": 4500,
             "revised_salary": 93450, "final_salary_april1": 93500, "performance_award_lump_sum": 0}]
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(json.dumps(r) for r in rows))
    assert main(["report", str(f), "--as-of", "2009-04-01", "--submitted", "2009-07-15"]) == 0
    assert capsys.readouterr().out.strip() == f"{f}: 1 row(s), 0 problem(s)"


def test_report_rating_code_out_of_range(tmp_path, capsys):
    f = tmp_path / "r.json"
    f.write_text(json.dumps([{"dept": "TBS", "pri": "1", "name": "X", "initial": "Y", "appointment_date_pl06": "2006-09-01",
                              "march31_salary": 89000, "rating": 5, "rating_pct": 5, "base_salary_increase": 0,
                              "revised_salary": 0, "final_salary_april1": 0, "performance_award_lump_sum": 0}]))
    assert main(["report", str(f)]) == 2
    assert "row 1 (line 1): rating:" in capsys.readouterr().out
