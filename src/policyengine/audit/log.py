"""An append-only, tamper-evident log of decisions, kept in one SQLite file for auditors.

An auditor years later must be able to see what was decided, from which facts, under which
clauses and policy version, and be sure nobody changed the record since. So:

- every record is stored as canonical JSON and chained: its hash covers the previous
  record's hash, so altering, removing or reordering a record breaks the chain;
- the log's head (last seq and hash) is kept in `meta` and updated with every append, so
  removing records from the end is detected too (a chain alone cannot see that);
- the policy files each record was decided under are stored content-addressed (by sha256),
  so any record can be replayed against exactly the rules that produced it;
- SQLite triggers refuse UPDATE and DELETE, so nobody changes the log by accident; someone who
  drops the triggers on purpose is caught by `verify()`.

What it cannot catch: someone who rewrites every record from the altered one onwards *and* the
head in `meta`. Against that, publish or file the head hash elsewhere (e.g. in a signed report).

Hashes are computed over the stored body text, never over a re-serialisation, so a log stays
verifiable even if a future Python serialises JSON slightly differently.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path
from urllib.parse import quote

from ..errors import PolicyEngineError

FORMAT_VERSION = 1
KIND = "policyengine decision log"
GENESIS = "0" * 64
_SQLITE_HEADER = b"SQLite format 3\x00"
_TABLES = ("meta", "blobs", "policy_versions", "records", "record_clauses")
_REQUIRED = ("decision", "as_of", "facts", "value", "clauses", "trace", "policy_hash", "engine_version")
_ADDED = ("id", "seq", "made_at", "prev_hash", "hash")
# columns that repeat a field of the body (for querying); verify() checks they still agree
_MIRRORED = ("id", "seq", "made_at", "prev_hash", "decision", "as_of", "subject", "policy_hash")
_HEX = re.compile(r"[0-9a-f]+")

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


class LogError(PolicyEngineError):
    """The decision log cannot do what was asked; the message names the file and the problem."""


@dataclass(frozen=True)
class Verification:
    """The outcome of DecisionLog.verify(): ok, or the first problem found, in plain English.

    checked counts the records that passed before the first problem (all of them when ok).
    first_bad_seq/first_bad_id point at the first bad (or missing) record; both are None for a
    problem with the stored policy files."""
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None

    def __str__(self) -> str:
        return f"ok: {self.checked} records verified" if self.ok else self.problem or "not ok"


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


def canonical(obj) -> str:
    """The one JSON text a record is stored and hashed as."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def chain_hash(prev_hash: str, body: str) -> str:
    """sha256 hex of the previous record's hash followed by this record's canonical body."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class DecisionLog:
    """One decision log file. Use as a context manager, or call close()."""

    def __init__(self, path: str | os.PathLike):
        """Open the log at path, creating it (and its folders) if it does not exist.

        A file that exists but is not a decision log of this format is refused with LogError
        and left untouched: it is only read, never written, until it has been recognised.
        An empty (0-byte) file counts as new: it holds nothing to lose, and it is what another
        process creating the log at the same moment leaves behind for an instant."""
        self.path = Path(path)
        self._conn: sqlite3.Connection | None = None
        if self.path.is_dir():
            raise LogError(f"{self.path}: is a folder, not a decision log file")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists:
            self._check_existing()
        else:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise LogError(f"{self.path}: cannot create its folder ({e.strerror or e})") from None
        try:
            conn = sqlite3.connect(str(self.path), isolation_level=None, timeout=30)
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot open ({e})") from None
        self._conn = conn
        try:
            conn.execute("PRAGMA foreign_keys = ON")
            if not exists:
                # another process may be creating the same file right now: decide under the write lock
                conn.execute("BEGIN IMMEDIATE")
                try:
                    if not conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
                        for stmt in _statements(_SCHEMA):
                            conn.execute(stmt)
                        conn.executemany("INSERT INTO meta VALUES (?, ?)", [
                            ("kind", KIND), ("format", str(FORMAT_VERSION)),
                            ("head_seq", "0"), ("head_hash", GENESIS)])
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
            reason = _not_a_log(conn)
            if reason:
                raise LogError(f"{self.path}: not a policyengine decision log ({reason})")
        except sqlite3.Error as e:
            self.close()
            raise LogError(f"{self.path}: cannot open ({e})") from None
        except BaseException:
            self.close()
            raise

    def _check_existing(self) -> None:
        """Recognise an existing file by reading it only: header bytes, then a read-only connection."""
        try:
            with open(self.path, "rb") as f:
                header = f.read(len(_SQLITE_HEADER))
        except OSError as e:
            raise LogError(f"{self.path}: cannot read ({e.strerror or e})") from None
        if header != _SQLITE_HEADER:
            raise LogError(f"{self.path}: not a policyengine decision log (not an SQLite file)")
        uri = "file:" + quote(str(self.path.resolve())) + "?mode=ro"
        try:
            ro = sqlite3.connect(uri, uri=True, isolation_level=None)
        except sqlite3.Error as e:
            raise LogError(f"{self.path}: cannot open ({e})") from None
        try:
            reason = _not_a_log(ro)
        except sqlite3.Error as e:
            if Path(str(self.path) + "-journal").exists():
                return  # a hot journal from an interrupted write: the read-write open recovers it, then re-checks
            reason = f"not a readable SQLite database: {e}"
        finally:
            ro.close()
        if reason:
            raise LogError(f"{self.path}: not a policyengine decision log ({reason})")

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

    # -- internals ---------------------------------------------------------------------------

    @property
    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise LogError(f"{self.path}: the log is closed")
        return self._conn

    def _error(self, e: sqlite3.Error) -> LogError:
        msg = str(e)
        if "locked" in msg or "busy" in msg:
            return LogError(f"{self.path}: the log is busy (another process is writing to it); try again")
        return LogError(f"{self.path}: {msg}")

    def _write(self, work) -> object:
        """Run work(conn) as one IMMEDIATE transaction: all of it is written, or none of it."""
        db = self._db
        try:
            db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as e:
            raise self._error(e) from None
        try:
            result = work(db)
            db.execute("COMMIT")
            return result
        except BaseException as e:
            if db.in_transaction:
                db.execute("ROLLBACK")
            if isinstance(e, sqlite3.Error):
                raise self._error(e) from None
            raise

    # -- policy files ------------------------------------------------------------------------

    def store_policies(self, policy_hash: str, files: dict[str, bytes]) -> None:
        """Keep the policy files of one policy version, so records made under it can be replayed.

        Each file body is stored once, by its sha256, however many versions share it. Storing
        a version again is a no-op; storing it again with different files is an error, since
        one hash cannot name two sets of rules."""
        if not isinstance(policy_hash, str) or not policy_hash:
            raise LogError(f"{self.path}: policy_hash must be a non-empty string")
        if not files:
            raise LogError(f"{self.path}: policy {policy_hash} has no files; it could not be replayed")
        rows = {}
        for name, body in files.items():
            if not isinstance(name, str) or not isinstance(body, (bytes, bytearray, memoryview)):
                raise LogError(f"{self.path}: policy {policy_hash}: files must map path strings to bytes "
                               f"(got {type(name).__name__} -> {type(body).__name__})")
            body = bytes(body)
            rows[name] = (hashlib.sha256(body).hexdigest(), body)

        def work(db):
            have = dict(db.execute("SELECT path, sha256 FROM policy_versions WHERE policy_hash = ?",
                                   (policy_hash,)).fetchall())
            if have:
                if have != {p: s for p, (s, _) in rows.items()}:
                    raise LogError(f"{self.path}: policy {policy_hash} is already stored with different files")
                return
            db.executemany("INSERT OR IGNORE INTO blobs (sha256, body) VALUES (?, ?)", rows.values())
            db.executemany("INSERT INTO policy_versions (policy_hash, path, sha256) VALUES (?, ?, ?)",
                           [(policy_hash, p, s) for p, (s, _) in sorted(rows.items())])
        self._write(work)

    def policy_files(self, policy_hash: str) -> dict[str, bytes]:
        """The policy files of a stored version, path -> bytes, each checked against its sha256."""
        try:
            rows = self._db.execute(
                "SELECT v.path, v.sha256, b.body FROM policy_versions v LEFT JOIN blobs b ON b.sha256 = v.sha256"
                " WHERE v.policy_hash = ? ORDER BY v.path", (policy_hash,)).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None
        if not rows:
            raise LogError(f"{self.path}: policy {policy_hash} is not stored in this log")
        out = {}
        for path, sha, body in rows:
            if body is None:
                raise LogError(f"{self.path}: policy {policy_hash}: file {path} (blob {sha}) is missing")
            if hashlib.sha256(body).hexdigest() != sha:
                raise LogError(f"{self.path}: policy {policy_hash}: file {path} (blob {sha}) "
                               "no longer matches its sha256 (altered)")
            out[path] = bytes(body)
        return out

    # -- records -----------------------------------------------------------------------------

    def append(self, record: dict) -> str:
        """Add one decision record to the end of the chain and return its new id.

        The log adds id, seq, made_at and prev_hash, and the hash over all of it. The record's
        policy version must already be stored (store_policies), so it can always be replayed."""
        body = self._check_record(record)

        def work(db):
            if not db.execute("SELECT 1 FROM policy_versions WHERE policy_hash = ? LIMIT 1",
                              (body["policy_hash"],)).fetchone():
                raise LogError(f"{self.path}: policy {body['policy_hash']} is not stored in this log; "
                               "call store_policies first so the record can be replayed")
            last = db.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
            seq, prev = (last[0] + 1, last[1]) if last else (1, GENESIS)
            body.update(id=uuid.uuid4().hex, seq=seq, made_at=_now(), prev_hash=prev)
            text = canonical(body)
            digest = chain_hash(prev, text)
            db.execute("INSERT INTO records (seq, id, made_at, decision, as_of, subject, policy_hash, body,"
                       " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                       (seq, body["id"], body["made_at"], body["decision"], body["as_of"], body.get("subject"),
                        body["policy_hash"], text, prev, digest))
            db.executemany("INSERT INTO record_clauses (seq, clause) VALUES (?, ?)",
                           [(seq, c) for c in dict.fromkeys(body["clauses"] or ())])
            db.execute("UPDATE meta SET value = ? WHERE key = 'head_seq'", (str(seq),))
            db.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (digest,))
            return body["id"]
        return self._write(work)

    def _check_record(self, record) -> dict:
        def bad(msg):
            return LogError(f"{self.path}: cannot append: {msg}")
        if not isinstance(record, dict):
            raise bad(f"a record must be a dict, got {type(record).__name__}")
        missing = [k for k in _REQUIRED if k not in record]
        if missing:
            raise bad(f"the record lacks {', '.join(missing)}")
        added = [k for k in _ADDED if k in record]
        if added:
            raise bad(f"{', '.join(added)} are set by the log, not by the caller")
        for key in ("decision", "as_of", "policy_hash"):
            if not isinstance(record[key], str) or not record[key]:
                raise bad(f"{key} must be a non-empty string")
        if not isinstance(record["facts"], dict):
            raise bad("facts must be a dict")
        clauses = record["clauses"]
        if clauses is not None and (not isinstance(clauses, list) or not all(isinstance(c, str) for c in clauses)):
            raise bad("clauses must be a list of strings, or None")
        if record.get("subject") is not None and not isinstance(record["subject"], str):
            raise bad("subject must be a string")
        try:
            # round trip: the stored copy is exactly what JSON can hold, detached from the caller's objects
            return json.loads(canonical(record))
        except (TypeError, ValueError) as e:
            raise bad(f"the record is not JSON-ready ({e})") from None

    def get(self, record_id: str) -> dict:
        """The full record by id, or by a unique prefix of at least 6 characters of it."""
        rid = str(record_id).strip().lower()
        if not rid or not _HEX.fullmatch(rid):
            raise LogError(f"{self.path}: {record_id!r} is not a record id")
        try:
            rows = self._db.execute("SELECT body, hash FROM records WHERE id = ?", (rid,)).fetchall()
            if not rows:
                if len(rid) < 6:
                    raise LogError(f"{self.path}: record id prefix {rid!r} is too short (give at least 6 characters)")
                rows = self._db.execute("SELECT body, hash FROM records WHERE id LIKE ? ORDER BY seq LIMIT 2",
                                        (rid + "%",)).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None
        if not rows:
            raise LogError(f"{self.path}: no record with id {rid}")
        if len(rows) > 1:
            raise LogError(f"{self.path}: record id prefix {rid!r} matches more than one record; give more of it")
        body, digest = rows[0]
        out = json.loads(body)
        out["hash"] = digest
        return out

    def list(self, decision=None, clause=None, since=None, until=None, subject=None, limit=None) -> list[dict]:
        """Summaries of the records that match every filter given, in seq order (the first `limit`).

        since/until are inclusive dates (YYYY-MM-DD) compared with the date part of made_at (UTC)."""
        where, args = [], []
        if decision is not None:
            where.append("r.decision = ?")
            args.append(decision)
        if subject is not None:
            where.append("r.subject = ?")
            args.append(subject)
        if clause is not None:
            where.append("EXISTS (SELECT 1 FROM record_clauses c WHERE c.seq = r.seq AND c.clause = ?)")
            args.append(clause)
        for name, value, op in (("since", since, ">="), ("until", until, "<=")):
            if value is not None:
                where.append(f"substr(r.made_at, 1, 10) {op} ?")
                args.append(self._day(name, value))
        sql = "SELECT r.body FROM records r" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY r.seq"
        if limit is not None:
            if not isinstance(limit, int) or isinstance(limit, bool) or limit < 0:
                raise LogError(f"{self.path}: limit must be a whole number >= 0, got {limit!r}")
            sql += " LIMIT ?"
            args.append(limit)
        try:
            rows = self._db.execute(sql, args).fetchall()
        except sqlite3.Error as e:
            raise self._error(e) from None
        out = []
        for (text,) in rows:
            b = json.loads(text)
            out.append({k: b.get(k) for k in ("id", "seq", "made_at", "decision", "as_of", "subject",
                                              "value", "status")})
        return out

    def _day(self, name: str, value) -> str:
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, date):
            return value.isoformat()
        try:
            return date.fromisoformat(str(value)).isoformat()
        except ValueError:
            raise LogError(f"{self.path}: {name} must be a date YYYY-MM-DD, got {value!r}") from None

    # -- verification ------------------------------------------------------------------------

    def verify(self) -> Verification:
        """Check that nothing was altered, removed or reordered since it was written.

        Walks the chain in seq order recomputing each hash from the stored body and prev_hash,
        checks the queryable columns and clause index still agree with the body, compares the
        end of the chain with the head kept in meta, and rechecks every stored policy file."""
        try:
            return self._verify()
        except sqlite3.Error as e:
            raise self._error(e) from None

    def _verify(self) -> Verification:
        db = self._db
        db.execute("BEGIN")  # one consistent snapshot, even while others append
        try:
            clauses: dict[int, list[str]] = {}
            for seq, clause in db.execute("SELECT seq, clause FROM record_clauses"):
                clauses.setdefault(seq, []).append(clause)
            known_policies = {r[0] for r in db.execute("SELECT DISTINCT policy_hash FROM policy_versions")}
            meta = dict(db.execute("SELECT key, value FROM meta"))
            checked, prev_seq, prev_hash = 0, 0, GENESIS

            def bad(seq, rid, problem):
                return Verification(False, checked, seq, rid, problem)

            for row in db.execute(f"SELECT {', '.join(_MIRRORED)}, body, hash FROM records ORDER BY seq"):
                col = dict(zip(_MIRRORED, row))
                text, digest = row[-2], row[-1]
                seq, rid = col["seq"], col["id"]
                who = f"record {seq} (id {rid})"
                if seq != prev_seq + 1:
                    if seq - prev_seq == 2:
                        what = f"record {prev_seq + 1} is missing"
                    else:
                        what = f"records {prev_seq + 1} to {seq - 1} are missing"
                    where = f"the chain jumps from {prev_seq} to {seq}" if prev_seq else f"the log starts at {seq}"
                    return bad(prev_seq + 1, None, f"{what}: {where}")
                if not isinstance(text, str) or chain_hash(str(col["prev_hash"]), text) != digest:
                    return bad(seq, rid, f"{who}: its content was altered after it was written (hash mismatch)")
                if col["prev_hash"] != prev_hash:
                    if prev_seq:
                        why = f"prev_hash does not match record {prev_seq}'s hash (removed or reordered)"
                    else:
                        why = "prev_hash is not the start of the chain (records before it were removed)"
                    return bad(seq, rid, f"record {seq}: {why}")
                try:
                    body = json.loads(text)
                except ValueError:
                    body = None
                if not isinstance(body, dict):
                    return bad(seq, rid, f"{who}: its content is not a JSON record")
                for key in _MIRRORED:
                    if body.get(key) != col[key]:
                        return bad(seq, rid, f"{who}: its {key} column says {col[key]!r} but its content says "
                                             f"{body.get(key)!r} (altered after it was written)")
                want = sorted(set(body.get("clauses") or ()))
                if sorted(clauses.pop(seq, ())) != want:
                    return bad(seq, rid, f"{who}: its clause index does not match its content "
                                         "(altered after it was written)")
                if body.get("policy_hash") not in known_policies:
                    return bad(seq, rid, f"{who}: its policy version {body.get('policy_hash')} is not stored "
                                         "(it cannot be replayed)")
                checked, prev_seq, prev_hash = checked + 1, seq, digest

            head_seq, head_hash = meta.get("head_seq"), meta.get("head_hash")
            if head_seq != str(prev_seq):
                head = int(head_seq) if str(head_seq).isdigit() else None
                return Verification(False, checked, None if head is None else min(head, prev_seq) + 1, None,
                                    f"the log ends at record {prev_seq} but its head says {head_seq} "
                                    "(records were removed from the end, or added outside the log)")
            if head_hash != prev_hash:
                return Verification(False, checked, prev_seq or None, None,
                                    f"the log ends at record {prev_seq} but its hash does not match the head's "
                                    "(the last record was replaced)")
            if clauses:
                s = min(clauses)
                return Verification(False, checked, s, None,
                                    f"the clause index has entries for record {s}, which does not exist")

            referenced = db.execute("SELECT v.policy_hash, v.path, v.sha256, b.sha256 FROM policy_versions v"
                                    " LEFT JOIN blobs b ON b.sha256 = v.sha256 ORDER BY v.policy_hash, v.path")
            for policy, path, sha, found in referenced:
                if found is None:
                    return Verification(False, checked, None, None,
                                        f"policy {policy}: file {path} (blob {sha}) is missing")
            for sha, body in db.execute("SELECT sha256, body FROM blobs ORDER BY sha256"):
                if not isinstance(body, bytes) or hashlib.sha256(body).hexdigest() != sha:
                    users = db.execute("SELECT policy_hash, path FROM policy_versions WHERE sha256 = ?"
                                       " ORDER BY policy_hash, path LIMIT 1", (sha,)).fetchone()
                    of = f" (file {users[1]} of policy {users[0]})" if users else ""
                    return Verification(False, checked, None, None,
                                        f"blob {sha}{of}: its content no longer matches its sha256 (altered)")
            return Verification(True, checked)
        finally:
            db.execute("COMMIT")


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
    """Why the open database is not a decision log of this format, or None if it is one."""
    names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    missing = [t for t in _TABLES if t not in names]
    if missing:
        return "no decision log tables" if len(missing) == len(_TABLES) else f"missing tables: {', '.join(missing)}"
    try:
        meta = dict(conn.execute("SELECT key, value FROM meta WHERE key IN ('kind', 'format')").fetchall())
    except sqlite3.OperationalError:
        return "its meta table is not a decision log's"
    if meta.get("kind") != KIND:
        return "its meta table does not identify it as one"
    if meta.get("format") != str(FORMAT_VERSION):
        return f"format version {meta.get('format')}; this policyengine reads version {FORMAT_VERSION}"
    return None
