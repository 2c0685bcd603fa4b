"""The bounds that make loading and evaluation total: every input gives an answer or a
clear error, never a hang, a crash or memory exhaustion.

One place for every limit, so the policy format documentation, the loader, the type
checker, the fact reader and the runtime agree.  Each limit is far above anything the
bundled policies need (measured beside each constant) and far below what would hurt.
"""
from __future__ import annotations

import decimal

# -- numbers ---------------------------------------------------------------------------
# Money and decimals are exact; the context bounds their size so that no computation can
# build a number big enough to take seconds or memory.  28 significant digits (as
# Python's default) hold any amount of public money to the cent many times over.
PRECISION = 28
MAX_EXPONENT = 999  # |adjusted exponent| of any Decimal a computation may produce
MAX_INTEGER_DIGITS = 28  # integers beyond 10**28 are refused (Python would go to 4,300 digits and minutes)
DECIMAL_CONTEXT = decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN, Emax=MAX_EXPONENT,
                                  Emin=-MAX_EXPONENT, capitals=1, clamp=0,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
MAX_FACT_DIGITS = 28  # digits in a number a caller gives (before and after the point together)

# -- facts -------------------------------------------------------------------------------
MAX_LIST_ITEMS = 10_000  # items in a list fact (the bundled policies read at most a few dozen)
MAX_TEXT_LENGTH = 10_000  # characters in a text fact

# -- policy files -------------------------------------------------------------------------
MAX_FILE_BYTES = 5 * 1024 * 1024  # one policy or facts file (the largest bundled file is ~0.1 MB)
MAX_YAML_NODES = 1_000_000  # nodes built from one YAML document, aliases expanded (bundled: ~3,900; ~47,000 in all files)
MAX_YAML_DEPTH = 64  # nesting of mappings and lists in one YAML document (bundled: ~11)

# -- expressions and rules -------------------------------------------------------------------
MAX_EXPR_DEPTH = 64  # depth of one expression's syntax tree, brackets or not (bundled: 7)
MAX_RULE_DEPTH = 50  # longest chain of rules using rules, counted in rules (bundled: 8)

# -- evaluation ------------------------------------------------------------------------------
MAX_STEPS = 100_000  # quantifier visits in one decision (bundled: a few dozen); ~0.1 s of work at most

# Compiling and evaluating the deepest policy these limits allow (MAX_RULE_DEPTH rules,
# each MAX_EXPR_DEPTH deep) takes about 7,000 nested Python calls; the runtime raises
# Python's recursion limit to this when it is lower (tests/test_runtime_bounds.py).
RECURSION_LIMIT = 20_000
