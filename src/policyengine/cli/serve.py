"""`policyengine serve`: the decision API over HTTP (http/server.py)."""
from __future__ import annotations

from .args import DEFAULT_POLICIES, add_policies


def register(sub) -> None:
    from ..http import server
    server.add_parser(sub, DEFAULT_POLICIES)
    s = sub.choices["serve"]
    add_policies(s)
    s.set_defaults(func=server.run, _parser=s)
