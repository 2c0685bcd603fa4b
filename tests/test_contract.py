"""The public contract: decision ids and the facts they read, exactly as the issues list them."""
import pytest

import policyengine
from policyengine import inventory

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
}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.mark.parametrize("decision", sorted(CONTRACT))
def test_contract_decision_reads_its_facts(policies, decision):
    assert decision in policies.decisions
    assert CONTRACT[decision] <= set(policies.facts_of(decision))


def test_ldp_inventory_is_complete(policies):
    inv = inventory.build(policies, "ldp")
    assert inv.stray == []
    assert [r.section for r in inv.rows if not r.ok] == []
    assert inv.encoded == inv.operative > 100


def test_nothing_is_unused(policies):
    assert policies.unused_rules() == []


def test_decision_reference_is_current(policies):
    """docs/decisions.md is generated; regenerate it with
    `policyengine decisions --format markdown > docs/decisions.md` after changing policies."""
    from pathlib import Path
    from policyengine.reference import markdown
    assert Path("docs/decisions.md").read_text(encoding="utf-8") == markdown(policies)
