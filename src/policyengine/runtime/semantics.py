"""What a policy means, defined once: unknowns, Kleene logic, exceptions, requirements,
bounded arithmetic.

Every compiled closure, at every trace level, decides through these functions; tracing
only observes what they return (see tracer.py).  The rules, in words:

- An expression has a value or is *unknown* (`Missing`: the facts not given and the
  source gaps that would decide it).  Operators that need both sides name what both
  sides lack (`gather`), so an undetermined answer lists every deciding fact at once.
- `and`/`or`, `all`/`any` and the quantifiers are Kleene: an item that decides (false
  for and, true for or) decides whatever the unknown items are (`kleene`).
- A rule with exceptions is decided when every outcome still possible agrees
  (`excepting`, truth table in docs/policy-format.md): exceptions that certainly
  apply must agree (else a reported `Conflict`); an exception that *may* apply changes
  nothing when its value equals the result it would replace; otherwise the result is
  unknown and names what would decide it.
- A requirement that fails refuses the case, citing the requirement (`Refused`).
- Arithmetic is exact and bounded (limits.py): a result too large, a division by zero
  or a date past 9999-12-31 is an `EvaluationError` citing where it is written.
"""
from __future__ import annotations

import decimal
import operator
from decimal import ROUND_HALF_UP, Decimal

from .. import limits
from .. import values as V
from ..errors import PolicyEngineError

CTX = limits.DECIMAL_CONTEXT
EXACT = CTX.copy()  # + - * must be exact: a result needing more digits than the context holds is an error
EXACT.traps[decimal.Inexact] = True
_INT_LIMIT = 10 ** limits.MAX_INTEGER_DIGITS
_ZERO = Decimal(0)


class Missing(Exception):
    """Unknown: what an answer would need but does not have.  Facts not given, or parts of
    the policy the source text lost (gaps).  Logic that can decide without them does."""

    def __init__(self, facts=(), gaps=()):  # (no Exception.__init__, no text: evaluation raises many, reads none)
        self.facts = set(facts)
        self.gaps = dict(gaps) if gaps else {}  # rule id -> the gap's description

    def __str__(self):
        return ", ".join(sorted(self.facts)) or "gap in the source"


class Refused(Exception):
    """A rule's requirement failed: the case is refused, citing the requirement."""

    def __init__(self, refusals):
        super().__init__("; ".join(r.clause for r, _ in refusals))
        self.refusals = refusals  # [(Rule, None)]


class Conflict(Exception):
    """Two exceptions that certainly apply give different values."""

    def __init__(self, rule, exceptions):
        super().__init__(rule.id)
        self.rule, self.exceptions = rule, exceptions


# What a speculative evaluation may end in, besides a value: each means "this outcome is
# not known", never "the answer is wrong".
OUTCOMES = (Missing, Refused, Conflict, PolicyEngineError)
FAILURES = (Refused, Conflict, PolicyEngineError)  # the outcomes that are not "unknown"


def merge(a: Missing, b: Missing) -> Missing:
    a.facts |= b.facts
    a.gaps.update(b.gaps)
    return a


def gather(exc: Missing, env, *fns) -> Missing:
    """Run the other operands too, so an unknown answer names what all of them lack."""
    for f in fns:
        try:
            f(env)
        except Missing as m:
            merge(exc, m)
        except OUTCOMES:
            pass
    return exc


def evaluate_all(fns, env) -> list:
    """Every operand's value, or one Missing naming the facts all of them lack.

    As in `pair`: once an operand is unknown, the others are run only to name what they
    lack (`gather`), so an error in a later operand does not hide the unknown one."""
    out = []
    for i, f in enumerate(fns):
        try:
            out.append(f(env))
        except Missing as m:
            raise gather(m, env, *fns[i + 1:])
    return out


def kleene(fns, stop: bool, rest=None):
    """Kleene or (stop=True) / and (stop=False) over the values of `fns`, as a closure.

    Any item that decides decides, whatever the others are: unknown, or ending in an error
    or a refusal (so giving a fact can never turn a decided answer into an error).  When no
    item decides, an unknown item makes the result unknown (the fact could still decide it);
    else the first error stands.  `rest(fns, env)` (an observer) is given the items after
    the one that decided, which the answer did not need.
    """
    fns = tuple(fns)
    last = len(fns) - 1

    def kleene_(env):
        missing = failed = None
        try:
            i = -1
            for fn in fns:
                i += 1
                try:
                    if bool(fn(env)) is stop:
                        if rest is not None and i < last:
                            rest(fns[i + 1:], env)
                        return stop
                except Missing as m:
                    missing = m if missing is None else merge(missing, m)
                except FAILURES as exc:
                    failed = failed or exc
            if missing is not None:
                raise missing
            if failed is not None:
                raise failed
            return not stop
        finally:  # a kept exception's traceback holds this frame: on every way out (an item that
            missing = failed = None  # decides after an unknown one too) drop the frame's hold on it,
            # or the frame, the frames it was called from and their columns wait for the cyclic GC
    return kleene_


def pair(op, left, right, failed=None):
    """op(left, right), naming the missing facts of both sides when the left one lacks some.

    With `failed(exc)`, Python's arithmetic failures of `op` become its error (see
    ARITHMETIC_FAILURES)."""
    if failed is None:
        def f(env):
            try:
                a = left(env)
            except Missing as m:
                raise gather(m, env, right)
            return op(a, right(env))
        return f

    def guarded(env):
        try:
            a = left(env)
        except Missing as m:
            raise gather(m, env, right)
        b = right(env)
        try:
            return op(a, b)
        except ARITHMETIC_FAILURES as exc:
            raise failed(exc) from None
    return guarded


# -- exceptions (default logic) ------------------------------------------------------------
def excepting(rule, excs, base, unchanged=None):
    """A closure: the value of a rule with exceptions, deciding whatever cannot change.

    `excs` is [(exception, when_fn, value_fn)].  Exceptions that certainly apply give the
    value (and must agree, else Conflict); with none, the base does.  An exception whose
    condition is unknown changes nothing if its value equals that result; otherwise the
    result is unknown, naming what would decide it.  `unchanged(env, exceptions)` is told
    which exceptions stayed unknown without changing the result (for the trace).
    """
    return lambda env: _with_exceptions(rule, excs, base, env, unchanged)


def _with_exceptions(rule, excs, base, env, unchanged):
    applies, maybe = [], []
    for ex, when, value in excs:
        try:
            if when(env):
                applies.append((ex, value))
        except (Missing, *FAILURES) as m:  # unknown, or cannot be computed: it may apply
            maybe.append((ex, value, m.with_traceback(None)))  # kept without this frame: no cycle
    if applies:
        results = [(ex, value(env)) for ex, value in applies]  # an unknown value is unknown: raise
        first = results[0][1]
        if any(not same_value(v, first) for _, v in results[1:]):
            raise Conflict(rule, results)
        result = first
    else:
        try:
            result = base(env)
        except Missing as m:
            for _, value, why in maybe:  # an exception that may apply could decide instead
                if isinstance(why, Missing):
                    merge(m, why)
                gather(m, env, value)
            raise
    if maybe:
        _only_agreeing(result, maybe, env)
        if unchanged is not None:
            unchanged(env, [ex for ex, _, _ in maybe])
    return result


def _only_agreeing(result, maybe, env):
    """Exceptions that may apply leave `result` standing only if each would give it too.

    One that would give another value leaves the result unknown, naming what decides its
    condition; if its condition could not be computed at all, that error stands."""
    unknown = failed = None
    for ex, value, why in maybe:
        try:
            if same_value(value(env), result):
                continue
        except Missing as m:
            if isinstance(why, Missing):
                why = merge(Missing(why.facts, why.gaps), m)
        except OUTCOMES:
            pass
        if isinstance(why, Missing):
            unknown = Missing(why.facts, why.gaps) if unknown is None else merge(unknown, why)
        else:
            failed = failed or why
    try:
        if unknown is not None:
            raise unknown
        if failed is not None:
            raise failed
    finally:
        unknown = failed = why = None  # no reference cycle through this frame (see kleene)


def same_value(a, b) -> bool:
    """Equal as policy values: 1 == 1.0 for numbers, but true is not 1."""
    if type(a) is bool or type(b) is bool:
        return a is b
    try:
        return a == b
    except TypeError:
        return False


# -- requirements -------------------------------------------------------------------------------
def requiring(reqs, body):
    """A closure: the body's value if every requirement holds; refused citing each that fails.

    `reqs` is [(rule, fn)]; unknown requirements leave the answer unknown, naming what the
    requirements and the body lack."""
    def required(env):
        refused, missing = [], None
        for target, fn in reqs:
            try:
                if not fn(env):
                    refused.append((target, None))
            except Missing as m:
                missing = m if missing is None else merge(missing, m)
        if refused:
            raise Refused(refused)
        if missing is not None:
            try:
                raise gather(missing, env, body)
            finally:
                missing = None  # no reference cycle through this frame (see kleene)
        return body(env)
    return required


# -- bounded arithmetic --------------------------------------------------------------------------
def _bounded_int(x):
    if type(x) is int and not -_INT_LIMIT < x < _INT_LIMIT:
        raise OverflowError(f"a whole number beyond {limits.MAX_INTEGER_DIGITS} digits")
    return x


def _arith(int_op, dec_op):
    def op(a, b):
        if type(a) is int and type(b) is int:
            return _bounded_int(int_op(a, b))
        r = dec_op(a, b)
        return r if r else _ZERO  # no "-0": 0 × -1 is 0, as the fact reader insists for input
    return op


def _div(a, b):
    r = CTX.divide(a, b)
    return r if r else _ZERO


def _add(a, b):
    if isinstance(b, V.Duration):
        return V.add_duration(a, b) if not isinstance(a, V.Duration) else a + b
    return ADD(a, b)


def _sub(a, b):
    if isinstance(b, V.Duration):
        return V.add_duration(a, b, -1) if not isinstance(a, V.Duration) else a - b
    return SUB(a, b)


ADD = _arith(operator.add, EXACT.add)
SUB = _arith(operator.sub, EXACT.subtract)
MUL = _arith(operator.mul, EXACT.multiply)
ARITH = {"+": ADD, "-": SUB, "*": MUL, "/": _div}
TIME_ARITH = {"+": _add, "-": _sub}
CMP = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
       ">=": operator.ge}


def negate(x):
    if type(x) is int:
        return _bounded_int(-x)
    if isinstance(x, Decimal):
        return CTX.minus(x) if x else _ZERO
    return -x


_ONE = Decimal(1)


def round_half_up(x, to=1):
    """Round to the nearest multiple of `to`, halves away from zero (93,450 -> 93,500 to $100)."""
    step = Decimal(to)
    r = CTX.multiply(CTX.divide(Decimal(x), step).quantize(_ONE, rounding=ROUND_HALF_UP, context=CTX), step)
    return r if r else _ZERO


FUNCS = {
    "min": min, "max": max, "round": round_half_up, "floor": V.floor, "abs": abs,
    "months_between": V.months_between, "days_between": V.days_between,
}

# Python's own failures of a computation the type checker allowed: the values were too
# large, a date left the calendar, a divisor was zero.  Each becomes an EvaluationError.
ARITHMETIC_FAILURES = (ArithmeticError, ValueError, OverflowError)


def explain_failure(exc: Exception) -> str:
    """A plain reason for an arithmetic failure, never a Python repr."""
    if isinstance(exc, (ZeroDivisionError, decimal.DivisionByZero, decimal.DivisionUndefined)):
        return "division by zero"
    if isinstance(exc, decimal.Inexact):
        return f"the exact result needs more than {limits.PRECISION} digits"
    if isinstance(exc, OverflowError) and "date" in str(exc):
        return "the date falls outside the calendar (years 1 to 9999)"
    if isinstance(exc, (decimal.Overflow, OverflowError)):
        return str(exc) if "digits" in str(exc) else "the result is too large"
    if isinstance(exc, decimal.InvalidOperation):
        signals = [x for a in exc.args for x in (a if isinstance(a, (list, tuple)) else [a])]
        if any(isinstance(x, type) and issubclass(x, decimal.DivisionUndefined) for x in signals):
            return "division by zero (0 / 0)"  # C decimal signals it as InvalidOperation([DivisionUndefined])
        return f"the result is out of range (more than {limits.PRECISION} digits)"
    msg = str(exc)
    if ("year" in msg or "date" in msg) and "out of range" in msg:
        return "the date falls outside the calendar (years 1 to 9999)"
    return msg or type(exc).__name__
