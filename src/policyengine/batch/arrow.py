"""Decision values as Arrow columns: exact types, one per declared result type.

Money is a decimal128 with 2 places (cents) and decimals one with 12, so no binary float
ever holds an amount; a value the column cannot hold exactly is reported on its row,
never rounded.  Records become one column per field (`value.FIELD`); lists and durations
are written as their JSON text.
"""
from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import pyarrow as pa

from ..values import plain

MONEY_PLACES, DECIMAL_PLACES = 2, 12


def arrow_type(t) -> pa.DataType:
    kind = getattr(t, "kind", None)
    if kind == "boolean":
        return pa.bool_()
    if kind == "integer" or (kind == "enum" and t.values and all(type(v) is int for v in t.values)):
        return pa.int64()
    if kind == "money":
        return pa.decimal128(38, MONEY_PLACES)
    if kind == "decimal":
        return pa.decimal128(38, DECIMAL_PLACES)
    if kind == "date":
        return pa.date32()
    return pa.string()


def to_arrow(values: list, t) -> tuple[pa.Array, list[int]]:
    """(array, indices of values it cannot hold exactly) for Python values of type t (None: null)."""
    typ = arrow_type(t)
    bad = []
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
        elif pa.types.is_decimal(typ):
            q = Decimal(v).quantize(Decimal(1).scaleb(-typ.scale))
            if q != v or len(q.as_tuple().digits) > typ.precision:
                bad.append(i)
                out.append(None)
            else:
                out.append(q)
        elif typ == pa.string():
            out.append(v if type(v) is str else json.dumps(plain(v), ensure_ascii=False))
        elif typ == pa.date32():
            out.append(v if isinstance(v, dt.date) else None)
        else:
            out.append(v)
    return pa.array(out, type=typ), bad


def value_columns(values: list, t) -> dict[str, tuple[pa.Array, list[int]]]:
    """{"value": ...} or, for a record, {"value.FIELD": ...} for each field."""
    if getattr(t, "kind", None) != "record":
        return {"value": to_arrow(values, t)}
    out = {}
    for name, ft in t.fields:
        out[f"value.{name}"] = to_arrow([None if v is None else v.get(name) for v in values], ft)
    return out

