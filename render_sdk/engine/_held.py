"""Start answers held until the run is terminal (``Prefer: wait``, docs/protocol-extensions.md).

A start that asks to wait is answered in one piece when its run ends within
:data:`HEADERS_WITHIN` seconds. Otherwise the answer's head (``202``, ``Location`` of the run,
``Preference-Applied``) goes out then, and its body (the run's details) once the run ends or the
wait runs out: a client that loses the connection meanwhile still knows which run it started.

    watch = RunWatch(core, run.id, wakes)
    if await watch.until(HEADERS_WITHIN):
        ...  # answer at once
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from starlette.responses import StreamingResponse

from render_sdk.engine import serialize
from render_sdk.engine.interface import EngineCoreAPI

HEADERS_WITHIN = 0.1  # seconds a held start may keep its whole answer back
_JSON = "application/json"


class RunWatch:
    """Waits for one run to be terminal, or for ``wakes`` to be called (the API closing).

    ``wakes`` is the set of wake-up callables of every watch, which the API calls on close.
    """

    def __init__(
        self, core: EngineCoreAPI, run_id: str, wakes: set[Callable[[], None]], closing: bool
    ) -> None:
        self.run_id = run_id
        self.over: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._wakes = wakes
        self._withdraw = core.on_terminal(run_id, self._end)
        wakes.add(self._end)
        if self._withdraw is None or closing:  # terminal already, or nothing more will happen
            self._end()

    def _end(self, _: object = None) -> None:
        if not self.over.done():
            self.over.set_result(None)

    async def until(self, seconds: float) -> bool:
        """Wait at most ``seconds``; True once the run is terminal (or the API closes)."""
        if not self.over.done() and seconds > 0:
            await asyncio.wait((self.over,), timeout=seconds)
        return self.over.done()

    def close(self) -> None:
        """Stop watching."""
        if self._withdraw is not None:
            self._withdraw()
            self._withdraw = None
        self._wakes.discard(self._end)


def held_answer(
    core: EngineCoreAPI, watch: RunWatch, seconds: float, headers: dict[str, str]
) -> StreamingResponse:
    """The ``202`` whose head goes out now and whose body (the run's details) follows once the
    run is terminal or ``seconds`` have passed."""

    async def body() -> AsyncIterator[bytes]:
        try:
            await watch.until(seconds)
            run = await core.get_run(watch.run_id)
        finally:
            watch.close()
        yield serialize.dumps(serialize.task_run(run, details=True))

    return StreamingResponse(body(), status_code=202, headers=headers, media_type=_JSON)
