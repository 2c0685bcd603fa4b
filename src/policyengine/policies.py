"""`Policies`: what `policyengine.load()` returns — the loaded model, its evaluator, and
the decision log, put together for callers.

The layers below never import this one: the loader builds a PolicyModel, the runtime
evaluates it, audit records and replays decisions; only here do they meet, so no import
cycle (engine -> audit -> loader -> engine) can form.
"""
from __future__ import annotations

from pathlib import Path

from .runtime.decision import Decision
from .runtime.evaluator import SUBJECT, PolicyEvaluator
from .source.loader import load_model


class Policies(PolicyEvaluator):
    """A loaded, checked set of instruments; call `evaluate()` or `query()`."""

    def evaluate(self, decision: str, facts: dict, as_of, trace: str = "audit", log=None,
                 presume: bool = True, known_on=None) -> Decision:
        """Decide `decision` for `facts` as of a date (see PolicyEvaluator.evaluate).

        With `log` (a path or DecisionLog) the decision is appended to that decision log;
        a `subject_id` fact names whom the decision is about (kept in the log, not read
        by any rule).
        """
        if log is None:
            return super().evaluate(decision, facts, as_of, trace, presume, known_on)
        from . import audit  # the log's modules (sqlite3, the chain), only for a logged decision
        subject = facts.get(SUBJECT) if isinstance(facts, dict) else None
        rest = {k: v for k, v in facts.items() if k != SUBJECT} if subject is not None else facts
        d = super().evaluate(decision, rest, as_of, trace, presume, known_on)
        d.log_id = audit.record(self, d, log, subject)
        return d

    def evaluate_batch(self, decision: str, data, as_of=None, as_of_column=None, known_on=None,
                       known_on_column=None, presume: bool = True, scheduler=None):
        """Decide `decision` for every row of `data` at once: an Arrow table with, per row, the
        status, value, deciding clauses, missing facts, presumptions and input errors, equal
        to evaluate()'s for the same case (see batch/engine.py; needs the `batch` extra)."""
        try:
            from .batch import evaluate_batch
        except ImportError as exc:  # numpy / pyarrow not installed
            from .errors import InputError
            raise InputError([f"evaluate_batch needs the batch extra: pip install 'policyengine[batch]' ({exc})"]) from None
        return evaluate_batch(self, decision, data, as_of=as_of, as_of_column=as_of_column, known_on=known_on,
                              known_on_column=known_on_column, presume=presume, scheduler=scheduler)


def load(root: str | Path = "policies") -> Policies:
    """Load and check every policy file under root; raise PolicyError listing every problem."""
    return Policies(load_model(root))
