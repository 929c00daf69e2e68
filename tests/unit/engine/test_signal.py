"""Signal: set, clear and wait with a timeout."""

from __future__ import annotations

import asyncio

from render_sdk.engine._signal import Signal


async def test_wait_returns_true_once_set_and_false_on_timeout() -> None:
    signal = Signal()
    assert await signal.wait(0.01) is False
    waiting = asyncio.ensure_future(signal.wait(5))
    await asyncio.sleep(0)
    assert not waiting.done()
    signal.set()
    assert await waiting is True
    assert signal.is_set() and await signal.wait(0) is True
    signal.clear()
    assert not signal.is_set()
    assert await signal.wait(0.01) is False
    assert signal._waiters == []  # nothing left behind by timed-out or answered waits


async def test_a_cancelled_wait_leaves_nothing_behind() -> None:
    signal = Signal()
    waiting = asyncio.ensure_future(signal.wait())
    await asyncio.sleep(0)
    waiting.cancel()
    await asyncio.gather(waiting, return_exceptions=True)
    assert signal._waiters == []
    signal.set()  # no error setting a cancelled waiter
