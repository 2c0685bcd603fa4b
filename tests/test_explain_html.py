"""HTML renderings of decision records for auditors (explain_html.render)."""
from html import escape
from html.parser import HTMLParser

import pytest

import policyengine
from policyengine.present.explain_html import render
from policyengine.present.words import WORDS, WORDS_BY_KEY
from policyengine.audit.redact import view

FACTS = {"level": "PL-06", "salary": 89000, "rating": "met_all", "increase_pct": 5}
AS_OF = "2009-04-01"
TEXT_10_7_12 = ("10.7 (12) The final salary figure arrived at by applying an in-range increase to base salary "
                "is rounded to the nearest $100, up to the PL-06 job rate.")
TEXT_10_7_1 = ('10.7 (1) Participants at the PL-06 level are entitled to performance pay if their performance has '
               'been assessed as "met most," "met all," or "surpassed."')
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Balance(HTMLParser):
    """Every non-void tag closed, in order; records what it saw."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.tags, self.text = [], [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_endtag(self, tag):
        if tag in VOID:
            self.errors.append(f"end tag for void element {tag}")
        elif not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1] if self.stack else 'nothing'}")
        else:
            self.stack.pop()

    def handle_data(self, data):
        self.text.append(data)


def check(html: str) -> _Balance:
    p = _Balance()
    p.feed(html)
    p.close()
    assert not p.errors, p.errors
    assert not p.stack, f"unclosed: {p.stack}"
    return p


@pytest.fixture(scope="module")
def policies():
    return policyengine.load("policies")


@pytest.fixture(scope="module")
def decided(policies):
    return policies.evaluate("ldp.performance_pay", FACTS, as_of=AS_OF)


@pytest.fixture(scope="module")
def undetermined(policies):
    return policies.evaluate("ldp.performance_pay", {"level": "PL-06", "rating": "met_all"}, as_of=AS_OF)


@pytest.fixture(scope="module")
def refused(policies):
    # a CAP participant appointed after the transition date: s. 13, not Appendix C 3.4.1, bounds the increase
    return policies.evaluate("ldp.performance_pay", {**FACTS, "increase_pct": 7, "program": "CAP",
                                                     "appointment_date": "2007-01-15"}, as_of=AS_OF)


@pytest.fixture(scope="module")
def negative(policies):
    return policies.evaluate("ldp.performance_pay.eligible", {**FACTS, "rating": "did_not_meet", "increase_pct": 0},
                             as_of=AS_OF)


def test_french_document(decided, policies):
    html = render(decided.to_dict(), "fr", policies)  # the policies type the values: money as money
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="fr">' in html and '<meta charset="utf-8">' in html
    assert "Droit à la rémunération au rendement" in html
    assert "Rémunération au rendement PL-06 (augmentation dans l&#x27;échelle)" in html  # title, escaped
    assert "Annexe B, 10.7(1)" in html and "Appendix B" not in html  # citations in French too
    assert escape(TEXT_10_7_12) in html
    assert escape(TEXT_10_7_1) in html
    assert "texte source en anglais seulement" in html and '<blockquote lang="en">' in html
    assert "Faits fournis" in html and "Dispositions appliquées" in html
    # the outcome is a table of fields, booleans in French
    assert "<code>new_salary</code></th><td>93\u00a0500\u00a0$</td>" in html  # money as money, in French
    assert '<code>eligible</code></th><td><span class="yes">oui</span>' in html
    assert '<code>award_eligible</code></th><td><span class="no">non</span>' in html
    assert 'class="badge status-decided">décidé<' in html
    # the trace: versions, table keys, conditions, references
    assert "version en vigueur depuis 2008-04-02 — version « B) Taux en vigueur à compter du 2 avril 2008 »" in html
    assert "approuvée le" not in html  # the seed's one approval date is the 2009 revision's
    assert "Rates - Effective" not in html
    assert ("clés de la table\u00a0: <code>rating</code> = a satisfait à toutes les attentes, <code>bound</code> = minimum"
            in html)  # enum values with their French labels
    assert 'increase_pct &gt;= rating_ranges[rating, &quot;minimum&quot;]' in html
    assert "voir ci-dessus" in html and 'class="node ref"' in html
    assert "disposition <code>ldp.B.10.7.12</code>" in html
    assert "table <code>ldp.rating_ranges</code>" in html and "règle <code>ldp.performance_pay</code>" in html
    # the audit footer
    assert decided.policy_hash in html and "Version du moteur" in html and policyengine.__version__ in html
    check(html)


def test_self_contained(decided, undetermined, refused, negative):
    for d in (decided, undetermined, refused, negative):
        for lang in ("en", "fr"):
            html = render(d.to_dict(), lang)
            low = html.lower()
            for bad in ("http://", "https://", "<link", "src=", "url(", "@import", "<script", "<img", "//cdn"):
                assert bad not in low, (d, lang, bad)
            assert low.count("<style>") == 1
            check(html)


def test_sections_in_order(refused):
    html = render(refused.to_dict(), "en")
    marks = ["<h1>", "as of", "Status:", "Refused under", "Facts given", "Clauses applied", "Audit record"]
    at = [html.index(m) for m in marks]
    assert at == sorted(at)


def test_english_document(decided):
    html = render(decided.to_dict())
    assert '<html lang="en">' in html
    assert "Entitled to performance pay" in html and "Droit à la rémunération" not in html
    assert '<code>eligible</code></th><td><span class="yes">yes</span>' in html
    assert "anglais" not in html
    assert "Decision: PL-06 performance pay (in-range increase)" in html
    assert "(ldp.performance_pay)" in html


def test_source_text_quoted_once(decided):
    html = render(decided.to_dict(), "en")
    assert html.count(escape(TEXT_10_7_12)) == 1
    assert "source text quoted above" in html


def test_undetermined_lists_missing_facts(undetermined, policies):
    html = render(undetermined.to_dict(), "fr")
    assert 'status-undetermined">indéterminé<' in html
    section = html[html.index('<section class="missing">'):]
    section = section[:section.index("</section>")]
    assert "Faits nécessaires pour décider" in section
    assert "<code>increase_pct</code>" in section and "<code>salary</code>" in section
    assert "faits manquants ici" in html  # on the trace nodes too
    assert "non fourni" in html  # facts read that were not given
    # with the policies, the facts' labels too; without them the names alone
    labelled = render(undetermined.to_dict(), "fr", policies)
    assert "<code>salary</code> (Salaire de base (annuel))" in labelled
    assert "Salaire de base (annuel)" not in html
    check(labelled)


def test_missing_labels_fall_back_when_decision_unknown(undetermined, policies):
    r = undetermined.to_dict()
    r["decision"] = "gone.rule"  # a logged decision whose rule no longer exists
    html = render(r, "en", policies)
    assert "<li><code>salary</code></li>" in html


def test_refusal_message_in_french(refused):
    html = render(refused.to_dict(), "fr")
    assert 'status-refused">refusé<' in html
    assert "Refusé en vertu de Annexe B, 13" in html
    assert escape("L'augmentation dans l'échelle sort du pourcentage que l'annexe B, art. 13 fixe pour cette cote") \
        in html
    assert "refusé par\u00a0: <code>ldp.performance_pay.increase_in_range</code>" in html
    assert "Conditions non remplies" not in html  # no value, so no "why not"
    en = render(refused.to_dict(), "en")
    assert "The in-range increase is outside the percentage that Appendix B, s. 13 sets for this rating" in en


def test_why_not(negative):
    html = render(negative.to_dict(), "fr")
    assert '<span class="no">non</span>' in html
    section = html[html.index('<section class="why-not">'):]
    section = section[:section.index("</section>")]
    assert "Conditions non remplies" in section
    assert escape('rating in ["met_most", "met_all", "surpassed"]') in section
    assert "Annexe B, 10.7(1)" in section and "<code>rating</code> = n&#x27;a pas satisfait aux attentes" in section
    assert "level ==" not in section  # the condition that held is not listed
    en = render(negative.to_dict(), "en")
    assert "Conditions not met" in en


def test_no_why_not_when_positive(decided):
    assert "why-not" not in render(decided.to_dict(), "en")


def test_exception_applied(policies):
    d = policies.evaluate("ldp.appointment_rate", {"level": "PL-03", "from_outside_public_service": True,
                                                   "authorized_appointment_rate": 70000}, as_of=AS_OF)
    html = render(d.to_dict(), "fr")
    assert "Exception autorisée pour une initiative de recrutement spéciale" in html
    assert "(exception appliquée)" in html
    check(html)


def _hand_record(**extra):
    r = {
        "decision": "demo.<b>rule</b>",
        "as_of": "2010-01-01",
        "status": "decided",
        "value": {"note": "<script>alert(1)</script>", "ok": True},
        "clauses": ["demo.1"],
        "missing": [],
        "messages": [],
        "facts": {"name": "<script>alert(1)</script>", "amp": "A & B \"quoted\" 'single'"},
        "trace_level": "audit",
        "trace": [{
            "kind": "rule", "id": "demo.<i>r</i>", "clause": "demo.1", "citation": "s. 1 <em>",
            "label": {"en": "Label <u>en</u>", "fr": "Libellé <u>fr</u>"},
            "text": "Text with <a href=\"https://example.org\">link</a>",
            "version": {"effective": "2009-01-01", "approved": None, "label": "v <1>"},
            "facts_read": {"name": "<script>alert(1)</script>"},
            "value": {"note": "<script>alert(1)</script>", "ok": True},
            "children": [{"kind": "condition", "expression": "name != \"<x>\"", "location": "p.yaml:1:1",
                          "facts_read": {"name": "<script>alert(1)</script>"}, "value": True, "outcome": True}],
        }],
        "policy_hash": "sha256:<hash>",
        "engine_version": "0.1.0",
    }
    r.update(extra)
    return r


def test_escaping():
    html = render(_hand_record(), "en")
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "A &amp; B &quot;quoted&quot; &#x27;single&#x27;" in html
    assert "Label &lt;u&gt;en&lt;/u&gt;" in html and "<u>" not in html
    assert "<a " not in html and "href=" not in html.replace("href=&quot;", "")
    assert "&lt;a href=&quot;https://example.org&quot;&gt;link&lt;/a&gt;" in html  # shown as text
    assert "demo.&lt;b&gt;rule&lt;/b&gt;" in html and "sha256:&lt;hash&gt;" in html
    p = check(html)
    assert "<script>alert(1)</script>" in "".join(p.text)  # the parsed text reads back as given
    assert {t for t, _ in p.tags} <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p",
                                      "time", "code", "section", "span", "table", "thead", "tbody", "tr", "th", "td",
                                      "ul", "li", "div", "blockquote", "footer", "dl", "dt", "dd"}


def test_log_footer():
    r = _hand_record(id="log-00042", seq=42, made_at="2010-01-02T03:04:05Z", hash="sha256:abc",
                     prev_hash="sha256:def", subject="emp-7")
    html = render(r, "fr")
    footer = html[html.index('<footer class="audit">'):]
    for word, value in (("Entrée du journal", "log-00042"), ("Numéro d&#x27;ordre", "42"),
                        ("Enregistrée le", "2010-01-02T03:04:05Z"),
                        ("Empreinte de l&#x27;enregistrement", "sha256:abc"),
                        ("Empreinte de l&#x27;enregistrement précédent", "sha256:def"), ("Personne visée", "emp-7"),
                        ("Version de la politique", "sha256:&lt;hash&gt;"), ("Version du moteur", "0.1.0")):
        assert f"<dt>{word}</dt><dd><code>{value}</code></dd>" in footer, word
    check(html)
    # without the log's keys, none of their rows
    plain = render(_hand_record(), "fr")
    assert "Entrée du journal" not in plain and "Numéro d" not in plain


def test_no_trace():
    r = _hand_record(trace=None, trace_level="none")
    html = render(r, "fr")
    assert WORDS["fr"]["not_recorded"].replace("'", "&#x27;") in html
    assert "Décision\u00a0: demo.&lt;b&gt;rule&lt;/b&gt;</h1>" in html  # no label: the decision id alone
    check(html)


def test_conflict_message():
    r = _hand_record(status="conflict", value=None, messages=[{
        "kind": "conflict", "rule": "demo.limit", "clause": "demo.C.2", "citation": "Appendix C, 2",
        "en": "exceptions a, b all apply and give different values",
        "fr": "les exceptions a, b s'appliquent toutes et donnent des valeurs différentes"}])
    html = render(r, "fr")
    assert 'status-conflict">conflit<' in html
    assert "Conflit en vertu de Annexe C, 2" in html
    assert "les exceptions a, b s&#x27;appliquent toutes" in html
    check(html)


def test_public_view(decided, policies):
    r = view(decided.to_dict(), policies, "public")
    r["subject"] = "emp-7"
    html = render(r, "fr")
    assert "Vue publique : renseignements personnels retenus en vertu de" in html
    assert "[withheld]" not in html and html.count("[retenu]") > 1  # redaction's mark, in French
    assert "échelle de traitement 87\u00a0911\u00a0$–97\u00a0703\u00a0$" in html
    assert "89000" not in html and "93500" not in html
    assert "emp-7" not in html  # who it is about stays out of a public view
    check(html)


def test_unknown_language_falls_back_to_english(decided):
    html = render(decided.to_dict(), "de")
    assert '<html lang="en">' in html and "Entitled to performance pay" in html


def test_words_exist_in_both_languages():
    assert set(WORDS["en"]) == set(WORDS["fr"]) == set(WORDS_BY_KEY)
    for key, (en, fr) in WORDS_BY_KEY.items():
        assert fr or key in ("source_lang", "source_en_only") and not en, key  # only the French note is one-sided
