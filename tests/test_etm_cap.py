"""ETM obligations by role (query) and CAP/ETM instrument records, from seed 002 and 000."""
import pytest

import policyengine


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def ids(result):
    return [m.entry.id.removeprefix("etm.obligations.") for m in result.matches]


def test_obligations_of_each_role(policies):
    q = policies.query
    assert ids(q("etm.obligations", role="deputy_head")) == [
        "deputy_head.accountable", "deputy_head.lead_process", "deputy_head.select_delegate",
        "questionnaires.submit", "deputy_head.nominate_representative"]
    assert ids(q("etm.obligations", role="delegate")) == [
        "questionnaires.submit", "delegate.main_contact", "delegate.coordinate"]
    assert len(ids(q("etm.obligations", role="executive"))) == 6
    assert len(ids(q("etm.obligations", role="manager"))) == 6
    assert ids(q("etm.obligations", role="ochro")) == [
        "ochro.enable", "ochro.analyze", "ochro.career_counselling", "ochro.cluster_reviews", "ochro.profiles"]


def test_obligation_entries_quote_the_seed_and_keep_its_force(policies):
    from pathlib import Path
    seed = (Path(__file__).resolve().parents[2] / "shared/seeds/002_2d64b864a6f8d3d6.txt")
    r = policies.query("etm.obligations", role="manager", modality="should")
    [m] = r.matches
    assert m.entry.text == "Managers should provide ongoing feedback and dialogue with their executives on their performance and potential."
    if seed.exists():
        text = seed.read_text(encoding="utf-8")
        assert all(e.text in text for e in policies.catalogues["etm.obligations"].entries)


def test_unknown_role_is_bad_input(policies):
    with pytest.raises(policyengine.InputError, match="'deputy' is not one of deputy_head"):
        policies.query("etm.obligations", role="deputy")


def test_instruments_record_what_the_seeds_say_about_dates(policies):
    cap = policies.instruments["cap"]
    assert "phased out" in cap.status
    etm = policies.instruments["etm"]
    assert etm.start is None and etm.end is None and "open-ended" in etm.force_text()
    # open-ended: any date answers, none is invented
    for day in ("1990-01-01", "2030-01-01"):
        assert policies.evaluate("etm.questionnaire_required", {"level": "EX-03"}, as_of=day).value == "mandatory"
