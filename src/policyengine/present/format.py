"""The one formatter: values, citations, units and version labels as people read them, in English or French.

Everything the explanations (text and HTML), the docs site and the explain-diff show goes through
here, so money reads as money in each language (`$64,497` / `64 497 $`), booleans as yes/oui,
lists as lists and values with their labels.  A value's type comes from the policies when they are
at hand (a record keeps only strings); an untyped value prints as it is, so nothing is guessed.
JSON output is not formatting: it stays `values.plain`.
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation

from markupsafe import Markup, escape

from ..values import Duration
from .words import WORDS, count, lang_of, unit_label, value_label, words

__all__ = ["WORDS", "fmt", "money", "number", "percent", "citation", "citation_text", "unit", "version_label",
           "marked", "Formatter"]

NBSP = "\u00a0"  # French groups thousands and sets "$" and "%" apart with a no-break space
WITHHELD = "[withheld]"  # what redaction leaves in a record (audit/redact.py)
_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_DURATION = re.compile(r"(-?\d+) (days|months)")


def _decimal(value) -> Decimal | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, str) and _NUMBER.fullmatch(value):
        try:
            return Decimal(value)
        except InvalidOperation:
            return None
    return None


def _digits(q: Decimal, grouping: bool, places: int | None = None) -> str:
    """|q| in English digits: grouped with commas if asked, fraction kept exactly (at least `places`)."""
    q = abs(q)
    if q == q.to_integral_value():
        q = q.quantize(Decimal(1)) if places is None else q.quantize(Decimal(1).scaleb(-places))
    elif places is not None and -q.as_tuple().exponent < places:
        q = q.quantize(Decimal(1).scaleb(-places))
    return format(q, ",f" if grouping else "f")


def _localize(digits: str, lang: str) -> str:
    return digits if lang == "en" else digits.replace(",", NBSP).replace(".", ",")


def money(amount, lang="en") -> str:
    """$64,497 / 64 497 $; cents when the amount is not whole ($64,497.50 / 64 497,50 $)."""
    lang = lang_of(lang)
    q = _decimal(amount)
    if q is None:
        return str(amount)
    whole = q == q.to_integral_value()
    s = _localize(_digits(q, True, None if whole else 2), lang)
    sign = "-" if q < 0 else ""
    return f"{sign}${s}" if lang == "en" else f"{sign}{s}{NBSP}$"


def number(value, lang="en") -> str:
    """A decimal or integer: 0.05 / 0,05 (no grouping: years, steps and codes are numbers too)."""
    q = _decimal(value)
    if q is None:
        return str(value)
    s = _localize(_digits(q, False), lang_of(lang))
    return ("-" if q < 0 else "") + s


def percent(value, lang="en") -> str:
    """5% / 5 %."""
    s = number(value, lang)
    return f"{s}%" if lang_of(lang) == "en" else f"{s}{NBSP}%"


def duration(value, lang="en") -> str:
    """30 months / 30 mois, 1 day / 1 jour."""
    if isinstance(value, Duration):
        n, unit_ = value.amount, value.unit
    else:
        m = _DURATION.fullmatch(str(value))
        if not m:
            return str(value)
        n, unit_ = int(m.group(1)), m.group(2)
    return count(n, "n_day" if unit_ == "days" else "n_month", lang)


def fmt(value, lang="en", type=None, unit_=None) -> str:
    """A value as text in `lang` (a code or a Words).  `type` (a model Type) says what a string
    holds (money, a duration, a record's fields); `unit_` marks percentages."""
    lang = lang_of(lang)
    w = WORDS[lang]
    if value is None:
        return w["not_given"]
    if isinstance(value, str) and value == WITHHELD:
        return w["withheld"]
    if value is True or value is False:
        return w[str(value).lower()]
    kind = getattr(type, "kind", None)
    if isinstance(value, dict):
        if set(value) == {"salary_range"} and isinstance(value["salary_range"], dict):
            r = value["salary_range"]
            return f"{w['range']} {money(r.get('minimum'), lang)}–{money(r.get('maximum'), lang)}"
        fields = dict(type.fields) if kind == "record" else {}
        return ", ".join(f"{k} = {fmt(v, lang, fields.get(k))}" for k, v in value.items())
    if isinstance(value, (list, tuple, set, frozenset)):
        item = type.of if kind == "list" else None
        return ", ".join(fmt(v, lang, item) for v in value)
    if isinstance(value, Duration) or kind == "duration":
        return duration(value, lang)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if kind == "money":
        return money(value, lang)
    if unit_ and str(unit_).startswith("percent") and _decimal(value) is not None:
        return percent(value, lang)
    if kind in ("decimal", "integer") or isinstance(value, (Decimal, float, int)):
        return number(value, lang) if kind == "decimal" or isinstance(value, (Decimal, float)) else str(value)
    if isinstance(value, str):
        return value_label(value, lang) or value
    return str(value)


# -- policy text the policies give in English only ------------------------------------------------------------
_CITE_PARTS = [  # (English part, its French); a part matching none stays English
    (re.compile(r"Appendix ([A-Z])"), r"Annexe \1"),
    (re.compile(r"Annex (\d+)"), r"Annexe \1"),
    (re.compile(r"paragraph (\d+)"), r"paragraphe \1"),
    (re.compile(r"introductory paragraph"), "paragraphe d'introduction"),
    (re.compile(r"Note (\d+)"), r"note \1"),
    (re.compile(r"bullet (\d+)"), r"puce \1"),
    (re.compile(r"question (\d+)"), r"question \1"),
    (re.compile(r"activity (\d+)"), r"activité \1"),
    (re.compile(r"exception (\d+)"), r"exception \1"),
    (re.compile(r"s\. (\d[\d.()a-z]*)"), r"art. \1"),
    (re.compile(r"\d[\d.()a-z]*"), None),  # a section number reads the same in both languages
]


def citation(text, lang="en") -> list[tuple[str, str]]:
    """A citation as (text, language) parts: in French, "Appendix B, 10.7(1)" is "Annexe B, 10.7(1)";
    the English headings of an English-only source ("Actuarial Science (AC), Education") stay English,
    marked so."""
    if not text:
        return []
    if lang_of(lang) == "en":
        return [(str(text), "en")]
    parts: list[tuple[str, str]] = []
    for part in str(text).split(", "):
        shown, part_lang = part, "en"
        for pattern, french in _CITE_PARTS:
            if pattern.fullmatch(part):
                shown, part_lang = (part if french is None else pattern.sub(french, part)), "fr"
                break
        if parts and parts[-1][1] == part_lang:
            parts[-1] = (parts[-1][0] + ", " + shown, part_lang)
        elif parts:
            parts[-1] = (parts[-1][0] + ", ", parts[-1][1])
            parts.append((shown, part_lang))
        else:
            parts.append((shown, part_lang))
    return parts


def citation_text(text, lang="en") -> str:
    return "".join(t for t, _ in citation(text, lang))


def unit(text, lang="en") -> tuple[str, str]:
    """A fact's unit in `lang`, as (text, language): English when the catalogue has no French for it."""
    shown = unit_label(text, lang)
    return (shown, lang_of(lang)) if shown else (str(text), "en")


_MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
              "November", "December"]
_MONTHS_FR = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
              "novembre", "décembre"]
_RATES = re.compile(r"(?:([A-Z])\) )?Rates - Effective (before )?(" + "|".join(_MONTHS_EN) + r") (\d{1,2}), (\d{4})")


def version_label(text, lang="en") -> tuple[str, str]:
    """A version label as (text, language).  The pay tables' legend ("B) Rates - Effective April 2, 2008")
    reads in French as "B) Taux en vigueur à compter du 2 avril 2008"; any other label is the source's
    English, marked so."""
    text = str(text)
    if lang_of(lang) == "en":
        return text, "en"
    m = _RATES.fullmatch(text)
    if not m:
        return text, "en"
    zone, before, month, day, year = m.groups()
    day = "1er" if day == "1" else day
    when = f"{day} {_MONTHS_FR[_MONTHS_EN.index(month)]} {year}"
    head = f"{zone}) " if zone else ""
    return f"{head}Taux en vigueur {'avant le' if before else 'à compter du'} {when}", "fr"


def marked(parts, lang="en") -> Markup:
    """(text, language) parts as HTML: a part not in the page's language carries its own lang."""
    if isinstance(parts, tuple):
        parts = [parts]
    lang = lang_of(lang)
    return Markup("").join(escape(t) if part_lang == lang else Markup('<span lang="%s">%s</span>') % (part_lang, t)
                           for t, part_lang in parts)


# -- a record's values, typed by the policies -----------------------------------------------------------------
class Formatter:
    """fmt() bound to a language and, when given, to the policies that say what a record's strings are."""

    def __init__(self, lang="en", policies=None, decision: str | None = None):
        self.lang = lang_of(lang)
        self.w = words(self.lang)
        self.policies, self.decision = policies, decision

    def value(self, value, type=None, unit_=None) -> str:
        return fmt(value, self.lang, type, unit_)

    def _decl(self, name):
        if self.policies is None or self.decision is None:
            return None
        try:
            return self.policies.fact_decl(self.decision, name)
        except Exception:  # noqa: BLE001 - a logged decision these policies no longer have: untyped
            return None

    def fact_type(self, name):
        decl = self._decl(name)
        return (getattr(decl, "type", None), getattr(decl, "unit", None)) if decl is not None else (None, None)

    def fact(self, name, value) -> str:
        return fmt(value, self.lang, *self.fact_type(name))

    def facts(self, values) -> str:
        """k = v, ... of facts (read, given, or a table's keys)."""
        if not isinstance(values, dict):
            return self.value(values)
        return ", ".join(f"{k} = {self.fact(k, v)}" for k, v in values.items())

    def rule_type(self, rule_id):
        rules = getattr(self.policies, "rules", None) or {}
        rule = rules.get(rule_id)
        return getattr(rule, "type", None) if rule is not None else None

    def node_type(self, n: dict):
        """The type of a trace node's value: its rule's or its table's."""
        if self.policies is None:
            return None
        if n.get("kind") in ("rule", "ref"):
            return self.rule_type(n.get("id"))
        if n.get("kind") == "table":
            table = (getattr(self.policies, "tables", None) or {}).get(n.get("id"))
            return getattr(table, "value_type", None)
        return None

    def outcome_type(self):
        return self.rule_type(self.decision)

    def field_types(self, type) -> dict:
        return dict(type.fields) if getattr(type, "kind", None) == "record" else {}

    def cite(self, text) -> str:
        return citation_text(text, self.lang)
