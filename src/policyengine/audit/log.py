"""The decision log in one SQLite file: the embedded default (see chain.py for what the log
guarantees and how; postgres_log.py keeps the same log in PostgreSQL, shared by services).

A new log file appears whole or not at all: it is built beside its final name and linked into
place, so an empty or half-made file is never a new log, and opening one never
re-initialises it (it is reported as damaged).  An existing file is only read until it has
been recognised as a log.
"""
from __future__ import annotations

import errno
import os
import sqlite3
import uuid
from pathlib import Path
from urllib.parse import quote

from .chain import FORMAT_VERSION, GENESIS, KIND, TABLES, ChainedLog, LogError
from .chain import Verification, canonical, chain_hash  # noqa: F401  (the log's public names, as before)

_SQLITE_HEADER = b"SQLite format 3\x00"

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, body BLOB NOT NULL);
CREATE TABLE policy_versions (
    policy_hash TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL REFERENCES blobs(sha256),
    PRIMARY KEY (policy_hash, path));
CREATE TABLE records (
    seq INTEGER PRIMARY KEY, id TEXT UNIQUE NOT NULL, made_at TEXT NOT NULL,
    decision TEXT NOT NULL, as_of TEXT NOT NULL, subject TEXT, policy_hash TEXT NOT NULL,
    body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE INDEX records_decision ON records(decision);
CREATE INDEX records_subject ON records(subject);
CREATE INDEX records_made_at ON records(made_at);
CREATE TABLE record_clauses (seq INTEGER NOT NULL, clause TEXT NOT NULL, PRIMARY KEY (seq, clause));
CREATE INDEX record_clauses_clause ON record_clauses(clause);
""" + "".join(
    f"""
CREATE TRIGGER {t}_no_{op.lower()} BEFORE {op} ON {t}
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;"""
    for t in ("records", "record_clauses", "blobs", "policy_versions") for op in ("UPDATE", "DELETE")
) + """
CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta WHEN OLD.key NOT IN ('head_seq', 'head_hash')
BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
"""



def default_path() -> Path:
    """Where the log lives when no path is given.

    $POLICYENGINE_LOG first, so a service or auditor can point at a specific file; otherwise
    the XDG data directory, because the log is data that must persist (not cache, not config):
    $XDG_DATA_HOME/policyengine/decisions.sqlite, or ~/.local/share/policyengine/decisions.sqlite
    when XDG_DATA_HOME is unset or empty (the XDG default)."""
    env = os.environ.get("POLICYENGINE_LOG")
    if env:
        return Path(env).expanduser()
    data = os.environ.get("XDG_DATA_HOME")
    base = Path(data).expanduser() if data else Path.home() / ".local" / "share"
    return base / "policyengine" / "decisions.sqlite"


class DecisionLog(ChainedLog):
    """One decision log file (SQLite). Use as a context manager, or call close()."""

    @staticmethod
    def open(target) -> ChainedLog:
        """The log at `target`: a postgresql:// URL (PostgreSQL, shared by services), else a
        file path (SQLite)."""
        text = str(target)
        if text.startswith(("postgresql://", "postgres://")):
            from .postgres_log import PostgresLog
            return PostgresLog(text)
        return DecisionLog(target)

    def __init__(self, path: str | os.PathLike):
        """Open the log at path, creating it (and its folders) if no file is there.

        A file that exists but is not a decision log of this format is refused with LogError
        and left untouched: it is only read, never written, until it has been recognised.
        An empty or damaged file is reported as damaged, never re-initialised."""
        self.path = Path(path)
        self.name = str(self.path)
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise LogError(f"{self.path}: is a folder, not a decision log file")
        if not self.path.exists():
            self._create()
        self._check_existing()
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot open ({e})") from None
        self._conn = conn
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            problem = _not_a_log(conn)  # again, after any interrupted write was rolled back
            if problem:
                raise LogError(f"{self.path}: {problem}")
            _journal(conn)
        except sqlite3.Error as e:
            self.close()
            raise self._error(e) from None
        except BaseException:
            self.close()
            raise

    def _create(self) -> None:
        """Build a new log beside its name and link it into place: whole, or not at all.  If
        another process links its own first, this one is dropped and theirs opened."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LogError(f"{self.path}: cannot create its folder ({e.strerror or e})") from None
        tmp = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.new")
        try:
            conn = sqlite3.connect(str(tmp), isolation_level=None)
            try:
                conn.execute("BEGIN")
                for stmt in _statements(_SCHEMA):
                    conn.execute(stmt)
                conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                    ("kind", KIND), ("format", str(FORMAT_VERSION)), ("head_seq", "0"), ("head_hash", GENESIS)])
                conn.execute("COMMIT")
            finally:
                conn.close()
            try:
                os.link(tmp, self.path)
            except FileExistsError:
                pass  # created by another process meanwhile: open that one
            except OSError as e:
                if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.EXDEV):
                    raise
                if not self.path.exists():  # no hard links on this file system
                    os.rename(tmp, self.path)
        except (sqlite3.Error, OSError) as e:
            why = "the disk is full" if _full(e) else (getattr(e, "strerror", None) or str(e))
            raise LogError(f"{self.path}: cannot create the decision log ({why}); no file was left behind") from None
        finally:
            for leftover in (tmp, Path(str(tmp) + "-journal")):
                try:
                    leftover.unlink()
                except FileNotFoundError:
                    pass
                except OSError:
                    pass  # a stray hidden file beside the log; the log itself is whole or absent

    def _check_existing(self) -> None:
        """Recognise an existing file by reading it only: size, header bytes, then a read-only
        connection."""
        try:
            with open(self.path, "rb") as f:
                header = f.read(len(_SQLITE_HEADER))
        except OSError as e:
            raise LogError(f"{self.path}: cannot read ({e.strerror or e})") from None
        if not header:
            raise LogError(f"{self.path}: damaged: the file is empty (0 bytes), and a decision log never is "
                           "(it was truncated, or is not a log); it was left as it is: restore it from a copy, "
                           "or remove it to start a new log")
        if header != _SQLITE_HEADER:
            if _SQLITE_HEADER.startswith(header):
                raise LogError(f"{self.path}: damaged: the file is cut short ({len(header)} bytes); it was left "
                               "as it is")
            raise LogError(f"{self.path}: not a policyengine decision log (not an SQLite file)")
        uri = "file:" + quote(str(self.path.resolve())) + "?mode=ro"
        try:
            ro = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=30)
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot open ({e})") from None
        try:
            problem = _not_a_log(ro)
        except sqlite3.Error as e:
            if Path(str(self.path) + "-journal").exists():
                return  # a hot journal from an interrupted write: the read-write open recovers it, then re-checks
            if "locked" in str(e) or "busy" in str(e):
                raise self._error(e) from None
            problem = f"damaged: not a readable SQLite database ({e})"
        finally:
            ro.close()
        if problem:
            raise LogError(f"{self.path}: {problem}")

    def close(self) -> None:
        """Close the file; the log object cannot be used afterwards."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> DecisionLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<DecisionLog {self.path}>"

    # -- the backend ---------------------------------------------------------------------------
    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LogError(f"{self.path}: the log is closed")
        return self._conn

    def _error(self, e: sqlite3.Error) -> LogError:
        msg = str(e)
        if "locked" in msg or "busy" in msg:
            return LogError(f"{self.path}: the log is busy (another process is writing to it); try again")
        if _full(e) or "disk I/O error" in msg:
            what = "the disk is full" if _full(e) else "the disk could not be written (disk I/O error: full, or failing)"
            return LogError(f"{self.path}: {what}: nothing of this write was kept, the log is as it was")
        if "malformed" in msg or "not a database" in msg:
            return LogError(f"{self.path}: damaged: {msg}")
        return LogError(f"{self.path}: {msg}")

    def _read(self, sql: str, args=()) -> list:
        try:
            return self._db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None

    def _write(self, work) -> object:
        """Run work(conn) as one IMMEDIATE transaction: all of it is written, or none of it."""
        return self._transaction("BEGIN IMMEDIATE", work)

    def _snapshot(self, work) -> object:
        return self._transaction("BEGIN", work)  # one consistent snapshot, even while others append

    def _transaction(self, begin: str, work) -> object:
        db = self._db
        try:
            db.execute(begin)
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            result = work(db)
            db.execute("COMMIT")
            return result
        except BaseException as e:
            if db.in_transaction:  # SQLite may already have rolled back (a full disk does)
                try:
                    db.execute("ROLLBACK")
                except sqlite3.Error:
                    pass
            if isinstance(e, sqlite3.Error):
                raise self._error(e) from None
            raise

    def _damage(self) -> list[str]:
        try:
            rows = self._db.execute("PRAGMA integrity_check").fetchall()
        except sqlite3.Error as e:
            return [str(e)]
        found = [r[0] for r in rows]
        return [] if found == ["ok"] else found


def _journal(conn: sqlite3.Connection) -> None:
    """Write-ahead logging, synced at every commit.  A commit is then one append and one fsync
    of the -wal file instead of the rollback journal's three fsyncs and a file deletion
    (~0.6 ms instead of ~17 ms here, benchmarks/README.md, HTTP), and readers no longer wait
    for a writer.  synchronous=FULL keeps the contract of chain.py: a commit has returned only
    once the transaction is on disk, so a record id is never given out for a record a power
    loss could take back.  The mode stays with the file; where it cannot be set (a file or
    folder this process may not write, a file system without shared memory) the log stays
    in the rollback journal, as durable."""
    try:
        conn.execute("PRAGMA journal_mode = WAL").fetchall()
    except sqlite3.Error:
        pass
    conn.execute("PRAGMA synchronous = FULL")


def _full(e: Exception) -> bool:
    return getattr(e, "errno", None) in (errno.ENOSPC, errno.EFBIG) or "disk is full" in str(e) \
        or "database or disk is full" in str(e)


def _statements(script: str) -> list[str]:
    """Split the schema into statements (triggers contain ';' inside BEGIN...END)."""
    out, buf = [], ""
    for line in script.splitlines(keepends=True):
        buf += line
        if sqlite3.complete_statement(buf):
            out.append(buf.strip())
            buf = ""
    return [s for s in out if s]


def _not_a_log(conn: sqlite3.Connection) -> str | None:
    """Why the open database is not a usable decision log of this format ("damaged" when it
    is one, broken), or None if it is one."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in TABLES if t not in names]
    if len(missing) == len(TABLES):
        return "not a policyengine decision log (no decision log tables)"
    if missing:
        return f"damaged decision log (missing tables: {', '.join(missing)})"
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('kind', 'format')").fetchall())
    except sqlite3.OperationalError:
        return "damaged decision log (its meta table is unreadable)"
    if meta.get("kind") != KIND:
        return "damaged decision log (its meta table does not identify it as one)"
    if meta.get("format") != str(FORMAT_VERSION):
        return (f"a decision log of format version {meta.get('format')}; this policyengine reads version "
                f"{FORMAT_VERSION}")
    return None
