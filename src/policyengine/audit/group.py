"""Group commit: appends from many concurrent callers share one transaction, one fsync.

One committed transaction per decision bounds a logged service at 1 / (time of a commit),
and at 32 requests in flight each waits for the 31 commits before its own.  Here one writer
thread owns the log: whatever was submitted while it was committing goes into its next
transaction (no timer, so a lone append is not delayed), and each caller's future resolves
only after the transaction holding its record has committed.  A caller that acknowledges
only after its future has a result therefore never acknowledges a record that can be lost.
"""
from __future__ import annotations

import queue
import threading
from concurrent.futures import Future

from .chain import ChainedLog, LogError

_STOP = object()
MAX_GROUP = 256  # records in one transaction at most: bounds the time one commit holds the log's lock


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
            group = [self._queue.get()]
            while True:
                try:
                    group.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            if _STOP in group:  # what was queued before and after the stop is still committed
                stop, group = True, [g for g in group if g is not _STOP]
            for i in range(0, len(group), MAX_GROUP):
                dl = self._commit(group[i:i + MAX_GROUP], dl)
        if dl is not None:
            dl.close()

    def _commit(self, group: list, dl: ChainedLog | None) -> ChainedLog | None:
        """One transaction for the group; returns the log to use for the next one."""
        live = [g for g in group if g[2].set_running_or_notify_cancel()]
        waiting, ids = [], []
        try:
            if dl is None:
                dl = self._open(self.target)
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
        except Exception as exc:  # noqa: BLE001 - every waiter is told, and the thread goes on
            for _, _, fut in live:
                if not fut.done():
                    fut.set_exception(exc)
            if dl is not None:  # the next group opens the log afresh (a connection may be broken)
                try:
                    dl.close()
                except Exception:  # noqa: BLE001 - it is being dropped anyway
                    pass
            return None
        self.groups += 1
        for fut, rid in zip(waiting, ids):
            fut.set_result(rid)
        return dl
