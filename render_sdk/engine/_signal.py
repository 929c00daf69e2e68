"""A flag that coroutines wait for with a timeout.

``await asyncio.wait_for(event.wait(), timeout)`` creates a task per wait on Python 3.11; a
:class:`Signal` waits on a plain future and a timer, which matters on paths taken once per run.

    signal = Signal()
    if await signal.wait(timeout=2.0):
        ...  # set within 2 s
"""

from __future__ import annotations

import asyncio


class Signal:
    """Like :class:`asyncio.Event`, with a timeout on :meth:`wait`."""

    def __init__(self) -> None:
        self._set = False
        self._waiters: list[asyncio.Future[bool]] = []

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(True)

    def clear(self) -> None:
        self._set = False

    async def wait(self, timeout: float | None = None) -> bool:
        """True once the flag is set; False if ``timeout`` seconds pass first."""
        if self._set:
            return True
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[bool] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(timeout, _expire, waiter) if timeout is not None else None
        try:
            return await waiter
        finally:
            if timer is not None:
                timer.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)


def _expire(waiter: asyncio.Future[bool]) -> None:
    if not waiter.done():
        waiter.set_result(False)
