"""The decision log in PostgreSQL: one log that services on several machines append to.

The same records, chain, head and content-addressed policy files as the SQLite log (chain.py
holds the behaviour), behind the same interface.  Appenders from many processes keep one
chain because each append takes the log's lock for its transaction: by default a
transaction-scoped advisory lock (`locking="advisory"`), which queues appenders; or
`locking="serializable"`, which runs each append as a SERIALIZABLE transaction and retries
it when PostgreSQL reports a conflict (benchmarks/bench_log.py measures both).

Triggers refuse UPDATE, DELETE and TRUNCATE; `verify()` catches whoever drops them.  The
database's own index check is amcheck's `bt_index_check` where the extension is available.
Needs psycopg 3 (`pip install 'policyengine[postgres]'`).
"""
from __future__ import annotations

import random
import time
from urllib.parse import urlsplit, urlunsplit

from .chain import FORMAT_VERSION, GENESIS, KIND, TABLES, ChainedLog, LogError

_LOCK_KEY = 0x706F6C6963790001  # pg_advisory_xact_lock key of the log's append lock ("policy" + 1)
_RETRIES = 50

_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE blobs (sha256 TEXT PRIMARY KEY, body BYTEA NOT NULL)",
    "CREATE TABLE policy_versions (policy_hash TEXT NOT NULL, path TEXT NOT NULL,"
    " sha256 TEXT NOT NULL REFERENCES blobs(sha256), PRIMARY KEY (policy_hash, path))",
    "CREATE TABLE records (seq BIGINT PRIMARY KEY, id TEXT UNIQUE NOT NULL, made_at TEXT NOT NULL,"
    " decision TEXT NOT NULL, as_of TEXT NOT NULL, subject TEXT, policy_hash TEXT NOT NULL,"
    " body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)",
    "CREATE INDEX records_decision ON records(decision)",
    "CREATE INDEX records_subject ON records(subject)",
    "CREATE INDEX records_made_at ON records(made_at)",
    "CREATE TABLE record_clauses (seq BIGINT NOT NULL, clause TEXT NOT NULL, PRIMARY KEY (seq, clause))",
    "CREATE INDEX record_clauses_clause ON record_clauses(clause)",
    "CREATE OR REPLACE FUNCTION policyengine_append_only() RETURNS trigger LANGUAGE plpgsql AS"
    " $$ BEGIN RAISE EXCEPTION 'the decision log is append-only'; END $$",
] + [
    f"CREATE TRIGGER {t}_no_change BEFORE UPDATE OR DELETE ON {t} FOR EACH ROW"
    " EXECUTE FUNCTION policyengine_append_only()" for t in ("records", "record_clauses", "blobs", "policy_versions")
] + [
    f"CREATE TRIGGER {t}_no_truncate BEFORE TRUNCATE ON {t} FOR EACH STATEMENT"
    " EXECUTE FUNCTION policyengine_append_only()" for t in TABLES
] + [
    "CREATE TRIGGER meta_no_delete BEFORE DELETE ON meta FOR EACH ROW EXECUTE FUNCTION policyengine_append_only()",
    "CREATE TRIGGER meta_no_update BEFORE UPDATE ON meta FOR EACH ROW WHEN (OLD.key NOT IN ('head_seq', 'head_hash'))"
    " EXECUTE FUNCTION policyengine_append_only()",
]


def _public(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class _Tx:
    """A connection that takes the `?` placeholders chain.py writes."""

    def __init__(self, conn):
        self.conn = conn

    def execute(self, sql: str, args=()):
        return self.conn.execute(sql.replace("?", "%s"), tuple(args))


class PostgresLog(ChainedLog):
    """The decision log in the PostgreSQL database a URL names.  Use as a context manager."""

    def __init__(self, url: str, locking: str = "advisory"):
        try:
            import psycopg
        except ImportError:
            raise LogError(f"{_public(url)}: the PostgreSQL log needs psycopg 3: "
                           "pip install 'policyengine[postgres]'") from None
        if locking not in ("advisory", "serializable"):
            raise LogError(f"locking must be 'advisory' or 'serializable', got {locking!r}")
        self._pg = psycopg
        self.name = _public(url)
        self.locking = locking
        self._conn = None
        try:
            self._conn = psycopg.connect(url, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            raise LogError(f"{self.name}: cannot connect ({str(e).strip()})") from None
        try:
            self._prepare()
        except BaseException:
            self.close()
            raise

    def _prepare(self) -> None:
        """Create the log's tables if the database has none of them (under the lock, so two
        processes starting at once create it once), then recognise it."""
        def work(tx):
            have = {r[0] for r in tx.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                " AND table_name = ANY(?)", (list(TABLES),))}
            if have:
                return
            for stmt in _SCHEMA:
                tx.execute(stmt)
            for key, value in (("kind", KIND), ("format", str(FORMAT_VERSION)), ("head_seq", "0"),
                               ("head_hash", GENESIS)):
                tx.execute("INSERT INTO meta VALUES (?, ?)", (key, value))
        self._transaction(work, lock=True)
        problem = self._snapshot(_not_a_log)
        if problem:
            raise LogError(f"{self.name}: {problem}")
        try:
            self._conn.execute("CREATE EXTENSION IF NOT EXISTS amcheck")
        except self._pg.Error:
            pass  # not permitted or not installed: verify() then checks the chain only

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __enter__(self) -> PostgresLog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<PostgresLog {self.name}>"

    # -- the backend ---------------------------------------------------------------------------
    @property
    def _db(self):
        if self._conn is None:
            raise LogError(f"{self.name}: the log is closed")
        return self._conn

    def _error(self, e) -> LogError:
        return LogError(f"{self.name}: {str(e).strip()}")

    def _read(self, sql: str, args=()) -> list:
        try:
            return _Tx(self._db).execute(sql, args).fetchall()
        except self._pg.Error as e:
            raise self._error(e) from None

    def _write(self, work):
        if self.locking == "advisory":
            return self._transaction(work, lock=True)
        errors = self._pg.errors
        for attempt in range(_RETRIES):
            try:
                return self._transaction(work, isolation="SERIALIZABLE", retry=True)
            except (errors.SerializationFailure, errors.UniqueViolation, errors.DeadlockDetected):
                time.sleep(random.uniform(0, 0.002 * (attempt + 1)))
        raise LogError(f"{self.name}: the log stayed busy through {_RETRIES} attempts; try again")

    def _snapshot(self, work):
        return self._transaction(work, isolation="REPEATABLE READ READ ONLY")

    def _transaction(self, work, lock: bool = False, isolation: str | None = None, retry: bool = False):
        db = self._db
        tx = _Tx(db)
        try:
            db.execute("BEGIN" + (f" ISOLATION LEVEL {isolation}" if isolation else ""))
            if lock:
                db.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))
            result = work(tx)
            db.execute("COMMIT")
            return result
        except BaseException as e:
            try:
                db.execute("ROLLBACK")
            except self._pg.Error:
                pass
            if retry and isinstance(e, (self._pg.errors.SerializationFailure, self._pg.errors.UniqueViolation,
                                        self._pg.errors.DeadlockDetected)):
                raise
            if isinstance(e, self._pg.Error):
                raise self._error(e) from None
            raise

    def _damage(self) -> list[str]:
        """amcheck's verdict on the log's indexes, where the extension is installed."""
        try:
            if not self._db.execute("SELECT 1 FROM pg_extension WHERE extname = 'amcheck'").fetchone():
                return []
            rows = self._db.execute(
                "SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                " JOIN pg_class t ON t.oid = i.indrelid JOIN pg_am a ON a.oid = c.relam"
                " WHERE t.relname = ANY(%s) AND a.amname = 'btree' AND t.relnamespace = current_schema()::regnamespace",
                (list(TABLES),)).fetchall()
            problems = []
            for (index,) in rows:
                try:
                    self._db.execute("SELECT bt_index_check(%s::regclass, true)", (index,))
                except self._pg.Error as e:
                    problems.append(f"index {index}: {str(e).strip()}")
            return problems
        except self._pg.Error as e:
            return [str(e).strip()]


def _not_a_log(tx) -> str | None:
    """Why the database does not hold a usable decision log of this format, or None."""
    have = {r[0] for r in tx.execute("SELECT table_name FROM information_schema.tables WHERE table_schema ="
                                     " current_schema() AND table_name = ANY(?)", (list(TABLES),))}
    missing = [t for t in TABLES if t not in have]
    if missing:
        return f"damaged decision log (missing tables: {', '.join(missing)})"
    meta = dict(tx.execute("SELECT key, value FROM meta WHERE key IN ('kind', 'format')").fetchall())
    if meta.get("kind") != KIND:
        return "damaged decision log (its meta table does not identify it as one)"
    if meta.get("format") != str(FORMAT_VERSION):
        return f"a decision log of format version {meta.get('format')}; this policyengine reads version {FORMAT_VERSION}"
    return None
