"""A pool of daemon threads for the blocking socket calls of async tasks.

Unlike :class:`concurrent.futures.ThreadPoolExecutor`, its threads are daemons: a long-poll still
in flight when an attempt ends (a sibling of a failed ``asyncio.gather``) never holds up the
worker's exit. Threads start on demand, up to ``max_threads``, and are reused when idle; an
unused pool costs nothing.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from concurrent.futures import Future

T = TypeVar("T")

DEFAULT_MAX_THREADS = 256
"""Enough for a fan-out of a few hundred subtasks, each waiting in a long-poll."""

_Job = tuple["Future[Any]", Callable[..., Any], tuple[Any, ...]]


class DaemonPool:
    """Run blocking callables on daemon threads.

    pool = DaemonPool()
    assert pool.submit(sum, [1, 2]).result() == 3
    """

    def __init__(self, max_threads: int = DEFAULT_MAX_THREADS) -> None:
        self.max_threads = max_threads
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._idle = threading.Semaphore(0)
        self._threads = 0
        self._lock = threading.Lock()

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        """Run ``fn(*args)`` on a pool thread; its outcome lands in the returned future."""
        # Imported here: a worker whose tasks are all sync never needs it.
        from concurrent.futures import Future

        future: Future[T] = Future()
        self._jobs.put((future, fn, args))
        if not self._idle.acquire(blocking=False):
            with self._lock:
                if self._threads < self.max_threads:
                    self._threads += 1
                    name = f"render-sdk-io-{self._threads}"
                    threading.Thread(target=self._work, name=name, daemon=True).start()
        return future

    def _work(self) -> None:
        while True:
            future, fn, args = self._jobs.get()
            if future.set_running_or_notify_cancel():
                try:
                    result = fn(*args)
                except BaseException as exc:
                    future.set_exception(exc)
                else:
                    future.set_result(result)
            del future, fn, args
            self._idle.release()
