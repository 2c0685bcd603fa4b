"""The one presentation layer: formatter, word catalogue, and the French of the explanations (the
site's French is checked in test_site.py, on the site that module builds once)."""
import pytest

import policyengine
from policyengine.audit.redact import view
from policyengine.present import format as f
from policyengine.present.explain_html import render
from policyengine.present.words import WORDS, WORDS_BY_KEY, count

NB = "\u00a0"
PERF = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


def test_money_in_each_language(policies):
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, as_of="2008-06-01")
    assert d.value == 64497  # Appendix B, 12: PL-03, step 2, B) rates of April 2, 2008
    assert f.money(d.value, "en") == "$64,497" and f.money(d.value, "fr") == f"64{NB}497{NB}$"
    assert "Outcome: decided – $64,497" in d.explain("en")
    assert f"Résultat\u00a0: décidé – 64{NB}497{NB}$" in d.explain("fr")
    assert f.money("64497.5", "en") == "$64,497.50" and f.money("64497.5", "fr") == f"64{NB}497,50{NB}$"
    assert f.money(-1200, "en") == "-$1,200"


def test_numbers_percent_durations_lists_booleans():
    assert (f.number("0.05", "en"), f.number("0.05", "fr")) == ("0.05", "0,05")
    assert (f.percent(5, "en"), f.percent(5, "fr")) == ("5%", f"5{NB}%")
    assert (f.fmt("30 months", "en", policyengine.model.elements.DURATION), f.fmt("1 days", "fr", policyengine.model.elements.DURATION)) \
        == ("30 months", "1 jour")
    assert f.fmt(["a", "b"], "en") == "a, b"
    assert (f.fmt(True, "fr"), f.fmt(False, "en"), f.fmt(None, "fr")) == ("oui", "no", "non fourni")
    assert f.fmt("[withheld]", "fr") == "[retenu]"


def test_plural_forms():
    assert (count(1, "n_record"), count(2, "n_record")) == ("1 record", "2 records")
    assert (count(1, "n_record", "fr"), count(2, "n_record", "fr")) == ("1 enregistrement", "2 enregistrements")
    assert count(0, "n_record", "fr") == "0 enregistrement"
    from policyengine.audit.chain import Verification
    assert str(Verification(True, 1)) == "ok: 1 record verified"


def test_one_catalogue_in_both_languages():
    assert set(WORDS["en"]) == set(WORDS["fr"]) == set(WORDS_BY_KEY)
    assert WORDS["fr"]["withheld"] == "[retenu]"


def test_enum_values_with_their_french_labels(policies):
    d = policies.evaluate("etm.questionnaire_required", {"level": "EX-03"}, as_of="2015-04-01")
    assert "Résultat\u00a0: décidé – obligatoire" in d.explain("fr") and "mandatory" not in d.explain("fr").split("\n")[1]
    assert "Outcome: decided – mandatory" in d.explain("en")
    assert "Valeur\u00a0: obligatoire" in render(d.to_dict(), "fr", policies)


def test_citations_in_french():
    assert f.citation_text("Appendix B, 10.7(1)", "fr") == "Annexe B, 10.7(1)"
    assert f.citation_text("Deputy heads, paragraph 4", "fr") == "Deputy heads, paragraphe 4"
    assert f.citation("Deputy heads, paragraph 4", "fr") == [("Deputy heads, ", "en"), ("paragraphe 4", "fr")]
    assert str(f.marked(f.citation("Actuarial Science (AC), Education", "fr"), "fr")) == \
        '<span lang="en">Actuarial Science (AC), Education</span>'


def test_french_public_view_says_retenu(policies):
    d = policies.evaluate("ldp.performance_pay", PERF, as_of="2009-04-01")
    r = view(d.to_dict(), policies, "public")
    for html in (render(r, "fr", policies), render(r, "fr")):
        assert "[withheld]" not in html and "[retenu]" in html
    assert "[withheld]" not in policyengine.present.explain.explain_record(r, policies, "fr")
