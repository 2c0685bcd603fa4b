"""The s. 14 PL-06 performance pay report check: schema errors and policy errors by row."""
import json

from policyengine.cli import main

EXAMPLE = "examples/pl06_report_2009.csv"


def test_report_rows_checked_against_schema_and_policy(capsys):
    assert main(["report", EXAMPLE, "--as-of", "2009-04-01", "--submitted", "2009-07-20"]) == 2
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "report submitted 2009-07-20, after the July 15 due date (2009-07-15) [6.2.1; Appendix B, 14]",
        "row 3 (line 4): unable_to_assess_reason: missing (the report must give it)",
        # met most 5 %: above s. 13's 4 %, within the previous scale's 6 % (Appendix C, 3.4.1), which the
        # report cannot show applies (it does not give the program or the date of appointment to it)
        "row 4 (line 5): rating_pct: 5 % is outside what Appendix B, s. 13 sets for this rating; only a CAP "
        "participant appointed on or before 2006-04-01, paid on the previous salary administration plan's scale, "
        "may receive it, and the report does not show one [Appendix B, 13; Appendix C, 3.4 and 3.4.1]",
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


ROW = {"dept": "TBS", "pri": "123456789", "name": "Tremblay", "initial": "M", "appointment_date_pl06": "2006-09-01",
       "march31_salary": 89000, "rating": 3, "rating_pct": 5, "base_salary_increase": 4500,
       "revised_salary": 93450, "final_salary_april1": 93500, "performance_award_lump_sum": 0}


def _check(tmp_path, capsys, *rows):
    f = tmp_path / "r.jsonl"
    f.write_text("\n".join(json.dumps({**ROW, **r}) for r in rows))
    code = main(["report", str(f), "--as-of", "2009-04-01"])
    return code, capsys.readouterr().out.splitlines()[:-1]


def test_report_percentage_only_the_previous_scale_allows(tmp_path, capsys):
    """Met all 8 %: refused under s. 13 (5 %), allowed up to 8 % for transition CAP participants
    (Appendix C, 3.4.1): 89,000 x 1.08 = 96,120, rounded 96,100 for such a participant."""
    code, out = _check(tmp_path, capsys, {"rating_pct": 8, "base_salary_increase": 7120, "revised_salary": 96120,
                                          "final_salary_april1": 96100})
    assert code == 2 and out == [
        "row 1 (line 1): rating_pct: 8 % is outside what Appendix B, s. 13 sets for this rating; only a CAP "
        "participant appointed on or before 2006-04-01, paid on the previous salary administration plan's scale, "
        "may receive it, and the report does not show one [Appendix B, 13; Appendix C, 3.4 and 3.4.1]"]


def test_report_percentage_above_both_scales(tmp_path, capsys):
    """Met all 8.5 %: above s. 13 and above the previous scale's 8 % (Appendix C, 3.4.1)."""
    code, out = _check(tmp_path, capsys, {"rating_pct": 8.5})
    assert code == 2 and out == [
        "row 1 (line 1): rating_pct: The in-range increase is outside the percentage that Appendix B, s. 13 sets "
        "for this rating [Appendix B, 13]",
        "row 1 (line 1): rating_pct: The in-range increase is above the maximum that the previous salary "
        "administration plan's rating scale (Appendix C, 3.4.1) sets for this rating [Appendix C, 3.4.1]"]


def test_report_award_below_the_job_rate_is_not_allowed(tmp_path, capsys):
    """89,000 met all 5 % gives 93,500, under the 2008-04-02 job rate 97,703: no award (10.7(4))."""
    code, out = _check(tmp_path, capsys, {"performance_award_lump_sum": 500})
    assert code == 2 and out == [
        "row 1 (line 1): performance_award_lump_sum: a performance award of 500 was reported, but 10.7(4) allows one "
        "only to an eligible participant at the job rate or whose full in-range increase would exceed it "
        "[Appendix B, 10.7(4)]"]


def test_report_award_added_to_base_pay(tmp_path, capsys):
    """At the job rate (97,703) an award may be paid, but it does not increase base pay (Appendix A)."""
    code, out = _check(tmp_path, capsys, {"march31_salary": 97703, "base_salary_increase": 0, "revised_salary": 97703,
                                          "final_salary_april1": 98903, "performance_award_lump_sum": 1200})
    assert code == 2 and out == [
        "row 1 (line 1): final_salary_april1: reported 98903, but the policy gives 97703: the performance award (1200) "
        "was added to base salary, and a performance award does not increase base pay "
        "[Appendix A, Performance award; Appendix B, 10.7(12)]"]


def test_report_award_at_the_job_rate_in_whole_dollars_passes(tmp_path, capsys):
    code, out = _check(tmp_path, capsys, {"march31_salary": 97703, "base_salary_increase": 0, "revised_salary": 97703,
                                          "final_salary_april1": 97703, "performance_award_lump_sum": 1200})
    assert (code, out) == (0, [])
    code, out = _check(tmp_path, capsys, {"march31_salary": 97703, "base_salary_increase": 0, "revised_salary": 97703,
                                          "final_salary_april1": 97703, "performance_award_lump_sum": 1200.5})
    assert code == 2 and out == [
        "row 1 (line 1): performance_award_lump_sum: reported 1200.5: performance awards are rounded to the nearest "
        "dollar [Appendix B, 10.7(13)]"]


def test_report_unable_to_assess_with_an_increase(tmp_path, capsys):
    """Unable to assess (reason 3: under three months of language training, so 10.7(7) does not
    rate it met most): 0 % and no in-range increase (s. 13, 10.7(1))."""
    code, out = _check(tmp_path, capsys, {"march31_salary": 90000, "rating": 0, "rating_pct": 0, "unable_to_assess_reason": 3,
                                          "base_salary_increase": 900, "revised_salary": 90900, "final_salary_april1": 90900})
    assert code == 2 and out == [
        "row 1 (line 1): final_salary_april1: reported 90900, but the policy gives 90000 (rounded to the nearest $100 "
        "up to the job rate) [Appendix B, 10.7(12)]",
        "row 1 (line 1): base_salary_increase: an in-range increase was reported for a participant who is not "
        "eligible for performance pay [Appendix B, 10.7(1) and 10.7(5) to (8)]"]
