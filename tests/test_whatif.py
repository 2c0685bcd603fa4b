"""What would change a negative answer (tools/whatif.py), on the bundled policies.

Every counterfactual is checked against the engine itself: the case as given is negative,
the case with the reported changes gives the answer wanted, and no reported set of
changes contains another.  Budgets are generous but every search here finishes in far less.
"""
import datetime as dt
import json

import pytest

import policyengine
from policyengine.tools.whatif import counterfactuals, parse_keep, render_html, render_text

BUDGET = 20.0  # far above what these searches take: results must not depend on the machine's load


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def changed(w, cf, facts):
    """The case's facts with a counterfactual's changes applied."""
    out = dict(facts)
    out.update({c.fact: c.after for c in cf.changes})
    return out


def check(policies, w, facts, wanted):
    """Each counterfactual turns the answer (evaluated anew), and each set is minimal."""
    d = policies.evaluate(w.decision, facts, w.as_of)
    assert d.status != "decided" or d.value != wanted
    sets = [frozenset(c.fact for c in cf.changes) for cf in w.counterfactuals]
    for cf in w.counterfactuals:
        after = policies.evaluate(w.decision, changed(w, cf, facts), w.as_of)
        assert (after.status, after.value) == ("decided", wanted), cf
        assert (cf.status, cf.value) == ("decided", wanted)
        for c in cf.changes:
            assert c.before != c.after
            assert c.clause is not None and c.clause.get("citation"), c
    for a in sets:
        assert not any(b < a for b in sets), f"{sorted(a)} contains another reported set"
    assert len(set(sets)) == len(sets)
    assert w.complete
    return {s: cf for s, cf in zip(sets, w.counterfactuals)}


def one(found, *names):
    return found[frozenset(names)]


# -- LDP promotion (Appendix B, 6.1) -------------------------------------------------------------
PROMOTION = {"program": "MTP", "meets_cbc": True, "months_in_assignments": 9, "last_rating": "met_most"}


def test_promotion_short_of_months(policies):
    w = counterfactuals(policies, "ldp.promotion.eligible", PROMOTION, "2009-05-15", budget_s=BUDGET)
    found = check(policies, w, PROMOTION, True)
    months = one(found, "months_in_assignments").changes[0]
    assert (months.before, months.after) == (9, 12)  # the threshold itself, not a sweep over numbers
    assert months.clause["id"] == "ldp.promotion.eligible.assignment_months"
    assert months.clause["citation"] == "Appendix B, 6.1"
    assert months.requirement["op"] == ">=" and months.requirement["value"] == 12
    assert months.label["en"] == "Months completed in assignments"
    text = render_text(w, "en")
    assert ("needs at least 12 months for “MTP: at least 12 months in assignments” (Appendix B, 6.1): "
            "Months completed in assignments, has 9 → 12 (3 more months)") in text


def test_promotion_time_answer(policies):
    """Only time is missing: the date from which the answer turns, if nothing else changes."""
    w = counterfactuals(policies, "ldp.promotion.eligible", PROMOTION, "2009-05-15", budget_s=BUDGET)
    t = w.time
    assert t is not None and t.date == dt.date(2009, 8, 15)
    assert [(c.fact, c.before, c.after) for c in t.advanced] == [("months_in_assignments", 9, 12)]
    assert "Eligible for promotion from 2009-08-15 if nothing else changes" in render_text(w, "en")
    assert "Admissible à une promotion à compter du 2009-08-15 si rien d'autre ne change" in render_text(w, "fr")
    day_before = dict(PROMOTION, months_in_assignments="11.9677")  # 9 + 2 months + 30/31 of a month
    assert policies.evaluate("ldp.promotion.eligible", day_before, "2009-08-14").value is False
    assert policies.evaluate("ldp.promotion.eligible", dict(PROMOTION, months_in_assignments=12),
                             "2009-08-15").value is True


def test_promotion_short_of_months_and_rating(policies):
    facts = dict(PROMOTION, last_rating="did_not_meet")
    w = counterfactuals(policies, "ldp.promotion.eligible", facts, "2009-05-15", budget_s=BUDGET)
    found = check(policies, w, facts, True)
    both = one(found, "last_rating", "months_in_assignments")
    by_fact = {c.fact: c for c in both.changes}
    assert by_fact["last_rating"].after == "met_most"  # the nearest rating that meets "at least met most"
    assert by_fact["last_rating"].clause["id"] == "ldp.promotion.eligible.rating"
    assert by_fact["months_in_assignments"].clause["id"] == "ldp.promotion.eligible.assignment_months"
    assert frozenset(["months_in_assignments"]) not in found  # one change alone does not do it
    assert w.time is None  # the rating does not change with time


def test_keep_is_respected(policies):
    facts = dict(PROMOTION, last_rating="did_not_meet")
    free = counterfactuals(policies, "ldp.promotion.eligible", facts, "2009-05-15", budget_s=BUDGET)
    assert any("program" in {c.fact for c in cf.changes} for cf in free.counterfactuals)
    kept = counterfactuals(policies, "ldp.promotion.eligible", facts, "2009-05-15", keep="program,last_rating",
                           budget_s=BUDGET)
    assert kept.keep == ("program", "last_rating")
    assert all(c.fact not in ("program", "last_rating") for cf in kept.counterfactuals for c in cf.changes)
    assert kept.counterfactuals == [] and kept.note == "none_found"
    assert "Kept as they are: program, last_rating" in render_text(kept, "en")


def test_keep_freezes_clocks(policies):
    w = counterfactuals(policies, "ldp.promotion.eligible", PROMOTION, "2009-05-15", keep=["months_in_assignments"],
                        budget_s=BUDGET)
    assert w.time is None
    assert all(c.fact != "months_in_assignments" for cf in w.counterfactuals for c in cf.changes)


def test_parse_keep():
    assert parse_keep("level, rating") == ("level", "rating")
    assert parse_keep(["level", "rating,level"]) == ("level", "rating")
    assert parse_keep(None) == ()


# -- LDP graduation (Appendix B, 7.1, 7.3) ---------------------------------------------------------
GRADUATION = {"program": "MTP", "level": "PL-02", "educational_component_completed": True, "meets_cbc": True,
              "objectives_attained": True, "home_requirements_met": True, "accepted_offer_outside_pl": False,
              "months_in_assignments": 20}


def test_graduation(policies):
    w = counterfactuals(policies, "ldp.graduation.eligible", GRADUATION, "2009-05-15", budget_s=BUDGET)
    found = check(policies, w, GRADUATION, True)
    mtp = {c.fact: c for c in one(found, "accepted_offer_outside_pl", "level", "months_in_assignments").changes}
    assert mtp["level"].after == "PL-03"
    assert mtp["months_in_assignments"].after == 24
    assert mtp["months_in_assignments"].clause["citation"] == "Appendix B, 7.3"
    assert mtp["accepted_offer_outside_pl"].clause["label"]["en"] == "Accepted a job offer outside the PL group"
    cap = {c.fact: c for c in one(found, "accepted_offer_outside_pl", "level", "program").changes}
    assert (cap["program"].after, cap["level"].after) == ("CAP", "PL-06")  # CAP needs only 12 months
    assert cap["level"].requirement == {"op": "==", "value": "PL-06",
                                        "expression": cap["level"].requirement["expression"]}
    assert all(len(cf.changes) == 3 for cf in w.counterfactuals)


def test_graduation_with_level_and_program_kept(policies):
    w = counterfactuals(policies, "ldp.graduation.eligible", GRADUATION, "2009-05-15", keep=("level", "program"),
                        budget_s=BUDGET)
    assert w.counterfactuals == [] and w.time is None and w.complete
    assert w.note == "none_found"
    assert "No set of up to 3 fact changes turns the answer" in render_text(w, "en")


# -- LDP termination (Appendix B, 9.1; Appendix C, 2.1) ---------------------------------------------
def test_termination_time_limit(policies):
    facts = {"program": "CAP", "appointment_date": "2007-01-01", "months_of_assignment_time": 30}
    w = counterfactuals(policies, "ldp.termination.time_limit_reached", facts, "2008-03-01", budget_s=BUDGET)
    found = check(policies, w, facts, True)
    months = one(found, "months_of_assignment_time").changes[0]
    assert months.after == 36 and months.clause["citation"] == "Appendix B, 9.1"
    t = w.time
    assert t.date == dt.date(2008, 9, 1)
    assert [(c.fact, c.after) for c in t.advanced] == [("months_of_assignment_time", 36)]
    assert policies.evaluate(w.decision, dict(facts, months_of_assignment_time=36), t.date).value is True
    before = dict(facts, months_of_assignment_time="35.9666")
    assert policies.evaluate(w.decision, before, t.date - dt.timedelta(days=1)).value is False
    assert "Program time limit reached from 2008-09-01 if nothing else changes" in render_text(w, "en")


def test_termination_under_the_transition_exception(policies):
    """A participant covered by Appendix C has 48 months: the change meets the exception's value."""
    facts = {"program": "MTP", "appointment_date": "2005-01-01", "months_of_assignment_time": 40}
    w = counterfactuals(policies, "ldp.termination.time_limit_reached", facts, "2008-03-01", budget_s=BUDGET)
    found = check(policies, w, facts, True)
    months = one(found, "months_of_assignment_time").changes[0]
    assert months.after == 48
    assert months.clause["citation"] == "Appendix C, 2.1" and months.requirement["value"] == 48
    date = one(found, "appointment_date").changes[0]
    assert date.after == dt.date(2006, 4, 2)  # the day after the cut-off: no longer covered, 36 months apply
    assert date.clause["kind"] == "exception" and date.clause["outcome"] is False
    assert "no longer under “Transition (MTP): four years" in render_text(w, "en")
    assert w.time.date == dt.date(2008, 11, 1)


# -- CAP eligibility ("Who qualifies?") -------------------------------------------------------------------
CAP = {"levels_below_ex": 3, "ex_equivalent": False, "has_degree_or_equivalent": True,
       "has_management_experience": True, "high_performance": True, "meets_cbc": False,
       "willing_to_obtain_cbc": True, "willing_to_relocate": True, "capacity_ex01_within_3_years": True,
       "security_clearance": "reliability"}


def test_cap_failing_criterion(policies):
    w = counterfactuals(policies, "cap.eligible", CAP, "2024-01-01", budget_s=BUDGET)
    found = check(policies, w, CAP, True)
    assert list(found) == [frozenset(["security_clearance"])]
    c = found[frozenset(["security_clearance"])].changes[0]
    assert c.after == "enhanced_reliability" and c.alternatives == ["secret", "top_secret"]
    assert c.clause["citation"] == "Who qualifies?, bullet 7"
    assert w.time is None  # nothing in CAP eligibility turns with time


def test_cap_two_failing_criteria_and_a_threshold(policies):
    facts = dict(CAP, levels_below_ex=4, willing_to_obtain_cbc=False, security_clearance="secret")
    w = counterfactuals(policies, "cap.eligible", facts, "2024-01-01", budget_s=BUDGET)
    found = check(policies, w, facts, True)
    assert frozenset(["levels_below_ex", "meets_cbc"]) in found
    lv = {c.fact: c for c in found[frozenset(["levels_below_ex", "meets_cbc"])].changes}["levels_below_ex"]
    assert (lv.before, lv.after) == (4, 3) and lv.requirement["op"] == "<="
    assert frozenset(["ex_equivalent", "willing_to_obtain_cbc"]) in found


# -- QS, through qs.meets_standard ---------------------------------------------------------------------
def test_qs_pe_without_the_degree(policies):
    """PE: no degree, but Note 3's acceptable combination would satisfy the standard."""
    facts = {"group": "PE", "education": "two_years_post_secondary", "alternatives_accepted": True,
             "acceptable_combination": False, "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", keep="group", budget_s=BUDGET)
    found = check(policies, w, facts, "met")
    c = one(found, "acceptable_combination").changes[0]
    assert c.after is True and c.clause["citation"] == "Personnel Administration (PE), Note 3"
    degree = {c.fact: c for c in one(found, "education", "specialization_acceptable").changes}
    assert degree["education"].after == "degree"


def test_qs_ec_part_b_alternative_needs_two_facts(policies):
    facts = {"group": "EC", "sub_group": "PART_B", "education": "secondary_school_diploma",
             "alternatives_accepted": False, "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", keep="group", budget_s=BUDGET)
    found = check(policies, w, facts, "met")
    alt = one(found, "alternatives_accepted", "acceptable_combination")
    assert {c.clause["citation"] for c in alt.changes} == {"Economics and Social Science Services (EC), Part B Note 2"}
    assert all(c.before is None for c in alt.changes if c.fact == "acceptable_combination")  # not given
    assert frozenset(["acceptable_combination"]) not in found


def test_qs_as_secondary_school_or_alternative(policies):
    facts = {"group": "AS", "education": "two_years_secondary", "alternatives_accepted": False,
             "experience": ["as_field"], "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", keep="group", max_changes=2,
                        budget_s=BUDGET)
    found = check(policies, w, facts, "met")
    assert one(found, "education").changes[0].after == "secondary_school_diploma"
    git = {c.fact: c for c in one(found, "alternatives_accepted", "git_320_score").changes}["git_320_score"]
    assert git.after == 80 and git.requirement["op"] == ">="
    assert frozenset(["alternatives_accepted", "acceptable_combination"]) in found
    assert frozenset(["alternatives_accepted", "gct1_207_passed"]) in found


def test_qs_list_fact_gains_an_item(policies):
    facts = {"group": "AS", "education": "degree", "experience": [], "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", keep="group", budget_s=BUDGET)
    found = check(policies, w, facts, "met")
    c = one(found, "experience").changes[0]
    assert c.after == ["as_field"] and c.requirement["op"] == "contains"
    assert c.clause["citation"] == "Administrative Services (AS), Note 2"


def test_qs_time_answer_from_a_date_in_the_rules(policies):
    """The GCT1-207 counts from 2023-01-02: before then, time alone turns the answer on that day."""
    facts = {"group": "AS", "education": "none", "alternatives_accepted": True, "gct1_207_passed": True,
             "acceptable_combination": False, "experience": ["as_field"], "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2022-06-01", keep="group", budget_s=BUDGET)
    check(policies, w, facts, "met")
    assert w.time.date == dt.date(2023, 1, 2) and w.time.advanced == []
    assert policies.evaluate(w.decision, facts, "2023-01-01").value == "not_met"
    assert policies.evaluate(w.decision, facts, "2023-01-02").value == "met"
    assert "(met) from 2023-01-02 if nothing else changes" in render_text(w, "en")


def test_qs_group_is_searched_unless_kept(policies):
    facts = {"group": "AS", "education": "two_years_secondary", "alternatives_accepted": False,
             "experience": ["as_field"], "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", max_changes=1, budget_s=BUDGET)
    groups = [cf for cf in w.counterfactuals if cf.changes[0].fact == "group"]
    assert groups and policies.evaluate(w.decision, dict(facts, group=groups[0].changes[0].after),
                                        "2024-01-01").value == "met"


# -- other answers ------------------------------------------------------------------------------------
def test_positive_answer_has_nothing_to_change(policies):
    facts = dict(PROMOTION, months_in_assignments=12)
    w = counterfactuals(policies, "ldp.promotion.eligible", facts, "2009-05-15")
    assert w.counterfactuals == [] and w.time is None and not w.negative
    assert w.note == "positive" and w.search["evaluations"] == 1
    assert "The answer is already yes: nothing needs to change." in render_text(w, "en")
    assert "La réponse est déjà oui : rien n'a besoin de changer." in render_text(w, "fr")
    assert w.to_dict()["note"]["code"] == "positive"


def test_undetermined_and_non_binary_answers(policies):
    w = counterfactuals(policies, "ldp.promotion.eligible", {"program": "MTP", "months_in_assignments": 12,
                                                             "last_rating": "met_most"}, "2009-05-15")
    assert w.note == "undetermined" and w.counterfactuals == []
    assert "(meets_cbc)" in render_text(w, "en")
    w = counterfactuals(policies, "ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, "2008-06-01")
    assert w.note == "not_binary"


def test_refusal_turns_into_a_decision(policies):
    facts = {"recruited_from_outside": False, "appointment_date": "2008-01-01"}
    w = counterfactuals(policies, "ldp.probation.start_date", facts, "2009-05-15", budget_s=BUDGET)
    assert w.status == "refused" and w.negative
    [cf] = w.counterfactuals
    assert [(c.fact, c.after) for c in cf.changes] == [("recruited_from_outside", True)]
    assert cf.changes[0].clause["id"] == "ldp.probation.applies"
    after = policies.evaluate(w.decision, changed(w, cf, facts), w.as_of)
    assert after.status == "decided" and after.value == dt.date(2008, 1, 1)


def test_target_may_be_given(policies):
    """A decision where true is the bad answer: ask for false."""
    facts = {"program": "MTP", "unsuccessful_attempts_same_promotion": 2, "unsuccessful_promotion_boards": 0,
             "reviews_below_met_most": 0, "appointed_under_psoleao": False}
    w = counterfactuals(policies, "ldp.retention.not_retained", facts, "2009-05-15", target=False, budget_s=BUDGET)
    found = check(policies, w, facts, False)
    c = one(found, "unsuccessful_attempts_same_promotion").changes[0]
    assert c.after == 1 and c.requirement["op"] == ">="


def test_a_decision_object_may_be_given(policies):
    d = policies.evaluate("ldp.promotion.eligible", PROMOTION, "2009-05-15", trace="none")
    w = counterfactuals(policies, d, budget_s=BUDGET)
    assert w.decision == "ldp.promotion.eligible" and w.as_of == dt.date(2009, 5, 15)
    assert frozenset(["months_in_assignments"]) in {frozenset(c.fact for c in cf.changes) for cf in w.counterfactuals}


# -- budget, JSON, text, HTML -------------------------------------------------------------------------
def test_budget_stops_the_search_and_what_was_found_stays_minimal(policies):
    facts = {"group": "AS", "education": "two_years_secondary", "alternatives_accepted": False,
             "experience": ["as_field"], "incumbencies": []}
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", max_evaluations=60)
    assert not w.complete and w.search["stopped"] == "evaluations"
    assert w.search["evaluations"] <= 61
    sets = [frozenset(c.fact for c in cf.changes) for cf in w.counterfactuals]
    assert not any(a < b for a in sets for b in sets)
    assert "The search stopped" in render_text(w, "en") and "La recherche s'est arrêtée" in render_text(w, "fr")
    w = counterfactuals(policies, "qs.meets_standard", facts, "2024-01-01", budget_s=0.0)
    assert w.search["stopped"] == "budget" and w.counterfactuals == []


def test_to_dict_is_json_ready(policies):
    facts = dict(PROMOTION, last_rating="did_not_meet")
    r = counterfactuals(policies, "ldp.promotion.eligible", facts, "2009-05-15", budget_s=BUDGET).to_dict()
    json.dumps(r)
    assert set(r) == {"decision", "label", "as_of", "status", "value", "negative", "target", "keep",
                      "counterfactuals", "time", "time_scanned", "note", "search"}
    change = r["counterfactuals"][0]["changes"][0]
    assert set(change) >= {"fact", "label", "from", "to", "given", "presumed", "unit", "delta", "clause",
                           "requirement"}
    assert r["target"] == {"status": "decided", "value": True}
    assert render_text(r, "en") == render_text(counterfactuals(policies, "ldp.promotion.eligible", facts,
                                                                "2009-05-15", budget_s=BUDGET), "en")


def test_french_text(policies):
    w = counterfactuals(policies, "ldp.promotion.eligible", PROMOTION, "2009-05-15", budget_s=BUDGET)
    fr = render_text(w, "fr")
    assert fr.startswith("Ce qui changerait la réponse — Admissible à une promotion (ldp.promotion.eligible), "
                         "au 2009-05-15 : non")
    assert ("il faut au moins 12 mois pour « PSG : au moins 12 mois en affectation » (Appendix B, 6.1) : "
            "Mois accomplis en affectation, a 9 → 12 (3 mois de plus)") in fr
    assert "Possibilité 1 (1 changement) — Admissible à une promotion : oui" in fr
    for english in ("needs", "Option", " has ", "if nothing else changes"):
        assert english not in fr


def test_html_section_is_escaped(policies):
    w = counterfactuals(policies, "ldp.promotion.eligible", dict(PROMOTION, last_rating="did_not_meet"),
                        "2009-05-15", budget_s=BUDGET)
    html = render_html(w, "fr")
    assert html.startswith('<section class="what-would-change" lang="fr">')
    assert "<h2>Ce qui changerait la réponse</h2>" in html and "<li>" in html
    assert "&quot;met most&quot;" in html or "&#x27;" in html or "«" in html
    assert '"met most"' not in html.split("<h2>", 1)[1]  # label quotes come escaped


def test_both_languages_have_every_word():
    from policyengine.tools.whatif import WORDS
    assert set(WORDS["en"]) == set(WORDS["fr"])
