"""The answer to one evaluation: value, status, cited clauses, trace, missing facts.

Built cheaply at evaluation time; the trace tree and JSON form are only assembled
when someone asks for them.
"""
from __future__ import annotations

import threading
import weakref

from ..expr import ast
from ..model.elements import version_dict
from ..present.explain import explain_text
from ..values import plain
from ..version import __version__
from .tracer import UNSET as _UNSET, Frame


class Decision:
    __slots__ = ("_policies", "decision", "as_of", "status", "value", "missing", "_refusals", "_conflict",
                 "facts", "_root", "trace_level", "_trace", "log_id", "gaps",
                 "assumptions", "presume", "known_on", "versions_excluded")

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
        self.assumptions = []  # presumptions the decision rests on: facts not given, presumed
        self.presume = True  # False: evaluated strictly, presumed facts not given were missing
        self.known_on = None  # evaluated as known on this date: only versions known by then
        self.versions_excluded = []  # versions in force on as_of that known_on left out

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
        seen, stack = {}, self._root.children[::-1]  # depth first, in order (as _frames), in one loop
        while stack:
            f = stack.pop()
            kind = f.kind
            if kind == "rule" or kind == "table" or kind == "exception" and f.outcome:
                seen[f.obj.clause] = None
            if f.children:
                stack += f.children[::-1]
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
            known = self.known_on is not None
            static = _static_of(self._policies)
            self._trace = [_frame_dict(f, root, known, static) for f in self._root.children]
        return self._trace

    def to_dict(self) -> dict:
        return {
            "decision": self.decision,
            "as_of": self.as_of.isoformat(),
            "known_on": None if self.known_on is None else self.known_on.isoformat(),
            "status": self.status,
            "value": plain(self.value),
            "clauses": self.clauses,
            "missing": self.missing,
            "gaps": self.gaps,
            "assumptions": self.assumptions,
            "presume": self.presume,
            "versions_excluded": self.versions_excluded,
            "messages": self.messages,
            "facts": plain(self.facts),
            "trace_level": self.trace_level,
            "trace": self.trace,
            "policy_hash": self.policy_hash,
            "engine_version": _engine_version(),
        }

    def explain(self, lang: str = "en") -> str:
        return explain_text(self, lang)

    def counterfactuals(self, **options):
        """For a negative or refused answer, the minimal sets of fact changes that would turn
        it, each tied to the clause it satisfies, and the date from which time alone would
        (tools/whatif.py; options: keep, max_changes, budget_s, target)."""
        from ..tools.whatif import counterfactuals
        return counterfactuals(self._policies, self, **options)

    def __repr__(self) -> str:
        return f"<Decision {self.decision} as of {self.as_of}: {self.status} {self.value!r}>"


def _engine_version() -> str:
    return __version__


def _frames(frame: Frame) -> list[Frame]:
    """Every frame under `frame`, depth first, in order: one list, not a generator per frame."""
    out, stack = [], frame.children[::-1]
    while stack:
        f = stack.pop()
        out.append(f)
        if f.children:
            stack += f.children[::-1]
    return out


# A trace's dicts are built for every logged or returned decision, so _frame_dict is on the
# hot path: it builds each dict in one go and skips plain() where it has nothing to convert.
from decimal import Decimal as _Decimal  # noqa: E402  (kept beside the code that uses it)

_READY = frozenset((str, int, float, bool, type(None)))  # plain() hands these back unchanged


def _json(v):
    """plain(v), sooner for the values traces are full of.  plain() turns a Decimal into text
    with normalize() and format(), about 1 µs; str() is the same text when it has no exponent
    and a fraction of only zeros is dropped.  Past 28 characters, the digits normalize() keeps
    at the default precision, plain() decides."""
    c = v.__class__
    if c in _READY:
        return v
    if c is _Decimal:
        s = str(v)
        if len(s) <= 28:
            whole, _, frac = s.partition(".")
            if (whole.isdigit() or whole[:1] == "-" and whole[1:].isdigit()) and (not frac or frac.isdigit()):
                return s if frac.strip("0") else whole
    return plain(v)


def _frame_dict(f: Frame, root, known: bool = False, static=None) -> dict:
    """One frame (and those under it) as JSON-ready dicts.  What a frame says about its rule,
    clause or expression (ids, citation, label, text, version) is the same in every decision:
    it is worked out once per policies and copied, with fresh nested dicts, so a caller may
    still change one decision's trace without touching another's."""
    kind, obj, version = f.kind, f.obj, f.version
    if static is None:
        static = {}
    key = (kind, id(obj), id(version), known)
    entry = static.get(key)
    if entry is None:
        d = _static_dict(f, root, known)
        entry = static[key] = (obj, version, d, "label" in d, "version" in d)
    d = entry[2].copy()
    if entry[3]:
        d["label"] = d["label"].copy()
    if entry[4]:
        d["version"] = d["version"].copy()
    if f.reads:
        reads = {k: v if v.__class__ in _READY else None if v is _UNSET else _json(v) for k, v in f.reads.items()}
        d["keys" if kind == "table" else "facts_read"] = reads
    elif kind == "table":
        d["keys"] = {}
    value = f.value
    if value is not _UNSET:
        d["value"] = value if value.__class__ in _READY else _json(value)
    if f.outcome is not None:
        d["outcome"] = f.outcome
    if f.note:
        d[f.note[0]] = f.note[1]
    if f.presumed:
        d["presumed"] = list(f.presumed)
    if f.values:
        d["steps"] = [{"at": f"{n.line}:{n.col}", "node": type(n).__name__, "value": _json(v)}
                      for n, v in f.values if not isinstance(n, ast.Literal)]
    if f.children:
        d["children"] = [_frame_dict(c, root, known, static) for c in f.children]
    return d


def _static_dict(f: Frame, root, known: bool) -> dict:
    """The part of a frame's dict that depends only on its rule (or expression) and version."""
    kind, obj, version = f.kind, f.obj, f.version
    if kind == "condition":
        d = {"kind": kind, "expression": obj.source, "location": _relative(obj.locate(), root)}
    else:
        d = {"kind": kind, "id": obj.id, "clause": obj.clause, "citation": obj.citation,
             "label": {"en": obj.label.en, "fr": obj.label.fr}}
        if kind == "rule" or kind == "exception":
            d["text"] = (getattr(version, "text", None) if version else None) or obj.text
        elif kind == "table":
            d["text"] = obj.text
    if version is not None and getattr(version, "effective", None) is not None:
        d["version"] = v = {"effective": plain(version.effective), "approved": plain(version.approved)}
        if getattr(version, "label", None):
            v["label"] = version.label
        if known:  # evaluated as known on a date: from when this version counts as known, and why
            kv = version_dict(version)
            v["known_from"], v["known_by"] = kv["known_from"], kv["known_by"]
    return d


# policies -> {(kind, id(obj), id(version), known): (obj, version, static dict)}: each entry holds
# its objects, so an id is never reused while the entry lives; all go with their policies
_STATIC: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()
_STATIC_LOCK = threading.Lock()


def _static_of(policies) -> dict:
    found = _STATIC.get(policies)
    if found is None:
        with _STATIC_LOCK:
            found = _STATIC.setdefault(policies, {})
    return found


_FILES: dict = {}  # (file as loaded, policies root) -> that file relative to the root


def _relative(loc, root) -> str:
    """file:line:col with the file relative to the policy folder, so a record replays identically
    wherever the policies are loaded from.  Resolving paths costs more than the rest of a frame,
    and a loaded file does not move: each file is worked out once."""
    rel = _FILES.get((loc.path, root))
    if rel is None:
        from pathlib import Path
        try:
            rel = Path(loc.path).resolve().relative_to(Path(root).resolve()).as_posix()
        except ValueError:
            rel = loc.path
        _FILES[(loc.path, root)] = rel
    return f"{rel}:{loc.line}:{loc.col}"
