"""The documentation site as a person sees it: headless Chromium renders the pages from disk.

Skipped when no chromium binary is installed, except under CI (the CI environment
variable is set), where a missing browser is a failure: CI installs it.
"""
import os
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest

import policyengine
from policyengine.tools import site

ROOT = Path(__file__).resolve().parents[1]
RULE_PAGE = "ldp/rules/ldp.performance_pay.eligible.html"
TABLE_PAGE = "ldp/tables/ldp.pl_step_rates.html"
CLAUSE_START = "10.7 (1) Participants at the PL-06 level are entitled to performance pay"
LABEL_EN, LABEL_FR = "Entitled to performance pay", "Droit à la rémunération au rendement"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def chromium() -> str:
    binary = shutil.which("chromium") or shutil.which("chromium-browser")
    if binary:
        return binary
    if os.environ.get("CI"):
        pytest.fail("CI is set but no chromium binary was found (chromium or chromium-browser on PATH)")
    pytest.skip("no chromium binary (chromium or chromium-browser) on PATH")


@pytest.fixture(scope="module")
def browser():
    return chromium()


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("site")
    site.build(policyengine.load(ROOT / "policies"), out)
    return out


def run_chromium(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [binary, *FLAGS, f"--user-data-dir={profile}", "--virtual-time-budget=2000", *args]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        pytest.fail(f"chromium did not finish within 60 s: {' '.join(cmd)}")
    assert done.returncode == 0, f"{' '.join(cmd)}\n{done.stderr[-2000:]}"
    return done


class Visible(HTMLParser):
    """The text a reader sees in a dumped DOM: no script/style, nothing hidden, and only
    the language the <html> class selects (as the site's stylesheet does)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.html_attrs, self.title, self.parts = {}, "", []
        self.stack: list[tuple[str, bool]] = []  # (tag, hides its content)
        self.in_title = False

    def hidden(self) -> bool:
        return any(h for _, h in self.stack)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_attrs = attrs
        if tag in VOID:
            return
        classes = (attrs.get("class") or "").split()
        french = "lang-fr" in (self.html_attrs.get("class") or "").split()
        hides = (tag in ("script", "style", "head") or "hidden" in attrs
                 or ("fr" in classes and not french) or ("en" in classes and french))
        self.in_title = tag == "title"
        self.stack.append((tag, hides))

    def handle_endtag(self, tag):
        self.in_title = False
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                break

    def handle_data(self, data):
        if self.in_title:
            self.title += data
        elif not self.hidden():
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def dump(binary: str, profile: Path, url: str) -> Visible:
    dom = run_chromium(binary, profile, "--dump-dom", url).stdout
    assert "<html" in dom, dom[:500]
    v = Visible()
    v.feed(dom)
    v.close()
    return v


def test_rule_page_in_english(browser, built, tmp_path):
    page = dump(browser, tmp_path / "profile", (built / RULE_PAGE).as_uri())
    assert "lang-fr" not in (page.html_attrs.get("class") or "")
    assert page.html_attrs.get("lang") == "en"
    text = page.text
    assert CLAUSE_START in text
    assert 'assessed as "did not meet" or "unable to assess."' in text
    assert "Source text" in text and "Encoded rule" in text
    assert "Texte source" not in text
    assert 'level == "PL-06"' in text
    assert "Français" in text  # the switch button is shown once the script ran
    assert page.title.startswith("ldp.performance_pay.eligible: " + LABEL_EN)


def test_table_page_shows_the_cells(browser, built, tmp_path):
    page = dump(browser, tmp_path / "profile", (built / TABLE_PAGE).as_uri())
    text = page.text
    assert "B) Rates - Effective April 2, 2008" in text
    assert "PL-03 $62,581 $64,497 $66,412" in text  # the 2008-04-02 row of PL-03, steps 1 to 3, as money
    french = dump(browser, tmp_path / "profile-fr", (built / TABLE_PAGE).as_uri() + "#fr").text
    assert "PL-03 62 581 $ 64 497 $ 66 412 $" in french.replace("\u00a0", " ")
    assert "B) Taux en vigueur à compter du 2 avril 2008" in french and "Rates - Effective" not in french


def test_rule_page_in_french_from_the_address(browser, built, tmp_path):
    url = (built / RULE_PAGE).as_uri() + "#fr"
    page = dump(browser, tmp_path / "profile", url)
    assert "lang-fr" in (page.html_attrs.get("class") or "").split()
    assert page.html_attrs.get("lang") == "fr"
    text = page.text
    assert LABEL_FR in text
    assert "Texte source" in text and "Règle codée" in text and "Faits lus" in text
    assert "Source text" not in text and "Encoded rule" not in text
    assert CLAUSE_START in text  # the verbatim source text is shown in either language
    assert "English" in text and "Français" not in text  # the button offers the other language
    assert "Annexe B, 10.7(1)" in text  # citations in French (the English clause text and label keep theirs)
    assert "texte source en anglais seulement" in text  # the English-only clause text says so
    assert page.title == "ldp.performance_pay.eligible : " + LABEL_FR

    shot = tmp_path / "shot.png"
    run_chromium(browser, tmp_path / "profile-shot", f"--screenshot={shot}", "--window-size=1200,900", url)
    assert shot.is_file()
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10 * 1024, f"screenshot is only {len(data)} bytes: nothing painted?"

    english = tmp_path / "english.png"
    run_chromium(browser, tmp_path / "profile-en", f"--screenshot={english}", "--window-size=1200,900",
                 (built / RULE_PAGE).as_uri())
    assert english.read_bytes() != data  # the switch changed what is painted
