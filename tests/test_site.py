"""The static documentation site (policyengine.site): pages, content, links, escaping."""
import argparse
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

import policyengine
from policyengine.present.explain_html import render
from policyengine.tools import site
from policyengine.tools.testing import load_cases
from helpers import write_policies

ROOT = Path(__file__).resolve().parents[1]
POLICIES = ROOT / "policies"
RULE_PAGE = "ldp/rules/ldp.performance_pay.eligible.html"
TEXT_10_7_1 = ('10.7 (1) Participants at the PL-06 level are entitled to performance pay if their performance has '
               'been assessed as "met most," "met all," or "surpassed." Under no circumstances should an in-range '
               'increase or a performance award be authorized for a participant whose performance has been '
               'assessed as "did not meet" or "unable to assess."')
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class Page(HTMLParser):
    """Links, ids and tag balance of one page, and the text a French reader sees (no .en spans)
    with the language each piece is marked in: one parse serves every check."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.hrefs, self.ids, self.stack, self.errors = [], set(), [], []
        self.shown, self.pieces = [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "href" in attrs:
            self.hrefs.append(attrs["href"])
        if "id" in attrs:
            self.ids.add(attrs["id"])
        if tag not in VOID:
            self.stack.append(tag)
            parent = self.shown[-1] if self.shown else ("", "fr", False)
            lang = "fr" if tag == "html" else attrs.get("lang", parent[1])  # the page as switched to French
            hidden = parent[2] or "en" in (attrs.get("class") or "").split() or tag in ("script", "style", "title")
            self.shown.append((tag, lang, hidden))

    def handle_endtag(self, tag):
        if tag in VOID or not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()
        while self.shown:
            if self.shown.pop()[0] == tag:
                break

    def handle_data(self, data):
        if self.shown and not self.shown[-1][2] and data.strip():
            self.pieces.append((data, self.shown[-1][1]))


def parse(path: Path) -> Page:
    p = Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def load_all():
    return [c for f in sorted(POLICIES.glob("*/tests/*.yaml")) for c in load_cases(f)]


@pytest.fixture(scope="module")
def policies():
    return policyengine.load(POLICIES)


@pytest.fixture(scope="module")
def built(policies, tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    files = site.build(policies, out)
    return out, files


@pytest.fixture(scope="module")
def pages(built):
    """Every page of the site, parsed once."""
    return {f.resolve(): parse(f) for f in built[1]}


def test_pages_written(built, policies):
    out, files = built
    assert (out / "index.html").is_file()
    assert (out / RULE_PAGE).is_file()
    assert all(f.is_file() for f in files)
    assert len(files) == len(set(files))
    expected = (1 + len(policies.instruments) + len(policies.rules) + len(policies.tables)
                + len(policies.catalogues))
    assert len(files) == expected
    for iid in policies.instruments:
        assert (out / iid / "index.html") in files


def test_rule_page_puts_source_text_beside_the_encoded_rule(built):
    out, _ = built
    html = (out / RULE_PAGE).read_text(encoding="utf-8")
    assert escape(TEXT_10_7_1) in html
    assert "Droit à la rémunération au rendement" in html
    assert "Entitled to performance pay" in html
    assert "Appendix B, 10.7(1)" in html
    assert "ldp.B.10.7.1" in html
    # two columns: the source text and the encoded conditions, as code
    side = html[html.index('<div class="side">'):]
    assert side.index("Source text") < side.index(escape(TEXT_10_7_1)) < side.index("Encoded rule")
    assert escape('level == "PL-06"') in side
    assert escape('rating in ["met_most", "met_all", "surpassed"]') in side
    # the facts it reads, with their allowed values
    assert "<code>unable_to_assess</code>" in html and "<code>PL-06</code>" in html


def test_rule_page_links_dependents_and_lists_covering_tests(built):
    out, _ = built
    page = parse(out / RULE_PAGE)
    assert "ldp.performance_pay.html" in page.hrefs  # the record decision that depends on it
    assert "ldp.performance_award.html" in page.hrefs
    html = (out / RULE_PAGE).read_text(encoding="utf-8")
    cases = load_cases(POLICIES / "ldp" / "tests" / "performance_pay.yaml")
    direct = [c for c in cases if c.decision == "ldp.performance_pay.eligible"]
    through = [c for c in cases if c.decision == "ldp.performance_pay"]
    assert direct and through
    for c in direct + through:
        assert escape(c.name) in html
    assert '<span lang="en" class="en">tested directly</span>' in html
    n = sum(c.decision == "ldp.performance_pay" for c in load_all())
    assert ('<span lang="en" class="en">through</span><span lang="fr" class="fr">au moyen de</span> '
            f'<code>ldp.performance_pay</code> (<span lang="en" class="en">{n} cases</span>'
            f'<span lang="fr" class="fr">{n} cas</span>)') in html
    assert f"policies/ldp/tests/performance_pay.yaml:{direct[0].line}" in html


def test_rule_page_shows_exceptions_requires_and_versions(built):
    out, _ = built
    html = (out / "ldp/rules/ldp.termination.time_limit_reached.html").read_text(encoding="utf-8")
    assert 'id="exc-ldp.termination.transition_mtp_four_years"' in html
    assert escape('program == "MTP" and transition.covered') in html  # C 2.1 read through C 1.1
    assert "Appendix C, 2.1" in html
    html = (out / "ldp/rules/ldp.pay.annual_rate.html").read_text(encoding="utf-8")
    assert "ldp.pay.level_has_steps.html" in html  # requires, as a link
    assert "pl_step_rates[level, step]" in html
    assert "../tables/ldp.pl_step_rates.html" in html  # what it uses


def test_table_page_has_every_version_as_a_grid(built):
    out, _ = built
    html = (out / "ldp/tables/ldp.pl_step_rates.html").read_text(encoding="utf-8")
    start = html.index('id="v-2008-04-02"')
    version = html[start:html.index("<h2", start)]
    assert ('<td class="num"><span lang="en" class="en">$64,497</span>'
            '<span lang="fr" class="fr">64\u00a0497\u00a0$</span></td>') in version  # money in each language
    row = re.search(r"<tr><th>PL-03</th>(.*?)</tr>", version).group(1)
    assert re.findall(r'class="en">([^<]+)</span>', row) == ["$62,581", "$64,497", "$66,412"]
    assert ('<span lang="en" class="en">B) Rates - Effective April 2, 2008</span>'
            '<span lang="fr" class="fr">B) Taux en vigueur à compter du 2 avril 2008</span>') in version
    assert "2009-04-23" not in version  # the Pay Note's approval date is that of the 2009 revision
    revised = html[html.index('id="v-2009-04-02"'):]
    assert "2009-04-23" in revised[:revised.index("<h2")]
    for effective in ("2006-04-02", "2007-04-02", "2009-04-02", "2010-04-02"):
        assert f'id="v-{effective}"' in html
    assert "Appendix B, 12" in html
    one_key = (out / "ldp/tables/ldp.pl06_range.html").read_text(encoding="utf-8")
    assert "<th>minimum</th>" in one_key and "<th>maximum</th>" in one_key


def test_index_and_instrument_pages(built, policies):
    out, _ = built
    index = (out / "index.html").read_text(encoding="utf-8")
    for iid, inst in policies.instruments.items():
        assert f'href="{iid}/index.html"' in index
        assert escape(inst.title.en) in index and escape(inst.title.fr) in index
    assert "004_97dea53b88530bd6.txt" in index and "2012-04-03" in index
    ldp = (out / "ldp/index.html").read_text(encoding="utf-8")
    assert "<p>116/116 " in ldp and "; 116/116 " in ldp  # the inventory: sections encoded, and applied
    assert 'href="rules/ldp.pay.annual_rate.html"' in ldp
    assert 'href="tables/ldp.pl_step_rates.html"' in ldp
    imit = (out / "imit/index.html").read_text(encoding="utf-8")
    assert 'href="catalogues/imit.action_plan.html"' in imit and 'id="query-imit.activities"' in imit


def test_both_languages_and_a_switch_on_every_page(built):
    out, files = built
    for f in files:
        html = f.read_text(encoding="utf-8")
        assert '<span lang="en" class="en">' in html and '<span lang="fr" class="fr">' in html, f
        assert 'id="lang-switch"' in html and "Français" in html, f
        assert html.count('class="en"') == html.count('class="fr"'), f
    html = (out / RULE_PAGE).read_text(encoding="utf-8")
    assert '<span lang="fr" class="fr">Droit à la rémunération au rendement</span>' in html
    assert '<span lang="fr" class="fr">Texte source</span>' in html
    assert 'location.hash' in html and "localStorage" in html
    # without JavaScript the English shows: no language class on <html>, the button stays hidden
    assert '<html lang="en" data-title-en=' in html and "lang-fr" not in html.split(">", 2)[1]
    assert '<button id="lang-switch" type="button" hidden>' in html


def test_self_contained_and_every_link_resolves(built, pages):
    out, files = built
    for f in files:
        html = f.read_text(encoding="utf-8")
        for banned in ("http://", "https://", "src="):
            assert banned not in html, f"{f}: {banned}"
        page = pages[f.resolve()]
        assert not page.errors and not page.stack, f"{f}: {page.errors[:3]} {page.stack[:3]}"
        for href in page.hrefs:
            parts = urlsplit(href)
            assert not parts.scheme and not parts.netloc and not href.startswith("/"), f"{f}: {href}"
            target = (f.parent / unquote(parts.path)).resolve() if parts.path else f
            assert target.is_file(), f"{f}: {href} -> {target}"
            assert out.resolve() in target.parents, f"{f}: {href} leaves the site"
            if parts.fragment:
                ids = (pages[target] if target in pages else parse(target)).ids
                assert parts.fragment in ids, f"{f}: {href}: no such anchor"


def test_everything_is_escaped(tmp_path):
    root = write_policies(tmp_path, """
    rules:
      pay.check:
        decision: true
        citation: "Appendix B, 1 <b>"
        clause: B.1
        text: 'A & B <script>alert("x")</script>'
        label: {en: "Less < more & <i>", fr: "Moins < plus"}
        note: "<img src=x>"
        value: level == "PL-01"
    """)
    out = tmp_path / "site"
    site.build(policyengine.load(root), out)
    html = (out / "demo/rules/demo.pay.check.html").read_text(encoding="utf-8")
    assert "<script>alert" not in html and "<img" not in html and "<b>" not in html and "<i>" not in html
    assert escape('A & B <script>alert("x")</script>') in html
    assert "Less &lt; more &amp; &lt;i&gt;" in html
    assert "Appendix B, 1 &lt;b&gt;" in html
    assert escape('level == "PL-01"') in html
    assert "No test case evaluates this rule." in html


def test_docs_command(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="policyengine")
    sub = parser.add_subparsers(dest="command")
    site.add_parser(sub)
    root = write_policies(tmp_path, """
    rules:
      pay.check:
        decision: true
        citation: "Appendix B, 1"
        clause: B.1
        text: "Level one only."
        label: {en: "Level one", fr: "Niveau un"}
        value: level == "PL-01"
    """)
    args = parser.parse_args(["docs", "--out", str(tmp_path / "out"), "--policies", str(root)])
    assert site.run(args) == 0
    printed = capsys.readouterr().out.strip()
    n = len(list((tmp_path / "out").rglob("*.html")))
    assert printed == f"wrote {n} pages to {tmp_path / 'out'}"
    with pytest.raises(SystemExit):
        parser.parse_args(["docs"])  # --out is required
    with pytest.raises(SystemExit):
        parser.parse_args(["docs", "--help"])
    assert "--out DIR" in capsys.readouterr().out


# -- French: the site as a French reader sees it (the presentation layer, tests/test_present.py) ---------
PERF = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}


def french(pages, path):
    return pages[path.resolve()].pieces


def test_site_in_french_is_french(built, pages):
    out, files = built
    for page in files:
        pieces = french(pages, page)
        shown_fr = " ".join(t for t, lang in pieces if lang == "fr")
        for english in ("percent of base salary", "CAD a year", "Appendix B", "Rates - Effective"):
            assert english not in shown_fr, (page, english)
    table = " ".join(t for t, _ in french(pages, out / "ldp/tables/ldp.pl_step_rates.html"))
    assert "Annexe B, 12" in table and "Taux en vigueur avant le 2 avril 2007" in table
    rate = " ".join(t for t, lang in french(pages, out / "ldp/rules/ldp.appointment_rate.html") if lang == "fr")
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
