"""Group commit: appends from many concurrent callers share one transaction, one fsync.

One committed transaction per decision bounds a logged service at 1 / (time of a commit),
and at 32 requests in flight each waits for the 31 commits before its own.  Here one writer
owns the log: whatever was submitted while it was committing goes into its next
transaction (no timer, so a lone append is not delayed), and each caller's future resolves
only after the transaction holding its record has committed.  A caller that acknowledges
only after its future has a result therefore never acknowledges a record that can be lost.

Two writers keep that contract.  GroupWriter is a thread of the caller's process.
WriterProcess is a process of its own (multiprocessing, spawn): the canonical JSON, hashing,
SQL and fsync of every record then run on another core, and the serving process only
pickles records into a pipe.  A logged decision cost the server's one busy core 650-870 µs
with the thread and 400-540 µs with the process (benchmarks/README.md, HTTP).
"""
from __future__ import annotations

import atexit
import itertools
import multiprocessing
import multiprocessing.util  # noqa: F401 - its exit handler is registered before ours, so ours runs first
import pickle
import queue
import signal
import threading
import weakref
from pathlib import Path
from concurrent.futures import Future
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
    own.  If that process dies, every record waiting on it fails with LogError (it was not
    committed, so it was never acknowledged) and the next submit starts another."""

    def __init__(self, target):
        self.target = str(target)
        self._lock = threading.Lock()
        self._link: _Link | None = None
        self.groups = 0  # transactions committed (for tests and benchmarks)
        _OPEN.add(self)

    def submit(self, policies, record: dict) -> Future:
        """As GroupWriter.submit."""
        fut: Future = Future()
        with self._lock:
            if self._link is None or not self._link.put(policies, record, fut):
                self._link = _Link(self)  # none yet, or the last one's process died
                self._link.put(policies, record, fut)
        return fut

    def append(self, policies, record: dict) -> str:
        """submit() and wait: for callers that are threads, not coroutines."""
        return self.submit(policies, record).result()

    def close(self) -> None:
        """Commit what is queued, then stop the process (a later submit starts another)."""
        with self._lock:
            link, self._link = self._link, None
        if link is not None:
            link.close()


_OPEN: "weakref.WeakSet[WriterProcess]" = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """At interpreter exit, commit what is queued: the writer process waits for its pipe to
    close, and multiprocessing's own exit handler (which runs after this one) joins it."""
    for writer in list(_OPEN):
        writer.close()


class _Link:
    """One writer process, its pipe, and the two threads that feed it and hear back from it:
    the sender sends everything queued as one message, the receiver resolves the futures of
    each transaction the process reports committed (or failed)."""

    def __init__(self, owner: WriterProcess):
        self.owner, self.name = owner, _public(owner.target)
        ctx = multiprocessing.get_context("spawn")  # never fork a process that has threads
        self.conn, theirs = ctx.Pipe()
        self.proc = ctx.Process(target=_serve, args=(owner.target, MAX_GROUP, theirs),
                                name="policyengine-log-writer")
        self.proc.start()
        theirs.close()  # so that the process's end of the pipe closes when it dies
        self.lock = threading.Lock()
        self.waiting: dict[int, Future] = {}  # key -> the future of a record queued or sent
        self.dead = False
        self._keys = itertools.count()
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._sent: set[str] = set()  # policy hashes whose files the process has
        self._threads = [threading.Thread(target=run, name=f"policyengine-log-{what}", daemon=True)
                         for run, what in ((self._send, "sender"), (self._receive, "receiver"))]
        for t in self._threads:
            t.start()

    def put(self, policies, record: dict, fut: Future) -> bool:
        """Queue a record, or False if the process has died."""
        with self.lock:
            if self.dead:
                return False
            key = next(self._keys)
            self.waiting[key] = fut
        self._queue.put((key, policies, record, fut))
        return True

    def close(self) -> None:
        self._queue.put(_STOP)
        for t in self._threads:
            t.join()
        self.proc.join()
        self.conn.close()

    def _send(self) -> None:
        stop = False
        while not stop:
            group = _drain(self._queue)
            stop = _STOP in group
            files, items = {}, []
            for key, policies, record, fut in (g for g in group if g is not _STOP):
                if not fut.set_running_or_notify_cancel():  # cancelled while queued: not written
                    self._forget(key)
                    continue
                try:  # each record pickled alone, so one that cannot be fails alone
                    data = pickle.dumps(record, pickle.HIGHEST_PROTOCOL)
                except Exception as exc:  # noqa: BLE001 - anything pickle refuses
                    self._forget(key)
                    fut.set_exception(LogError(f"{self.name}: cannot append: the record is not JSON-ready "
                                               f"({type(exc).__name__}: {exc})"))
                    continue
                h = policies.policy_hash
                if h not in self._sent:  # a policy version's files go once to each process
                    files[h] = policies.sources
                items.append((key, h, data))
            try:
                if items:
                    self.conn.send_bytes(pickle.dumps((files, items), pickle.HIGHEST_PROTOCOL))
                    self._sent.update(files)
                if stop:
                    self.conn.send_bytes(pickle.dumps(None))
            except Exception:  # noqa: BLE001 - a broken pipe: the process is gone, or is made to go
                self.proc.kill()  # the receiver then sees the pipe close and fails every waiter
                return

    def _receive(self) -> None:
        try:
            while True:
                committed, results = pickle.loads(self.conn.recv_bytes())
                self.owner.groups += committed
                with self.lock:
                    done = [(self.waiting.pop(key, None), rid, exc) for key, rid, exc in results]
                for fut, rid, exc in done:
                    if fut is None:
                        continue
                    if exc is None:
                        fut.set_result(rid)
                    else:
                        fut.set_exception(exc)
        except (EOFError, OSError):
            pass  # the process exited: after a stop, or died
        with self.lock:
            self.dead, left = True, list(self.waiting.values())
            self.waiting.clear()
        if left:
            self.proc.join(5)
            problem = LogError(f"{self.name}: the decision log's writer process stopped (exit code "
                               f"{self.proc.exitcode}) before these records were committed; they were not logged")
            for fut in left:
                fut.set_exception(problem)
        self._queue.put(_STOP)  # the sender stops too, if it has not

    def _forget(self, key: int) -> None:
        with self.lock:
            self.waiting.pop(key, None)


class _Policies(NamedTuple):
    """What the writer process knows of a policy version: enough for store_policies."""
    policy_hash: str
    sources: dict


def _serve(target: str, max_group: int, conn) -> None:
    """The writer process: commit what arrives, a group per transaction, and report each
    record's id (or error) once its transaction committed.  It stops when told to or when
    its pipe closes, after committing everything it was given; signals are its server's
    business (a SIGTERM to the whole process group must not cut the shutdown short)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    from .log import DecisionLog
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
            import time, os; _t = time.perf_counter()
            dl, committed = _commit(DecisionLog.open, target, chunk, dl)
            if os.environ.get("PE_STATS"):
                with open(os.environ["PE_STATS"], "a") as _f:
                    _f.write(f"{time.time():.4f} {len(chunk)} {(time.perf_counter() - _t) * 1000:.2f}\n")
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
