"""Checking and converting the facts a caller gives, against their declarations.

Each declared fact gets one small converter, built once, so validation costs a dict
lookup and a type test per fact.  Every problem is collected, then raised together.
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation

from ..errors import InputError
from ..model.elements import FactDecl


class _Bad(Exception):
    pass


def _number(v, kind: str):
    if isinstance(v, bool):
        raise _Bad(f"expected {'an amount' if kind == 'money' else 'a number'}, got {v!r}")
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))  # the decimal the caller wrote, not the binary float
    if isinstance(v, str):
        try:
            return Decimal(v.strip().replace(",", "").lstrip("$"))
        except InvalidOperation:
            pass
    raise _Bad(f"expected {'an amount' if kind == 'money' else 'a number'}, got {v!r}")


def _integer(v, kind):
    if isinstance(v, bool):
        raise _Bad(f"expected a whole number, got {v!r}")
    if isinstance(v, int):
        return v
    if isinstance(v, (Decimal, float, str)):
        try:
            d = Decimal(str(v).strip())
        except InvalidOperation:
            d = None
        if d is not None and d == d.to_integral_value():
            return int(d)
    raise _Bad(f"expected a whole number, got {v!r}")


def _date(v, kind):
    if isinstance(v, dt.datetime):
        return v.date()
    if isinstance(v, dt.date):
        return v
    if isinstance(v, str):
        try:
            return dt.date.fromisoformat(v.strip())
        except ValueError:
            pass
    raise _Bad(f"expected a date (YYYY-MM-DD), got {v!r}")


def _boolean(v, kind):
    if isinstance(v, bool):
        return v
    raise _Bad(f"expected true or false, got {v!r}")


def _text(v, kind):
    if isinstance(v, str):
        return v
    raise _Bad(f"expected text, got {v!r}")


_SCALAR = {"money": _number, "decimal": _number, "integer": _integer, "date": _date,
           "boolean": _boolean, "text": _text}


def converter(decl: FactDecl):
    """A function value -> checked value, raising _Bad with a readable reason."""
    t = decl.type
    if t.kind == "enum":
        allowed = frozenset(t.values)
        shown = ", ".join(map(str, t.values))

        def enum(v):
            if v in allowed and not isinstance(v, bool):
                return v
            raise _Bad(f"{v!r} is not one of {shown}")
        return enum
    if t.kind == "record":
        fields = {n: converter(FactDecl(n, ft, decl.label, decl.instrument, None, None, None, decl.location))
                  for n, ft in t.fields}

        def record(v):
            if not isinstance(v, dict):
                raise _Bad(f"expected a record with {', '.join(fields)}, got {v!r}")
            unknown = [k for k in v if k not in fields]
            lacking = [k for k in fields if k not in v]
            if unknown or lacking:
                raise _Bad("record " + "; ".join(filter(None, [
                    f"has unknown field(s) {', '.join(map(str, unknown))}" if unknown else "",
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
                raise _Bad(f"expected a list, got {v!r}")
            return tuple(item(x) for x in v)
        return as_list
    base, kind = _SCALAR[t.kind], t.kind
    lo = _bound(decl.minimum, kind)
    hi = _bound(decl.maximum, kind)
    fast = {"integer": int, "money": Decimal, "decimal": Decimal, "text": str, "boolean": bool}.get(kind)

    def convert(v):
        if type(v) is not fast:
            v = base(v, kind)
        if lo is not None and v < lo:
            raise _Bad(f"{v} is below the minimum {lo}")
        if hi is not None and v > hi:
            raise _Bad(f"{v} is above the maximum {hi}")
        return v
    return convert


def _bound(raw, kind):
    if raw is None:
        return None
    return _SCALAR[kind](raw, kind) if kind in ("integer", "date", "money", "decimal") else raw


Bad = _Bad


def as_date(value) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return _DATES[value]
    except KeyError:
        pass
    except TypeError:
        raise InputError([f"as_of: expected a date (YYYY-MM-DD), got {value!r}"]) from None
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError([f"as_of: expected a date (YYYY-MM-DD), got {value!r}"]) from None
    if len(_DATES) < 10000:
        _DATES[value] = day
    return day


_DATES: dict = {}
