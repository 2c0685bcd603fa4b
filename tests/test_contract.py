"""The public contract: decision ids and the facts they read, exactly as the issues list them."""
import pytest

import policyengine
from policyengine.tools import inventory

CONTRACT = {
    "ldp.pay.annual_rate": {"level", "step"},
    "ldp.pay.job_rate": {"level"},
    "ldp.performance_pay": {"level", "salary", "rating", "increase_pct"},
    "ldp.promotion.eligible": {"program", "meets_cbc", "months_in_assignments", "last_rating"},
    "ldp.graduation.eligible": {"program", "level", "meets_cbc", "educational_component_completed",
                                "objectives_attained", "home_requirements_met", "accepted_offer_outside_pl",
                                "months_in_assignments"},
    "ldp.termination.time_limit_reached": {"program", "appointment_date", "months_of_assignment_time"},
    "ldp.increment.may_withhold": {"rating", "notice_date", "increment_due_date"},
    "ldp.overtime.entitled": {"level"},
    "ldp.graduation_award": {"program", "graduation_date", "salary", "award_form"},
    "ldp.ab_initio.allowance": {"entry_rate"},
    "cap.eligible": {"levels_below_ex", "group", "level", "has_degree_or_equivalent", "has_management_experience",
                     "high_performance", "meets_cbc", "willing_to_obtain_cbc", "willing_to_relocate",
                     "capacity_ex01_within_3_years", "security_clearance"},
    "etm.questionnaire_required": {"level"},
    "etm.can_compare_service_wide": {"levels_submitted"},
    "qs.applies": {"staffing_action", "duration_months", "weekly_hours"},
    "qs.meets_standard": {"group", "sub_group", "level", "education", "specialization_acceptable",
                          "alternatives_accepted", "acceptable_combination", "git_320_score", "gct1_207_passed",
                          "certifications", "competencies", "experience", "incumbencies"},
}
# Contract facts a decision accepts but never reads: no group standard in the seed invokes the
# PSC-test alternatives to a degree (only "an acceptable combination"), so these two are read by
# qs.alternatives.degree and accepted, unread, by qs.meets_standard.
ACCEPTED_UNREAD = {"qs.meets_standard": {"git_310_score": 70, "gct2_314_passed": True}}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.mark.parametrize("decision", sorted(CONTRACT))
def test_contract_decision_reads_its_facts(policies, decision):
    assert decision in policies.decisions
    assert CONTRACT[decision] <= set(policies.facts_of(decision))


@pytest.mark.parametrize("decision", sorted(ACCEPTED_UNREAD))
def test_contract_facts_accepted_though_unread(policies, decision):
    assert set(ACCEPTED_UNREAD[decision]) <= set(policies.facts_of("qs.alternatives.degree"))
    d = policies.evaluate(decision, {"group": "GL", **ACCEPTED_UNREAD[decision]}, as_of="2024-01-01")
    assert d.value == "no_standard_prescribed"


@pytest.mark.parametrize("instrument,at_least", [("ldp", 100), ("qs", 60)])
def test_inventory_is_complete(policies, instrument, at_least):
    inv = inventory.build(policies, instrument)
    assert inv.stray == []
    assert [r.section for r in inv.rows if not r.ok] == []
    assert inv.encoded == inv.operative > at_least


def test_queries_of_the_contract_exist(policies):
    assert {"etm.obligations", "imit.activities", "qs.definitions"} <= set(policies.queries)


def test_nothing_is_unused(policies):
    assert policies.unused_rules() == []


def test_decision_reference_is_current(policies):
    """docs/decisions.md is generated; regenerate it with
    `policyengine decisions --format markdown > docs/decisions.md` after changing policies."""
    from pathlib import Path
    from policyengine.tools.reference import markdown
    assert Path("docs/decisions.md").read_text(encoding="utf-8") == markdown(policies)
