"""API keys and the role each carries: who is asking decides what a record shows.

Key file format (`--keys FILE`, or the same text in $POLICYENGINE_API_KEYS): one key per
line, `KEY ROLE [NAME…]`, `#` starts a comment.  Roles:

- `service`: evaluate decisions, read public decision and rule descriptions, and read log
  records and explanations in the public view (LDP 6.3.1: only the salary range);
- `auditor`: as service, and log records and explanations in the full view;
- `admin`: as auditor, and reload the policies (`POST /v1/admin/reload`).

Keys are compared in constant time; a key must be at least 16 characters.
"""
from __future__ import annotations

import hmac
import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError

ROLES = ("service", "auditor", "admin")
RANK = {r: i for i, r in enumerate(ROLES)}
ENV = "POLICYENGINE_API_KEYS"


@dataclass(frozen=True)
class Caller:
    role: str
    name: str

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]


ANONYMOUS = Caller("service", "anonymous (loopback, no keys)")


def parse(text: str, where: str) -> dict[str, Caller]:
    keys, problems = {}, []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) < 2:
            problems.append(f"{where}:{n}: expected 'KEY ROLE [NAME]'")
            continue
        key, role, name = parts[0], parts[1], " ".join(parts[2:]) or f"key on line {n}"
        if role not in ROLES:
            problems.append(f"{where}:{n}: role '{role}' is not one of {', '.join(ROLES)}")
        elif len(key) < 16:
            problems.append(f"{where}:{n}: the key is shorter than 16 characters")
        elif key in keys:
            problems.append(f"{where}:{n}: the same key appears twice")
        else:
            keys[key] = Caller(role, name)
    if problems:
        raise InputError(problems)
    if not keys:
        raise InputError([f"{where}: no keys"])
    return keys


def load(path: str | None) -> dict[str, Caller] | None:
    """The keys of `path`, else of $POLICYENGINE_API_KEYS, else None (no keys: loopback only)."""
    if path:
        try:
            return parse(Path(path).read_text(encoding="utf-8"), str(path))
        except OSError as e:
            raise InputError([f"{path}: cannot read the key file ({e.strerror or e})"]) from None
        except UnicodeDecodeError:
            raise InputError([f"{path}: the key file is not UTF-8 text"]) from None
    if os.environ.get(ENV):
        return parse(os.environ[ENV], f"${ENV}")
    return None


def identify(keys: dict[str, Caller] | None, presented: str | None) -> Caller | None:
    """The caller a presented key names; ANONYMOUS when the server runs without keys; None
    for a missing or unknown key."""
    if keys is None:
        return ANONYMOUS
    if not presented:
        return None
    found = None
    for key, caller in keys.items():  # every key compared, in constant time each
        if hmac.compare_digest(key.encode(), presented.encode()):
            found = caller
    return found
