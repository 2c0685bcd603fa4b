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
# build a number big enough to take seconds or memory.  34 significant digits (IEEE
# decimal128) hold any amount of public money to the cent many times over.
PRECISION = 34
MAX_EXPONENT = 999  # |adjusted exponent| of any Decimal a computation may produce
MAX_INTEGER_DIGITS = 34  # integers beyond 10**34 are refused (Python would go to 4,300 digits and minutes)
DECIMAL_CONTEXT = decimal.Context(prec=PRECISION, rounding=decimal.ROUND_HALF_EVEN, Emax=MAX_EXPONENT,
                                  Emin=-MAX_EXPONENT, capitals=1, clamp=0,
                                  traps=[decimal.InvalidOperation, decimal.DivisionByZero, decimal.Overflow])
MAX_FACT_DIGITS = 34  # digits in a number a caller gives (before and after the point together)

# -- facts -------------------------------------------------------------------------------
MAX_LIST_ITEMS = 10_000  # items in a list fact (the bundled policies read at most a few dozen)
MAX_TEXT_LENGTH = 10_000  # characters in a text fact

# -- policy files -------------------------------------------------------------------------
MAX_FILE_BYTES = 5 * 1024 * 1024  # one policy or facts file (the largest bundled file is ~0.3 MB)
MAX_YAML_NODES = 1_000_000  # nodes built from one YAML document, aliases expanded (bundled: ~60,000)
MAX_YAML_DEPTH = 64  # nesting of mappings and lists in one YAML document (bundled: ~12)

# -- expressions and rules -------------------------------------------------------------------
MAX_EXPR_DEPTH = 64  # depth of one expression's syntax tree, brackets or not (bundled: ~10)
MAX_RULE_DEPTH = 100  # longest chain of rules using rules (bundled: ~15)

# -- evaluation ------------------------------------------------------------------------------
MAX_STEPS = 1_000_000  # evaluation steps (rule bodies, quantifier visits) in one decision
