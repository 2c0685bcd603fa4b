"""Checking and converting the facts a caller gives, against their declarations.

Each declared fact gets one small converter, built once, so validation costs a dict
lookup, a type test and a bounds check per fact.  Facts are read strictly, never
guessed: "8900,0" is not read as 89000, "20080201" is not a date, NaN is no amount, and
every number is bounded (limits.py) before anything costly is done with it.  Messages
say what was given in the caller's terms (no Python reprs, never megabytes).
"""
from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from ..errors import InputError
from ..limits import MAX_FACT_DIGITS, MAX_INTEGER_DIGITS, MAX_LIST_ITEMS, MAX_TEXT_LENGTH
from ..model.elements import FactDecl


class _Bad(Exception):
    pass


Bad = _Bad

_INTEGER_LIMIT = 10 ** MAX_INTEGER_DIGITS
_NUMBER_LIMIT = 10 ** MAX_FACT_DIGITS
_NOUN = {"money": "amount", "decimal": "number", "integer": "whole number"}
_PLAIN = re.compile(r"(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)  # after the sign (and $)
_GROUPED = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?", re.ASCII)  # 89,000 or 1,234,567.50
_NOT_FINITE = {"nan", "snan", "inf", "infinity"}
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


def _shown(v) -> str:
    """v as the caller would write it, cut short."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str):
        return repr(v[:40]) + ("…" if len(v) > 40 else "")
    if isinstance(v, int):
        if v.bit_length() > 13_000:  # str() refuses beyond 4,300 digits
            return f"a number of about {int(v.bit_length() * 0.30103):,} digits"
        text = str(v)
        return text if len(text) <= 40 else text[:40] + "…"
    if isinstance(v, (Decimal, float)):
        text = str(v) if isinstance(v, Decimal) else repr(v)
        return text if len(text) <= 40 else text[:40] + "…"
    if isinstance(v, (dt.date, dt.datetime)):
        return v.isoformat()
    if isinstance(v, (list, tuple)):
        return f"a list of {len(v):,} item{'' if len(v) == 1 else 's'}"
    if isinstance(v, dict):
        return "a mapping"
    return f"a {type(v).__name__}"


def _digits(d: Decimal, t) -> int:
    """Digits d takes to write in full, before and after the point (1E+30 takes 31)."""
    return max(d.adjusted(), 0) - min(t.exponent, 0) + 1


def _sound(d: Decimal) -> bool:
    """d is finite, not -0, and within MAX_FACT_DIGITS digits: the fast path's bounds check
    (str() is several times cheaper than as_tuple(), and exact unless d prints as 1E+30)."""
    if not d.is_finite() or (d.is_signed() and d.is_zero()):
        return False
    s = str(d)
    if "E" in s or "e" in s:
        return _digits(d, d.as_tuple()) <= MAX_FACT_DIGITS
    return len(s) - (s[0] == "-") - ("." in s) <= MAX_FACT_DIGITS


def _checked(d: Decimal, kind: str) -> Decimal:
    """d, or _Bad saying which bound it breaks."""
    if _sound(d):
        return d
    if not d.is_finite():
        raise _Bad(f"{_shown(d)} is not a finite number")
    if _digits(d, d.as_tuple()) > MAX_FACT_DIGITS:
        raise _Bad(f"{_shown(d)} has too many digits: at most {MAX_FACT_DIGITS}")
    raise _Bad(f"{_shown(d)} is not a valid {_NOUN.get(kind, 'number')}: write 0")


def _from_text(v: str, kind: str) -> Decimal:
    """The number written in v: digits with an optional sign, point and exponent; commas
    only as thousands grouping; a leading $ on money."""
    text = v.strip()
    expected = f"expected {'an' if kind == 'money' else 'a'} {_NOUN.get(kind, 'number')}, got {_shown(v)}"
    if len(text) > MAX_FACT_DIGITS + 16:  # no more room than digits, sign, $, point, commas and exponent need
        raise _Bad(f"{_shown(v)} is too long for a number: at most {MAX_FACT_DIGITS} digits")
    sign, body = "", text
    if body[:1] in ("+", "-"):
        sign, body = body[0], body[1:]
    if kind == "money" and body.startswith("$"):
        body = body[1:]
    if "," in body:
        if not _GROUPED.fullmatch(body):
            hint = f"; a decimal comma? write {text.replace('.', '').replace(',', '.')}" if text.count(",") == 1 else ""
            raise _Bad(f"{_shown(v)}: commas may only group thousands, as in 89,000{hint}")
        body = body.replace(",", "")
    if not _PLAIN.fullmatch(body):
        if body.lower() in _NOT_FINITE:
            raise _Bad(f"{text} is not a finite number")
        raise _Bad(expected)
    return Decimal(sign + body)


def _number(v, kind: str):
    if type(v) is int and -_NUMBER_LIMIT < v < _NUMBER_LIMIT:  # the common case: a whole amount, always sound
        return Decimal(v)
    if isinstance(v, bool):
        raise _Bad(f"expected {'an amount' if kind == 'money' else 'a number'}, got {_shown(v)}")
    if isinstance(v, Decimal):
        return _checked(v, kind)
    if isinstance(v, int):
        if -_NUMBER_LIMIT < v < _NUMBER_LIMIT:
            return _checked(Decimal(v), kind)
        raise _Bad(f"{_shown(v)} has too many digits: at most {MAX_FACT_DIGITS}")
    if isinstance(v, float):
        return _checked(Decimal(repr(v)), kind)  # the decimal the caller wrote, not the binary float
    if isinstance(v, str):
        return _checked(_from_text(v, kind), kind)
    raise _Bad(f"expected {'an amount' if kind == 'money' else 'a number'}, got {_shown(v)}")


def _integer(v, kind):
    if isinstance(v, bool) or not isinstance(v, (int, Decimal, float, str)):
        raise _Bad(f"expected a whole number, got {_shown(v)}")
    if isinstance(v, int):
        d = v
    else:
        d = _number(v, "integer")  # bounded first: int() of 1E+10000000 would take the CPU for ever
        if d != d.to_integral_value():
            raise _Bad(f"expected a whole number, got {_shown(d)}")
    if -_INTEGER_LIMIT < d < _INTEGER_LIMIT:
        return int(d)
    raise _Bad(f"{_shown(d)} has too many digits: a whole number has at most {MAX_INTEGER_DIGITS}")


def _day(text: str) -> dt.date:
    """The date written YYYY-MM-DD in text (fromisoformat alone also takes 20080201 and 2008-W05-5)."""
    text = text.strip()
    if _ISO_DAY.fullmatch(text):
        try:
            return dt.date.fromisoformat(text)
        except ValueError as exc:
            raise _Bad(f"{_shown(text)} is not a valid date: {exc}") from None
    raise _Bad(f"expected a date (YYYY-MM-DD), got {_shown(text)}")


def _date(v, kind):
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        return _day(v)
    raise _Bad(f"expected a date (YYYY-MM-DD), got {_shown(v)}")


def _boolean(v, kind):
    if isinstance(v, bool):
        return v
    raise _Bad(f"expected true or false, got {_shown(v)}")


def _text(v, kind):
    if not isinstance(v, str):
        raise _Bad(f"expected text, got {_shown(v)}")
    if len(v) > MAX_TEXT_LENGTH:
        raise _Bad(f"text of {len(v):,} characters: at most {MAX_TEXT_LENGTH:,}")
    return v


_SCALAR = {"money": _number, "decimal": _number, "integer": _integer, "date": _date,
           "boolean": _boolean, "text": _text}
_BOUNDED = ("integer", "date", "money", "decimal")  # the kinds min and max apply to

# The fast path: a value of the right type within bounds is taken as it is.
_TYPED = {
    "integer": lambda v: type(v) is int and -_INTEGER_LIMIT < v < _INTEGER_LIMIT,
    "money": lambda v: type(v) is Decimal and _sound(v),
    "decimal": lambda v: type(v) is Decimal and _sound(v),
    "text": lambda v: type(v) is str and len(v) <= MAX_TEXT_LENGTH,
    "boolean": lambda v: type(v) is bool,
    "date": lambda v: type(v) is dt.date,
}


def converter(decl: FactDecl):
    """A function value -> checked value, raising _Bad with a readable reason."""
    t = decl.type
    if t.kind == "enum":
        allowed = frozenset(t.values)
        shown = ", ".join(map(str, t.values))

        def enum(v):
            if (type(v) is str or type(v) is int) and v in allowed:
                return v
            if isinstance(v, (str, int, float, Decimal)) and not isinstance(v, bool):
                raise _Bad(f"{_shown(v)} is not one of {shown}")
            raise _Bad(f"expected one of {shown}, got {_shown(v)}")  # lists and mappings are not hashable
        return enum
    if t.kind == "record":
        fields = {n: converter(FactDecl(n, ft, decl.label, decl.instrument, None, None, None, decl.location))
                  for n, ft in t.fields}

        def record(v):
            if not isinstance(v, dict):
                raise _Bad(f"expected a record with {', '.join(fields)}, got {_shown(v)}")
            unknown = [_shown(k).strip("'") for k in v if k not in fields]
            lacking = [k for k in fields if k not in v]
            if unknown or lacking:
                raise _Bad("record " + "; ".join(filter(None, [
                    f"has unknown field(s) {', '.join(unknown[:5])}{', …' if len(unknown) > 5 else ''}" if unknown else "",
                    f"lacks {', '.join(lacking)}" if lacking else ""])))
            out = {}
            for k, conv in fields.items():
                try:
                    out[k] = conv(v[k])
                except _Bad as exc:
                    raise _Bad(f"field '{k}': {exc}") from None
            return out
        return record
    if t.kind == "list":
        item = converter(FactDecl(decl.name, t.of, decl.label, decl.instrument, None, None, None, decl.location))

        def as_list(v):
            if not isinstance(v, (list, tuple)):
                raise _Bad(f"expected a list, got {_shown(v)}")
            if len(v) > MAX_LIST_ITEMS:
                raise _Bad(f"{_shown(v)}: at most {MAX_LIST_ITEMS:,}")
            out = []
            for i, x in enumerate(v, 1):  # items are values or records: a list in a list is refused here
                try:
                    out.append(item(x))
                except _Bad as exc:
                    raise _Bad(f"item {i}: {exc}") from None
            return tuple(out)
        return as_list
    if t.kind not in _SCALAR:
        def unreadable(v):
            raise _Bad(f"facts cannot be {t.kind}s")
        return unreadable
    base, kind, typed = _SCALAR[t.kind], t.kind, _TYPED[t.kind]
    try:
        lo, hi = _bound(decl.minimum, kind), _bound(decl.maximum, kind)
    except _Bad:  # the loader reports the bad bound where it is written (bound_problems)
        lo = hi = None

    def convert(v):
        if not typed(v):
            v = base(v, kind)
        if lo is not None and v < lo:
            raise _Bad(f"{_shown(v)} is below the minimum {_shown(lo)}")
        if hi is not None and v > hi:
            raise _Bad(f"{_shown(v)} is above the maximum {_shown(hi)}")
        return v
    return convert


def whole_numbers(decl: FactDecl):
    """For a numeric fact, a reader of many whole numbers at once (a batch's distinct
    salaries): `maker(least, greatest)` gives the function that makes each of them what
    `converter(decl)` makes it (int for an integer fact, Decimal otherwise) when the least and
    greatest are within the fact's digits and its bounds, else None - then each is converted,
    and refused, one by one.  None for a fact of another kind."""
    kind = decl.type.kind
    if kind not in ("money", "decimal", "integer"):
        return None
    limit = _INTEGER_LIMIT if kind == "integer" else _NUMBER_LIMIT
    try:
        lo, hi = _bound(decl.minimum, kind), _bound(decl.maximum, kind)
    except _Bad:
        lo = hi = None
    make = int if kind == "integer" else Decimal

    def maker(least: int, greatest: int):
        if not -limit < least <= greatest < limit or (lo is not None and least < lo) or (hi is not None and greatest > hi):
            return None
        return make
    return maker


def _bound(raw, kind):
    if raw is None or kind not in _BOUNDED:
        return None
    return _SCALAR[kind](raw, kind)


def bound_problems(decl: FactDecl) -> list[tuple[str, str]]:
    """(key, message) for each min or max the fact's own type cannot read, and for min > max.

    Checked at load, where the analyst can fix them, rather than failing at evaluation.
    """
    kind, out, read = decl.type.kind, [], {}
    for key, raw in (("min", decl.minimum), ("max", decl.maximum)):
        if raw is None:
            continue
        if kind not in _BOUNDED:
            out.append((key, f"'{key}' applies to numbers and dates, not to {decl.type}"))
            continue
        try:
            read[key] = _SCALAR[kind](raw, kind)
        except _Bad as exc:
            out.append((key, f"'{key}' of fact '{decl.name}': {exc}"))
    if len(read) == 2 and read["min"] > read["max"]:
        out.append(("min", f"'min' {_shown(read['min'])} of fact '{decl.name}' is above its 'max' {_shown(read['max'])}"))
    return out


def as_date(value, name: str = "as_of") -> dt.date:
    """The as_of (or known_on, any) day: a date, or a string written YYYY-MM-DD exactly."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    day = _DATES.get(value) if type(value) is str else None
    if day is not None:
        return day
    if not isinstance(value, str):
        raise InputError([f"{name}: expected a date (YYYY-MM-DD), got {_shown(value)}"])
    try:
        day = _day(value)
    except _Bad as exc:
        raise InputError([f"{name}: {exc}"]) from None
    if len(_DATES) < 10000:
        _DATES[value] = day
    return day


_DATES: dict = {}
