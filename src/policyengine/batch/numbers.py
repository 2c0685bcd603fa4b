"""Numbers held as numbers: the batch backend's exact fixed-point columns.

A column whose values are all numbers of one Python type (int, or Decimal) can be held as
one int64 a row and a scale: the row's value is ints / 10**scale, exactly.  +, -, *, a
division whose quotients terminate, comparisons, min, max, half-up rounding, negation and
`if` are then computed for the whole column at once in integer arithmetic.  That is exact,
as the scalar engine's Decimal arithmetic is (semantics.EXACT traps an inexact result, and
a value of int64 size has far fewer digits than the context's 28), so both give the same
numbers.  A row that is not a value carries its outcome instead (MISSING or FAILED: the
first operand's, in the order the scalar closure reads them).  Where a value could leave
the safe range, or an operation is one of the others, a kernel returns None and the
compiler takes its general path (once per distinct combination) for that node.

A Decimal computed here may differ from the scalar engine's in its exponent alone (93900
and 93900.00 are one number): the result is a decimal128 column, which holds the number,
and the engine compares numbers by value.
"""
from __future__ import annotations

from decimal import Decimal

import numpy as np

from .columns import FAILED, MISSING, Col

_ONE = Decimal(1)
LIMIT = 1 << 62  # every magnitude stays below this, so no int64 operation can overflow
MAX_SCALE = 18
VALUE, UNKNOWN, FAILURE = 0, 1, 2  # a row's state
_CLASS = np.asarray([4, 0, 1], dtype=np.int64)  # state -> columns.classes' code (value, unknown, failed)


class Num:
    """A numeric column: ints (0 where a row is not a value), scale, the values' Python type,
    and each row's state (None: every row is a value); `bound`, when known without a pass
    over the rows, a bound on the magnitudes (the operands' bounds carried through a kernel,
    or the distinct values' largest)."""

    __slots__ = ("ints", "scale", "is_int", "state", "_bound")

    def __init__(self, ints, scale: int, is_int: bool, state=None, bound: int | None = None):
        self.ints, self.scale, self.is_int, self.state = ints, scale, is_int, state
        self._bound = bound

    def take(self, rows) -> "Num":
        return Num(np.take(self.ints, rows), self.scale, self.is_int,
                   None if self.state is None else np.take(self.state, rows), self._bound)

    def bound(self) -> int:
        """A bound on the magnitudes, at least the largest (kept: the kernels ask it of an
        operand more than once; they only check it against LIMIT, where a bound will do)."""
        if self._bound is None:
            self._bound = int(max(self.ints.max(), -self.ints.min())) if len(self.ints) else 0
        return self._bound

    def python(self, i: int):
        """The Python value of an unscaled integer of this column (a Decimal with no trailing
        zeros after the point: the places the number needs)."""
        if self.is_int:
            return int(i)
        d = Decimal(int(i)).scaleb(-self.scale).normalize()
        return d if d.as_tuple().exponent <= 0 else d.quantize(_ONE)

    def at(self, r: int):
        s = 0 if self.state is None else int(self.state[r])
        return MISSING if s == UNKNOWN else FAILED if s == FAILURE else self.python(self.ints[r])

    def classes(self):
        """Each row's outcome class, for the paths (None: every row is a value)."""
        return None if self.state is None or not self.state.any() else _CLASS[self.state]

    def col(self) -> Col:
        """The same column as codes into its distinct values, for the general path."""
        present, codes = np.unique(self.ints, return_inverse=True)
        uniq = [self.python(i) for i in present.tolist()] + [MISSING, FAILED]
        codes = codes.astype(np.int32)
        if self.state is not None:
            codes[self.state == UNKNOWN] = len(present)
            codes[self.state == FAILURE] = len(present) + 1
        return Col(codes, uniq)


def of(col, n: int, memo: dict):
    """The Num of a Col of numbers (and MISSING/FAILED), or None when it holds anything else,
    mixes int and Decimal, or a value beyond the safe range."""
    if isinstance(col, Num):
        return col
    if not isinstance(col, Col):
        return None
    got = memo.get(id(col.uniq))
    if got is None or got[0] is not col.uniq:
        got = memo[id(col.uniq)] = (col.uniq, _per_value(col.uniq))
    table = got[1]
    if table is None:
        return None
    ints, scale, is_int, state = table
    if col.codes is None:
        return Num(np.full(n, ints[0], dtype=np.int64), scale, is_int,
                   None if state is None or not state[0] else np.full(n, state[0], dtype=np.int8), abs(int(ints[0])))
    if state is not None:  # a value no row holds (the null every input column lists) is no state
        per_row = np.take(state, col.codes)
        state = per_row if per_row.any() else None
    bound = int(max(ints.max(), -ints.min())) if len(ints) else 0  # (of the distinct values: no pass over the rows)
    start = getattr(col.uniq, "start", None)
    if start is not None and state is None:  # a range of whole numbers coded by subtraction: added back, not gathered
        row_ints = col.codes.astype(np.int64)
        row_ints += start
        return Num(row_ints, scale, is_int, None, bound)
    return Num(np.take(ints, col.codes), scale, is_int, state, bound)


def _per_value(uniq):
    """(ints, scale, is_int, state) of each distinct value, or None.  The values are read by
    Arrow (a decimal128 or int64 array), not one by one in Python: a salary column has
    tens of thousands of them."""
    import pyarrow as pa

    state = np.asarray([UNKNOWN if v is MISSING else FAILURE if v is FAILED else VALUE for v in uniq], dtype=np.int8)
    nums = [v for v, s in zip(uniq, state.tolist()) if s == VALUE]
    kinds = set(map(type, nums))
    if kinds == {int}:
        is_int = True
    elif kinds and all(issubclass(k, Decimal) for k in kinds):
        is_int = False
    else:
        return None  # no numbers, other values, or int and Decimal mixed
    try:
        arr = pa.array(nums, type=None if not is_int else pa.int64())
    except (pa.ArrowException, OverflowError, ValueError):
        return None  # beyond int64 or 38 digits, or not finite
    if is_int:
        scale, ints = 0, arr.to_numpy()
    else:
        if not pa.types.is_decimal128(arr.type) or arr.type.scale > MAX_SCALE:
            return None
        scale = max(0, arr.type.scale)
        try:
            arr = arr.cast(pa.decimal128(38, scale))
        except pa.ArrowException:
            return None
        words = np.frombuffer(arr.buffers()[1], dtype=np.int64).reshape(-1, 2)[arr.offset:arr.offset + len(arr)]
        ints = words[:, 0]
        if (words[:, 1] != ints >> 63).any():
            return None  # beyond int64
    if len(ints) and int(np.abs(ints).max()) >= LIMIT:
        return None
    table = np.zeros(len(uniq), dtype=np.int64)
    table[state == VALUE] = ints
    return table, scale, is_int, None if not state.any() else state


# -- the kernels ---------------------------------------------------------------------------
def _first(*states):
    """Each row's outcome: the first operand's (in order) that is not a value."""
    out = None
    for s in states:
        if s is None:
            continue
        out = s if out is None else out + (out == VALUE) * s  # (no where(): a branch a row)
    return out


def _result(ints, scale, is_int, state, bound=None):
    if scale > MAX_SCALE:
        return None
    if state is not None:
        ints = ints * (state == VALUE)
    return Num(ints, scale, is_int, state, bound)


def _at_scale(a: Num, scale: int):
    f = 10 ** (scale - a.scale)
    if f == 1:
        return a.ints
    return a.ints * f if a.bound() * f < LIMIT else None


def _aligned(a: Num, b: Num):
    scale = max(a.scale, b.scale)
    ai, bi = _at_scale(a, scale), _at_scale(b, scale)
    return (None, None, scale) if ai is None or bi is None else (ai, bi, scale)


def arith(op: str, a: Num, b: Num):
    """a + b, a - b, a * b."""
    is_int = a.is_int and b.is_int
    if op == "*":
        bound = a.bound() * b.bound()
        if bound >= LIMIT:
            return None
        return _result(a.ints * b.ints, a.scale + b.scale, is_int, _first(a.state, b.state), bound)
    ai, bi, scale = _aligned(a, b)
    bound = None if ai is None else a.bound() * 10 ** (scale - a.scale) + b.bound() * 10 ** (scale - b.scale)
    if bound is None or bound >= LIMIT:
        return None
    return _result(ai + bi if op == "+" else ai - bi, scale, is_int, _first(a.state, b.state), bound)


def divide(a: Num, b: Num):
    """a / b for a divisor the same on every row, whose quotients terminate (2^x 5^y, as /100)."""
    if b.state is not None or not len(b.ints) or (b.ints != b.ints[0]).any() or b.ints[0] == 0:
        return None
    q = int(b.ints[0])  # b = q / 10**b.scale, so a / b = a.ints * 10**b.scale / q / 10**a.scale
    rest, twos, fives = abs(q), 0, 0
    while rest % 2 == 0:
        rest, twos = rest // 2, twos + 1
    while rest % 5 == 0:
        rest, fives = rest // 5, fives + 1
    if rest != 1:
        return None
    k = max(twos, fives)
    m = 10 ** b.scale * 10 ** k // abs(q) * (1 if q > 0 else -1)
    bound = a.bound() * abs(m)
    if bound >= LIMIT:
        return None
    return _result(a.ints * m, a.scale + k, False, a.state, bound)


# each comparison's negation (integers have no NaN): true where a row's comparison is false
_NOT = {"==": np.not_equal, "!=": np.equal, "<": np.greater_equal, "<=": np.greater, ">": np.less_equal,
        ">=": np.less}


def compare(op: str, a: Num, b: Num):
    """A Col of True / False, and MISSING / FAILED where an operand is not a value."""
    ai, bi, _ = _aligned(a, b)
    if ai is None:
        return None
    codes = _NOT[op](ai, bi).view(np.int8)  # 0 true, 1 false: the negation's bytes, one pass
    state = _first(a.state, b.state)
    if state is None:  # every row a value: no outcome to carry (and nothing to look for in later passes)
        return Col(codes, [True, False])
    codes[state == UNKNOWN] = 2
    codes[state == FAILURE] = 3
    return Col(codes, [True, False, MISSING, FAILED])


def extreme(function: str, a: Num, b: Num):
    """min(a, b) or max(a, b) (Python's: the first operand unless the second is beyond it)."""
    if a.is_int != b.is_int:
        return None
    ai, bi, scale = _aligned(a, b)
    if ai is None:
        return None
    # Python's min/max pick b only when it is beyond a; between integers at one scale the
    # number picked is the same either way
    out = np.minimum(ai, bi) if function == "min" else np.maximum(ai, bi)
    return _result(out, scale, a.is_int, _first(a.state, b.state), _wider(a, b, scale))


def round_to(a: Num, to):
    """round(a, to=step): the nearest multiple of step, halves away from zero, as a Decimal."""
    step = Decimal(to)
    if not step.is_finite() or step <= 0:
        return None
    t = step.as_tuple()
    digits = int("".join(map(str, t.digits)))
    for p in (2, 5):  # a step with another prime factor could make the scalar quotient inexact
        while digits % p == 0:
            digits //= p
    if digits != 1:
        return None
    scale = max(a.scale, -t.exponent)
    ai = _at_scale(a, scale)
    st = int(step.scaleb(scale))
    if ai is None or st >= LIMIT or a.bound() * 10 ** (scale - a.scale) + st >= LIMIT:
        return None
    places = max(0, -t.exponent)  # a multiple of the step needs no more places than the step
    bound = (a.bound() * 10 ** (scale - a.scale) + st) // 10 ** (scale - places) + 1  # (at most half a step more)
    unit = st // 10 ** (scale - places)
    if st % 2 == 0 and ai.min(initial=0) >= 0:  # no negative number (salaries): half a step up, then down to a step
        out = ai + st // 2
        out //= st
        out *= unit
        return _result(out, places, False, a.state, bound)
    q = (2 * np.abs(ai) + st) // (2 * st)
    return _result(np.sign(ai) * q * unit, places, False, a.state, bound)


def negate(a: Num):
    return _result(-a.ints, a.scale, a.is_int, a.state, a._bound)


def _wider(a: Num, b: Num, scale: int) -> int:
    """A bound on either operand at `scale` (a min, a max, the branch an `if` takes)."""
    return max(a.bound() * 10 ** (scale - a.scale), b.bound() * 10 ** (scale - b.scale))


def choose(cond: Col, a: Num, b: Num):
    """if cond then a else b: only the branch taken counts; an unknown or failed condition is
    the row's outcome."""
    table = []
    for v in cond.uniq:
        if v is MISSING or v is FAILED:
            table.append(UNKNOWN if v is MISSING else FAILURE)
        elif type(v) is bool:
            table.append(3 if v else 4)  # then / otherwise
        else:
            return None
    if a.is_int != b.is_int:
        return None
    ai, bi, scale = _aligned(a, b)
    if ai is None:
        return None
    table = np.asarray(table, dtype=np.int8)
    pick = np.full(len(ai), table[0], dtype=np.int8) if cond.codes is None else np.take(table, cond.codes)
    then = pick == 3
    ints = bi + (ai - bi) * then  # |a - b| < 2 LIMIT: no overflow, and no where() (a branch a row)
    if a.state is None and b.state is None and not (table < 3).any():
        return _result(ints, scale, a.is_int, None, _wider(a, b, scale))  # every row a value: the branch taken is one
    sa = np.zeros(len(ai), dtype=np.int8) if a.state is None else a.state
    sb = np.zeros(len(ai), dtype=np.int8) if b.state is None else b.state
    state = np.where(then, sa, np.where(pick == 4, sb, pick)).astype(np.int8)
    return _result(ints, scale, a.is_int, state if state.any() else None, _wider(a, b, scale))


class Rec:
    """A record rule's value over rows: a column per field (Num or Col), and each row's state
    (the first field, in order, that is not a value)."""

    __slots__ = ("fields", "state")

    def __init__(self, fields: dict, state):
        self.fields, self.state = fields, state

    def take(self, rows) -> "Rec":
        return Rec({k: c.take(rows) for k, c in self.fields.items()}, None if self.state is None else self.state[rows])

    def classes(self):
        return None if self.state is None or not self.state.any() else _CLASS[self.state]

    def at(self, r: int):
        s = 0 if self.state is None else int(self.state[r])
        if s:
            return MISSING if s == UNKNOWN else FAILED
        return {k: c.at(r) if isinstance(c, Num) else _col_at(c, r) for k, c in self.fields.items()}


def _col_at(c: Col, r: int):
    return c.uniq[0] if c.codes is None else c.uniq[c.codes[r]]


def state_of(col, n: int):
    """Each row's state of a Col (None when every row is a value)."""
    if isinstance(col, (Num, Rec)):
        return col.state
    marks = np.asarray([UNKNOWN if v is MISSING else FAILURE if v is FAILED else VALUE for v in col.uniq],
                       dtype=np.int8)
    if not marks.any():
        return None
    return np.full(n, marks[0], dtype=np.int8) if col.codes is None else np.take(marks, col.codes)
