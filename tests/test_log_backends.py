"""The decision log on both backends (SQLite and PostgreSQL): the same records and chain,
tampering caught, nothing lost with many writers or a writer killed mid-write."""
import hashlib
import json
import os
import random
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from policyengine.audit import replay
from policyengine.audit.chain import canonical
from policyengine.audit.log import DecisionLog, LogError, Verification
from policyengine.cli import main
from policyengine.source.loader import policy_hash
from log_backends import log_target, tamper  # noqa: F401  (log_target is a fixture)

FILES = {"demo/instrument.yaml": b"instrument: demo\n", "demo/rules.yaml": b"rules: [1]\n"}
POLICY = policy_hash(FILES)


def rec(i, who="w"):
    return {"decision": "ldp.eligible", "as_of": "2010-01-01", "facts": {"writer": who, "i": i}, "value": i,
            "status": "decided", "clauses": ["ldp.B.12", f"c.{who}"], "trace": None, "policy_hash": POLICY,
            "engine_version": "0", "subject": who}


def filled(target, n=5):
    with DecisionLog.open(target) as log:
        log.store_policies(POLICY, FILES)
        return [log.append(rec(i)) for i in range(n)]


def test_round_trip(log_target):
    ids = filled(log_target)
    with DecisionLog.open(log_target) as log:
        r = log.get(ids[2])
        assert (r["seq"], r["facts"], r["prev_hash"]) == (3, {"writer": "w", "i": 2}, log.get(ids[1])["hash"])
        assert log.get(ids[2][:8])["id"] == ids[2]
        assert [x["seq"] for x in log.list(clause="c.w", limit=2)] == [1, 2]
        assert log.head() == (5, log.get(ids[4])["hash"])
        assert log.verify() == Verification(True, 5)
        assert log.policy_files(POLICY) == FILES
        with pytest.raises(LogError, match="no record with id"):
            log.get("abcdef0123")


def test_updates_and_deletes_are_refused(log_target):
    filled(log_target)
    with DecisionLog.open(log_target) as log:
        with pytest.raises(LogError, match="append-only"):
            log._write(lambda tx: tx.execute("DELETE FROM records WHERE seq = 1"))
        assert log.verify().ok


def test_an_altered_record_is_caught(log_target):
    filled(log_target)
    tamper(log_target, "UPDATE records SET body = replace(body, '\"value\":2', '\"value\":9') WHERE seq = 3")
    with DecisionLog.open(log_target) as log:
        v = log.verify()
    assert not v.ok and v.first_bad_seq == 3 and "altered" in v.problem


def test_records_removed_from_the_end_are_caught(log_target):
    filled(log_target)
    tamper(log_target, "DELETE FROM record_clauses WHERE seq = 5", "DELETE FROM records WHERE seq = 5")
    with DecisionLog.open(log_target) as log:
        v = log.verify()
    assert not v.ok and "its head says 5" in v.problem


def test_a_swapped_policy_file_is_caught_and_refused(log_target):
    filled(log_target)
    forged = b"rules: [999]\n"
    sha = hashlib.sha256(forged).hexdigest()
    blob = "INSERT INTO blobs VALUES (?, ?)"
    tamper(log_target, blob, params=(sha, forged))
    tamper(log_target, "UPDATE policy_versions SET sha256 = ? WHERE path = 'demo/rules.yaml'", params=(sha,))
    with DecisionLog.open(log_target) as log:
        v = log.verify()
        assert not v.ok and "its stored files hash to" in v.problem
        with pytest.raises(LogError, match="refusing to use them"):
            log.policy_files(POLICY)


def test_an_anchor_catches_a_rewritten_chain(log_target):
    filled(log_target)
    with DecisionLog.open(log_target) as log:
        anchor = "%d:%s" % log.head()
    tamper(log_target, "UPDATE meta SET value = ? WHERE key = 'head_hash'", params=("f" * 64,),)
    tamper(log_target, "UPDATE records SET hash = ? WHERE seq = 5", params=("f" * 64,))
    with DecisionLog.open(log_target) as log:
        # record 5's hash no longer matches its body: caught even without the anchor
        assert not log.verify().ok
        v = log.verify(head=anchor)
    assert not v.ok


@pytest.mark.slow_on_postgresql
def test_decisions_logged_and_replayed_through_the_command_line(log_target, capsys):
    assert main(["eval", "ldp.pay.annual_rate", "--fact", "level=PL-03", "--fact", "step=1", "--as-of", "2009-06-01",
                 "--known-on", "2009-04-10", "--log", log_target]) == 0
    capsys.readouterr()
    assert main(["log", "list", "--log", log_target, "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["decision"], row["value"]) == ("ldp.pay.annual_rate", "62581")
    assert main(["log", "show", row["id"], "--log", log_target, "--format", "text"]) == 0
    assert "as known on 2009-04-10" in capsys.readouterr().out
    assert main(["log", "replay", row["id"], "--log", log_target]) == 0
    assert "same decision" in capsys.readouterr().out
    assert main(["log", "head", "--log", log_target]) == 0
    head = capsys.readouterr().out.strip()
    assert head.startswith("1:")
    assert main(["log", "verify", "--log", log_target, "--head", head]) == 0
    assert "ok: 1 record verified (anchored at 1:" in capsys.readouterr().out
    assert replay(log_target, row["id"]).same


# -- nothing lost ---------------------------------------------------------------------------------
WRITER = textwrap.dedent("""
    import sys
    from policyengine.audit.log import DecisionLog
    from policyengine.source.loader import policy_hash
    target, who, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = {"demo/instrument.yaml": b"instrument: demo\\n", "demo/rules.yaml": b"rules: [1]\\n"}
    P = policy_hash(files)
    with DecisionLog.open(target) as log:
        log.store_policies(P, files)
        for i in range(n):
            rid = log.append({"decision": "ldp.eligible", "as_of": "2010-01-01", "facts": {"writer": who, "i": i},
                              "value": i, "status": "decided", "clauses": ["c." + who], "trace": None,
                              "policy_hash": P, "engine_version": "0", "subject": who})
            print(rid, flush=True)  # reported only once append() returned: committed
""")


def writer(target, who, n):
    return subprocess.Popen([sys.executable, "-c", WRITER, target, who, str(n)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def everything(target):
    with DecisionLog.open(target) as log:
        v = log.verify()
        rows = [log.get(r["id"]) for r in log.list()]
    return v, rows


@pytest.mark.slow_on_postgresql
def test_four_writers_at_once_keep_one_chain(log_target):
    procs = [writer(log_target, f"w{k}", 200) for k in range(4)]
    reported = {}
    for k, p in enumerate(procs):
        out, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
        reported[f"w{k}"] = out.split()
    v, rows = everything(log_target)
    assert v == Verification(True, 800)
    assert len({r["id"] for r in rows}) == 800
    for who, ids in reported.items():
        mine = [r for r in rows if r["subject"] == who]
        assert [r["facts"]["i"] for r in mine] == list(range(200))  # each once, in the order written
        assert [r["id"] for r in mine] == ids


@pytest.mark.slow_on_postgresql
def test_a_writer_killed_mid_write_loses_nothing_committed(log_target):
    rng = random.Random(20261202)
    committed = []
    for trial in range(12):
        p = writer(log_target, f"k{trial}", 100_000)
        first = p.stdout.readline()  # it is appending now
        assert first, p.stderr.read()
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(p.pid, signal.SIGKILL)
        # read on through p.stdout: communicate() reads the pipe itself and would skip the lines
        # readline() already buffered (appends are fast enough now for there to be some)
        out = p.stdout.read()
        p.wait(timeout=60)
        p.stdout.close()
        p.stderr.close()
        ids = [first.strip()] + out.split()
        committed += ids
        v, rows = everything(log_target)
        assert v.ok, f"trial {trial}: {v}"
        found = {r["id"] for r in rows}
        assert set(committed) <= found, f"trial {trial}: a committed record is missing"
        assert len(found) == len(rows), f"trial {trial}: a record appears twice"
        mine = [r["facts"]["i"] for r in rows if r["subject"] == f"k{trial}"]
        # everything reported is there; at most the one being printed when it died is extra
        assert mine == list(range(len(mine))) and len(ids) <= len(mine) <= len(ids) + 1
    assert len(committed) > 12


def test_a_partly_dropped_log_is_damaged_and_left_alone(log_target):
    filled(log_target)
    tamper(log_target, "DROP TABLE record_clauses")
    with pytest.raises(LogError, match=r"damaged decision log \(missing tables: record_clauses\)"):
        DecisionLog.open(log_target)
    with pytest.raises(LogError, match="damaged"):
        DecisionLog.open(log_target)  # still damaged: opening did not re-create what was dropped


# -- many records in one transaction: ChainedLog.append_many, records.record_many, GroupWriter ---------
@pytest.fixture(scope="module")
def ldp():
    import policyengine
    from pathlib import Path
    return policyengine.load(Path(__file__).resolve().parents[1] / "policies")


def _decisions(ldp, n):
    return [ldp.evaluate("ldp.pay.annual_rate", {"level": f"PL-0{1 + i % 5}", "step": 1 + i % 3}, "2009-06-01")
            for i in range(n)]


def test_record_many_is_one_transaction_with_the_records_record_writes(log_target, ldp):
    from policyengine.audit import record, record_many
    decisions = _decisions(ldp, 7)
    with DecisionLog.open(log_target) as log:
        first = record(ldp, decisions[0], log, subject="s0", extra={"request_id": "r0"})
        writes = []
        original = log._write
        log._write = lambda work: writes.append(work) or original(work)
        ids = record_many(ldp, decisions[1:], log, subjects=[f"s{i}" for i in range(1, 7)],
                          extras=[{"request_id": f"r{i}"} for i in range(1, 7)])
        assert len(writes) == 1  # one transaction (store_policies had nothing left to store)
        assert len(set(ids)) == 6 and log.head()[0] == 7 and log.verify() == Verification(True, 7)
        got = [log.get(i) for i in [first] + ids]
        assert [r["seq"] for r in got] == list(range(1, 8))
        assert all(b["prev_hash"] == a["hash"] for a, b in zip(got, got[1:]))
        for i, (r, d) in enumerate(zip(got, decisions)):
            expected = {**d.to_dict(), "subject": f"s{i}", "request_id": f"r{i}"}
            assert {k: v for k, v in r.items() if k not in ("id", "seq", "made_at", "prev_hash", "hash")} == expected
            # stored and hashed as the canonical text of the record, whichever way it was appended
            text = log._read("SELECT body FROM records WHERE seq = ?", (r["seq"],))[0][0]
            assert text == canonical(json.loads(text))
        assert record_many(ldp, [], log) == [] and log.head()[0] == 7
        assert [x["subject"] for x in log.list(subject="s3")] == ["s3"]


def test_record_many_keeps_all_or_none(log_target, ldp):
    from policyengine.audit import record_many
    from policyengine.errors import InputError
    decisions = _decisions(ldp, 4)
    with DecisionLog.open(log_target) as log:
        record_many(ldp, decisions[:1], log)
        head = log.head()
        with pytest.raises(LogError, match="not JSON-ready"):  # the last one cannot be stored: none is
            record_many(ldp, decisions[1:], log, extras=[None, None, {"bad": object()}])
        original = log._insert

        def broken(tx, bodies):  # fails inside the transaction, after the rows were written
            original(tx, bodies)
            raise LogError("disk gone")
        log._insert = broken
        with pytest.raises(LogError, match="disk gone"):
            record_many(ldp, decisions[1:], log)
        del log._insert
        assert log.head() == head and log.verify() == Verification(True, 1)
        with pytest.raises(InputError, match="one of each per decision"):
            record_many(ldp, decisions, log, subjects=["only one"])
        assert len(record_many(ldp, decisions[1:], log, subjects=["a", None, "c"])) == 3
        assert log.verify() == Verification(True, 4)


def test_group_writer_shares_commits_and_fails_only_what_failed(log_target, ldp):
    import threading
    from policyengine.audit.group import GroupWriter
    from policyengine.audit.records import as_record
    gate, opened = threading.Event(), []

    def opener(target):  # the first transaction waits until the others are queued behind it
        log = DecisionLog.open(target)
        original = log._write

        def write(work):
            if not opened:
                opened.append(1)
                gate.wait(10)
            return original(work)
        log._write = write
        return log

    writer = GroupWriter(log_target, opener=opener)
    rows = [as_record(d.to_dict(), f"s{i}") for i, d in enumerate(_decisions(ldp, 12))]
    first = writer.submit(ldp, rows[0])
    for _ in range(100):  # until the writer holds the first group
        if opened:
            break
        time.sleep(0.02)
    rest = [writer.submit(ldp, r) for r in rows[1:6]]
    bad = writer.submit(ldp, {**rows[6], "id": "mine"})  # not a valid record: fails alone
    rest += [writer.submit(ldp, r) for r in rows[7:]]
    gate.set()
    ids = [first.result(10)] + [f.result(10) for f in rest]
    with pytest.raises(LogError, match="set by the log"):
        bad.result(10)
    # store_policies, the first record, then the 10 queued behind it together
    assert writer.groups == 2 and len(set(ids)) == 11
    assert writer.append(ldp, rows[6]) and writer.groups == 3
    writer.close()
    with DecisionLog.open(log_target) as log:
        assert log.verify() == Verification(True, 12)
        assert [log.get(i)["subject"] for i in ids] == [f"s{i}" for i in range(12) if i != 6]


def test_group_writer_tells_every_waiter_of_a_failed_commit_and_goes_on(log_target, ldp):
    from policyengine.audit.group import GroupWriter
    from policyengine.audit.records import as_record
    fail = [True]

    def opener(target):
        log = DecisionLog.open(target)
        original = log._insert

        def insert(tx, bodies):
            if fail[0]:
                raise LogError("disk gone")
            return original(tx, bodies)
        log._insert = insert
        return log

    writer = GroupWriter(log_target, opener=opener)
    rows = [as_record(d.to_dict()) for d in _decisions(ldp, 3)]
    with pytest.raises(LogError, match="disk gone"):
        writer.append(ldp, rows[0])
    fail[0] = False
    assert writer.append(ldp, rows[1])  # a new log handle, and the chain goes on
    writer.close()
    with DecisionLog.open(log_target) as log:
        assert log.verify() == Verification(True, 1)
