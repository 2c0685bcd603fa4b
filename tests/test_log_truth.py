"""A decision log that tells the truth about itself, tried as someone holding the file would:
truncate it, swap a stored policy file, flip a bit in an index, damage a page, fill the disk,
or rewrite the whole chain consistently.  Each is caught, refused or reported as damaged."""
import hashlib
import os
import sqlite3
import subprocess
import sys
import textwrap

import pytest

import policyengine
from policyengine.audit import replay
from policyengine.audit.log import DecisionLog, LogError, canonical, chain_hash
from policyengine.cli import main
from policyengine.source.loader import policy_hash

FILES = {"demo/instrument.yaml": b"instrument: demo\n", "demo/rules.yaml": b"rules: [1]\n"}
POLICY = policy_hash(FILES)


def rec(i):
    return {"decision": "ldp.eligible", "as_of": "2010-01-01", "facts": {"i": i}, "value": i, "status": "decided",
            "clauses": ["ldp.B.12"], "trace": None, "policy_hash": POLICY, "engine_version": "0"}


@pytest.fixture
def sixty(tmp_path):
    path = tmp_path / "decisions.sqlite"
    with DecisionLog(path) as log:
        log.store_policies(POLICY, FILES)
        for i in range(60):
            log.append(rec(i))
    return path


def drop_triggers(con):
    for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        con.execute(f"DROP TRIGGER {name}")


def test_a_log_truncated_to_nothing_is_damaged_not_new(sixty, capsys):
    sixty.write_bytes(b"")
    with pytest.raises(LogError) as e:
        DecisionLog(sixty)
    assert str(e.value).startswith(f"{sixty}: damaged: the file is empty (0 bytes)")
    assert sixty.read_bytes() == b""  # not re-initialised: the 60 records' absence stays visible
    assert main(["log", "verify", "--log", str(sixty)]) == 2
    assert "damaged: the file is empty" in capsys.readouterr().err
    assert sixty.stat().st_size == 0


def test_a_log_cut_inside_its_header_is_damaged(sixty):
    sixty.write_bytes(b"SQLite for")
    with pytest.raises(LogError, match="damaged: the file is cut short"):
        DecisionLog(sixty)


def test_a_new_log_appears_whole(tmp_path):
    path = tmp_path / "new" / "decisions.sqlite"
    with DecisionLog(path) as log:
        assert log.verify().ok and log.head() == (0, "0" * 64)
    assert sorted(p.name for p in path.parent.iterdir()) == ["decisions.sqlite"]  # no temporary file left
    assert path.stat().st_size > 0


def test_a_damaged_page_is_called_damaged(sixty):
    data = bytearray(sixty.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)  # the schema page, after the file header
    sixty.write_bytes(bytes(data))
    with pytest.raises(LogError) as e:
        DecisionLog(sixty)
    assert "damaged" in str(e.value) and "not a policyengine decision log" not in str(e.value)


def test_a_log_missing_a_table_is_damaged(sixty):
    con = sqlite3.connect(sixty)
    drop_triggers(con)
    con.execute("DROP TABLE record_clauses")
    con.commit()
    con.close()
    with pytest.raises(LogError, match=r"damaged decision log \(missing tables: record_clauses\)"):
        DecisionLog(sixty)


def test_a_bit_flip_in_an_index_fails_verify(sixty):
    con = sqlite3.connect(sixty)
    root = con.execute("SELECT rootpage FROM sqlite_master WHERE name = 'records_decision'").fetchone()[0]
    size = con.execute("PRAGMA page_size").fetchone()[0]
    con.close()
    data = bytearray(sixty.read_bytes())
    page = (root - 1) * size
    at = data.find(b"ldp.eligible", page, page + size)
    assert at > 0
    data[at + 2] ^= 0x01  # 'ldp' -> 'lep' inside one index entry; the table row is untouched
    sixty.write_bytes(bytes(data))
    with DecisionLog(sixty) as log:
        result = log.verify()
    assert not result.ok and result.problem.startswith("damaged: the database reports")
    assert "records_decision" in result.problem


def forge_policy_file(path):
    """Replace a stored policy file with another blob and repoint the file table at it,
    touching no record."""
    forged = b"rules: [999]\n"
    sha = hashlib.sha256(forged).hexdigest()
    con = sqlite3.connect(path)
    drop_triggers(con)
    con.execute("INSERT INTO blobs VALUES (?, ?)", (sha, forged))
    con.execute("UPDATE policy_versions SET sha256 = ? WHERE path = 'demo/rules.yaml'", (sha,))
    con.commit()
    con.close()


def test_a_swapped_policy_file_fails_verify(sixty, capsys):
    forge_policy_file(sixty)
    with DecisionLog(sixty) as log:
        result = log.verify()
        assert not result.ok and result.checked == 60
        assert result.problem.startswith(f"policy {POLICY}: its stored files hash to sha256:")
        with pytest.raises(LogError, match="files were swapped or added"):
            log.policy_files(POLICY)
    assert main(["log", "verify", "--log", str(sixty)]) == 1
    assert "files were swapped" in capsys.readouterr().out


def test_replay_refuses_forged_policy_files(tmp_path):
    policies = policyengine.load("policies")
    log = tmp_path / "log.sqlite"
    d = policies.evaluate("ldp.pay.annual_rate", {"level": "PL-03", "step": 2}, "2008-06-01", log=log)
    con = sqlite3.connect(log)
    (path,) = con.execute("SELECT path FROM policy_versions WHERE path LIKE '%pay.yaml' AND path NOT LIKE "
                          "'%tests%' AND path LIKE 'ldp/pay.yaml'").fetchone()
    (body,) = con.execute("SELECT b.body FROM blobs b JOIN policy_versions v ON v.sha256 = b.sha256 "
                          "WHERE v.path = ?", (path,)).fetchone()
    forged = bytes(body).replace(b"PL-03: [62581, 64497, 66412]", b"PL-03: [62581, 99999, 66412]")
    assert forged != bytes(body)
    sha = hashlib.sha256(forged).hexdigest()
    drop_triggers(con)
    con.execute("INSERT INTO blobs VALUES (?, ?)", (sha, forged))
    con.execute("UPDATE policy_versions SET sha256 = ? WHERE path = ?", (sha, path))
    con.commit()
    con.close()
    with pytest.raises(LogError, match="refusing to use them"):
        replay(log, d.log_id)  # it would re-decide 99999 under the forged rules and blame the decision
    assert main(["log", "replay", d.log_id, "--log", str(log)]) == 2


def test_storing_files_under_a_hash_they_do_not_have_is_refused(tmp_path):
    with DecisionLog(tmp_path / "l.sqlite") as log:
        with pytest.raises(LogError, match="the files given hash to"):
            log.store_policies("sha256:" + "a" * 64, FILES)


def rewrite_whole_chain(path, change_seq):
    """What an attacker with the file can do: change a record, then recompute every hash
    after it and the head, consistently."""
    con = sqlite3.connect(path)
    drop_triggers(con)
    rows = con.execute("SELECT seq, body FROM records ORDER BY seq").fetchall()
    prev = "0" * 64
    import json
    for seq, text in rows:
        body = json.loads(text)
        if seq == change_seq:
            body["value"] = 1_000_000
        body["prev_hash"] = prev
        text = canonical(body)
        digest = chain_hash(prev, text)
        con.execute("UPDATE records SET body = ?, prev_hash = ?, hash = ? WHERE seq = ?", (text, prev, digest, seq))
        prev = digest
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (prev,))
    con.commit()
    con.close()


def test_an_anchored_head_catches_a_consistent_rewrite(sixty, capsys):
    assert main(["log", "head", "--log", str(sixty)]) == 0
    head = capsys.readouterr().out.strip()
    seq, digest = head.split(":")
    assert seq == "60" and len(digest) == 64
    rewrite_whole_chain(sixty, 10)
    with DecisionLog(sixty) as log:
        assert log.verify().ok  # without an anchor the rewrite is invisible: the chain is consistent
        result = log.verify(head=head)
    assert not result.ok and result.first_bad_seq == 60 and "was rewritten" in result.problem
    assert main(["log", "verify", "--log", str(sixty), "--head", head]) == 1
    assert "not the anchored" in capsys.readouterr().out


def test_an_anchor_catches_records_removed_up_to_it(sixty):
    with DecisionLog(sixty) as log:
        head = "%d:%s" % log.head()
        log.append(rec(60))
        assert log.verify(head=head).ok  # appending after the anchor is what a log does
    con = sqlite3.connect(sixty)
    drop_triggers(con)
    con.execute("DELETE FROM record_clauses WHERE seq >= 55")
    con.execute("DELETE FROM records WHERE seq >= 55")
    (last,) = con.execute("SELECT hash FROM records WHERE seq = 54").fetchone()
    con.execute("UPDATE meta SET value = '54' WHERE key = 'head_seq'")
    con.execute("UPDATE meta SET value = ? WHERE key = 'head_hash'", (last,))
    con.commit()
    con.close()
    with DecisionLog(sixty) as log:
        assert log.verify().ok  # a clean cut with the head moved back looks like a shorter log
        result = log.verify(head=head)
    assert not result.ok and "the anchored head 60:" in result.problem and "removed" in result.problem


def test_a_malformed_anchor_is_a_clear_error(sixty, capsys):
    assert main(["log", "verify", "--log", str(sixty), "--head", "sixty:abc"]) == 2
    assert "expected SEQ:HASH" in capsys.readouterr().err


# -- a full disk -----------------------------------------------------------------------------------
LIMITED = textwrap.dedent("""
    import os, resource, signal, sys
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    limit = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from policyengine.audit.log import DecisionLog, LogError
    try:
        with DecisionLog(sys.argv[1]) as log:
            if len(sys.argv) > 3:
                log.append({"decision": "d", "as_of": "2010-01-01", "facts": {"big": "x" * 200000}, "value": 1,
                            "clauses": [], "trace": None, "policy_hash": sys.argv[3], "engine_version": "0"})
        print("written")
    except LogError as e:
        print("LogError:", e)
""")


def limited(*args):
    out = subprocess.run([sys.executable, "-c", LIMITED, *map(str, args)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


def test_a_new_log_on_a_full_disk_leaves_no_file(tmp_path):
    path = tmp_path / "full" / "decisions.sqlite"
    out = limited(path, 8192)
    assert out.startswith(f"LogError: {path}: cannot create the decision log (") and "no file was left behind" in out
    assert list(path.parent.iterdir()) == []


def test_an_append_on_a_full_disk_keeps_the_log_as_it_was(sixty):
    before = sixty.read_bytes()
    out = limited(sixty, len(before) + 4096, POLICY)
    assert out.startswith(f"LogError: {sixty}:") and "nothing of this write was kept" in out
    with DecisionLog(sixty) as log:
        assert log.verify().ok and log.head()[0] == 60
    assert not os.path.exists(str(sixty) + "-journal")


@pytest.fixture
def tiny_disk(tmp_path):
    """A real 256 KiB file system (tmpfs), where one can be mounted (root, as in CI)."""
    where = tmp_path / "tiny"
    where.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(where)],
                                           capture_output=True).returncode != 0:
        pytest.skip("cannot mount a small tmpfs here (needs root); the RLIMIT_FSIZE tests above cover the logic")
    yield where
    subprocess.run(["umount", str(where)], check=False)


def test_a_really_full_disk(tiny_disk):
    (tiny_disk / "filler").write_bytes(b"x" * 220 * 1024)
    path = tiny_disk / "decisions.sqlite"
    with pytest.raises(LogError) as e:
        DecisionLog(path)
    assert "cannot create the decision log (the disk is full); no file was left behind" in str(e.value)
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["filler"]
    (tiny_disk / "filler").unlink()
    with DecisionLog(path) as log:
        log.store_policies(POLICY, FILES)
        log.append(rec(1))
        free = os.statvfs(tiny_disk)  # what the log's files (with its write-ahead log) left free
        (tiny_disk / "filler").write_bytes(b"x" * (free.f_bavail * free.f_frsize - 16 * 1024))
        with pytest.raises(LogError, match="the disk is full: nothing of this write was kept"):
            log.append({**rec(2), "facts": {"big": "y" * 100_000}})
        assert log.verify().ok and log.head()[0] == 1
