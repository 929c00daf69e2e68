"""Waiting for many runs over few event streams (async client).

Runs awaited during the same event-loop iteration share one event stream (up to
``STREAM_MAX_IDS`` ids each), so ``asyncio.gather`` of a hundred runs holds one connection, not a
hundred. Each stream reconnects on its own when it drops; when the server cannot stream, each
run is polled instead.

    waiter = RunWaiter(open_stream, poll)
    details = await waiter.wait("trn-1")
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncGenerator, Awaitable, Callable

from render_sdk.client import _constants as C
from render_sdk.client._base import WorkflowsCore
from render_sdk.client.errors import RenderError
from render_sdk.client.types import TaskRunDetails

OpenStream = Callable[[list[str]], AsyncGenerator[TaskRunDetails, None]]
Poll = Callable[[str], Awaitable[TaskRunDetails]]


class _Batch:
    """The ids one stream watches, and the task that watches them."""

    __slots__ = ("ids", "task")

    def __init__(self, ids: list[str]) -> None:
        self.ids = ids
        self.task: asyncio.Task[None] | None = None


class RunWaiter:
    """Resolves ``wait(run_id)`` calls with the runs' terminal details.

    details = await waiter.wait(run.id)  # TaskRunDetails of the finished run
    """

    def __init__(self, open_stream: OpenStream, poll: Poll) -> None:
        self._open_stream = open_stream
        self._poll = poll
        self._futures: dict[str, list[asyncio.Future[TaskRunDetails]]] = {}
        self._queued: list[str] = []
        self._flush_scheduled = False

    async def wait(self, run_id: str) -> TaskRunDetails:
        """The run's details once it is terminal (whatever its outcome)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[TaskRunDetails] = loop.create_future()
        waiting = self._futures.get(run_id)
        if waiting:
            waiting.append(future)
        else:
            self._futures[run_id] = [future]
            self._queued.append(run_id)
            if not self._flush_scheduled:
                self._flush_scheduled = True
                loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._flush_scheduled = False
        queued, self._queued = self._queued, []
        for start in range(0, len(queued), C.STREAM_MAX_IDS):
            batch = _Batch(queued[start : start + C.STREAM_MAX_IDS])
            batch.task = asyncio.ensure_future(self._watch(batch))
            stop = functools.partial(self._maybe_stop, batch)
            for run_id in batch.ids:
                for future in self._futures.get(run_id, ()):
                    future.add_done_callback(stop)

    def _live(self, run_id: str) -> bool:
        return any(not f.done() for f in self._futures.get(run_id, ()))

    def _maybe_stop(self, batch: _Batch, future: asyncio.Future[TaskRunDetails]) -> None:
        """Stop watching once every waiter of the batch was cancelled."""
        if not future.cancelled():
            return
        if batch.task is not None and not batch.task.done():
            if not any(self._live(run_id) for run_id in batch.ids):
                batch.task.cancel()

    def _settle(
        self, run_id: str, details: TaskRunDetails | None, error: BaseException | None
    ) -> None:
        for future in self._futures.pop(run_id, ()):
            if future.done():
                continue
            if error is not None:
                future.set_exception(error)
            else:
                assert details is not None
                future.set_result(details)

    async def _poll_one(self, run_id: str) -> None:
        try:
            details = await self._poll(run_id)
        except RenderError as exc:
            self._settle(run_id, None, exc)
        else:
            self._settle(run_id, details, None)

    async def _watch(self, batch: _Batch) -> None:
        remaining = set(batch.ids)
        try:
            stream = self._open_stream(batch.ids)
            try:
                async for details in stream:
                    remaining.discard(details.id)
                    self._settle(details.id, details, None)
            finally:
                await stream.aclose()
        except RenderError as exc:
            if WorkflowsCore.stream_unavailable(exc):
                await asyncio.gather(*(self._poll_one(run_id) for run_id in remaining))
            else:
                for run_id in remaining:
                    self._settle(run_id, None, exc)
        except asyncio.CancelledError:
            for run_id in remaining:
                for future in self._futures.pop(run_id, ()):
                    future.cancel()
            raise
        except BaseException as exc:  # a bug or an unexpected failure: never leave waiters hanging
            for run_id in remaining:
                self._settle(run_id, None, exc)
            raise
