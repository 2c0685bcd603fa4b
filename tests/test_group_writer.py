"""The decision log's writer process (audit/group.py, WriterProcess) keeps GroupWriter's
contract on both backends: a record's id only once its transaction committed, a bad record
failing alone, a policy change mid-group stored, everything submitted committed by close(),
and a writer process that dies failing only what it had not committed, the next submit
starting another."""
import asyncio
import os
import pickle
import shutil
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

import policyengine
from policyengine.audit.chain import LogError, Verification
from policyengine.audit.group import WriterProcess
from policyengine.audit.log import DecisionLog
from policyengine.audit.records import as_record

from log_backends import log_target  # noqa: F401  (a fixture: a new SQLite file or PostgreSQL database)

ROOT = Path(__file__).resolve().parents[1] / "policies"


@pytest.fixture(scope="module")
def ldp():
    return policyengine.load(ROOT)


def rows(policies, n, start=0):
    return [as_record(policies.evaluate("ldp.pay.annual_rate", {"level": f"PL-0{1 + i % 5}", "step": 1 + i % 3},
                                        "2009-06-01").to_dict(), f"s{i}") for i in range(start, start + n)]


@contextmanager
def holding(target):
    """The log's append lock held by another connection: the writer process waits for it."""
    entered, release = threading.Event(), threading.Event()
    failed = []

    def hold():
        try:
            with DecisionLog.open(target) as log:
                log._write(lambda tx: (entered.set(), release.wait(30)))
        except Exception as exc:  # noqa: BLE001 - reported below
            failed.append(exc)
            entered.set()

    t = threading.Thread(target=hold, daemon=True)
    t.start()
    assert entered.wait(30) and not failed, failed
    try:
        yield
    finally:
        release.set()
        t.join(30)


def until(ok, what, timeout=30.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if ok():
            return
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


def test_records_share_commits_and_a_bad_record_fails_alone(log_target, ldp):
    writer = WriterProcess(log_target)
    good = rows(ldp, 12)
    first = writer.append(ldp, good[0])  # starts the process, stores the policy files
    before = writer.groups
    with holding(log_target):  # everything below arrives while the writer waits for the lock
        futures = [writer.submit(ldp, r) for r in good[1:6]]
        set_by_log = writer.submit(ldp, {**good[6], "id": "mine"})
        not_json = writer.submit(ldp, {**good[6], "value": object()})
        not_picklable = writer.submit(ldp, {**good[6], "value": lambda: 1})
        futures += [writer.submit(ldp, r) for r in good[7:]]
        time.sleep(0.2)
        assert not any(f.done() for f in futures)  # nothing acknowledged before its commit
    ids = [first] + [f.result(30) for f in futures]
    with pytest.raises(LogError, match="set by the log"):
        set_by_log.result(30)
    with pytest.raises(LogError, match="not JSON-ready"):
        not_json.result(30)
    with pytest.raises(LogError, match="not JSON-ready"):
        not_picklable.result(30)
    assert len(set(ids)) == 11
    assert writer.groups - before <= 2  # the 10 queued behind the lock shared (at most) two commits
    writer.close()
    with DecisionLog.open(log_target) as log:
        assert log.verify() == Verification(True, 11)
        assert [log.get(i)["subject"] for i in ids] == [f"s{i}" for i in range(12) if i != 6]


@pytest.mark.slow_on_postgresql
def test_a_reload_mid_group_stores_each_policy_version_once(log_target, ldp, tmp_path):
    root = tmp_path / "policies"
    shutil.copytree(ROOT, root)
    amended = root / "etm" / "questionnaires.yaml"
    amended.write_text(amended.read_text(encoding="utf-8") + "\n# amended\n", encoding="utf-8")
    reloaded = policyengine.load(root)
    assert reloaded.policy_hash != ldp.policy_hash
    writer = WriterProcess(log_target)
    writer.append(ldp, rows(ldp, 1)[0])
    link = writer._link
    sent, send = [], link.conn.send_bytes
    link.conn.send_bytes = lambda data: sent.append(data) or send(data)
    with holding(log_target):
        futures = [writer.submit(p, rows(p, 1, i)[0]) for i, p in enumerate([reloaded, ldp] * 3, 1)]
    ids = [f.result(30) for f in futures]
    writer.close()
    carried = [h for message in map(pickle.loads, sent) if message for h in message[0]]  # None: the stop
    assert carried == [reloaded.policy_hash]  # ldp's files went with the first record, the new ones once
    with DecisionLog.open(log_target) as log:
        assert [log.get(i)["policy_hash"] for i in ids] == [reloaded.policy_hash, ldp.policy_hash] * 3
        assert log.policy_files(reloaded.policy_hash) == reloaded.sources
        assert log.verify() == Verification(True, 7)


def test_close_commits_everything_submitted(log_target, ldp):
    writer = WriterProcess(log_target)
    futures = [writer.submit(ldp, r) for r in rows(ldp, 40)]
    proc = writer._link.proc
    writer.close()
    assert all(f.done() for f in futures) and proc.returncode == 0
    ids = [f.result() for f in futures]
    with DecisionLog.open(log_target) as log:
        assert log.head()[0] == 40 and log.verify() == Verification(True, 40)
        assert [log.get(i)["seq"] for i in ids] == list(range(1, 41))
    assert writer.append(ldp, rows(ldp, 1)[0])  # a later submit starts another process
    assert writer._link.proc is not proc
    writer.close()


def test_a_dead_writer_process_fails_its_waiters_and_the_next_submit_starts_another(log_target, ldp):
    writer = WriterProcess(log_target)
    acknowledged = [writer.append(ldp, rows(ldp, 1)[0])]
    dead = writer._link.proc
    with holding(log_target):
        sent = [writer.submit(ldp, r) for r in rows(ldp, 3, 1)]  # sent at once; the first waits for the lock
        os.kill(dead.pid, signal.SIGKILL)  # only the process this test started, by its id
        for f in sent:  # none was committed: none is acknowledged
            with pytest.raises(LogError, match="writer process stopped .* they were not logged"):
                f.result(30)
    acknowledged.append(writer.append(ldp, rows(ldp, 1, 4)[0]))
    assert writer._link.proc.pid != dead.pid
    writer.close()
    with DecisionLog.open(log_target) as log:
        assert log.verify() == Verification(True, 2)  # what was acknowledged, nothing else
        assert [log.get(i)["seq"] for i in acknowledged] == [1, 2]
        assert log.get(acknowledged[1])["subject"] == "s4"


def test_a_record_never_sent_to_a_dead_process_goes_to_the_next(log_target, ldp):
    writer = WriterProcess(log_target)
    writer.append(ldp, rows(ldp, 1)[0])
    link = writer._link

    def broken(data):
        raise BrokenPipeError  # as if the process had gone; the link then stops it
    link.conn.send_bytes = broken
    rid = writer.append(ldp, rows(ldp, 1, 1)[0])  # its send failed: the next process has it
    assert writer._link is not link
    writer.close()
    with DecisionLog.open(log_target) as log:
        assert log.verify() == Verification(True, 2) and log.get(rid)["subject"] == "s1"


def test_the_writer_process_leaves_signals_to_its_server(tmp_path, ldp):
    """A SIGTERM or Ctrl-C meant for the whole service must not cut the server's shutdown short:
    the writer process stops when its server closes the pipe, after committing what it got."""
    writer = WriterProcess(tmp_path / "log.sqlite")
    writer.append(ldp, rows(ldp, 1)[0])
    proc = writer._link.proc
    assert os.getpgid(proc.pid) != os.getpgid(0)  # not in the terminal's process group
    for sig in (signal.SIGTERM, signal.SIGINT):
        os.kill(proc.pid, sig)
    time.sleep(0.3)
    assert proc.poll() is None
    assert writer.append(ldp, rows(ldp, 1, 1)[0]) and writer._link.proc is proc
    writer.close()
    assert proc.returncode == 0


def test_a_log_url_is_not_on_the_writer_processs_command_line(tmp_path, ldp):
    target = str(tmp_path / "secret-name.sqlite")
    writer = WriterProcess(target)
    writer.append(ldp, rows(ldp, 1)[0])
    assert not any(target in str(a) for a in writer._link.proc.args)  # a URL's password is never in ps
    writer.close()


def test_log_settles_futures_on_the_callers_loop(tmp_path, ldp):
    writer = WriterProcess(tmp_path / "log.sqlite")
    records = rows(ldp, 20)

    async def main():
        cancelled = asyncio.ensure_future(writer.log(ldp, records[0]))
        cancelled.cancel()  # its record may still be logged; nobody is told it was
        return await asyncio.gather(*(writer.log(ldp, r) for r in records[1:]))
    ids = asyncio.run(main())
    writer.close()
    assert len(set(ids)) == 19
    with DecisionLog(tmp_path / "log.sqlite") as log:
        assert log.verify().ok
        assert [log.get(i)["subject"] for i in ids] == [f"s{i}" for i in range(1, 20)]


def test_a_script_without_the_main_guard_is_not_run_again(tmp_path):
    """The writer process is a fresh interpreter that never imports the caller's __main__."""
    script = tmp_path / "unguarded.py"
    script.write_text(
        "import sys, policyengine\n"
        "from policyengine.audit.group import WriterProcess\n"
        "from policyengine.audit.records import as_record\n"
        "print('script ran', flush=True)\n"
        f"p = policyengine.load({str(ROOT)!r})\n"
        "d = p.evaluate('ldp.pay.annual_rate', {'level': 'PL-03', 'step': 1}, '2009-06-01')\n"
        "w = WriterProcess(sys.argv[1])\n"
        "print('id', w.append(p, as_record(d.to_dict())), flush=True)\n"
        "w.close()\n", encoding="utf-8")
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "log.sqlite")], capture_output=True,
                         text=True, timeout=120, cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("script ran") == 1 and "id " in out.stdout
    with DecisionLog(tmp_path / "log.sqlite") as log:
        assert log.head()[0] == 1 and log.verify().ok


def test_records_submitted_while_the_process_commits_reach_it_and_share_its_next_transaction(tmp_path, ldp):
    target = tmp_path / "log.sqlite"
    writer = WriterProcess(target)
    writer.append(ldp, rows(ldp, 1)[0])
    link = writer._link
    sent, send = [], link.conn.send_bytes
    link.conn.send_bytes = lambda data: sent.append(data) or send(data)
    groups = writer.groups
    with holding(target):
        futures = [writer.submit(ldp, r) for r in rows(ldp, 5, 1)]
        assert len(sent) == 5  # each went at once, though the process is busy with the first
    ids = [f.result(30) for f in futures]
    assert writer.groups - groups <= 2  # the first (alone, or with those already there), then the rest together
    writer.close()
    messages = [pickle.loads(m) for m in sent[:-1]]  # the last is the stop
    assert [[key for key, _, _ in items] for _, items in messages] == [[1], [2], [3], [4], [5]]
    with DecisionLog(target) as log:
        assert log.verify() == Verification(True, 6)
        assert [log.get(i)["subject"] for i in ids] == [f"s{i}" for i in range(1, 6)]
