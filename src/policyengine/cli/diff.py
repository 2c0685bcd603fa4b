"""`policyengine diff`: what changed between two dates, folders or revisions (tools/diff.py)."""
from __future__ import annotations

from .args import add_policies


def register(sub) -> None:
    from ..tools import diff
    diff.add_parser(sub)
    d = sub.choices["diff"]
    add_policies(d)
    d.set_defaults(func=diff.run, _parser=d)
