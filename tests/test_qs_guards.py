"""Acquired rights, from the text of the qualification standards (seed 003).

The notes that deem incumbents to meet a standard say for whom: "who do not possess the
education level prescribed above" (AC Note 2, CO Note 1, IT Notes 1-2, PE Note 1, CT-FIN and
CT-IAU Acquired Rights), "who does not meet the requirement for 'eligibility for registration as
a registered nurse ...'" (NU Notes 2-3), "who did not ... possess the minimum formal education
prescribed for their respective group" (the general pre-1999 rights). For each group, four cases
on both sides of that guard:

- a plainly qualified candidate, giving only the facts the seed needs, is met;
- an indeterminate incumbent who lacks the base element is met by the acquired right (or, where
  the seed lost the right's date, stays undetermined and names the lost date);
- an incumbent who already meets the base element is met by the base: the acquired right does
  not apply, so it is not the clause that decides;
- a candidate who is no incumbent and lacks the base element is not met (or undetermined where the
  seed lost part of the base).

Then what the same notes say beyond the guard (NU's second sentences, FS Note 2, the AO-ETP
options, FB's third criterion, BI and CH's lost standards) and the general provisions every group
standard consults: the work-force adjustment acquired rights and foreign credentials.
"""
import pytest

import policyengine

AS_OF = "2024-01-01"


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def incumbency(group, since="1990-01-01", level=1, indeterminate=True):
    return {"group": group, "since": since, "level": level, "indeterminate": indeterminate}


def evaluate(policies, facts, decision="qs.meets_standard"):
    return policies.evaluate(decision, facts, as_of=AS_OF, trace="audit")


def exceptions(decision) -> dict:
    """Each exception the trace shows: True applied, False did not apply, None may apply."""
    found = {}

    def walk(node):
        if node.get("kind") == "exception":
            found[node["id"]] = node.get("outcome")
        for child in node.get("children", []):
            walk(child)
    for node in decision.trace:
        walk(node)
    return found


def gap_rules(decision) -> set:
    return {g["rule"] for g in decision.gaps}


def outcome(decision):
    return decision.status, decision.value


MET, NOT_MET, UNDETERMINED = ("decided", "met"), ("decided", "not_met"), ("undetermined", None)


# -- the guard, group by group ---------------------------------------------------------------
# group: (acquired right's exception id, plainly qualified facts, facts lacking the base element,
#         the incumbency that gives the right, what an incumbent lacking the base gets, and what
#         a non-incumbent lacking it gets)
GUARDED = {
    # AC Note 2: "Indeterminate incumbents of AC positions on [October 1, 1999], who do not
    # possess the education level prescribed above, are deemed to meet ..."
    "AC": ("qs.group.ac.acquired_rights",
           {"level": 1, "education": "degree", "specialization_acceptable": True},
           {"level": 1, "education": "secondary_school_diploma", "certifications": []},
           incumbency("AC", "1999-10-01"), MET, NOT_MET),
    # PE Note 1 (its two dates are lost): "... who do not possess the education level prescribed
    # above, are deemed to meet the minimum education standard ..."
    "PE": ("qs.group.pe.acquired_rights",
           {"education": "degree", "specialization_acceptable": True},
           {"education": "secondary_school_diploma", "alternatives_accepted": False},
           incumbency("PE"), UNDETERMINED, NOT_MET),
    # Pre-1999 Pharmacy and Veterinary Medicine: "who did not, on the dates listed below, possess
    # the minimum formal education prescribed for their respective group" (the date is lost).
    "PH": ("qs.group.ph.acquired_rights",
           {"education": "degree", "specialization_acceptable": True},
           {"education": "two_years_post_secondary", "certifications": []},
           incumbency("PH"), UNDETERMINED, NOT_MET),
    "VM": ("qs.group.vm.acquired_rights",
           {"education": "degree", "specialization_acceptable": True,
            "certifications": ["veterinary_association_eligibility"]},
           {"education": "two_years_post_secondary", "certifications": ["veterinary_association_eligibility"]},
           incumbency("VM"), UNDETERMINED, NOT_MET),
    # NU Notes 2-3: "who does not meet the requirement for 'eligibility for registration as a
    # registered nurse in a province or territory of Canada'" (the dates are lost).
    "NU": ("qs.group.nu.former_pm_note2",
           {"sub_group": "EMA", "certifications": ["registered_nurse"]},
           {"sub_group": "EMA", "certifications": []},
           incumbency("PM"), UNDETERMINED, NOT_MET),
    # CT-FIN Acquired Rights 1: "Indeterminate incumbents of positions in the CT group on
    # September 28, 2023, who do not possess the minimum qualifications prescribed above, remain
    # entitled to ... Incumbents of FI-02 or higher positions are deemed to meet the qualification
    # standard for those levels".  The CT-FIN-02 education option is lost, so a candidate without
    # the CPA eligibility who has no such right stays undetermined.
    "CT-FIN": ("qs.group.ct_fin.conversion_2004",
               {"level": 2, "certifications": ["cpa"]},
               {"level": 2, "certifications": []},
               [incumbency("FI", "2000-01-01", 2), incumbency("CT-FIN", "2005-01-01", 2)], MET, UNDETERMINED),
}


@pytest.mark.parametrize("group", sorted(GUARDED))
def test_a_plainly_qualified_candidate_is_met(policies, group):
    ident, qualified, *_ = GUARDED[group]
    d = evaluate(policies, dict(qualified, group=group))
    assert outcome(d) == MET and d.missing == [] and d.gaps == []


@pytest.mark.parametrize("group", sorted(GUARDED))
def test_an_incumbent_lacking_the_base_element_relies_on_the_acquired_right(policies, group):
    ident, _, lacking, held, expected, _ = GUARDED[group]
    held = held if isinstance(held, list) else [held]
    d = evaluate(policies, dict(lacking, group=group, incumbencies=held))
    assert outcome(d) == expected
    if expected == MET:
        assert exceptions(d)[ident] is True
    else:  # the right's date is lost: the decision names it, and only the gaps
        assert exceptions(d)[ident] is None and d.missing == [] and d.gaps


@pytest.mark.parametrize("group", sorted(GUARDED))
def test_an_incumbent_who_meets_the_base_element_is_met_by_it(policies, group):
    ident, qualified, _, held, *_ = GUARDED[group]
    held = held if isinstance(held, list) else [held]
    d = evaluate(policies, dict(qualified, group=group, incumbencies=held))
    assert outcome(d) == MET and d.gaps == []
    assert exceptions(d)[ident] is False  # "who do not possess ...": the right does not apply


@pytest.mark.parametrize("group", sorted(GUARDED))
def test_a_candidate_who_is_no_incumbent_and_lacks_the_base_element(policies, group):
    *_, expected = GUARDED[group]
    _, _, lacking, *_ = GUARDED[group]
    d = evaluate(policies, dict(lacking, group=group, incumbencies=[]))
    assert outcome(d) == expected


def test_ac_right_needs_the_incumbency_on_october_1_1999(policies):
    lacking = {"group": "AC", "level": 1, "education": "secondary_school_diploma", "certifications": []}
    assert outcome(evaluate(policies, dict(lacking, incumbencies=[incumbency("AC", "1999-10-02")]))) == NOT_MET
    assert outcome(evaluate(policies, dict(lacking, incumbencies=[incumbency("AC", "1990-01-01", 1, False)]))) == NOT_MET


def test_ac_sixty_soa_credits_alone_meet_level_1(policies):
    d = evaluate(policies, {"group": "AC", "level": 1, "certifications": ["soa_60_credits"],
                            "incumbencies": [incumbency("AC")]})
    assert outcome(d) == MET and exceptions(d)["qs.group.ac.acquired_rights"] is False


def test_ct_fin_cpa_eligible_incumbent_is_met_by_the_certification_not_the_conversion(policies):
    d = evaluate(policies, {"group": "CT-FIN", "level": 3, "certifications": ["cpa"],
                            "incumbencies": [incumbency("FI", "1985-01-01", 3), incumbency("CT-FIN", "2010-01-01", 3)]})
    assert outcome(d) == MET
    assert exceptions(d)["qs.group.ct_fin.conversion_2004"] is False
    assert exceptions(d)["qs.group.ct_fin.conversion_1987"] is False


# -- where the education the guard names is lost ---------------------------------------------
def test_it_incumbents_are_met_by_their_acquired_rights(policies):
    """IT Notes 1-2. "The education prescribed above" is lost (line 831), so the guard cannot be
    tested; either way the incumbent meets the standard, and Note 1 makes it hold for every IT
    position (the Note 3 alternative holds for one position only)."""
    base = {"group": "IT", "education": "none", "alternatives_accepted": False}
    d = evaluate(policies, dict(base, incumbencies=[incumbency("IT", "2021-12-09")]))
    assert outcome(d) == MET and exceptions(d)["qs.group.it.acquired_rights_it"] is True
    d = evaluate(policies, dict(base, incumbencies=[incumbency("CS", "1999-05-10")]))
    assert outcome(d) == MET and exceptions(d)["qs.group.it.acquired_rights_cs"] is True
    d = evaluate(policies, dict(base, incumbencies=[]))
    assert outcome(d) == UNDETERMINED and d.gaps and d.missing == []
    d = evaluate(policies, {"group": "IT", "alternatives_accepted": True, "acceptable_combination": True})
    assert outcome(d) == MET


def test_co_incumbents_wait_on_the_lost_date_and_the_alternative_still_meets_it(policies):
    d = evaluate(policies, {"group": "CO", "alternatives_accepted": False, "incumbencies": [incumbency("CO")]})
    assert outcome(d) == UNDETERMINED and "qs.group.co.note1_date" in gap_rules(d)
    d = evaluate(policies, {"group": "CO", "alternatives_accepted": False, "incumbencies": []})
    assert outcome(d) == UNDETERMINED and gap_rules(d) == {"qs.group.co.education.standard"}
    d = evaluate(policies, {"group": "CO", "alternatives_accepted": True, "acceptable_combination": True,
                            "incumbencies": [incumbency("CO")]})
    assert outcome(d) == MET and exceptions(d)["qs.group.co.acquired_rights"] is None  # could not change it


def test_ct_iau_incumbents_on_september_28_2023_are_met(policies):
    d = evaluate(policies, {"group": "CT-IAU", "incumbencies": [incumbency("CT-IAU", "2023-09-28")]})
    assert outcome(d) == MET and exceptions(d)["qs.group.ct_iau.acquired_rights"] is True
    d = evaluate(policies, {"group": "CT-IAU", "incumbencies": [incumbency("CT-IAU", "2023-09-29")]})
    assert outcome(d) == UNDETERMINED and d.gaps


@pytest.mark.parametrize("group", ["FO", "PS", "SG"])
def test_pre_1999_right_on_a_lost_standard_meets_only_the_degree_requirement(policies, group):
    """ "are deemed to meet the requirement for graduation with a degree ... prescribed for that
    group": where the standard is lost, what it asks beyond a degree stays a gap."""
    rule = policies.rules[f"qs.group.{group.lower()}.education"]
    [exc] = rule.versions[0].exceptions
    assert exc.value.source == f"group.{group.lower()}.beyond_degree"
    d = evaluate(policies, {"group": group, "education": "none", "incumbencies": [incumbency(group)]})
    assert outcome(d) == UNDETERMINED and "qs.acquired.pre_1999_cutoff" in gap_rules(d)


def test_ut_note_2_alternative_meets_it_whatever_the_pre_1999_right(policies):
    facts = {"group": "UT", "education": "degree", "specialization_acceptable": True,
             "experience": ["significant_scholarly_contribution"]}
    assert outcome(evaluate(policies, facts)) == MET
    assert outcome(evaluate(policies, dict(facts, incumbencies=[incumbency("UT")]))) == MET


# -- NU: the second sentence of Notes 2 and 3 ------------------------------------------------
def test_nu_ema_appointees_after_the_lost_date_are_covered_and_wait_on_it(policies):
    """ "This note also applies to a person appointed or deployed for an indeterminate period to
    a NU-EMA position after [date] as the result of a staffing transaction started before [date]." """
    d = evaluate(policies, {"group": "NU", "sub_group": "EMA", "certifications": [],
                            "incumbencies": [incumbency("NU-EMA", "2015-01-01")]})
    assert outcome(d) == UNDETERMINED and d.missing == []
    assert gap_rules(d) == {"qs.group.nu.note2_dates", "qs.group.nu.note3_dates"}
    found = exceptions(d)
    assert found["qs.group.nu.ema_appointee_note2"] is None and found["qs.group.nu.ema_appointee_note3"] is None
    d = evaluate(policies, {"group": "NU", "sub_group": "EMA", "certifications": ["registered_nurse"],
                            "incumbencies": [incumbency("NU-EMA", "2015-01-01")]})
    assert outcome(d) == MET and exceptions(d)["qs.group.nu.ema_appointee_note2"] is False


def test_nu_notes_are_for_ema_positions_only(policies):
    d = evaluate(policies, {"group": "NU", "sub_group": "CHN", "certifications": [],
                            "incumbencies": [incumbency("PM"), incumbency("NU-EMA", "2015-01-01")]})
    assert outcome(d) == NOT_MET


# -- FS Note 2 -------------------------------------------------------------------------------
def test_fs_note_2_meets_only_the_degree_requirement(policies):
    """Note 2: converted tourism officers "meet the requirement for graduation with a degree";
    Note 3 shows the lost standard asks for a specialization too. The rest stays a visible gap."""
    d = evaluate(policies, {"group": "FS", "level": 3, "experience": ["fs_tourism_conversion"]})
    assert outcome(d) == UNDETERMINED and d.missing == []
    assert gap_rules(d) == {"qs.group.fs.beyond_degree"}
    assert exceptions(d)["qs.group.fs.note2"] is True
    d = evaluate(policies, {"group": "FS", "level": 3, "education": "degree", "experience": []})
    assert outcome(d) == UNDETERMINED and gap_rules(d) == {"qs.group.fs.education"}
    d = evaluate(policies, {"group": "FS", "level": 1, "competencies": [], "experience": ["fs_tourism_conversion"]})
    assert outcome(d) == NOT_MET


# -- AO-ETP option 2 -------------------------------------------------------------------------
ETP = {"group": "AO", "sub_group": "ETP", "certifications": ["atpl_aeroplane_group1", "rrtoc_aeronautical"],
       "experience": ["experimental_test_pilot_5y"], "incumbencies": []}


def test_ao_etp_option_2_needs_a_degree_in_engineering_not_option_1s_fields(policies):
    """Option 2: "Graduation with a degree in engineering ... or eligibility for certification as
    a professional engineer in Canada; and Minimum of five years ... as an experimental or
    developmental test pilot"."""
    science = dict(ETP, education="degree", specialization_acceptable=True)  # option 1's field, no course
    assert outcome(evaluate(policies, science)) == NOT_MET
    engineering = dict(science, certifications=ETP["certifications"] + ["engineering_degree"])
    assert outcome(evaluate(policies, engineering)) == MET
    p_eng = dict(ETP, education="secondary_school_diploma", certifications=ETP["certifications"] + ["p_eng"])
    assert outcome(evaluate(policies, p_eng)) == MET
    no_years = dict(engineering, experience=[])
    assert outcome(evaluate(policies, no_years)) == NOT_MET


# -- FB Note 1, criterion 3 ------------------------------------------------------------------
@pytest.mark.parametrize("group", ["FB", "GT", "CX"])
def test_an_appointment_on_an_acceptable_combination_is_read_alike(policies, group):
    """FB criterion 3 ("appointed or deployed on an indeterminate basis ... using an acceptable
    combination") is read as GT's and CX's Note 1 read the same words: the basis of a past
    appointment is no fact, so the candidate is assessed on the general alternatives."""
    facts = {"group": group, "education": "none", "acceptable_combination": True, "experience": [],
             "incumbencies": [incumbency(group, "2019-01-01", 3)]}
    assert outcome(evaluate(policies, dict(facts, alternatives_accepted=False))) == NOT_MET
    assert outcome(evaluate(policies, dict(facts, alternatives_accepted=True))) == MET


# -- BI and CH name what the seed lost -------------------------------------------------------
@pytest.mark.parametrize("group", ["BI", "CH"])
def test_bi_and_ch_name_their_lost_standards(policies, group):
    g = group.lower()
    general = f"qs.group.{g}.education.general.standard"
    multi = f"qs.group.{g}.education.multidisciplinary.standard"
    d = evaluate(policies, {"group": group})
    assert outcome(d) == UNDETERMINED and gap_rules(d) == {general, multi}
    d = evaluate(policies, {"group": group, "sub_group": "multidisciplinary"})
    assert outcome(d) == UNDETERMINED and gap_rules(d) == {multi} and d.missing == []
    d = evaluate(policies, {"group": group, "sub_group": "other", "education": "doctorate"})
    assert outcome(d) == UNDETERMINED and gap_rules(d) == {general} and d.missing == []


# -- recovered text is marked ----------------------------------------------------------------
@pytest.mark.parametrize("rule", ["qs.group.ac.education", "qs.group.ag.education", "qs.group.ec.part_a.education",
                                  "qs.group.ec.part_a"])
def test_recovered_text_carries_the_visible_marker(policies, rule):
    text = policies.rules[rule].versions[0].text or policies.rules[rule].text
    assert "[recovered from " in text


# -- work-force adjustment: acquired rights kept through a lay-off ---------------------------
AC_LACKING = {"group": "AC", "level": 1, "education": "secondary_school_diploma", "certifications": [],
              "incumbencies": [incumbency("AC")]}


@pytest.mark.parametrize("layoff, expected", [
    ({"laid_off_on": "2022-01-01", "wfa_option": "option_6_4_1_a", "layoff_priority": True}, MET),
    ({"laid_off_on": "2021-06-21", "wfa_option": "option_6_4_1_c_ii", "layoff_priority": True}, MET),
    ({"laid_off_on": "2021-06-20", "wfa_option": "option_6_4_1_a", "layoff_priority": True}, NOT_MET),
    ({"laid_off_on": "2022-01-01", "wfa_option": "other", "layoff_priority": True}, NOT_MET),
    ({"laid_off_on": "2022-01-01", "wfa_option": "option_6_4_1_a", "layoff_priority": False}, NOT_MET),
    ({}, MET),  # not laid off
])
def test_a_laid_off_incumbent_keeps_the_acquired_right_only_as_the_wfa_provision_says(policies, layoff, expected):
    """ "As of June 21, 2021, all indeterminate incumbents who possess acquired rights at the time
    of being laid-off, as a result of having chosen Option 6.4.1 A ... or 6.4.1 Cii ..., and who
    are entitled to layoff priority, will be entitled to retain their acquired rights, until the
    end of their lay-off priority period." """
    d = evaluate(policies, dict(AC_LACKING, **layoff))
    assert outcome(d) == expected


def test_a_laid_off_incumbent_who_does_not_say_how_names_what_decides(policies):
    d = evaluate(policies, dict(AC_LACKING, laid_off_on="2022-01-01"))
    assert outcome(d) == UNDETERMINED and d.missing == ["layoff_priority", "wfa_option"]


def test_a_qualified_candidate_who_was_laid_off_needs_no_acquired_right(policies):
    d = evaluate(policies, {"group": "AC", "level": 1, "education": "degree", "specialization_acceptable": True,
                            "laid_off_on": "2020-01-01", "incumbencies": [incumbency("AC")]})
    assert outcome(d) == MET


@pytest.mark.parametrize("group, facts, ident", [
    ("IT", {"education": "none", "alternatives_accepted": False, "incumbencies": [incumbency("IT", "2020-01-01")]},
     "qs.group.it.acquired_rights_it"),
    ("CT-IAU", {"incumbencies": [incumbency("CT-IAU", "2020-01-01")]}, "qs.group.ct_iau.acquired_rights"),
    ("CR", {"education": "none", "acceptable_combination": False, "competencies": ["gspat_120"],
            "incumbencies": [incumbency("CM", "2020-01-01")]}, "qs.group.cr.acquired_rights"),
    ("EX", {"level": 2, "competencies": [], "experience": [], "incumbencies": [incumbency("EX", "2010-01-01", 2)]},
     "qs.group.ex.note1"),
    ("TR", {"alternatives_accepted": False, "incumbencies": [incumbency("TR", "2010-01-01")]},
     "qs.group.tr.note1_incumbent"),
])
def test_every_acquired_right_consults_the_wfa_provision(policies, group, facts, ident):
    kept = dict(facts, group=group, laid_off_on="2022-03-01", wfa_option="option_6_4_1_a", layoff_priority=True)
    lost = dict(kept, layoff_priority=False)
    assert exceptions(evaluate(policies, kept))[ident] is True
    assert exceptions(evaluate(policies, lost))[ident] is False


# -- foreign credentials ---------------------------------------------------------------------
PE_DEGREE = {"group": "PE", "education": "degree", "specialization_acceptable": True,
             "alternatives_accepted": False, "incumbencies": []}


@pytest.mark.parametrize("credentials, expected", [
    ({}, MET),  # education obtained in Canada: the case need not say so
    ({"foreign_credentials": False}, MET),
    ({"foreign_credentials": True, "credentials_assessed_comparable": True}, MET),
    ({"foreign_credentials": True, "credentials_assessed_comparable": False}, NOT_MET),
])
def test_a_foreign_degree_counts_once_assessed_comparable(policies, credentials, expected):
    """ "The employer recognizes foreign education credentials as long as a recognized credential
    assessment service has deemed them comparable to Canadian standards." """
    assert outcome(evaluate(policies, dict(PE_DEGREE, **credentials))) == expected


def test_a_foreign_degree_without_the_assessment_names_it(policies):
    d = evaluate(policies, dict(PE_DEGREE, foreign_credentials=True))
    assert outcome(d) == UNDETERMINED and d.missing == ["credentials_assessed_comparable"]


@pytest.mark.parametrize("group", ["CR", "AS", "EL"])
def test_every_level_of_education_is_read_through_the_provision(policies, group):
    facts = {"group": group, "education": "two_years_post_secondary", "foreign_credentials": True,
             "credentials_assessed_comparable": False, "alternatives_accepted": False,
             "acceptable_combination": False, "experience": ["as_field"], "incumbencies": [],
             "competencies": [], "specialization_acceptable": True}
    assert outcome(evaluate(policies, facts)) == NOT_MET
    assert outcome(evaluate(policies, dict(facts, credentials_assessed_comparable=True))) == MET


def test_an_unrecognized_foreign_degree_is_not_possessed_so_the_acquired_right_applies(policies):
    d = evaluate(policies, {"group": "AC", "level": 1, "education": "degree", "specialization_acceptable": True,
                            "foreign_credentials": True, "credentials_assessed_comparable": False,
                            "certifications": [], "incumbencies": [incumbency("AC")]})
    assert outcome(d) == MET and exceptions(d)["qs.group.ac.acquired_rights"] is True
