"""Decisions into the log, and logged decisions back out: record, replay, compare.

Replaying loads the exact policy files stored with the record (content-addressed in the
log), re-evaluates the logged facts as of the logged date, and says what differs; with
the current policies instead, it shows what a policy change would have changed.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from .chain import ChainedLog, LogError
from .log import DecisionLog
from ..errors import InputError, PolicyEngineError
from ..runtime.evaluator import SUBJECT, PolicyEvaluator
from ..source.loader import load_model



def open_log(log) -> ChainedLog:
    """A log object as given, or the log at a path or postgresql:// URL."""
    return log if isinstance(log, ChainedLog) else DecisionLog.open(log)


def record(policies, decision, log, subject=None, extra=None) -> str:
    """Append a decision to the log (storing its policy files once); return the record id.
    `extra` adds fields the decision does not carry (the HTTP request id)."""
    return record_many(policies, [decision], log, None if subject is None else [subject],
                       None if extra is None else [extra])[0]


def record_many(policies, decisions, log, subjects=None, extras=None) -> list[str]:
    """Append many decisions (all under `policies`) in ONE transaction, in order, and return
    their record ids: all are kept or none, with one commit instead of one per decision.
    `subjects` and `extras`, when given, run beside `decisions` (None entries for none)."""
    decisions = list(decisions)
    subjects = [None] * len(decisions) if subjects is None else list(subjects)
    extras = [None] * len(decisions) if extras is None else list(extras)
    if not len(subjects) == len(extras) == len(decisions):
        raise InputError([f"record_many: {len(decisions)} decisions, {len(subjects)} subjects and "
                          f"{len(extras)} extras: give one of each per decision"])
    dl = open_log(log)
    try:
        dl.store_policies(policies.policy_hash, policies.sources)
        return dl.append_many([as_record(d.to_dict(), s, x) for d, s, x in zip(decisions, subjects, extras)])
    finally:
        if dl is not log:
            dl.close()


def as_record(decision: dict, subject=None, extra=None) -> dict:
    """The log record of a decision's to_dict(): with whom it is about and any extra fields
    (a None value is left out; a field of the decision is never overridden)."""
    rec = dict(decision)
    if subject is not None:
        rec["subject"] = str(subject)
    for key, value in (extra or {}).items():
        if value is not None:
            rec.setdefault(key, value)
    return rec


@dataclass
class Replay:
    record: dict
    replayed: dict | None
    under: str  # "logged" or "current"
    differences: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def same(self) -> bool:
        return not self.differences and self.error is None

    def clause_diff(self):
        """The logged and the replayed decision compared clause by clause (what `policyengine
        explain-diff` shows), or None when either has no trace or the replay failed."""
        from ..tools.explain_diff import compare
        if self.replayed is None or self.record.get("trace") is None or self.replayed.get("trace") is None:
            return None
        return compare(self.record, self.replayed)

    def to_dict(self) -> dict:
        return {"record": self.record["id"], "decision": self.record["decision"], "as_of": self.record["as_of"],
                "under": self.under, "same": self.same, "differences": self.differences, "error": self.error,
                "logged": {k: self.record.get(k) for k in ("status", "value", "clauses", "policy_hash")},
                "replayed": None if self.replayed is None else
                {k: self.replayed.get(k) for k in ("status", "value", "clauses", "policy_hash")}}


def _policies_from_log(dl: DecisionLog, policy_hash: str) -> PolicyEvaluator:
    """An evaluator of the exact policy files stored with a record."""
    files = dl.policy_files(policy_hash)
    tmp = tempfile.TemporaryDirectory(prefix="policyengine-replay-")
    root = Path(tmp.name) / "policies"
    for rel, body in files.items():
        target = root / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(body)
    policies = PolicyEvaluator(load_model(root, use_cache=False))  # a temporary folder: nothing to reuse
    policies._replay_tmp = tmp  # keep the folder as long as the policies live
    if policies.policy_hash != policy_hash:  # policy_files() checked the files; this checks what was loaded
        raise LogError(f"{dl.name}: policy {policy_hash}: the stored files load as {policies.policy_hash}; "
                       "refusing to replay under other rules")
    return policies


def replay(log, record_id: str, current=None) -> Replay:
    """Re-decide a logged record under its logged policies, or under `current` policies."""
    dl = open_log(log)
    try:
        rec = dl.get(record_id)
        policies = current if current is not None else _policies_from_log(dl, rec["policy_hash"])
    finally:
        if dl is not log:
            dl.close()
    under = "current" if current is not None else "logged"
    facts = dict(rec.get("facts") or {})
    try:
        d = policies.evaluate(rec["decision"], facts, as_of=rec["as_of"], trace=rec.get("trace_level") or "audit",
                              presume=rec.get("presume", True) is not False, known_on=rec.get("known_on"))
    except PolicyEngineError as exc:
        return Replay(rec, None, under, [], f"{type(exc).__name__}: {exc}")
    again = d.to_dict()
    diffs = []
    for key in ("status", "value", "clauses", "missing", "assumptions", "messages"):
        logged = rec.get(key, [] if key == "assumptions" else None)  # records before presumptions had none
        if logged != again.get(key):
            diffs.append(f"{key}: logged {logged!r}, now {again.get(key)!r}")
    if under == "logged" and rec.get("trace") != again.get("trace"):
        diffs.append("trace: differs from the logged trace")
    return Replay(rec, again, under, diffs)


__all__ = ["LogError", "DecisionLog", "record", "record_many", "replay", "Replay", "SUBJECT", "InputError"]
