"""The hash-chained decision log, whatever database keeps it.

An auditor years later must be able to see what was decided, from which facts, under which
clauses and policy version, and be sure nobody changed the record since. So:

- every record is stored as canonical JSON and chained: its hash covers the previous
  record's hash, so altering, removing or reordering a record breaks the chain;
- the log's head (last seq and hash) is kept in `meta` and updated with every append, so
  removing records from the end is detected too (a chain alone cannot see that);
- the policy files each record was decided under are stored content-addressed (by sha256),
  and each policy version's hash is recomputed from its files, so a record can be replayed
  against exactly the rules that produced it, and a swapped file is caught;
- the database refuses UPDATE and DELETE (triggers), so nobody changes the log by accident;
  someone who drops the triggers on purpose is caught by `verify()`.

What it cannot catch on its own: someone who rewrites every record from the altered one
onwards *and* the head in `meta`. Against that, file the head (`head()`, `policyengine log
head`) elsewhere, and verify against it later (`verify(head=...)`): a rewrite of anything
up to that head is then caught; records appended after it are protected only by the chain.

Hashes are computed over the stored body text, never over a re-serialisation, so a log stays
verifiable even if a future Python serialises JSON slightly differently.

This module holds what every backend shares; `log.py` (SQLite, the embedded default) and
`postgres_log.py` supply the connection, the locking and the schema.
"""
from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache

try:  # optional (the http extra): the same canonical text, faster
    import orjson
except ImportError:  # pragma: no cover - json writes it alone
    orjson = None

from ..errors import PolicyEngineError
from ..source.loader import policy_hash as hash_of_files
from ..present.words import count

FORMAT_VERSION = 1
KIND = "policyengine decision log"
GENESIS = "0" * 64
TABLES = ("meta", "blobs", "policy_versions", "records", "record_clauses")
_REQUIRED = ("decision", "as_of", "facts", "value", "clauses", "trace", "policy_hash", "engine_version")
_ADDED = ("id", "seq", "made_at", "prev_hash", "hash")
# columns that repeat a field of the body (for querying); verify() checks they still agree
MIRRORED = ("id", "seq", "made_at", "prev_hash", "decision", "as_of", "subject", "policy_hash")
_HEX = re.compile(r"[0-9a-f]+")
_HEAD = re.compile(r"([0-9]+):([0-9a-f]{64})")


class LogError(PolicyEngineError):
    """The decision log cannot do what was asked; the message names the log and the problem."""


@dataclass(frozen=True)
class Verification:
    """The outcome of verify(): ok, or the first problem found, in plain English.

    checked counts the records that passed before the first problem (all of them when ok).
    first_bad_seq/first_bad_id point at the first bad (or missing) record; both are None for a
    problem with the stored policy files or the database itself."""
    ok: bool
    checked: int
    first_bad_seq: int | None = None
    first_bad_id: str | None = None
    problem: str | None = None

    def __str__(self) -> str:
        return f"ok: {count(self.checked, 'n_record')} verified" if self.ok else self.problem or "not ok"


# json.dumps with these options builds a new encoder per call (~2 µs); a record's fields are
# written one by one (_Body), so one encoder is kept.  Its text is json.dumps's, byte for byte.
_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode
_INT64 = (-(1 << 63), (1 << 64) - 1)  # the integers orjson writes


def canonical(obj) -> str:
    """The one JSON text a record is stored and hashed as: json.dumps(obj, sort_keys=True,
    separators=(",", ":"), ensure_ascii=False, allow_nan=False).

    orjson writes the same text faster (a qs record's fields, with a 7 KB trace: 40 µs with the
    check below instead of 73) for a value made only of dicts with str keys, lists, tuples,
    str, bool, None and ints orjson can hold; tests/test_canonical.py checks that over random
    values.  Anything else goes to json: a float (orjson writes 1e-05 as 0.00001, NaN as null),
    a subclass, a lone surrogate (orjson refuses it), a bigger int, a value nested too deep."""
    if orjson is not None and _plain(obj):
        try:
            return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
        except orjson.JSONEncodeError:
            pass
    return _CANONICAL(obj)


def _plain(obj) -> bool:
    """Whether obj holds only the exact types both writers write alike (see canonical)."""
    low, high = _INT64
    todo = [obj]
    while todo:
        v = todo.pop()
        t = type(v)
        if t is str or t is bool or v is None:
            continue
        if t is int:
            if not low <= v <= high:
                return False
        elif t is dict:
            for k in v:
                if type(k) is not str:
                    return False
            todo.extend(v.values())
        elif t is list or t is tuple:
            todo.extend(v)
        else:
            return False
    return True


@lru_cache(maxsize=4096)
def _key(name: str) -> str:
    """A field name's canonical text: the same few names in every record."""
    return canonical(name)


def chain_hash(prev_hash: str, body: str) -> str:
    """sha256 hex of the previous record's hash followed by this record's canonical body."""
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class _Body:
    """A record checked for the log: each field's canonical JSON text, and the fields the log's
    columns repeat.  text() is canonical() of the whole record with the log's own fields added,
    built from the texts: the same bytes, without writing the trace again for every append."""
    __slots__ = ("texts", "fields")

    def __init__(self, texts: dict[str, str], fields: dict):
        self.texts, self.fields = texts, fields

    def text(self, **added) -> str:
        texts = {**self.texts, **{k: canonical(v) for k, v in added.items()}}
        return "{" + ",".join(f"{_key(k)}:{texts[k]}" for k in sorted(texts)) + "}"


def _insert_rows(tx, into: str, rows: list[tuple]) -> None:
    """INSERT INTO `into` the rows, many per statement: each statement the database runs is a
    round trip (PostgreSQL), and in the server's writer thread a hand-back of the GIL (SQLite)."""
    if not rows:
        return
    per = max(1, 900 // len(rows[0]))  # under SQLite's oldest limit of 999 parameters a statement
    one = "(" + ", ".join("?" * len(rows[0])) + ")"
    for i in range(0, len(rows), per):
        chunk = rows[i:i + per]
        tx.execute(f"INSERT INTO {into} VALUES " + ", ".join([one] * len(chunk)),
                   [v for row in chunk for v in row])


def parse_head(text: str) -> tuple[int, str]:
    """'SEQ:HASH' as `log head` prints it."""
    m = _HEAD.fullmatch(str(text).strip().lower())
    if not m:
        raise LogError(f"head {text!r}: expected SEQ:HASH as `policyengine log head` prints it "
                       "(a record number, a colon, 64 hex digits)")
    return int(m.group(1)), m.group(2)


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


class ChainedLog:
    """The log's behaviour over a backend.  A backend provides:

    - `name`: how messages name the log (a path, or a URL without its password);
    - `_read(sql, args)`: rows of one query outside any write;
    - `_write(work)`: run work(tx) in one transaction holding the log's append lock;
      tx.execute(sql, args) returns a cursor (fetchone, fetchall, iteration);
    - `_snapshot(work)`: run work(tx) in one read-only, consistent transaction;
    - `_damage()`: problems the database itself finds with its storage ([] if none);
    - `_error(exc)`: the database's exception as a LogError naming the log.
    SQL is written with `?` placeholders; a backend that wants others translates them.
    """

    name: str

    # -- policy files ------------------------------------------------------------------------
    def store_policies(self, policy_hash: str, files: dict[str, bytes]) -> None:
        """Keep the policy files of one policy version, so records made under it can be replayed.

        Each file body is stored once, by its sha256, however many versions share it. The files
        must hash to `policy_hash` (one hash cannot name two sets of rules); storing a version
        again is a no-op."""
        if not isinstance(policy_hash, str) or not policy_hash:
            raise LogError(f"{self.name}: policy_hash must be a non-empty string")
        stored = self.__dict__.setdefault("_stored", {})  # policy_hash -> the files object stored by this handle
        if stored.get(policy_hash) is files:
            return  # the same loaded policies again (one per logged decision): already checked and stored
        if not files:
            raise LogError(f"{self.name}: policy {policy_hash} has no files; it could not be replayed")
        rows = {}
        for path, body in files.items():
            if not isinstance(path, str) or not isinstance(body, (bytes, bytearray, memoryview)):
                raise LogError(f"{self.name}: policy {policy_hash}: files must map path strings to bytes "
                               f"(got {type(path).__name__} -> {type(body).__name__})")
            body = bytes(body)
            rows[path] = (hashlib.sha256(body).hexdigest(), body)
        actual = hash_of_files({p: b for p, (_, b) in rows.items()})
        if actual != policy_hash:
            raise LogError(f"{self.name}: policy {policy_hash}: the files given hash to {actual}; "
                           "a policy version is stored only with the files it names")

        def work(tx):
            have = dict(tx.execute("SELECT path, sha256 FROM policy_versions WHERE policy_hash = ?",
                                   (policy_hash,)).fetchall())
            if have:
                if have != {p: s for p, (s, _) in rows.items()}:
                    raise LogError(f"{self.name}: policy {policy_hash} is already stored with different files")
                return
            for sha, body in rows.values():
                tx.execute("INSERT INTO blobs (sha256, body) VALUES (?, ?) ON CONFLICT (sha256) DO NOTHING",
                           (sha, body))
            for p, (s, _) in sorted(rows.items()):
                tx.execute("INSERT INTO policy_versions (policy_hash, path, sha256) VALUES (?, ?, ?)",
                           (policy_hash, p, s))
        self._write(work)
        stored[policy_hash] = files

    def policy_files(self, policy_hash: str) -> dict[str, bytes]:
        """The policy files of a stored version, path -> bytes, each checked against its sha256
        and all together against the version's hash: replaying under anything else would
        re-decide under rules that never produced the record."""
        rows = self._read("SELECT v.path, v.sha256, b.body FROM policy_versions v LEFT JOIN blobs b"
                          " ON b.sha256 = v.sha256 WHERE v.policy_hash = ? ORDER BY v.path", (policy_hash,))
        if not rows:
            raise LogError(f"{self.name}: policy {policy_hash} is not stored in this log")
        out = {}
        for path, sha, body in rows:
            if body is None:
                raise LogError(f"{self.name}: policy {policy_hash}: file {path} (blob {sha}) is missing")
            body = bytes(body)
            if hashlib.sha256(body).hexdigest() != sha:
                raise LogError(f"{self.name}: policy {policy_hash}: file {path} (blob {sha}) "
                               "no longer matches its sha256 (altered)")
            out[path] = body
        actual = hash_of_files(out)
        if actual != policy_hash:
            raise LogError(f"{self.name}: policy {policy_hash}: its stored files hash to {actual}, not to the "
                           "policy version records name (files were swapped or added): refusing to use them")
        return out

    # -- records -----------------------------------------------------------------------------
    def append(self, record: dict) -> str:
        """Add one decision record to the end of the chain and return its new id.

        The log adds id, seq, made_at and prev_hash, and the hash over all of it. The record's
        policy version must already be stored (store_policies), so it can always be replayed."""
        return self.append_many([record])[0]

    def append_many(self, records: list) -> list[str]:
        """Add records to the end of the chain in one transaction, in order, and return their
        ids: all are kept or none.  One commit (one fsync) for many records is what makes
        batches and concurrent services fast; the chain is the same as one append each."""
        bodies = [self._check_record(r) for r in records]
        return self._write(lambda tx: self._insert(tx, bodies)) if bodies else []

    def _insert(self, tx, bodies: list) -> list[str]:
        """Chain checked records (from _check_record) onto the log inside transaction tx."""
        for policy in dict.fromkeys(b.fields["policy_hash"] for b in bodies):
            if not tx.execute("SELECT 1 FROM policy_versions WHERE policy_hash = ? LIMIT 1", (policy,)).fetchone():
                raise LogError(f"{self.name}: policy {policy} is not stored in this log; "
                               "call store_policies first so the record can be replayed")
        last = tx.execute("SELECT seq, hash FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        seq, prev = (last[0], last[1]) if last else (0, GENESIS)
        ids, rows, clauses = [], [], []
        for body in bodies:
            seq += 1
            rid, made_at = uuid.uuid4().hex, _now()
            text = body.text(id=rid, seq=seq, made_at=made_at, prev_hash=prev)
            digest = chain_hash(prev, text)
            f = body.fields
            rows.append((seq, rid, made_at, f["decision"], f["as_of"], f.get("subject"), f["policy_hash"], text,
                         prev, digest))
            clauses += [(seq, c) for c in dict.fromkeys(f["clauses"] or ())]
            ids.append(rid)
            prev = digest
        _insert_rows(tx, "records (seq, id, made_at, decision, as_of, subject, policy_hash, body, prev_hash, hash)",
                     rows)
        _insert_rows(tx, "record_clauses (seq, clause)", clauses)
        tx.execute("UPDATE meta SET value = CASE key WHEN 'head_seq' THEN ? ELSE ? END"
                   " WHERE key IN ('head_seq', 'head_hash')", (str(seq), prev))
        return ids

    def _check_record(self, record) -> "_Body":
        def bad(msg):
            return LogError(f"{self.name}: cannot append: {msg}")
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
        if not all(type(k) is str for k in record):
            raise bad("its field names must be strings")
        try:
            # each field written once, now: the stored text is exactly what JSON can hold, and
            # detached from the caller's objects
            return _Body({k: canonical(v) for k, v in record.items()},
                         {k: record.get(k) for k in ("decision", "as_of", "subject", "policy_hash")}
                         | {"clauses": list(clauses) if clauses is not None else None})
        except (TypeError, ValueError) as e:
            raise bad(f"the record is not JSON-ready ({e})") from None

    def get(self, record_id: str) -> dict:
        """The full record by id, or by a unique prefix of at least 6 characters of it."""
        rid = str(record_id).strip().lower()
        if not rid or not _HEX.fullmatch(rid):
            raise LogError(f"{self.name}: {record_id!r} is not a record id")
        rows = self._read("SELECT body, hash FROM records WHERE id = ?", (rid,))
        if not rows:
            if len(rid) < 6:
                raise LogError(f"{self.name}: record id prefix {rid!r} is too short (give at least 6 characters)")
            rows = self._read("SELECT body, hash FROM records WHERE id LIKE ? ORDER BY seq LIMIT 2", (rid + "%",))
        if not rows:
            raise LogError(f"{self.name}: no record with id {rid}")
        if len(rows) > 1:
            raise LogError(f"{self.name}: record id prefix {rid!r} matches more than one record; give more of it")
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
                raise LogError(f"{self.name}: limit must be a whole number >= 0, got {limit!r}")
            sql += " LIMIT ?"
            args.append(limit)
        out = []
        for (text,) in self._read(sql, args):
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
            raise LogError(f"{self.name}: {name} must be a date YYYY-MM-DD, got {value!r}") from None

    def head(self) -> tuple[int, str]:
        """The chain's head (last seq and its hash), to file elsewhere as an anchor."""
        meta = dict(self._read("SELECT key, value FROM meta WHERE key IN ('head_seq', 'head_hash')"))
        seq = meta.get("head_seq")
        if not str(seq).isdigit() or not meta.get("head_hash"):
            raise LogError(f"{self.name}: damaged: its head is unreadable ({meta!r})")
        return int(seq), meta["head_hash"]

    # -- verification ------------------------------------------------------------------------
    def verify(self, head: str | tuple | None = None) -> Verification:
        """Check that nothing was altered, removed or reordered since it was written.

        Asks the database to check its own storage, walks the chain in seq order recomputing
        each hash from the stored body and prev_hash, checks the queryable columns and clause
        index still agree with the body, compares the end of the chain with the head kept in
        meta, rechecks every stored policy file and recomputes each policy version's hash from
        its files.  With `head` (SEQ:HASH, as head() gave it earlier and was filed elsewhere),
        also proves that record SEQ still has that hash, so nothing up to it was rewritten
        or removed, even by someone who rewrote the rest of the file consistently."""
        anchor = None if head is None else (tuple(head) if isinstance(head, tuple) else parse_head(head))
        damage = self._damage()
        if damage:
            return Verification(False, 0, None, None, f"damaged: the database reports {'; '.join(damage[:3])}")
        return self._snapshot(lambda tx: self._walk(tx, anchor))

    def _walk(self, tx, anchor) -> Verification:
        clauses: dict[int, list[str]] = {}
        for seq, clause in tx.execute("SELECT seq, clause FROM record_clauses"):
            clauses.setdefault(seq, []).append(clause)
        known_policies = {r[0] for r in tx.execute("SELECT DISTINCT policy_hash FROM policy_versions")}
        meta = dict(tx.execute("SELECT key, value FROM meta").fetchall())
        checked, prev_seq, prev_hash = 0, 0, GENESIS
        anchored = None

        def bad(seq, rid, problem):
            return Verification(False, checked, seq, rid, problem)

        for row in tx.execute(f"SELECT {', '.join(MIRRORED)}, body, hash FROM records ORDER BY seq"):
            col = dict(zip(MIRRORED, row))
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
            for key in MIRRORED:
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
            if anchor is not None and seq == anchor[0]:
                anchored = digest
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
        if anchor is not None:
            seq, digest = anchor
            if anchored is None:
                return Verification(False, checked, seq, None,
                                    f"the anchored head {seq}:{digest} is gone: the log has only {prev_seq} records "
                                    "(records up to the anchor were removed)")
            if anchored != digest:
                return Verification(False, checked, seq, None,
                                    f"record {seq} has hash {anchored}, not the anchored {digest}: the log up to the "
                                    "anchor was rewritten (its chain was recomputed to hide it)")
        return self._check_policies(tx, checked)

    def _check_policies(self, tx, checked: int) -> Verification:
        def bad(problem):
            return Verification(False, checked, None, None, problem)

        files: dict[str, dict[str, bytes]] = {}
        referenced = tx.execute("SELECT v.policy_hash, v.path, v.sha256, b.sha256, b.body FROM policy_versions v"
                                " LEFT JOIN blobs b ON b.sha256 = v.sha256 ORDER BY v.policy_hash, v.path")
        for policy, path, sha, found, body in referenced:
            if found is None:
                return bad(f"policy {policy}: file {path} (blob {sha}) is missing")
            files.setdefault(policy, {})[path] = bytes(body) if body is not None else b""
        for sha, body in tx.execute("SELECT sha256, body FROM blobs ORDER BY sha256"):
            if body is None or hashlib.sha256(bytes(body)).hexdigest() != sha:
                users = tx.execute("SELECT policy_hash, path FROM policy_versions WHERE sha256 = ?"
                                   " ORDER BY policy_hash, path LIMIT 1", (sha,)).fetchone()
                of = f" (file {users[1]} of policy {users[0]})" if users else ""
                return bad(f"blob {sha}{of}: its content no longer matches its sha256 (altered)")
        for policy, fs in files.items():
            actual = hash_of_files(fs)
            if actual != policy:
                return bad(f"policy {policy}: its stored files hash to {actual}: files were swapped, added or "
                           "removed after it was stored (replaying it would use other rules)")
        return Verification(True, checked)
