"""The LDP public decisions apply every clause of the directive that changes them (issue 11,
items 2 and 5): 10.7(5) to (8) and Appendix C 3.4 / 3.4.1 in ldp.performance_pay and
ldp.performance_award, C 1.1 (second bullet) in ldp.termination.time_limit_reached, 8.1 in
ldp.graduation.eligible, C 3.3 in ldp.promotion.eligible.

Main cases give every fact, so nothing is presumed; the tests named test_presumed_* are those
that rest on the facts' presumptions (fact not given: decided, listed in d.assumptions;
presume=False: undetermined, the fact missing).

Figures are the seed's: on April 1, 2009 performance pay uses the rates in force since
2008-04-02 (10.7(9)), when the PL-06 range is 87,911 to 97,703 and PL-05 is 77,694 / 80,781 /
83,974 (Appendix B, 12).
"""
from decimal import Decimal

import pytest

import policyengine

AS_OF = "2009-04-01"
# 10.7(5), (6), (8) all given: employed and at work on April 1, in the PL group the whole cycle,
# a signed Assignment Plan and Review, no leave without pay for the full fiscal year
AT_WORK = {"signed_assignment_plan": True, "employed_on_april_1": True, "lwop_on_april_1": False,
           "died_before_april_1": False, "in_pl_whole_cycle": True, "lwop_full_fiscal_year": False,
           "salary_protected_into_pl": False}
TRANSITION_CAP = {"program": "CAP", "appointment_date": "2006-04-01"}  # Appendix C, 1.1, third bullet
LATER_CAP = {"program": "CAP", "appointment_date": "2006-04-02"}
PRESUMED_PAY = {"signed_assignment_plan", "employed_on_april_1", "lwop_on_april_1", "died_before_april_1",
                "in_pl_whole_cycle", "lwop_full_fiscal_year", "salary_protected_into_pl"}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def pay(policies, decision="ldp.performance_pay", as_of=AS_OF, presume=True, **facts):
    return policies.evaluate(decision, facts, as_of=as_of, presume=presume)


def refused_by(d):
    return [m["clause"] for m in d.messages if m["kind"] == "refused"]


# -- the seed's PL-06 range, which the cases below rely on --------------------------------------------

def test_pl06_range_in_force_on_april_1_2009(policies):
    d = policies.evaluate("ldp.pay.salary_range", {"level": "PL-06"}, as_of=AS_OF)
    assert d.value == {"minimum": Decimal("87911"), "maximum": Decimal("97703")}


# -- Appendix C, 3.4 and 3.4.1: the previous salary administration plan's scale -----------------------

@pytest.mark.parametrize("appointed, status, value, clauses", [
    # covered (appointed on or before 2006-04-01): met all up to 8 %; 89,000 x 1.08 = 96,120 -> 96,100
    ("2006-04-01", "decided", {"eligible": True, "new_salary": Decimal("96100"), "increase": Decimal("7100"),
                                "award_eligible": False}, ["ldp.C.3.4", "ldp.C.3.4.1", "ldp.C.1.1"]),
    # not covered: s. 13 sets met all at exactly 5 %
    ("2006-04-02", "refused", None, ["ldp.B.13"]),
])
def test_met_all_8_percent_either_side_of_the_transition_date(policies, appointed, status, value, clauses):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=8, program="CAP",
            appointment_date=appointed, **AT_WORK)
    assert (d.status, d.value) == (status, value)
    assert d.assumptions == []
    if status == "decided":
        assert set(clauses) <= set(d.clauses)
    else:
        assert refused_by(d) == clauses


def test_transition_cap_above_the_previous_scale_is_refused_citing_c_3_4_1(policies):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=Decimal("8.5"), **TRANSITION_CAP,
            **AT_WORK)
    assert d.status == "refused" and refused_by(d) == ["ldp.C.3.4.1"]
    [m] = d.messages
    assert m["citation"] == "Appendix C, 3.4.1"
    assert "previous salary administration plan" in m["en"] and "régime d'administration de la rémunération" in m["fr"]


def test_transition_cap_6_percent_met_all_is_no_longer_refused(policies):
    """The issue's case: a transition CAP participant's 6 % "met all" (89,000 -> 94,340 -> 94,300)."""
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=6, **TRANSITION_CAP, **AT_WORK)
    assert d.status == "decided" and d.value["new_salary"] == Decimal("94300")


def test_non_transition_pl06_met_all_6_percent_is_refused_citing_s_13(policies):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=6, program="CAP",
            appointment_date="2007-01-15", **AT_WORK)
    assert d.status == "refused" and refused_by(d) == ["ldp.B.13"]
    assert d.messages[0]["citation"] == "Appendix B, 13"


@pytest.mark.parametrize("rating, allowed, new_salary, over", [
    ("met_most", 6, "93300", "6.01"),     # 88,000 x 1.06 = 93,280 -> 93,300 (10.7(12))
    ("met_all", 8, "95000", "8.01"),      # 88,000 x 1.08 = 95,040 -> 95,000
    ("surpassed", 10, "96800", "10.01"),  # 88,000 x 1.10 = 96,800
])
def test_previous_scale_maxima(policies, rating, allowed, new_salary, over):
    ok = pay(policies, level="PL-06", salary=88000, rating=rating, increase_pct=allowed, **TRANSITION_CAP, **AT_WORK)
    assert ok.status == "decided" and ok.value["new_salary"] == Decimal(new_salary)
    no = pay(policies, level="PL-06", salary=88000, rating=rating, increase_pct=Decimal(over), **TRANSITION_CAP,
             **AT_WORK)
    assert no.status == "refused" and refused_by(no) == ["ldp.C.3.4.1"]


def test_previous_scale_sets_no_floor(policies):
    """Reading of C 3.4.1: "up to" gives maxima only; 0 % is within every rating's range there."""
    d = pay(policies, level="PL-06", salary=89000, rating="surpassed", increase_pct=0, **TRANSITION_CAP, **AT_WORK)
    assert d.status == "decided" and d.value["new_salary"] == Decimal("89000")
    s13 = pay(policies, level="PL-06", salary=89000, rating="surpassed", increase_pct=0, **LATER_CAP, **AT_WORK)
    assert s13.status == "refused" and refused_by(s13) == ["ldp.B.13"]  # s. 13: surpassed is 6 % to 7 %


def test_unknown_transition_status_is_undetermined_when_the_scales_disagree(policies):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=7, **AT_WORK)
    assert d.status == "undetermined" and {"program", "appointment_date"} <= set(d.missing)
    agree = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5, **AT_WORK)
    assert agree.status == "decided" and agree.value["new_salary"] == Decimal("93500")


def test_transition_cap_at_pl05_has_performance_pay_up_to_the_pl05_job_rate(policies):
    d = pay(policies, level="PL-05", salary=80781, rating="met_all", increase_pct=8, program="CAP",
            appointment_date="2005-01-10", **AT_WORK)
    assert d.value == {"eligible": True, "new_salary": Decimal("83974"), "increase": Decimal("3193"),
                       "award_eligible": True}
    later = pay(policies, level="PL-05", salary=80781, rating="met_all", increase_pct=5, **LATER_CAP, **AT_WORK)
    assert later.value["eligible"] is False and later.value["new_salary"] == Decimal("80781")


def test_transition_cap_award_uses_the_previous_scale(policies):
    d = pay(policies, "ldp.performance_award", level="PL-06", salary=97703, rating="met_all", increase_pct=8,
            award_amount=Decimal("1500.40"), **TRANSITION_CAP, **AT_WORK)
    assert d.value == Decimal("1500")
    later = pay(policies, "ldp.performance_award", level="PL-06", salary=97703, rating="met_all", increase_pct=8,
                award_amount=1500, **LATER_CAP, **AT_WORK)
    assert later.status == "refused" and refused_by(later) == ["ldp.B.13"]


# -- 10.7(5) to (8) in ldp.performance_pay --------------------------------------------------------------

@pytest.mark.parametrize("months, eligible", [(3, False), (Decimal("3.01"), True)])
def test_not_in_pl_whole_cycle_needs_more_than_three_months(policies, months, eligible):
    d = pay(policies, level="PL-06", salary=90000, rating="met_all", increase_pct=5,
            **{**AT_WORK, "in_pl_whole_cycle": False, "months_on_strength": months})
    assert d.value["eligible"] is eligible
    assert d.value["new_salary"] == (Decimal("94500") if eligible else Decimal("90000"))
    assert "ldp.B.10.7.6" in d.clauses


@pytest.mark.parametrize("months, eligible", [(3, False), (Decimal("3.01"), True)])
def test_lwop_on_april_1_needs_more_than_three_months_on_strength(policies, months, eligible):
    d = pay(policies, level="PL-06", salary=90000, rating="met_all", increase_pct=5,
            **{**AT_WORK, "lwop_on_april_1": True, "months_on_strength": months})
    assert d.value["eligible"] is eligible and "ldp.B.10.7.5" in d.clauses


@pytest.mark.parametrize("full_year, eligible", [(True, False), (False, True)])
def test_lwop_for_the_full_fiscal_year(policies, full_year, eligible):
    d = pay(policies, level="PL-06", salary=90000, rating="met_all", increase_pct=5,
            **{**AT_WORK, "lwop_full_fiscal_year": full_year})
    assert d.value["eligible"] is eligible
    assert d.value["new_salary"] == (Decimal("94500") if eligible else Decimal("90000"))
    assert "ldp.B.10.7.8" in d.clauses


def test_no_signed_plan_no_performance_pay_nor_award(policies):
    d = pay(policies, level="PL-06", salary=97703, rating="met_all", increase_pct=5,
            **{**AT_WORK, "signed_assignment_plan": False})
    assert d.value == {"eligible": False, "new_salary": Decimal("97703"), "increase": Decimal("0"),
                       "award_eligible": False}
    award = pay(policies, "ldp.performance_award", level="PL-06", salary=97703, rating="met_all", increase_pct=5,
                award_amount=1200, **{**AT_WORK, "signed_assignment_plan": False})
    assert award.value == Decimal("0")


def test_died_before_april_1(policies):
    died = {**AT_WORK, "employed_on_april_1": False, "died_before_april_1": True}
    assert pay(policies, level="PL-06", salary=90000, rating="met_all", increase_pct=5,
               on_strength_sufficient_period=True, **died).value["eligible"] is True
    assert pay(policies, level="PL-06", salary=90000, rating="met_all", increase_pct=5,
               on_strength_sufficient_period=False, **died).value["eligible"] is False


# -- 10.7(7): language training of three months or more is rated met most -----------------------------

@pytest.mark.parametrize("months, status, new_salary", [(3, "decided", Decimal("93600")),
                                                         (Decimal("2.9"), "refused", None)])
def test_language_training_rated_met_most(policies, months, status, new_salary):
    """Unable to assess, 4 %: with three months of language training the rating is met most
    (0 % to 4 %, s. 13); with 2.9 it stays unable to assess (0 %)."""
    d = pay(policies, level="PL-06", salary=90000, rating="unable_to_assess", increase_pct=4,
            months_on_language_training=months, **LATER_CAP, **AT_WORK)
    assert d.status == status
    if new_salary:
        assert d.value["eligible"] is True and d.value["new_salary"] == new_salary
        assert "ldp.B.10.7.7" in d.clauses
    else:
        assert refused_by(d) == ["ldp.B.13"]


def test_language_training_met_most_on_the_previous_scale(policies):
    d = pay(policies, level="PL-06", salary=90000, rating="unable_to_assess", increase_pct=6,
            months_on_language_training=4, **TRANSITION_CAP, **AT_WORK)
    assert d.status == "decided" and d.value["new_salary"] == Decimal("95400")


def test_an_assessed_did_not_meet_stands_despite_language_training(policies):
    d = pay(policies, "ldp.performance_pay.eligible", level="PL-06", rating="did_not_meet", months_on_language_training=6)
    assert d.value is False


# -- C 1.1, second bullet: MTP candidates' 48 months ---------------------------------------------------

@pytest.mark.parametrize("started, months, reached, clause", [
    ("2006-04-01", 40, False, "ldp.C.2.1"),
    ("2006-04-01", 48, True, "ldp.C.2.1"),
    ("2006-04-02", 40, True, "ldp.B.9.1"),
    ("2006-04-02", 36, True, "ldp.B.9.1"),
])
def test_mtp_candidate_language_training_start(policies, started, months, reached, clause):
    d = policies.evaluate("ldp.termination.time_limit_reached",
                          {"program": "MTP", "appointment_date": "2006-09-01", "language_training_start": started,
                           "months_of_assignment_time": months}, as_of="2011-06-01")
    assert d.value is reached and clause in d.clauses
    covered = policies.evaluate("ldp.transition.covered", {"program": "MTP", "appointment_date": "2006-09-01",
                                                           "language_training_start": started}, as_of="2011-06-01")
    assert covered.value is (started == "2006-04-01")  # the project's own reading of C 1.1 agrees


def test_mtp_appointed_after_the_transition_without_a_training_date(policies):
    """A participant who never was a candidate on language training has no date to give: C 1.1's
    second bullet is then answered by a stated presumption (not one of that transitional class)."""
    facts = {"program": "MTP", "appointment_date": "2006-09-01", "months_of_assignment_time": 40}
    d = policies.evaluate("ldp.termination.time_limit_reached", facts, as_of="2010-06-01")
    assert (d.value, [(a["fact"], a["value"], a["citation"]) for a in d.assumptions]) == (
        True, [("candidate_training_by_april_2006", False, "Appendix C, 1.1")])  # 40 >= 36 (9.1)
    strict = policies.evaluate("ldp.termination.time_limit_reached", facts, as_of="2010-06-01", presume=False)
    assert strict.status == "undetermined" and strict.missing == ["candidate_training_by_april_2006"]
    covered = policies.evaluate("ldp.termination.time_limit_reached",
                                {**facts, "candidate_training_by_april_2006": True}, as_of="2010-06-01")
    assert (covered.value, covered.assumptions) == (False, [])  # 40 < 48 (C 2.1)


# -- 8.1 in graduation --------------------------------------------------------------------------------

GRADUATE = {"program": "CAP", "level": "PL-06", "meets_cbc": True, "educational_component_completed": True,
            "objectives_attained": True, "home_requirements_met": True, "accepted_offer_outside_pl": True,
            "months_in_assignments": 30}


@pytest.mark.parametrize("days, made_up, graduates", [(61, False, False), (61, True, True), (60, False, True)])
def test_graduation_extended_leave_made_up(policies, days, made_up, graduates):
    d = policies.evaluate("ldp.graduation.eligible",
                          {**GRADUATE, "leave_working_days": days, "extended_leave_made_up": made_up}, as_of="2010-06-01")
    assert d.value is graduates and d.assumptions == []
    if not graduates:
        assert {"ldp.B.8.1", "ldp.A.extended_leave"} <= set(d.clauses)


# -- C 3.3 in promotion ---------------------------------------------------------------------------------

def test_cap_promotion_without_appointment_date_is_undetermined_not_false(policies):
    d = policies.evaluate("ldp.promotion.eligible", {"program": "CAP", "meets_cbc": False, "last_rating": "met_all"},
                          as_of="2008-01-01")
    assert d.status == "undetermined" and d.missing == ["appointment_date"]


@pytest.mark.parametrize("appointed, eligible", [("2006-04-01", True), ("2006-04-02", False)])
def test_cap_promotion_language_exemption_by_appointment_date(policies, appointed, eligible):
    d = policies.evaluate("ldp.promotion.eligible", {"program": "CAP", "appointment_date": appointed, "meets_cbc": False,
                                                     "last_rating": "met_all"}, as_of="2008-01-01")
    assert d.value is eligible
    if eligible:
        assert {"ldp.C.3.3", "ldp.C.1.1"} <= set(d.clauses)


# -- presumptions ------------------------------------------------------------------------------------

def test_presumed_performance_pay_with_the_contract_facts_only(policies):
    """The public contract's four facts: the rest of 10.7(5), (6), (8) is presumed, and listed."""
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5)
    assert d.status == "decided"
    assert d.value == {"eligible": True, "new_salary": Decimal("93500"), "increase": Decimal("4500"),
                       "award_eligible": False}
    assert {a["fact"] for a in d.assumptions} == PRESUMED_PAY
    by_fact = {a["fact"]: a for a in d.assumptions}
    assert by_fact["signed_assignment_plan"]["value"] is True
    assert by_fact["signed_assignment_plan"]["citation"] == "Appendix B, 10.7(5)"
    assert by_fact["signed_assignment_plan"]["clause"] == "ldp.B.10.7.5"
    assert by_fact["lwop_full_fiscal_year"]["value"] is False
    assert by_fact["lwop_full_fiscal_year"]["clause"] == "ldp.B.10.7.8"
    assert by_fact["in_pl_whole_cycle"]["clause"] == "ldp.B.10.7.6"
    for a in d.assumptions:
        assert a["reason"]["en"] and a["reason"]["fr"]


def test_presumed_performance_pay_strictly_is_undetermined(policies):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5, presume=False)
    assert d.status == "undetermined" and d.assumptions == []
    assert PRESUMED_PAY <= set(d.missing)


def test_presumed_facts_given_win(policies):
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5, lwop_full_fiscal_year=True)
    assert d.value["eligible"] is False
    assert "lwop_full_fiscal_year" not in {a["fact"] for a in d.assumptions}
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5, in_pl_whole_cycle=False,
            months_on_strength=3)
    assert d.value["eligible"] is False  # 10.7(6): not more than three months


def test_presumed_only_what_is_read(policies):
    """More than three months on strength given: 10.7(6) holds without presuming the whole cycle."""
    d = pay(policies, level="PL-06", salary=89000, rating="met_all", increase_pct=5, months_on_strength=12)
    assert d.value["eligible"] is True
    assert "in_pl_whole_cycle" not in {a["fact"] for a in d.assumptions}
    no = pay(policies, level="PL-06", salary=89000, rating="did_not_meet", increase_pct=0)
    assert no.value["eligible"] is False and no.assumptions == []  # 10.7(1) decides first


def test_presumed_performance_award(policies):
    d = pay(policies, "ldp.performance_award", level="PL-06", salary=97703, rating="met_all", increase_pct=5,
            award_amount=Decimal("1234.50"))
    assert d.value == Decimal("1235") and {a["fact"] for a in d.assumptions} == PRESUMED_PAY
    strict = pay(policies, "ldp.performance_award", level="PL-06", salary=97703, rating="met_all", increase_pct=5,
                 award_amount=Decimal("1234.50"), presume=False)
    assert strict.status == "undetermined" and "signed_assignment_plan" in strict.missing


def test_presumed_graduation_extended_leave_made_up(policies):
    d = policies.evaluate("ldp.graduation.eligible", GRADUATE, as_of="2010-06-01")
    assert d.value is True
    [a] = d.assumptions
    assert (a["fact"], a["value"], a["citation"], a["clause"]) == ("extended_leave_made_up", True, "Appendix B, 8.1",
                                                                   "ldp.B.8.1")
    strict = policies.evaluate("ldp.graduation.eligible", GRADUATE, as_of="2010-06-01", presume=False)
    assert strict.status == "undetermined" and strict.missing == ["extended_leave_made_up", "leave_working_days"]


def test_presumed_not_used_where_extended_leave_is_given(policies):
    d = policies.evaluate("ldp.graduation.eligible", {**GRADUATE, "leave_working_days": 61}, as_of="2010-06-01")
    assert d.value is True and [a["fact"] for a in d.assumptions] == ["extended_leave_made_up"]
    d = policies.evaluate("ldp.graduation.eligible", {**GRADUATE, "leave_working_days": 30}, as_of="2010-06-01")
    assert d.value is True and d.assumptions == []


# -- 10.8(4): salary protected on appointment to the PL group: PL performance pay not applicable ----------
@pytest.mark.parametrize("facts, eligible, assumed", [
    ({"salary_protected_into_pl": True}, False, []),
    ({"substantive_job_rate": 99170}, False, []),   # above the PL-06 job rate of 2008-04-02 (97,703): 10.8(2)
    ({"substantive_job_rate": 97703}, True, []),    # not above it: not protected
    ({}, True, ["salary_protected_into_pl"]),       # neither given: presumed not protected
])
def test_salary_protected_into_pl_has_no_pl_performance_pay(policies, facts, eligible, assumed):
    base = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5, "program": "CAP",
            "appointment_date": "2007-01-15", "signed_assignment_plan": True, "employed_on_april_1": True,
            "lwop_on_april_1": False, "died_before_april_1": False, "in_pl_whole_cycle": True,
            "lwop_full_fiscal_year": False}
    d = policies.evaluate("ldp.performance_pay", {**base, **facts}, as_of="2009-04-01")
    assert d.status == "decided" and d.value["eligible"] is eligible
    assert d.value["new_salary"] == (93500 if eligible else 89000)
    assert [a["fact"] for a in d.assumptions] == assumed
    if not eligible:
        assert "ldp.B.10.8.4" in d.clauses
