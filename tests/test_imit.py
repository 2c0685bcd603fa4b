"""The IM/IT HR and Business Plan, Annex 1 (seed 001): activities queried by actor, year, pillar,
community; year marks the scraped table does not place with certainty are flagged, not guessed."""
import pytest

import policyengine

P = "imit.action_plan."


@pytest.fixture(scope="module")
def q():
    policies = policyengine.load("policies")
    return lambda **kw: [(m.entry.id.removeprefix(P), bool(m.uncertain)) for m in
                         policies.query("imit.activities", **kw).matches]


def test_partners_exactly_as_the_seed_names_them(q):
    assert q(actor="CGSB") == [("classification.cgsb_standard", False)]
    assert q(actor="Bargaining Agents") == [("labour_relations.share_plan", False)]
    assert q(actor="CSPS") == [(i, False) for i in ("learning.im_curriculum_gaps", "learning.im_certification",
                                                    "learning.revise_mdp", "well_being.im_certification_relevance")]
    assert len(q(actor="CPSA")) == 12 and not any(flag for _, flag in q(actor="CPSA"))


def test_partner_cell_that_may_cover_several_bullets_is_uncertain(q):
    rows = dict(q(actor="CPSA*"))
    assert rows["classification.develop_validate_launch"] is False
    assert rows["classification.organizational_models"] is True


def test_year_marks_certain_and_uncertain(q):
    assert q(pillar="Demographics", fiscal_year="2008/2009") == [
        ("demographics.partnership_cpsa", True), ("demographics.update_it", False),
        ("demographics.compile_im", True), ("demographics.provide_studies", False)]
    assert q(pillar="Labour Relations", fiscal_year="2007/2008") == [
        ("labour_relations.share_plan", True), ("labour_relations.consult_government_wide", False)]
    assert q(actor="CPSA (PPC*)", fiscal_year="2009/2010") == [("recruitment.assessment_centres", True)]


def test_community_and_pillar(q):
    assert [i for i, _ in q(community="IT", pillar="Official Languages")] == [
        "official_languages.bilingual_criteria", "official_languages.early_language_training",
        "official_languages.linguistic_profiles", "official_languages.training_plan",
        "official_languages.bilingual_work_instruments", "official_languages.work_tools_preference"]


def test_every_activity_and_its_text_from_the_seed(q):
    from pathlib import Path
    policies = policyengine.load("policies")
    entries = policies.catalogues["imit.action_plan"].entries
    assert len(q()) == len(entries) == 84
    seed = Path(__file__).resolve().parents[2] / "shared/seeds/001_adfd24f943a898ae.txt"
    if seed.exists():
        text = seed.read_text(encoding="utf-8")
        assert all(e.text in text for e in entries)
    flagged = [e for e in entries if e.uncertain]
    assert flagged and all(e.uncertain_note for e in flagged)
