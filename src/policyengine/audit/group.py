"""Group commit: appends from many concurrent callers share one transaction, one fsync.

One committed transaction per decision bounds a logged service at 1 / (time of a commit),
and at 32 requests in flight each waits for the 31 commits before its own.  Here one writer
owns the log: whatever was submitted while it was committing goes into its next
transaction (no timer, so a lone append is not delayed), and each caller's future resolves
only after the transaction holding its record has committed.  A caller that acknowledges
only after its future has a result therefore never acknowledges a record that can be lost.

Two writers keep that contract.  GroupWriter is a thread of the caller's process.
WriterProcess is a process of its own: the canonical JSON, hashing, SQL and fsync of every
record then run on another core, and the serving process only pickles records into a pipe
(benchmarks/README.md, HTTP).
"""
from __future__ import annotations

import asyncio
import itertools
import pickle
import queue
import signal
import socket
import subprocess
import sys
import threading
from concurrent.futures import Future
from multiprocessing.connection import Connection
from pathlib import Path
from typing import NamedTuple

from .chain import ChainedLog, LogError

_STOP = object()
MAX_GROUP = 256  # records in one transaction at most: bounds the time one commit holds the log's lock


def _commit(open_log, target, group: list, dl: ChainedLog | None) -> tuple[ChainedLog | None, bool]:
    """One transaction for the group of (policies, record, future); returns the log to use for
    the next one (None after a failure: a connection may be broken) and whether it committed."""
    live = [g for g in group if g[2].set_running_or_notify_cancel()]
    waiting, ids = [], []
    try:
        if dl is None:
            dl = open_log(target)
        for policies in {id(p): p for p, _, _ in live}.values():  # a reload may change them mid-group
            dl.store_policies(policies.policy_hash, policies.sources)  # a no-op once stored by this handle
        bodies = []
        for _, rec, fut in live:  # a record that is not valid fails alone, not its group
            try:
                bodies.append(dl._check_record(rec))
                waiting.append(fut)
            except LogError as exc:
                fut.set_exception(exc)
        if bodies:
            ids = dl._write(lambda tx: dl._insert(tx, bodies))
    except Exception as exc:  # noqa: BLE001 - every waiter is told, and the writer goes on
        for _, _, fut in live:
            if not fut.done():
                fut.set_exception(exc)
        if dl is not None:
            try:
                dl.close()
            except Exception:  # noqa: BLE001 - it is being dropped anyway
                pass
        return None, False
    for fut, rid in zip(waiting, ids):
        fut.set_result(rid)
    return dl, True


class GroupWriter:
    """Appends records to the log at `target` (a path or postgresql:// URL) from one thread."""

    def __init__(self, target, opener=None):
        from .log import DecisionLog
        self.target = target
        self._open = opener or DecisionLog.open
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self.groups = 0  # transactions committed (for tests and benchmarks)

    def submit(self, policies, record: dict) -> Future:
        """Queue one record (a dict for ChainedLog.append) made under `policies`; the future
        gives its record id once it is committed, or the LogError that kept it out."""
        fut: Future = Future()
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="policyengine-log-writer", daemon=True)
                self._thread.start()
            self._queue.put((policies, record, fut))
        return fut

    def append(self, policies, record: dict) -> str:
        """submit() and wait: for callers that are threads, not coroutines."""
        return self.submit(policies, record).result()

    def close(self) -> None:
        """Commit what is queued, then stop the thread and close the log (a later submit
        starts them again)."""
        with self._lock:
            thread, self._thread = self._thread, None
            if thread is not None:
                self._queue.put(_STOP)
        if thread is not None:
            thread.join()

    # -- the writer thread ---------------------------------------------------------------------
    def _run(self) -> None:
        dl, stop = None, False
        while not stop:
            group = _drain(self._queue)
            if _STOP in group:  # what was queued before and after the stop is still committed
                stop, group = True, [g for g in group if g is not _STOP]
            for i in range(0, len(group), MAX_GROUP):
                dl, committed = _commit(self._open, self.target, group[i:i + MAX_GROUP], dl)
                self.groups += committed
        if dl is not None:
            dl.close()


def _drain(q: queue.SimpleQueue) -> list:
    """The next item (waiting for it), and everything queued behind it."""
    group = [q.get()]
    while True:
        try:
            group.append(q.get_nowait())
        except queue.Empty:
            return group


# -- the writer process ------------------------------------------------------------------------
class WriterProcess:
    """GroupWriter's contract (submit, append, close, groups), with the log in a process of its
    own.  If that process dies, every record it was sent and had not committed fails with
    LogError (so it was never acknowledged); the records not yet sent to it, and the next
    submit, go to another."""

    def __init__(self, target):
        self.target = str(target)
        self._lock = threading.RLock()  # a thread's put may, through a broken pipe, put again
        self._link: _Link | None = None
        self.groups = 0  # transactions committed (for tests and benchmarks)

    def submit(self, policies, record: dict) -> Future:
        """As GroupWriter.submit."""
        fut: Future = Future()
        fut.set_running_or_notify_cancel()  # sent at once: from now on it cannot be taken back
        self._put(policies, record, fut, None)
        return fut

    def log(self, policies, record: dict) -> asyncio.Future:
        """submit() for a coroutine: await the future for the record id once committed (or the
        LogError).  It is settled on the caller's event loop, one wake-up per transaction (one
        per record, from the receiving thread, costs the loop's thread GIL hand-offs), and it
        holds no reference to the record: a trace kept alive across the commit is garbage the
        collector walks again and again."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._put(policies, record, fut, loop)
        return fut

    def _put(self, policies, record: dict, fut, loop) -> None:
        try:  # pickled alone, so a record that cannot be fails alone
            data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
        except Exception as exc:  # noqa: BLE001 - anything pickle refuses
            fut.set_exception(LogError(f"{_public(self.target)}: cannot append: the record is not JSON-ready "
                                       f"({type(exc).__name__}: {exc})"))
            return
        self._resend([(policies, data, fut, loop)])

    def _resend(self, items: list) -> None:
        """Queue (policies, pickled record, future, loop) items on the live process, starting one
        if there is none or the last one died (items it was never sent go to the next)."""
        with self._lock:
            for policies, data, fut, loop in items:
                if self._link is not None and self._link.put(policies, data, fut, loop):
                    continue
                try:
                    self._link = _Link(self)
                except OSError as exc:
                    self._link = None
                    fut.set_exception(LogError(f"{_public(self.target)}: cannot start the decision log's writer "
                                               f"process ({exc.strerror or exc})"))
                    continue
                self._link.put(policies, data, fut, loop)

    def append(self, policies, record: dict) -> str:
        """submit() and wait: for callers that are threads, not coroutines."""
        return self.submit(policies, record).result()

    def close(self) -> None:
        """Commit what was submitted, then stop the process (a later submit starts another)."""
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()


# The process is a fresh interpreter (spawned: fork+exec, never a fork of this process, whose
# threads and locks it must not inherit), started by subprocess rather than multiprocessing so
# that it never re-runs the caller's __main__ (a script without the `if __name__` guard would
# start its server again); the pipe is a socket pair, framed by multiprocessing's Connection.
_BOOT = ("import sys; sys.path[:0] = [] if sys.argv[1] in sys.path else [sys.argv[1]]; "
         "from policyengine.audit.group import _main; _main(int(sys.argv[2]))")  # this policyengine, not another
_PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the folder that holds policyengine/


class _Link:
    """One writer process, its pipe, and the thread that hears back from it.

    Each record goes into the pipe as soon as it is submitted, also while the process is
    committing: it then finds them waiting when it finishes, and commits them all in its
    next transaction at once.  Holding them here until the process reported instead (one
    message per transaction) left the process idle until the receiver thread got the GIL,
    which a busy event loop gives up only every few ms: groups of 1 and 31 in turn, and the
    server idle 30 % of the time waiting for them (benchmarks/README.md, HTTP).  The receiver
    thread settles the futures of each transaction the process reports."""

    def __init__(self, owner: WriterProcess):
        self.owner, self.name = owner, _public(owner.target)
        mine, theirs = socket.socketpair()
        try:
            # its own session: a Ctrl-C to the terminal's process group is the server's to handle
            self.proc = subprocess.Popen([sys.executable, "-c", _BOOT, _PACKAGE_ROOT, str(theirs.fileno())],
                                         pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL, start_new_session=True)
        except BaseException:
            mine.close()
            raise
        finally:
            theirs.close()  # so that the process's end of the pipe closes when it dies
        self.conn = Connection(mine.detach())
        self.conn.send_bytes(pickle.dumps((owner.target, MAX_GROUP)))  # not in argv: a URL's password stays out of ps
        self._sending = threading.Lock()  # one message at a time into the pipe
        self.lock = threading.Lock()  # guards what follows (never held while blocked on the pipe)
        self.waiting: dict[int, tuple] = {}  # key -> (future, its loop or None) of a record sent
        self.dead = False
        self._keys = itertools.count()
        self._outbox: list[tuple] = []  # (key, policies, pickled record) not sent yet
        self._sent: set[str] = set()  # policy hashes whose files the process has
        self._receiver = threading.Thread(target=self._receive, name="policyengine-log-receiver", daemon=True)
        self._receiver.start()

    def put(self, policies, data: bytes, fut, loop) -> bool:
        """Send a pickled record whose future (settled on `loop` if not None) is `fut`; False if
        the process has died (nothing was queued)."""
        with self.lock:
            if self.dead:
                return False
            key = next(self._keys)
            self.waiting[key] = (fut, loop)
            self._outbox.append((key, policies, data))
        self.flush()
        return True

    def flush(self) -> None:
        """Send the outbox (what threads queued meanwhile too) in one message.  If the process is
        gone (or the pipe broken, and it is made to go), the receiver fails what it was sent, and
        what it never was goes to the next."""
        with self._sending:
            with self.lock:
                queued, self._outbox = self._outbox, []
                dead = self.dead
            if not queued:
                return
            if not dead:
                files = {}  # a version's files go once to each process
                for _, p, _ in queued:
                    if p.policy_hash not in self._sent:
                        files[p.policy_hash] = p.sources
                try:
                    self.conn.send_bytes(pickle.dumps((files, [(key, p.policy_hash, data) for key, p, data in queued]),
                                                      pickle.HIGHEST_PROTOCOL))
                    self._sent.update(files)
                    return
                except Exception:  # noqa: BLE001 - a broken pipe: the process is made to go, below
                    pass
            with self.lock:  # taken back before the receiver can fail them as sent
                self.dead = True
                unsent = [(p, data, *self.waiting.pop(key)) for key, p, data in queued if key in self.waiting]
            self.proc.kill()  # the receiver then sees the pipe close and fails every other waiter
        self.owner._resend(unsent)  # outside the lock: a thread's put holds the owner's lock, then this one

    def close(self) -> None:
        self.flush()
        with self._sending:
            if not self.dead:
                try:
                    self.conn.send_bytes(pickle.dumps(None))  # commit what was sent, then exit
                except OSError:
                    pass  # gone already
        self._receiver.join()
        self.proc.wait()
        self.conn.close()

    def _receive(self) -> None:
        try:
            while True:
                committed, results = pickle.loads(self.conn.recv_bytes())
                self.owner.groups += committed
                with self.lock:
                    done = [(self.waiting.pop(key, None), rid, exc) for key, rid, exc in results]
                _settle_all([(*entry, rid, exc) for entry, rid, exc in done if entry is not None])
        except (EOFError, OSError):
            pass  # the process exited: after a stop, or died
        except Exception:  # noqa: BLE001 - an answer that cannot be read: this process is not to be trusted
            self.proc.kill()
        with self.lock:  # what is still in the outbox was never sent: the next process gets it
            self.dead, queued = True, {key for key, _, _ in self._outbox}
            left = [entry for key, entry in self.waiting.items() if key not in queued]
            self.waiting = {key: entry for key, entry in self.waiting.items() if key in queued}
        self.flush()
        if left:
            try:
                code = self.proc.wait(5)
            except subprocess.TimeoutExpired:
                code = "none yet"
            problem = LogError(f"{self.name}: the decision log's writer process stopped (exit code {code}) "
                               "before these records were committed; they were not logged")
            _settle_all([(fut, loop, None, problem) for fut, loop in left])


def _settle_all(done: list) -> None:
    """Resolve (future, loop, record id, error) entries: futures of a loop in one call on it."""
    by_loop: dict = {}
    for fut, loop, rid, exc in done:
        if loop is None:
            _settle([(fut, rid, exc)])
        else:
            by_loop.setdefault(loop, []).append((fut, rid, exc))
    for loop, items in by_loop.items():
        try:
            loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:
            pass  # its loop is closed: nobody is waiting on it any more


def _settle(items: list) -> None:
    for fut, rid, exc in items:
        if fut.done():
            continue  # an awaiting coroutine was cancelled: its record may be logged, it was not acknowledged
        if exc is None:
            fut.set_result(rid)
        else:
            fut.set_exception(exc)


class _Policies(NamedTuple):
    """What the writer process knows of a policy version: enough for store_policies."""
    policy_hash: str
    sources: dict


def _main(fd: int) -> None:
    """The writer process: commit what arrives, a group per transaction, and report each
    record's id (or error) once its transaction committed.  It stops when told to or when
    its pipe closes, after committing everything it was given; signals are its server's
    business (a SIGTERM to the whole service must not cut the server's shutdown short)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from .log import DecisionLog
    conn = Connection(fd)
    target, max_group = pickle.loads(conn.recv_bytes())
    known: dict[str, _Policies] = {}
    dl, stop = None, False
    while not stop:
        group, failed = [], []
        try:
            while not (group or failed) or (len(group) < max_group and conn.poll()):
                message = pickle.loads(conn.recv_bytes())
                if message is None:
                    stop = True
                    break
                files, items = message
                known.update({h: _Policies(h, f) for h, f in files.items()})
                for key, h, data in items:
                    try:
                        group.append((known[h], pickle.loads(data), key))
                    except Exception as exc:  # noqa: BLE001 - fails alone, as a record that is not valid
                        failed.append((key, None, LogError(f"{_public(target)}: cannot append: the record "
                                                           f"could not be read ({type(exc).__name__}: {exc})")))
        except (EOFError, OSError):
            stop = True  # its server is gone: commit what it sent
        if failed:
            _report(conn, False, failed)
        for i in range(0, len(group), max_group):
            chunk = [(p, rec, Future()) for p, rec, _ in group[i:i + max_group]]
            dl, committed = _commit(DecisionLog.open, target, chunk, dl)
            _report(conn, committed, [(key, None if f.exception() else f.result(), f.exception())
                                      for (_, _, key), (_, _, f) in zip(group[i:i + max_group], chunk)])
    if dl is not None:
        dl.close()


def _report(conn, committed: bool, results: list) -> None:
    try:
        try:
            data = pickle.dumps((committed, results), pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - an error that does not pickle goes as a LogError with its text
            data = pickle.dumps((committed, [(k, r, e if e is None else LogError(f"{type(e).__name__}: {e}"))
                                             for k, r, e in results]))
        conn.send_bytes(data)
    except OSError:
        pass  # its server is gone: nobody is waiting for the answer


def _public(target: str) -> str:
    """The log's name in messages: its path, or its URL without the password."""
    if target.startswith(("postgresql://", "postgres://")):
        from .postgres_log import _public as url
        return url(target)
    return str(Path(target))
