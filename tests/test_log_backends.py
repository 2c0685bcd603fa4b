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
    assert "ok: 1 records verified (anchored at 1:" in capsys.readouterr().out
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


def test_a_writer_killed_mid_write_loses_nothing_committed(log_target):
    rng = random.Random(20261202)
    committed = []
    for trial in range(12):
        p = writer(log_target, f"k{trial}", 100_000)
        first = p.stdout.readline()  # it is appending now
        assert first, p.stderr.read()
        time.sleep(rng.uniform(0.0, 0.25))
        os.kill(p.pid, signal.SIGKILL)
        out, _ = p.communicate(timeout=60)
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
