"""Decision values as Arrow columns: exact types, one per declared result type.

Money and decimals are decimal128 columns with as many places as the values need (at
least 2 for money), so no binary float ever holds an amount and nothing is rounded; values
needing more than 38 digits in all are written as their exact decimal text.  Records
become one column per field (`value.FIELD`); lists and durations are their JSON text.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa

from ..values import plain

MONEY_PLACES = 2  # cents, at least


def arrow_type(t, values=()) -> pa.DataType:
    kind = getattr(t, "kind", None)
    if kind == "boolean":
        return pa.bool_()
    if kind == "integer" or (kind == "enum" and t.values and all(type(v) is int for v in t.values)):
        return pa.int64()
    if kind in ("money", "decimal"):
        return _decimal_type(values, MONEY_PLACES if kind == "money" else 0)
    if kind == "date":
        return pa.date32()
    return pa.string()


def _decimal_type(values, floor: int) -> pa.DataType:
    """The narrowest decimal128 holding every value exactly, or text when none can."""
    places, whole = floor, 1
    for v in values:
        if isinstance(v, Decimal) and v.is_finite():
            t = v.as_tuple()
            places = max(places, -t.exponent)
            whole = max(whole, len(t.digits) + t.exponent)
    return pa.decimal128(38, places) if places + whole <= 38 else pa.string()


def to_arrow(values: list, t) -> pa.Array:
    """An Arrow array of Python values of type t (None: null)."""
    typ = arrow_type(t, values)
    out = []
    for v in values:
        if v is None:
            out.append(None)
        elif pa.types.is_decimal(typ):
            out.append(Decimal(v).quantize(Decimal(1).scaleb(-typ.scale)))  # exact: the scale holds it
        elif typ == pa.string():
            out.append(v if type(v) is str else json.dumps(plain(v), ensure_ascii=False))
        elif typ == pa.date32():
            out.append(v if isinstance(v, dt.date) else None)
        else:
            out.append(v)
    return pa.array(out, type=typ)


def value_columns(values: list, t) -> dict[str, pa.Array]:
    """{"value": ...} or, for a record, {"value.FIELD": ...} for each field."""
    if getattr(t, "kind", None) != "record":
        return {"value": to_arrow(values, t)}
    out = {}
    for name, ft in t.fields:
        out[f"value.{name}"] = to_arrow([None if v is None else v.get(name) for v in values], ft)
    return out

