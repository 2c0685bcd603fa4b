"""The answer to one evaluation: value, status, cited clauses, trace, missing facts.

Built cheaply at evaluation time; the trace tree and JSON form are only assembled
when someone asks for them.
"""
from __future__ import annotations

from ..expr import ast
from .compile import _UNSET, Frame
from ..values import plain


class Decision:
    __slots__ = ("_policies", "decision", "as_of", "status", "value", "missing", "_refusals", "_conflict",
                 "facts", "_root", "trace_level", "_trace", "log_id", "gaps")

    def __init__(self, policies, decision, as_of, status, value, missing, refusals, conflict, facts, root, trace_level):
        self._policies = policies
        self.decision, self.as_of, self.status, self.value = decision, as_of, status, value
        self.missing = list(missing)
        self._refusals, self._conflict = refusals, conflict
        self.facts = facts
        self._root = root
        self.trace_level = trace_level
        self._trace = None
        self.log_id = None  # the decision log record id, when the decision was logged
        self.gaps = []  # parts of the policy the source text lost, that this case needs

    @property
    def policy_hash(self) -> str:
        return self._policies.policy_hash

    @property
    def decided(self) -> bool:
        return self.status == "decided"

    @property
    def clauses(self) -> list[str] | None:
        """Clause ids (e.g. 'ldp.B.12') of every clause that fired or failed, in order.
        None at trace level 'none', which records nothing."""
        if self._root is None:
            return None
        seen = dict.fromkeys(f.obj.clause for f in _frames(self._root) if f.kind in ("rule", "table", "exception")
                             and (f.kind != "exception" or f.outcome))
        for r, _ in self._refusals:
            seen.setdefault(r.clause)
        return list(seen)

    @property
    def messages(self) -> list[dict]:
        """Why a case was refused or conflicted, citing the clause, in both languages."""
        out = []
        for rule, _ in self._refusals:
            msg = rule.message or rule.label
            out.append({"kind": "refused", "rule": rule.id, "clause": rule.clause, "citation": rule.citation,
                        "en": msg.en, "fr": msg.fr})
        if self._conflict is not None:
            c = self._conflict
            ids = ", ".join(ex.id for ex, _ in c.exceptions)
            out.append({"kind": "conflict", "rule": c.rule.id, "clause": c.rule.clause, "citation": c.rule.citation,
                        "en": f"exceptions {ids} all apply and give different values",
                        "fr": f"les exceptions {ids} s'appliquent toutes et donnent des valeurs différentes"})
        return out

    @property
    def trace(self) -> list[dict] | None:
        """The trace as a tree of dicts (JSON-ready); None at trace level 'none'."""
        if self._root is None:
            return None
        if self._trace is None:
            root = self._policies.root
            self._trace = [_frame_dict(f, root) for f in self._root.children]
        return self._trace

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "as_of": self.as_of.isoformat(),
            "status": self.status,
            "value": plain(self.value),
            "clauses": self.clauses,
            "missing": self.missing,
            "gaps": self.gaps,
            "messages": self.messages,
            "facts": plain(self.facts),
            "trace_level": self.trace_level,
            "trace": self.trace,
            "policy_hash": self.policy_hash,
            "engine_version": _engine_version(),
        }

    def explain(self, lang: str = "en") -> str:
        from ..present.explain import explain_text
        return explain_text(self, lang)

    def __repr__(self) -> str:
        return f"<Decision {self.decision} as of {self.as_of}: {self.status} {self.value!r}>"


def _engine_version() -> str:
    from .. import __version__
    return __version__


def _frames(frame: Frame):
    for child in frame.children:
        yield child
        yield from _frames(child)


def _frame_dict(f: Frame, root) -> dict:
    d: dict = {"kind": f.kind}
    obj = f.obj
    if f.kind == "condition":
        d["expression"] = obj.source
        d["location"] = _relative(obj.locate(), root)
    else:
        d.update(id=obj.id, clause=obj.clause, citation=obj.citation, label={"en": obj.label.en, "fr": obj.label.fr})
        if f.kind in ("rule", "exception"):
            text = (getattr(f.version, "text", None) if f.version else None) or obj.text
            d["text"] = text
        elif f.kind == "table":
            d["text"] = obj.text
    if f.version is not None and getattr(f.version, "effective", None) is not None:
        d["version"] = {"effective": plain(f.version.effective), "approved": plain(f.version.approved)}
        if getattr(f.version, "label", None):
            d["version"]["label"] = f.version.label
    if f.kind == "table":
        d["keys"] = plain(f.reads)
    elif f.reads:
        d["facts_read"] = {k: (None if v is _UNSET else plain(v)) for k, v in f.reads.items()}
    if f.value is not _UNSET:
        d["value"] = plain(f.value)
    if f.outcome is not None:
        d["outcome"] = f.outcome
    if f.note:
        d[f.note[0]] = f.note[1]
    if f.values:
        d["steps"] = [{"at": f"{n.line}:{n.col}", "node": type(n).__name__, "value": plain(v)}
                      for n, v in f.values if not isinstance(n, ast.Literal)]
    if f.children:
        d["children"] = [_frame_dict(c, root) for c in f.children]
    return d


def _relative(loc, root) -> str:
    """file:line:col with the file relative to the policy folder, so a record replays identically
    wherever the policies are loaded from."""
    from pathlib import Path
    try:
        rel = Path(loc.path).resolve().relative_to(Path(root).resolve()).as_posix()
    except ValueError:
        rel = loc.path
    return f"{rel}:{loc.line}:{loc.col}"
