"""A dedicated SQLite thread with group commit.

Every statement runs on one thread that owns the connection. Operations queued from the event
loop are drained in batches: all writes of a batch share one transaction and one commit (one fsync
when durable), then their futures resolve on the loop. Reads run in queue order, so they see every
write queued before them, and resolve at once without waiting for the commit.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")
_log = logging.getLogger("render_sdk.engine.store")
_MAX_BATCH = 10_000


@dataclass
class _Op:
    fn: Callable[[sqlite3.Connection], Any]
    future: asyncio.Future[Any] | None
    write: bool
    early: bool = False  # resolve when applied, before the commit
    committed: asyncio.Future[None] | None = None  # resolved by the commit (staged writes)


_STOP = _Op(fn=lambda conn: None, future=None, write=False)
_Outcome = tuple[asyncio.Future[Any], Any, BaseException | None]


class _Retry(Exception):
    """A write of a batch failed: run the batch again, one savepoint per write."""


class SQLiteWriter:
    """Runs operations on one connection in one thread, committing writes in groups.

    writer = SQLiteWriter(lambda: sqlite3.connect(":memory:", isolation_level=None))
    writer.start(asyncio.get_running_loop())
    await writer.write(lambda conn: conn.execute("CREATE TABLE t (x)"))
    """

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self._connect = connect
        self._queue: queue.SimpleQueue[_Op] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._open_error: BaseException | None = None
        self.commits = 0  # number of group commits so far (observable by tests and benchmarks)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self._thread = threading.Thread(target=self._run, name="render-engine-sqlite", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._open_error is not None:
            raise self._open_error

    def stop(self) -> None:
        """Finish everything queued, commit, close the connection and end the thread."""
        if self._thread is None:
            return
        self._queue.put(_STOP)
        self._thread.join()
        self._thread = None

    def write(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue a write; the future resolves after the commit that includes it."""
        assert self._loop is not None
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Op(fn, future, True))
        return future

    def write_staged(
        self, fn: Callable[[sqlite3.Connection], T]
    ) -> tuple[asyncio.Future[T], asyncio.Future[None]]:
        """Queue a write; return two futures: one resolved with ``fn``'s result once it is
        applied, before its commit, and one resolved by that commit. A failure of the write
        itself fails both; a failed commit fails the second.

        For work that may start on an applied write while its commit is under way, as long
        as nothing reports it before the second future resolves.
        """
        assert self._loop is not None
        applied: asyncio.Future[T] = self._loop.create_future()
        committed: asyncio.Future[None] = self._loop.create_future()
        self._queue.put(_Op(fn, applied, True, early=True, committed=committed))
        return applied, committed

    def write_nowait(self, fn: Callable[[sqlite3.Connection], object]) -> None:
        """Queue a write nobody waits for; a failure is logged."""
        self._queue.put(_Op(fn, None, True))

    def read(self, fn: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Queue a read; it sees every write queued before it."""
        assert self._loop is not None
        future: asyncio.Future[T] = self._loop.create_future()
        self._queue.put(_Op(fn, future, False))
        return future

    # --- the thread -----------------------------------------------------------------------
    def _run(self) -> None:
        try:
            conn = self._connect()
        except BaseException as exc:
            self._open_error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            while True:
                batch = [self._queue.get()]
                while len(batch) < _MAX_BATCH:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                if not self._execute(conn, batch):
                    return
        finally:
            conn.close()

    def _execute(self, conn: sqlite3.Connection, batch: list[_Op]) -> bool:
        """Run one batch; every future of the batch is resolved, whatever fails.

        The writes run without savepoints first; if one of them fails, the transaction is
        rolled back and the batch runs again with a savepoint around each write, so that only
        the failing write is undone.
        """
        ops = [op for op in batch if op is not _STOP]
        try:
            reads, done = self._run_batch(conn, ops, careful=False)
        except _Retry:
            reads, done = self._run_batch(conn, ops, careful=True)
        if reads:
            self._resolve(reads)
        if done:
            self._resolve(done)
        return len(ops) == len(batch)

    def _run_batch(
        self, conn: sqlite3.Connection, ops: list[_Op], careful: bool
    ) -> tuple[list[_Outcome], list[_Outcome]]:
        done: list[_Outcome] = []
        reads: list[_Outcome] = []  # reads, and early writes once applied
        in_txn = False
        answered_early = False
        try:
            for op in ops:
                if not op.write:
                    assert op.future is not None
                    try:
                        reads.append((op.future, op.fn(conn), None))
                    except Exception as exc:
                        reads.append((op.future, None, exc))
                    continue
                if not in_txn:
                    conn.execute("BEGIN IMMEDIATE")
                    in_txn = True
                if careful:
                    self._write_one(conn, op, reads if op.early else done, done)
                    continue
                try:
                    result = op.fn(conn)
                except Exception:
                    conn.execute("ROLLBACK")
                    in_txn = False
                    raise _Retry from None
                if op.future is not None:
                    (reads if op.early else done).append((op.future, result, None))
                if op.committed is not None:
                    done.append((op.committed, None, None))
            if reads:
                self._resolve(reads)
                reads = []
            answered_early = True
            if in_txn:
                conn.execute("COMMIT")
                in_txn = False
                self.commits += 1
        except sqlite3.Error as exc:
            _log.error("store transaction failed: %s", exc)
            done = [
                (op.future, None, exc)
                for op in ops
                if op.write and op.future is not None and not (op.early and answered_early)
            ]
            done += [(op.committed, None, exc) for op in ops if op.committed is not None]
            if in_txn:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
        return reads, done

    @staticmethod
    def _write_one(
        conn: sqlite3.Connection, op: _Op, applied: list[_Outcome], committed: list[_Outcome]
    ) -> None:
        """Run one write in a savepoint; its outcome goes to ``applied`` (the commit of a
        staged write to ``committed``)."""
        conn.execute("SAVEPOINT op")
        try:
            result = op.fn(conn)
        except Exception as exc:
            conn.execute("ROLLBACK TO op")
            conn.execute("RELEASE op")
            if op.future is None:
                _log.error("queued store write failed: %s", exc)
            else:
                applied.append((op.future, None, exc))
            if op.committed is not None:
                applied.append((op.committed, None, exc))
            return
        conn.execute("RELEASE op")
        if op.future is not None:
            applied.append((op.future, result, None))
        if op.committed is not None:
            committed.append((op.committed, None, None))

    def _resolve(self, items: list[_Outcome]) -> None:
        assert self._loop is not None
        try:
            self._loop.call_soon_threadsafe(_settle, items)
        except RuntimeError:
            pass  # the loop is closed: nobody is waiting any more


def _settle(items: list[_Outcome]) -> None:
    for future, result, exc in items:
        if future.done():
            continue
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)
