"""Columns as codes into their distinct values: the representation of the batch backend.

A column holds, per row, a small integer code into a list of distinct values (`uniq`),
the way Arrow's dictionary arrays and pandas' categoricals do.  An operation is applied
once per distinct combination of its operands' values, by the scalar semantics itself,
and the rows get their result by one integer gather.  So the batch backend is exact by
construction (the same Python functions compute every value: Decimal money, half-up
rounding, Kleene logic) and its cost per row is a few array operations, whatever the
operation is.  Workforce data has few distinct values per fact (levels, steps, dates),
and where it has many (salaries), the combinations present are found by sorting, never
by looping over rows in Python.

MISSING and FAILED are values of the column like any other: a fact not given, or an
outcome the scalar engine would report as unknown or as a failure (refusal, conflict,
error).  Kleene logic and exceptions treat them as the scalar semantics do.
"""
from __future__ import annotations

import itertools
from decimal import Decimal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc


class _Sentinel:
    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


MISSING = _Sentinel("MISSING")  # unknown: a fact not given (or a gap) that would decide it
FAILED = _Sentinel("FAILED")  # refused, a conflict, or an error: the representative says which

DENSE_COMBINATIONS = 4096  # up to this many combinations, every one is computed (no sort)
SMALL_KEYS = 2048  # keys factorized by np.unique up to this many
_KEY_LIMIT = 1 << 62


class Col:
    """Per-row codes (an integer array: int8 or int32) into `uniq`, or codes None: every row
    has uniq[0]."""

    __slots__ = ("codes", "uniq")

    def __init__(self, codes, uniq):
        self.codes, self.uniq = codes, uniq

    @classmethod
    def const(cls, value):
        return cls(None, [value])

    def take(self, rows):
        """The column for a subset of the rows (indices, or a slice: a view)."""
        if self.codes is None:
            return self
        return Col(self.codes[rows] if isinstance(rows, slice) else np.take(self.codes, rows), self.uniq)

    def values(self, n):
        """The Python value of every row (for tests and small outputs)."""
        if self.codes is None:
            return [self.uniq[0]] * n
        u = self.uniq
        return [u[c] for c in self.codes.tolist()]


class DCol(Col):
    """A column over the period's domain rather than its rows: codes per distinct combination
    of the few-valued facts (batch/engine.py `_domain`), so a rule that reads only those facts
    is computed once per combination; the compiler gathers it to rows where a row-level
    column meets it."""

    __slots__ = ()


class WholeNumbers:
    """The distinct values of a column of many whole numbers (a slice's salaries), held as an
    int64 array and made Python values (by `make`: as the fact's converter makes them) only
    when one is read: the fixed-point kernels read the array, and a slice has tens of
    thousands of them.  With `null`, a last value MISSING stands for the rows given none.
    `start`: when the values are start, start + 1, ... (a code is the value less start), start."""

    __slots__ = ("ints", "make", "null", "_list", "start")

    def __init__(self, ints: np.ndarray, make, null: bool, start: int | None = None):
        self.ints, self.make, self.null, self._list, self.start = ints, make, null, None, start

    def __len__(self):
        return len(self.ints) + self.null

    def __getitem__(self, i):
        if self._list is not None:
            return self._list[i]
        if self.null and i in (len(self.ints), -1):
            return MISSING
        return self.make(int(self.ints[i]))

    def __iter__(self):
        if self._list is None:
            self._list = list(map(self.make, self.ints.tolist())) + ([MISSING] if self.null else [])
        return iter(self._list)

    def classes(self):
        """columns.classes() of the values, without making them: every one a value."""
        out = np.full(len(self), 4, dtype=np.int64)
        if self.null:
            out[-1] = 0
        return out


def value_key(v):
    """A key under which two values are the same value: 1, 1.0 (Decimal), True and "1" are
    four different values, and Decimal('1.0') is not Decimal('1') (they print differently)."""
    c = v.__class__
    if c is str or c is int or c is bool or v is MISSING or v is FAILED:
        return (c, v)
    if c is Decimal:
        return (c, str(v))
    try:
        hash(v)
        return (c, v) if c.__module__ == "datetime" else (c, repr(v))
    except TypeError:
        return (c, repr(v))


class Distinct:
    """Distinct values in the order first seen, each with its index (value_key tells values
    apart); MISSING and FAILED, which are outcomes, not values, have index -1."""

    def __init__(self):
        self.values: list = []
        self._index: dict = {}

    def index(self, v) -> int:
        if v is MISSING or v is FAILED:
            return -1
        k = value_key(v)
        i = self._index.get(k)
        if i is None:
            i = self._index[k] = len(self.values)
            self.values.append(v)
        return i


def intern(values):
    """(uniq, mapping): the distinct values of a list, and each one's index among them."""
    index, uniq, out = {}, [], []
    for v in values:
        k = value_key(v)
        i = index.get(k)
        if i is None:
            i = index[k] = len(uniq)
            uniq.append(v)
        out.append(i)
    return uniq, np.asarray(out, dtype=np.int32)


def from_values(values) -> Col:
    """A column from a sequence of Python values (interned)."""
    uniq, codes = intern(values)
    return Col.const(uniq[0]) if len(uniq) == 1 else Col(codes, uniq)


# Arrow's working memory comes from the system allocator, as NumPy's does: Arrow's own pool
# (mimalloc) keeps what it frees for Arrow alone, and the batch's working memory is mostly
# NumPy's, so with it a run's peak memory holds both allocators' leftovers (~10 MB a 1M-row run).
POOL = pa.system_memory_pool()


def factorize(key: np.ndarray):
    """(code of each element, one element of each code, count): the distinct integers of
    `key` numbered in the order first seen, by Arrow's hash table - several times faster
    than sorting them (np.unique) on many rows; nothing here needs them in any order."""
    if len(key) <= SMALL_KEYS:  # (a domain's few elements: NumPy's sort costs less than a call into Arrow)
        _, first, codes = np.unique(key, return_index=True, return_inverse=True)
        return codes.reshape(-1), first, len(first)
    codes = pc.dictionary_encode(pa.array(key, from_pandas=False), memory_pool=POOL).indices.to_numpy()
    count = int(codes.max(initial=-1)) + 1
    one = np.empty(count, dtype=np.int64)
    one[codes] = np.arange(len(codes), dtype=np.int64)  # the last of each (the last write wins)
    return codes, one, count


def _combined(cols):
    """One integer key per row for the operands that vary, and whether the key enumerates
    every combination densely (mixed radix, no re-encoding), with the sizes."""
    key, dense, size = None, True, 1
    total = 1
    for c in cols:
        if c.codes is not None:
            total *= len(c.uniq)
    wide = np.int32 if total < 1 << 31 else np.int64  # half the memory traffic when the key fits
    for c in cols:
        if c.codes is None:
            continue
        m = len(c.uniq)
        if key is None:
            key, size = c.codes, m
            continue
        if key.dtype != wide:
            key = key.astype(wide)
        if size * m >= _KEY_LIMIT:
            key, _, size = factorize(key)
            dense = False
        key = key * m
        key += c.codes  # in place: one row-long temporary less
        size *= m
    return key, dense, size


MEMO_VALUES = 64  # apply() keeps its results when its operands have at most this many distinct values in all


def apply(fn, cols, memo: dict | None = None, ident=None) -> Col:
    """fn(values) for every row, computed once per distinct combination of the operands.
    With `memo`, the results over few values are kept under `ident` and the operands' values,
    for another call of the same fn (a later chunk of the period)."""
    key, dense, size = _combined(cols)
    if key is None:
        return Col.const(fn(tuple(c.uniq[0] for c in cols)))
    if dense and size <= DENSE_COMBINATIONS and 4 * size <= len(key):  # far fewer combinations than rows
        known = None
        if memo is not None and sum(len(c.uniq) for c in cols) <= MEMO_VALUES:
            known = (ident, tuple((c.codes is None, tuple(map(value_key, c.uniq))) for c in cols))
            got = memo.get(known)
            if got is not None:
                return _mapped(key, *got)
        varying = [i for i, c in enumerate(cols) if c.codes is not None]
        base = [c.uniq[0] for c in cols]
        results = []
        for combo in itertools.product(*(cols[i].uniq for i in varying)):
            vals = list(base)
            for i, v in zip(varying, combo):
                vals[i] = v
            results.append(fn(tuple(vals)))
        uniq, mapping = intern(results)
        if known is not None:
            memo[known] = (uniq, mapping)
        return _mapped(key, uniq, mapping)
    inverse, first, _ = factorize(key)
    results = [fn(tuple(c.uniq[0] if c.codes is None else c.uniq[c.codes[r]] for c in cols))
               for r in first.tolist()]
    uniq, mapping = intern(results)
    return Col(np.take(_narrow(mapping, uniq), inverse), uniq) if len(uniq) > 1 else Col.const(uniq[0])


def _narrow(mapping, uniq):
    """Codes into at most 127 values as one byte each (a flag's, an outcome's): a quarter of
    the memory a row, and a faster gather."""
    return mapping.astype(np.int8) if len(uniq) <= 127 else mapping


def _mapped(key, uniq, mapping) -> Col:
    """The result column: each combination's code through `mapping` - or the codes themselves
    when it maps each to itself (a rule whose value is its one operand's): no gather."""
    if len(uniq) == 1:
        return Col.const(uniq[0])
    if len(mapping) == len(uniq) and (mapping == np.arange(len(mapping))).all():
        return Col(key, uniq)  # (the operand's own codes, shared: no column's codes are written in place)
    return Col(np.take(_narrow(mapping, uniq), key), uniq)


def combination(cols) -> Col:
    """A column whose value is which combination of the operands' values a row has (each
    combination present is one value): no Python work per row or per combination."""
    key, _, _ = _combined(cols)
    if key is None:
        return Col.const(0)
    inverse, _, count = factorize(key)
    return Col(inverse.astype(np.int32, copy=False), list(range(count)))


def classes(col: Col, by_value: bool):
    """Per-row class of a column's outcome, for telling evaluation paths apart: unknown,
    failed, true, false, or a value (each distinct value, with by_value)."""
    if isinstance(col.uniq, WholeNumbers):
        cls = col.uniq.classes()
        return np.where(cls == 4, 4 + np.arange(len(cls)), cls) if by_value else cls
    cls = []
    for v in col.uniq:
        if v is MISSING:
            cls.append(0)
        elif v is FAILED:
            cls.append(1)
        elif v is True:
            cls.append(2)
        elif v is False:
            cls.append(3)
        else:
            cls.append(4)
    if by_value:
        cls = [c if c < 4 else 4 + i for i, c in enumerate(cls)]
    return np.asarray(cls, dtype=np.int64)
