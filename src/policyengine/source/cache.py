"""Checked models cached by content, so an unchanged policy folder loads without re-parsing.

A model is pickled, and unpickling runs code, so the cache is trusted only as far as the
user's own files are: it lives in the user's cache folder ($XDG_CACHE_HOME/policyengine,
else ~/.cache/policyengine), which must be the user's own and writable by nobody else, and
every entry carries an HMAC-SHA256 under a key kept there (mode 0600) that is checked
before anything is unpickled.  An entry that fails any check is ignored and the folder is
loaded from its files.  Entries are keyed by the policy files' content, the folder they
were loaded from (locations name it) and the engine's own code, so a change to any of them
misses.  POLICYENGINE_CACHE=off turns the cache off.
"""
from __future__ import annotations

import gc
import hashlib
import hmac
import os
import pickle
import stat
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parents[1]
_CODE: str | None = None


def enabled() -> bool:
    return os.environ.get("POLICYENGINE_CACHE", "").lower() not in ("off", "0", "no", "false") \
        and hasattr(os, "getuid")


def folder() -> Path:
    base = os.environ.get("XDG_CACHE_HOME")
    return (Path(base).expanduser() if base else Path.home() / ".cache") / "policyengine"


def _code() -> str:
    """The engine's code as loaded: every module, grammar and schema (path, size, mtime).
    os.walk rather than pathlib: this runs at every start, and pathlib took several ms."""
    global _CODE
    if _CODE is None:
        h = hashlib.sha256()
        files = []
        for top, dirs, names in os.walk(_PACKAGE):
            dirs[:] = [d for d in dirs if d != "__pycache__"]
            rel = os.path.relpath(top, _PACKAGE)
            files += [(rel, n) for n in names if n.endswith((".py", ".lark", ".json"))]
        for rel, name in sorted(files):
            st = os.stat(os.path.join(_PACKAGE, rel, name))
            h.update(f"{rel}/{name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _CODE = h.hexdigest()
    return _CODE


def key(root: Path, policy_hash: str) -> str:
    text = f"{_code()}\0{root}\0{root.resolve()}\0{policy_hash}"
    return hashlib.sha256(text.encode()).hexdigest()


def _own(path: Path, st=None) -> bool:
    """Owned by this user and writable by nobody else."""
    st = st or os.stat(path, follow_symlinks=False)
    return st.st_uid == os.getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _secret(where: Path) -> bytes | None:
    """The HMAC key, made once (0600, never replaced), or None when it cannot be trusted."""
    path = where / "hmac.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as f:
            f.write(os.urandom(32))
    except FileExistsError:
        pass
    st = os.stat(path, follow_symlinks=False)
    if not stat.S_ISREG(st.st_mode) or not _own(path, st) or st.st_mode & 0o077:
        return None
    secret = path.read_bytes()
    return secret if len(secret) == 32 else None


def _place() -> tuple[Path, bytes] | None:
    where = folder()
    where.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = os.stat(where, follow_symlinks=False)
    if not stat.S_ISDIR(st.st_mode) or not _own(where, st):
        return None
    secret = _secret(where)
    return (where, secret) if secret else None


def get(entry: str):
    """The model cached under `entry`, or None (absent, or failing a check)."""
    if not enabled():
        return None
    try:
        place = _place()
        if place is None:
            return None
        where, secret = place
        path = where / f"{entry}.model"
        st = os.stat(path, follow_symlinks=False)
        if not stat.S_ISREG(st.st_mode) or not _own(path, st):
            return None
        blob = memoryview(path.read_bytes())
        mac, payload = blob[:32], blob[32:]
        if not hmac.compare_digest(mac, hmac.new(secret, payload, hashlib.sha256).digest()):
            return None
        return _unpickle(payload)
    except Exception:  # noqa: BLE001 - the cache only ever saves time: any doubt means a fresh load
        return None


def _unpickle(payload: bytes):
    """pickle.loads with the cyclic collector paused: a model is tens of thousands of new objects,
    none of them garbage, and the collections they would trigger cost twice the unpickling."""
    was = gc.isenabled()
    gc.disable()
    try:
        return pickle.loads(payload)
    finally:
        if was:
            gc.enable()


def put(entry: str, model) -> None:
    """Keep `model` under `entry`, written whole (a temporary file renamed into place)."""
    if not enabled():
        return
    try:
        place = _place()
        if place is None:
            return
        where, secret = place
        payload = pickle.dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        import tempfile  # only to write: reading the cache does without it
        fd, tmp = tempfile.mkstemp(dir=where, suffix=".tmp")
    except Exception:  # noqa: BLE001 - a cache that cannot be written is only a slower load next time
        return
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(hmac.new(secret, payload, hashlib.sha256).digest() + payload)
        os.replace(tmp, where / f"{entry}.model")
    except Exception:  # noqa: BLE001
        try:
            os.unlink(tmp)
        except OSError:
            pass
        return
    _prune(where)


KEEP = 16  # models kept: the most recently written; a folder's versions come and go


def _prune(where: Path) -> None:
    try:
        models = sorted(where.glob("*.model"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in models[KEEP:]:
            old.unlink()
    except OSError:
        pass
