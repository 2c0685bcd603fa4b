"""Answers held as numbers, one store per value field, written as each chunk is decided
straight into the result's own buffer: the 16-byte words of a decimal128 column (or an
int64 column) for a field of numbers, the codes of a dictionary column for any other field
of a record (its flags).  Nothing of a chunk outlives it but its answers.

Rows the scalar engine decided (a representative, a row it decided again) keep their value
id into the engine's list of distinct values; `column()` merges both kinds of rows.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pyarrow as pa

from .arrow import MONEY_PLACES, to_arrow
from .columns import Distinct
from .numbers import LIMIT

NUMERIC = -2  # the value id of a row whose value is in a store


class Numbers:
    """A field of numbers (money, decimal, integer): unscaled int64s at one scale."""

    def __init__(self, n: int, kind: str):
        self.kind = kind
        self.words = np.zeros((n, 2), dtype=np.int64)  # the decimal128 buffer: low word, then the sign
        # money is written in cents at least, as the column gives it: no pass to rescale at the end
        self.scale, self.bound = (MONEY_PLACES if kind == "money" else 0), 0  # a row not written is 0 at any scale

    def _rescale(self, scale: int) -> bool:
        f = 10 ** (scale - self.scale)
        if self.bound * f >= LIMIT:
            return False
        if f != 1:
            low = self.words[:, 0]
            low *= f  # in place (a row not written stays 0)
            self.bound *= f
        self.scale = scale
        return True

    def write(self, rows, num) -> bool:
        """The chunk's numbers for `rows`; False where the scale they need would overflow."""
        if num.scale > self.scale and not self._rescale(num.scale):
            return False
        f = 10 ** (self.scale - num.scale)
        bound = num.bound() * f
        if bound >= LIMIT:
            return False
        low = self.words[:, 0]  # the low words (a strided view: no row-long index temporary)
        if isinstance(rows, slice) and f != 1:
            np.multiply(num.ints, f, out=low[rows])  # (contiguous rows: scaled straight into the buffer)
        else:
            low[rows] = num.ints * f if f != 1 else num.ints
        self.bound = max(self.bound, bound)
        return True

    def column(self, ids, theirs: list, every: bool = False):
        """The field's column: rows of value ids (theirs: each id's value of the field) and
        rows written here (NUMERIC; `every`: all of them); None when a value does not fit."""
        floor = MONEY_PLACES if self.kind == "money" else 0
        places = [-v.as_tuple().exponent for v in theirs if isinstance(v, Decimal)]
        if not self._rescale(max([self.scale, floor] + places)):
            return None
        table = np.zeros(len(theirs) + 1, dtype=np.int64)
        known = np.zeros(len(theirs) + 1, dtype=bool)
        for i, v in enumerate(theirs):
            if v is None:
                continue
            if not isinstance(v, (int, Decimal)) or type(v) is bool:
                return None
            x = int(Decimal(v).scaleb(self.scale))
            if not -LIMIT < x < LIMIT:
                return None
            table[i], known[i] = x, True
        low = self.words[:, 0]
        valid = None if every else ids == NUMERIC  # row-long temporaries are the result's peak memory: one bool column
        if not every and not valid.all():  # (every row written here: nothing to merge)
            theirs_rows = np.flatnonzero(ids >= 0)
            low[theirs_rows] = table[ids[theirs_rows]]
            valid[theirs_rows] = known[ids[theirs_rows]]
            low[~valid] = 0
        scale = self.scale
        while scale > floor and not (low % 10).any():  # the places the numbers need, as arrow.to_arrow gives
            low //= 10
            scale -= 1
        nulls = 0 if every else int(len(low) - valid.sum())
        if self.kind == "integer":
            if scale:
                return None
            return pa.array(low, mask=~valid) if nulls else pa.array(low)
        np.right_shift(low, 63, out=self.words[:, 1])  # 128-bit two's complement, little-endian
        bitmap = pa.py_buffer(np.packbits(valid, bitorder="little")) if nulls else None
        return pa.Array.from_buffers(pa.decimal128(38, scale), len(low), [bitmap, pa.py_buffer(self.words)],
                                     null_count=nulls)

    def value(self, r: int):
        """One written row's value (for a column that could not be built)."""
        return Decimal(int(self.words[r, 0])).scaleb(-self.scale) if self.kind != "integer" or self.scale \
            else int(self.words[r, 0])


class Codes:
    """Any other field of a record: codes into its distinct values, one byte a row while
    there are few (a flag's), four once there are more."""

    def __init__(self, n: int):
        self.ids = np.full(n, -1, dtype=np.int8)
        self.distinct = Distinct()

    def _id(self, v) -> int:
        return -1 if v is None else self.distinct.index(v)  # None: the record has no such field

    def _mapped(self, values) -> np.ndarray:
        mapped = np.asarray([self._id(v) for v in values], dtype=np.int32)
        if len(self.distinct.values) > 127 and self.ids.dtype != np.int32:
            self.ids = self.ids.astype(np.int32)
        return mapped

    def write(self, rows, col) -> bool:
        mapped = self._mapped(col.uniq).astype(self.ids.dtype)
        if col.codes is None:
            self.ids[rows] = mapped[0]
        elif isinstance(rows, slice):
            np.take(mapped, col.codes, out=self.ids[rows])  # (contiguous rows: gathered straight into the store)
        else:
            self.ids[rows] = np.take(mapped, col.codes)
        return True

    def column(self, ids, theirs: list, ftype, every: bool = False):
        """The field's column: rows of value ids merged with the rows written here (`every`: all)."""
        mapped = self._mapped(list(theirs) + [None])
        out = self.ids
        if not every:
            mine = ids >= 0
            out[mine] = mapped[ids[mine]]
            out[ids == -1] = -1
        none = out < 0  # (a record without the field)
        indices = pa.array(out, mask=none) if none.any() else pa.array(out)
        return pa.DictionaryArray.from_arrays(indices, to_arrow(self.distinct.values, ftype), safe=False)
