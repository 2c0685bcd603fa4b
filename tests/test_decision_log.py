"""The decision log: round trip, content-addressed policy files, and tamper detection.

Tampering is done the way a determined person would: plain sqlite3, DROP TRIGGER, then
UPDATE/DELETE; verify() must still notice."""
import hashlib
import json
import sqlite3

import pytest

from policyengine.audit.log import GENESIS, DecisionLog, LogError, Verification, canonical, default_path
from policyengine.errors import PolicyEngineError
from policyengine.source.loader import policy_hash

FILES_A = {"demo/instrument.yaml": b"instrument: demo\n", "demo/rules.yaml": b"rules: [1]\n"}
FILES_B = {"demo/instrument.yaml": b"instrument: demo\n", "demo/rules.yaml": b"rules: [2]\n"}
POLICY_A = policy_hash(FILES_A)  # a policy version is named by the hash of its files
POLICY_B = policy_hash(FILES_B)


def rec(decision="ldp.eligible", as_of="2010-01-01", clauses=("ldp.B.12",), subject=None, value=True, **extra):
    r = {"decision": decision, "as_of": as_of, "facts": {"level": "PL-01", "salary": 50000},
         "value": value, "status": "decided", "clauses": None if clauses is None else list(clauses),
         "trace": [{"rule": "r1", "outcome": True}], "policy_hash": POLICY_A, "engine_version": "0.1.0"}
    if subject is not None:
        r["subject"] = subject
    r.update(extra)
    return r


@pytest.fixture
def log_path(tmp_path):
    return tmp_path / "logs" / "decisions.sqlite"


@pytest.fixture
def filled(log_path):
    """A log with 4 records; returns (path, ids)."""
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        ids = [log.append(rec(subject="emp-1")),
               log.append(rec(decision="ldp.amount", clauses=["ldp.B.13", "ldp.B.12"], value="1234.50", subject="emp-2")),
               log.append(rec(clauses=None, subject="emp-1")),
               log.append(rec(decision="ldp.amount", clauses=["ldp.C.1"], value="10.00"))]
    return log_path, ids


def tamper(path, *sql, params=()):
    """Open the log with plain sqlite3, drop every trigger, run sql."""
    con = sqlite3.connect(path)
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")
    for s in sql:
        con.execute(s, params) if params and "?" in s else con.execute(s)
    con.commit()
    con.close()


def verify(path) -> Verification:
    with DecisionLog(path) as log:
        return log.verify()


# -- round trip ------------------------------------------------------------------------------

def test_round_trip_get_and_chain_fields(filled):
    path, ids = filled
    with DecisionLog(path) as log:
        r2 = log.get(ids[1])
        assert r2["id"] == ids[1] and r2["seq"] == 2
        assert r2["decision"] == "ldp.amount" and r2["value"] == "1234.50"
        assert r2["facts"] == {"level": "PL-01", "salary": 50000}
        assert r2["clauses"] == ["ldp.B.13", "ldp.B.12"]
        assert r2["policy_hash"] == POLICY_A and r2["engine_version"] == "0.1.0"
        assert r2["made_at"].endswith("Z") and r2["made_at"][10] == "T"
        r1 = log.get(ids[0])
        assert r1["prev_hash"] == GENESIS
        assert r2["prev_hash"] == r1["hash"]
        # the hash is sha256(prev_hash + canonical JSON of everything but the hash)
        body = {k: v for k, v in r2.items() if k != "hash"}
        assert r2["hash"] == hashlib.sha256((r2["prev_hash"] + canonical(body)).encode()).hexdigest()
        assert "subject" not in log.get(ids[3])
        # by unique prefix, any case
        assert log.get(ids[2][:8])["seq"] == 3
        assert log.get(ids[2][:12].upper())["seq"] == 3


def test_get_errors(filled):
    path, ids = filled
    with DecisionLog(path) as log:
        with pytest.raises(LogError, match="no record"):
            log.get("0123456789abcdef" * 2)
        with pytest.raises(LogError, match="too short"):
            log.get(ids[0][:5])
        with pytest.raises(LogError, match="not a record id"):
            log.get("nope!")
        # an ambiguous prefix: force two ids sharing 6 characters
        con = sqlite3.connect(path)
        con.execute("DROP TRIGGER records_no_update")
        con.execute("UPDATE records SET id = 'abcdef' || substr(id, 7) WHERE seq IN (1, 2)")
        con.commit()
        con.close()
        with pytest.raises(LogError, match="more than one"):
            log.get("abcdef")


def test_append_does_not_touch_the_callers_dict(log_path):
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        r = rec()
        before = json.dumps(r, sort_keys=True)
        log.append(r)
        assert json.dumps(r, sort_keys=True) == before


def test_list_filters(filled):
    path, ids = filled
    with DecisionLog(path) as log:
        everything = log.list()
        assert [s["seq"] for s in everything] == [1, 2, 3, 4]
        assert [s["id"] for s in everything] == ids
        assert set(everything[0]) == {"id", "seq", "made_at", "decision", "as_of", "subject", "value", "status"}
        assert everything[1]["value"] == "1234.50" and everything[1]["status"] == "decided"
        assert [s["seq"] for s in log.list(decision="ldp.amount")] == [2, 4]
        assert [s["seq"] for s in log.list(clause="ldp.B.12")] == [1, 2]
        assert [s["seq"] for s in log.list(clause="ldp.C.1")] == [4]
        assert log.list(clause="nope") == []
        assert [s["seq"] for s in log.list(subject="emp-1")] == [1, 3]
        assert [s["seq"] for s in log.list(decision="ldp.eligible", subject="emp-1", clause="ldp.B.12")] == [1]
        assert [s["seq"] for s in log.list(limit=2)] == [1, 2]
        today = everything[0]["made_at"][:10]
        assert len(log.list(since=today, until=today)) == 4
        assert log.list(since="2999-01-01") == []
        assert log.list(until="2000-01-01") == []
        with pytest.raises(LogError, match="since must be a date"):
            log.list(since="yesterday")


def test_list_date_range_is_inclusive_on_the_date_part(log_path):
    # made_at is set by the log; give records known dates by writing through a copy of the chain
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        for _ in range(3):
            log.append(rec())
    days = ["2020-01-31T23:59:59.999999Z", "2020-02-01T00:00:00.000000Z", "2020-02-02T12:00:00.000000Z"]
    con = sqlite3.connect(log_path)
    con.execute("DROP TRIGGER records_no_update")
    for seq, day in enumerate(days, 1):
        con.execute("UPDATE records SET made_at = ? WHERE seq = ?", (day, seq))
    con.commit()
    con.close()
    with DecisionLog(log_path) as log:
        assert [s["seq"] for s in log.list(since="2020-02-01")] == [2, 3]
        assert [s["seq"] for s in log.list(until="2020-02-01")] == [1, 2]
        assert [s["seq"] for s in log.list(since="2020-02-01", until="2020-02-01")] == [2]
        assert [s["seq"] for s in log.list(since="2020-01-31", until="2020-02-02")] == [1, 2, 3]


# -- policy files ----------------------------------------------------------------------------

def test_policy_files_are_content_addressed(log_path):
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        log.store_policies(POLICY_B, FILES_B)
        log.store_policies(POLICY_A, FILES_A)  # again: a no-op
        assert log.policy_files(POLICY_A) == FILES_A
        assert log.policy_files(POLICY_B) == FILES_B
        with pytest.raises(LogError, match="not stored"):
            log.policy_files("sha256:unknown")
        with pytest.raises(LogError, match=f"policy {POLICY_A}: the files given hash to {POLICY_B}"):
            log.store_policies(POLICY_A, FILES_B)  # one hash cannot name two sets of rules
    con = sqlite3.connect(log_path)
    # instrument.yaml is shared: 3 distinct bodies, not 4
    assert con.execute("SELECT count(*) FROM blobs").fetchone()[0] == 3
    assert con.execute("SELECT count(*) FROM policy_versions").fetchone()[0] == 4
    shared = hashlib.sha256(FILES_A["demo/instrument.yaml"]).hexdigest()
    assert con.execute("SELECT count(*) FROM blobs WHERE sha256 = ?", (shared,)).fetchone()[0] == 1
    con.close()


def test_append_refused_for_unknown_policy(log_path):
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        with pytest.raises(LogError, match="store_policies"):
            log.append(rec(policy_hash=POLICY_B))
        assert log.list() == []
        first = log.append(rec())
        assert log.get(first)["seq"] == 1  # the refused append used no seq


def test_append_checks_the_record(log_path):
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        r = rec()
        del r["facts"]
        with pytest.raises(LogError, match="lacks facts"):
            log.append(r)
        with pytest.raises(LogError, match="set by the log"):
            log.append(rec(seq=7))
        with pytest.raises(LogError, match="clauses must be"):
            log.append(rec() | {"clauses": "ldp.B.12"})
        with pytest.raises(LogError, match="not JSON-ready"):
            log.append(rec() | {"value": object()})
        with pytest.raises(LogError, match="not JSON-ready"):
            log.append(rec() | {"value": float("nan")})
        assert log.list() == []
        assert log.verify().ok


def test_append_is_all_or_nothing(log_path):
    with DecisionLog(log_path) as log:
        log.store_policies(POLICY_A, FILES_A)
        log.append(rec())
        # make the clause insert fail after the record row went in: a duplicate clause row for seq 2
        con = sqlite3.connect(log_path)
        con.execute("INSERT INTO record_clauses (seq, clause) VALUES (2, 'ldp.B.12')")
        con.commit()
        con.close()
        with pytest.raises(LogError):
            log.append(rec())
        con = sqlite3.connect(log_path)
        assert con.execute("SELECT count(*) FROM records").fetchone()[0] == 1
        assert dict(con.execute("SELECT key, value FROM meta"))["head_seq"] == "1"
        con.close()


# -- verification ----------------------------------------------------------------------------

def test_verify_ok_on_a_clean_log(filled, tmp_path):
    path, ids = filled
    v = verify(path)
    assert v == Verification(ok=True, checked=4, first_bad_seq=None, first_bad_id=None, problem=None)
    assert verify(tmp_path / "empty.sqlite") == Verification(True, 0)


def test_verify_catches_an_altered_body(filled):
    path, ids = filled
    con = sqlite3.connect(path)
    body = json.loads(con.execute("SELECT body FROM records WHERE seq = 3").fetchone()[0])
    con.close()
    body["value"] = False
    tamper(path, "UPDATE records SET body = ? WHERE seq = 3", params=(canonical(body),))
    v = verify(path)
    assert not v.ok and v.checked == 2
    assert (v.first_bad_seq, v.first_bad_id) == (3, ids[2])
    assert v.problem == f"record 3 (id {ids[2]}): its content was altered after it was written (hash mismatch)"


def test_verify_catches_an_altered_body_with_recomputed_hash(filled):
    # a smarter tamperer fixes the record's own hash; the next record's prev_hash still points at the old one
    path, ids = filled
    con = sqlite3.connect(path)
    prev, body = con.execute("SELECT prev_hash, body FROM records WHERE seq = 2").fetchone()
    con.close()
    b = json.loads(body)
    b["value"] = "999999.00"
    text = canonical(b)
    new_hash = hashlib.sha256((prev + text).encode()).hexdigest()
    tamper(path, "UPDATE records SET body = ?, hash = ? WHERE seq = 2", params=(text, new_hash))
    v = verify(path)
    assert not v.ok and v.first_bad_seq == 3
    assert v.problem == "record 3: prev_hash does not match record 2's hash (removed or reordered)"


def test_verify_catches_an_altered_decision_column(filled):
    path, ids = filled
    tamper(path, "UPDATE records SET decision = 'ldp.other' WHERE seq = 2")
    v = verify(path)
    assert not v.ok and (v.first_bad_seq, v.first_bad_id, v.checked) == (2, ids[1], 1)
    assert "decision column says 'ldp.other' but its content says 'ldp.amount'" in v.problem


def test_verify_catches_an_altered_clause_index(filled):
    path, ids = filled
    tamper(path, "DELETE FROM record_clauses WHERE seq = 2 AND clause = 'ldp.B.13'")
    v = verify(path)
    assert not v.ok and v.first_bad_seq == 2 and "clause index" in v.problem


def test_verify_catches_a_deleted_middle_record(filled):
    path, ids = filled
    tamper(path, "DELETE FROM records WHERE seq = 2")
    v = verify(path)
    assert not v.ok and v.checked == 1 and v.first_bad_seq == 2 and v.first_bad_id is None
    assert v.problem == "record 2 is missing: the chain jumps from 1 to 3"


def test_verify_catches_deleted_middle_records_renumbered(filled):
    path, ids = filled
    tamper(path, "DELETE FROM records WHERE seq = 2", "UPDATE records SET seq = seq - 1 WHERE seq > 2")
    v = verify(path)
    assert not v.ok and v.first_bad_seq == 2
    assert "prev_hash does not match record 1's hash" in v.problem


def test_verify_catches_a_deleted_first_record(filled):
    path, ids = filled
    tamper(path, "DELETE FROM records WHERE seq = 1")
    v = verify(path)
    assert not v.ok and v.first_bad_seq == 1 and "record 1 is missing" in v.problem


def test_verify_catches_a_deleted_last_record(filled):
    path, ids = filled
    tamper(path, "DELETE FROM records WHERE seq = 4")
    v = verify(path)
    assert not v.ok and v.checked == 3 and v.first_bad_seq == 4
    assert v.problem.startswith("the log ends at record 3 but its head says 4")


def test_verify_catches_swapped_records(filled):
    path, ids = filled
    cols = "id, made_at, decision, as_of, subject, policy_hash, body, prev_hash, hash"
    tamper(path,
           "CREATE TEMP TABLE t AS SELECT * FROM records WHERE seq IN (2, 3)",
           "DELETE FROM records WHERE seq IN (2, 3)",
           f"INSERT INTO records (seq, {cols}) SELECT 5 - seq, {cols} FROM t")
    v = verify(path)
    assert not v.ok and v.checked == 1 and (v.first_bad_seq, v.first_bad_id) == (2, ids[2])
    assert v.problem == "record 2: prev_hash does not match record 1's hash (removed or reordered)"


def test_verify_catches_an_altered_blob(filled):
    path, ids = filled
    sha = hashlib.sha256(FILES_A["demo/rules.yaml"]).hexdigest()
    tamper(path, "UPDATE blobs SET body = ? WHERE sha256 = ?", params=(b"rules: [666]\n", sha))
    v = verify(path)
    assert not v.ok and v.checked == 4 and v.first_bad_seq is None
    assert v.problem == (f"blob {sha} (file demo/rules.yaml of policy {POLICY_A}): "
                         "its content no longer matches its sha256 (altered)")
    with DecisionLog(path) as log:
        with pytest.raises(LogError, match="no longer matches"):
            log.policy_files(POLICY_A)


def test_verify_catches_a_repointed_policy_file(filled):
    path, ids = filled
    tamper(path, "UPDATE policy_versions SET sha256 = ? WHERE path = 'demo/rules.yaml'", params=("0" * 64,))
    v = verify(path)
    assert not v.ok and "is missing" in v.problem


# -- append-only, opening, concurrency -------------------------------------------------------

def test_triggers_forbid_update_and_delete(filled):
    path, ids = filled
    with DecisionLog(path) as log:
        db = log._conn  # the API's own connection
        for sql in ("UPDATE records SET decision = 'x' WHERE seq = 1", "DELETE FROM records WHERE seq = 1",
                    "UPDATE blobs SET body = x''", "DELETE FROM policy_versions",
                    "DELETE FROM record_clauses", "UPDATE meta SET value = '2' WHERE key = 'format'"):
            with pytest.raises(sqlite3.IntegrityError, match="the decision log is append-only"):
                db.execute(sql)
        assert log.verify().ok and len(log.list()) == 4


def test_open_refuses_a_text_file_and_leaves_it_alone(tmp_path):
    p = tmp_path / "notes.sqlite"
    p.write_bytes(b"just some notes\n")
    with pytest.raises(LogError) as e:
        DecisionLog(p)
    assert str(e.value) == f"{p}: not a policyengine decision log (not an SQLite file)"
    assert isinstance(e.value, PolicyEngineError)
    assert p.read_bytes() == b"just some notes\n"
    assert sorted(x.name for x in tmp_path.iterdir()) == ["notes.sqlite"]


def test_open_refuses_another_sqlite_database_and_leaves_it_alone(tmp_path):
    p = tmp_path / "other.db"
    con = sqlite3.connect(p)
    con.execute("CREATE TABLE people (name TEXT)")
    con.execute("INSERT INTO people VALUES ('Ada')")
    con.commit()
    con.close()
    before = p.read_bytes()
    with pytest.raises(LogError, match=r"other\.db: not a policyengine decision log \(no decision log tables\)"):
        DecisionLog(p)
    assert p.read_bytes() == before
    assert sorted(x.name for x in tmp_path.iterdir()) == ["other.db"]


def test_open_refuses_another_format_version(filled):
    path, ids = filled
    tamper(path, "UPDATE meta SET value = '2' WHERE key = 'format'")
    before = path.read_bytes()
    with pytest.raises(LogError, match="a decision log of format version 2; this policyengine reads version 1"):
        DecisionLog(path)
    assert path.read_bytes() == before


def test_open_refuses_a_log_missing_tables(filled):
    path, ids = filled
    tamper(path, "DROP TABLE record_clauses")
    with pytest.raises(LogError, match="missing tables: record_clauses"):
        DecisionLog(path)


def test_reopen_and_keep_appending(filled):
    path, ids = filled
    with DecisionLog(path) as log:
        new = log.append(rec())
        assert log.get(new)["seq"] == 5 and log.get(new)["prev_hash"] == log.get(ids[3])["hash"]
        assert log.verify() == Verification(True, 5)
    log.close()  # twice is harmless
    with pytest.raises(LogError, match="closed"):
        log.list()


def test_default_path(monkeypatch, tmp_path):
    monkeypatch.setenv("POLICYENGINE_LOG", str(tmp_path / "x.sqlite"))
    assert default_path() == tmp_path / "x.sqlite"
    monkeypatch.delenv("POLICYENGINE_LOG")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert default_path() == tmp_path / "data" / "policyengine" / "decisions.sqlite"
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_path() == tmp_path / "home" / ".local" / "share" / "policyengine" / "decisions.sqlite"


# Many writers at once, and writers killed mid-write, on both backends: tests/test_log_backends.py


def test_the_log_commits_through_a_write_ahead_log_synced_at_every_commit(tmp_path):
    """WAL makes a commit one fsync instead of the rollback journal's several; synchronous=FULL
    keeps it durable: a record id is given only once its transaction is on disk."""
    with DecisionLog(tmp_path / "log.sqlite") as log:
        assert log._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert log._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
