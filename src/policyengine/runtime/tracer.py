"""The trace: an observer of evaluation, never a participant.

Compiled closures at the "audit" and "full" levels call these hooks after each step with
what the semantics (semantics.py) decided; the hooks only record.  Nothing here can
change a value, a status, the missing facts or the gaps, which is why every trace level
gives the same answer (tests/test_trace_parity.py proves it on every bundled case).
"""
from __future__ import annotations

TRACE = object()  # env key of the Tracer
UNSET = object()  # a frame with no value yet


class Frame:
    """One step of a trace: a rule, exception, condition, table lookup or reference."""

    __slots__ = ("kind", "obj", "version", "children", "reads", "value", "outcome", "values", "note", "presumed")

    def __init__(self, kind, obj, version=None):
        self.kind, self.obj, self.version = kind, obj, version
        self.children = []
        self.reads = {}
        self.value = UNSET
        self.outcome = None
        self.values = None
        self.note = None
        self.presumed = None  # names of the facts read here at their presumed value


class Tracer:
    __slots__ = ("root", "current", "full")

    def __init__(self, full: bool):
        self.root = Frame("root", None)
        self.current = self.root
        self.full = full


def enter(env, kind, obj, version=None):
    """Open a frame under the current one; returns (tracer, frame, parent) to close it."""
    tr = env[TRACE]
    frame = Frame(kind, obj, version)
    parent = tr.current
    parent.children.append(frame)
    tr.current = frame
    return tr, frame, parent


def leaf(env, kind, obj, version=None) -> Frame:
    """A frame with no children (a table lookup, a reference to a rule already decided)."""
    frame = Frame(kind, obj, version)
    env[TRACE].current.children.append(frame)
    return frame
