"""The batch backend: one decision for a whole population, column-wise (see engine.py)."""
