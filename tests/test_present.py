"""The one presentation layer: formatter, word catalogue, and the French of the explanations and the site."""
import re
from html.parser import HTMLParser

import pytest

import policyengine
from policyengine.audit.redact import view
from policyengine.present import format as f
from policyengine.present.explain_html import render
from policyengine.present.words import WORDS, WORDS_BY_KEY, count
from policyengine.tools import site

NB = "\u00a0"
PERF = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.fixture(scope="module")
def built(policies, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    return out, site.build(policies, out)


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


class _French(HTMLParser):
    """The text a French reader sees (no .en spans), with the language each piece is marked in."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.pieces = [], []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("br", "meta", "wbr", "input", "img", "link"):
            return
        parent = self.stack[-1] if self.stack else ("", "en", False)
        hidden = parent[2] or "en" in (a.get("class") or "").split() or tag in ("script", "style", "title")
        self.stack.append((tag, a.get("lang", parent[1]), hidden))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.stack and not self.stack[-1][2] and data.strip():
            self.pieces.append((data, self.stack[-1][1]))


def french(path):
    html = path.read_text(encoding="utf-8").replace('<html lang="en"', '<html lang="fr"', 1)
    p = _French()
    p.feed(html)
    return p.pieces


def test_site_in_french_is_french(built):
    out, files = built
    for page in files:
        pieces = french(page)
        shown_fr = " ".join(t for t, lang in pieces if lang == "fr")
        for english in ("percent of base salary", "CAD a year", "Appendix B", "Rates - Effective"):
            assert english not in shown_fr, (page, english)
    table = " ".join(t for t, _ in french(out / "ldp/tables/ldp.pl_step_rates.html"))
    assert "Annexe B, 12" in table and "Taux en vigueur avant le 2 avril 2007" in table
    rate = " ".join(t for t, lang in french(out / "ldp/rules/ldp.appointment_rate.html") if lang == "fr")
    assert "$ CA par année" in rate and "CAD a year" not in rate


def test_no_scraped_version_label_anywhere(built):
    out, files = built
    for file in files:
        assert "$) Rates" not in file.read_text(encoding="utf-8"), file


def test_english_clause_text_on_french_pages_is_marked(built, policies):
    out, _ = built
    html = (out / "ldp/rules/ldp.performance_pay.eligible.html").read_text(encoding="utf-8")
    quotes = re.findall(r"<blockquote([^>]*)>", html)
    assert quotes and all('lang="en"' in q for q in quotes)
    assert '<span lang="fr" class="fr">texte source en anglais seulement</span>' in html
    d = policies.evaluate("ldp.performance_pay", PERF, as_of="2009-04-01")
    page = render(d.to_dict(), "fr", policies)
    assert '<blockquote lang="en">' in page and "texte source en anglais seulement" in page
