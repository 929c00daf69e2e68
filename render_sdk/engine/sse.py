"""The ``GET /v1/task-runs/events`` stream: one Server-Sent Event per requested run when it ends.

Framing (openapi.yaml, `/task-runs/events`): ``retry: <ms>`` first, ``: ping`` comments while idle,
then for each run, once it is terminal::

    id: <event_seq>
    event: task.completed
    data: <TaskRunDetails JSON on one line>

The stream ends after the last requested run's event. Events are framed with sse-starlette's
:class:`~sse_starlette.ServerSentEvent`.

Each stream drains the core's iterator into its own queue (at most one entry per requested run),
so a reader that is slow to take bytes off the socket never holds up the engine; events that are
ready together are sent in one write. A client that
disconnects, or an engine that shuts down, ends the stream and releases the core's iterator.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections import deque
from collections.abc import AsyncIterator

from sse_starlette import ServerSentEvent
from starlette.types import Message, Receive, Scope, Send

from render_sdk.engine._signal import Signal
from render_sdk.engine.records import RunRecord
from render_sdk.engine.serialize import dumps, task_run

logger = logging.getLogger("render_sdk.engine.api")

#: Render names every terminal event so, whatever the run's status.
EVENT_NAME = "task.completed"
_SEP = "\n"
_PING = ServerSentEvent(comment="ping", sep=_SEP).encode()
_END = object()
# Line breaks for str.splitlines() (and so for httpx's iter_lines) but not for SSE. JSON leaves
# them raw inside strings; they are escaped so that line-splitting clients read one data line.
_SPLITLINES_ONLY = re.compile("[\x85\u2028\u2029]")


def _escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def frame_run(run: RunRecord) -> bytes:
    """The SSE frame of one terminal run.

    Example: ``frame_run(run)`` holds the lines ``id: 7``, ``event: task.completed`` and
    ``data: {...}``, then a blank line.
    """
    data = dumps(task_run(run, details=True)).decode("utf-8")
    if _SPLITLINES_ONLY.search(data):
        data = _SPLITLINES_ONLY.sub(_escape, data)
    return ServerSentEvent(
        data=data,
        event=EVENT_NAME,
        id=str(run.event_seq if run.event_seq is not None else 0),
        sep=_SEP,
    ).encode()


class EventStream:
    """ASGI response streaming the terminal events of ``events`` (the core's iterator).

    Example: ``return EventStream(core.terminal_events(ids), retry_ms=2000, ping_interval=15,
    closing=app_closing_event)`` from a Starlette endpoint.
    """

    media_type = "text/event-stream; charset=utf-8"

    def __init__(
        self,
        events: AsyncIterator[RunRecord],
        *,
        retry_ms: int,
        ping_interval: float,
        closing: asyncio.Event,
    ) -> None:
        self._events = events
        self._retry = ServerSentEvent(retry=retry_ms, sep=_SEP).encode()
        self._ping_interval = ping_interval
        self._closing = closing

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [
                    (b"content-type", self.media_type.encode()),
                    (b"cache-control", b"no-store"),
                    (b"x-accel-buffering", b"no"),
                ],
            }
        )
        pending: deque[object] = deque()
        ready = Signal()
        pump = asyncio.create_task(self._pump(pending, ready))
        writer = asyncio.create_task(self._write(pending, ready, send))
        watcher = asyncio.create_task(_wait_disconnect(receive))
        closing = asyncio.create_task(self._closing.wait())
        tasks = {pump, writer, watcher, closing}
        disconnected = False
        try:
            await asyncio.wait({writer, watcher, closing}, return_when=asyncio.FIRST_COMPLETED)
            disconnected = watcher.done()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            aclose = getattr(self._events, "aclose", None)
            if aclose is not None:
                with contextlib.suppress(Exception):
                    await aclose()
        if not disconnected:
            # All events sent, or the engine is closing: end the response properly.
            with contextlib.suppress(Exception):
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def _pump(self, pending: deque[object], ready: Signal) -> None:
        try:
            async for run in self._events:
                pending.append(run)
                ready.set()
        except asyncio.CancelledError:
            raise
        except Exception:
            logger.exception("the event stream of the requested task runs failed")
        finally:
            pending.append(_END)
            ready.set()

    async def _write(self, pending: deque[object], ready: Signal, send: Send) -> None:
        """Send the events as they come; those that came together go out in one write."""
        await _body(send, self._retry)
        while True:
            if not pending:
                ready.clear()
                if not await ready.wait(self._ping_interval):
                    await _body(send, _PING)
                continue
            frames: list[bytes] = []
            while pending:
                item = pending.popleft()
                if item is _END:
                    if frames:
                        await _body(send, b"".join(frames))
                    return
                assert isinstance(item, RunRecord)
                frames.append(frame_run(item))
            await _body(send, b"".join(frames))


async def _body(send: Send, chunk: bytes) -> None:
    await send({"type": "http.response.body", "body": chunk, "more_body": True})


async def _wait_disconnect(receive: Receive) -> None:
    while True:
        message: Message = await receive()
        if message["type"] == "http.disconnect":
            return
