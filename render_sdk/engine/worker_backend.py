"""Where attempts run: the :class:`WorkerBackend` protocol and its process implementation.

The scheduler hands an attempt to the backend (:meth:`WorkerBackend.start_attempt`) and waits for
the attempt's ``outcome``, which the worker's callback resolves, or the backend itself when the
worker exits without one (:class:`~render_sdk.engine.lifecycle.Crashed`). When the attempt has
ended, :meth:`WorkerBackend.end_attempt` frees or stops its worker. :class:`ProcessWorkers` runs
attempts on worker processes over Unix sockets (docs/engine.md, "Worker processes"); tests of
the scheduling use a fake backend that needs no process at all.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Protocol

from render_sdk.engine._attempts import Attempt, SocketContext
from render_sdk.engine.callback_server import CallbackRequest, CallbackResponse
from render_sdk.engine.lifecycle import Completed, Errored, Outcome
from render_sdk.engine.records import TaskRecord
from render_sdk.engine.workers import (
    AppLoadError,
    ServePool,
    WorkerLauncher,
    WorkerProcess,
    WorkerStartError,
    describe_exit,
)

_MARKER_WAIT = 0.25  # how long a finished attempt waits for its end-of-attempt markers
_RUN_MODE_EXIT_GRACE = 10.0  # a run-mode worker gets this long to exit after its callback
REGISTER_TIMEOUT = 120.0
Handler = Callable[[SocketContext, CallbackRequest], Awaitable[CallbackResponse]]


class WorkerBackend(Protocol):
    """What the engine asks of the place its attempts run."""

    async def open(self) -> None:
        """Get ready to run attempts (pre-start workers)."""

    async def register(self) -> list[TaskRecord]:
        """Run the app once to learn its tasks (as ``/register-tasks`` reported them).
        WorkerStartError (AppLoadError when the app says why) if it does not register."""

    def idle(self) -> bool:
        """True when an attempt handed over now starts at once (the fast lane uses it)."""

    async def start_attempt(self, attempt: Attempt) -> None:
        """Start ``attempt`` on a worker (WorkerStartError if none can start). From then on its
        ``outcome`` is resolved by the worker's callback or, if the worker exits first, here."""

    async def end_attempt(self, attempt: Attempt, outcome: Outcome) -> None:
        """``attempt`` ended with ``outcome``: free its worker for the next attempt, or stop it."""

    def recycle(self) -> None:
        """The app's code changed: retire idle workers, start fresh ones."""

    def stop(self) -> None:
        """The engine stops: start nothing more, kill workers still finishing."""

    async def close(self) -> None:
        """Stop every worker and wait for them."""

    @property
    def attempts_started(self) -> int:
        """Attempts started so far (for figures)."""


class ProcessWorkers:
    """Attempts on worker processes: a pool of reused pre-started ones for this SDK's worker
    (``serve`` mode), or one process per attempt for any start command (``run`` mode).

    workers = ProcessWorkers(command, cwd, env, socket_dir, handler, serve=True, prestart=8)
    await workers.open()
    """

    def __init__(
        self,
        command: list[str],
        cwd: Path,
        env: dict[str, str],
        socket_dir: Path,
        handler: Handler,
        *,
        serve: bool,
        prestart: int = 8,
        max_runs: int = 10_000,
        max_rss_mb: int = 512,
    ) -> None:
        self.command = command
        self.launcher = WorkerLauncher(command, cwd, env, socket_dir, handler)
        self.pool = ServePool(self.launcher, prestart, max_runs, max_rss_mb) if serve else None
        self._exiting: set[WorkerProcess] = set()  # workers given time to exit
        self._tasks: set[asyncio.Task[None]] = set()
        self._started = 0

    @property
    def attempts_started(self) -> int:
        return self._started

    async def open(self) -> None:
        if self.pool is not None:
            await self.pool.start()

    async def register(self) -> list[TaskRecord]:
        worker = await self.launcher.launch("register")
        registered = worker.ctx.registered
        assert registered is not None
        waiters: set[asyncio.Future[Any]] = {registered, worker.exited}
        done, _ = await asyncio.wait(
            waiters, timeout=REGISTER_TIMEOUT, return_when=asyncio.FIRST_COMPLETED
        )
        if not registered.done():
            worker.kill()
            code = await worker.wait_exit()
            tail = "\n".join(worker.output.stderr_tail)
            told = _worker_error(list(worker.output.stderr_tail)) if code == 2 else None
            if told is not None:
                raise AppLoadError(told)
            if not done:
                reason = f"did not register its tasks within {REGISTER_TIMEOUT:g}s"
            else:
                reason = f"ended ({describe_exit(code or 0)}) without registering its tasks"
            raise WorkerStartError(
                f"worker {self.command!r} {reason}"
                + (f"; last lines of stderr:\n{tail}" if tail else "")
            )
        self._background(self._reap(worker, 10.0))
        return registered.result()

    def idle(self) -> bool:
        return self.pool is None or bool(self.pool.idle)

    async def start_attempt(self, attempt: Attempt) -> None:
        if self.pool is not None:
            worker = await self.pool.acquire(attempt)
        else:
            worker = await self.launcher.launch("run", attempt)
        self._started += 1
        worker.output.assign(attempt.log)
        attempt.worker = worker

    async def end_attempt(self, attempt: Attempt, outcome: Outcome) -> None:
        worker = attempt.worker
        if worker is None:
            return
        normal = isinstance(outcome, Completed | Errored)
        if self.pool is not None:
            if normal:
                markers_due = worker.output.markers_seen or worker.runs == 0
                if markers_due and not attempt.output_drained:
                    await attempt.log.wait_ended(_MARKER_WAIT)
                worker.output.release(attempt.log)
                self.pool.release(worker)
            else:
                worker.output.release(attempt.log)
                self.pool.discard(worker)
            return
        if not normal:
            worker.kill()
        self._background(self._reap(worker, _RUN_MODE_EXIT_GRACE if normal else 0.0))

    def _background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reap(self, worker: WorkerProcess, grace: float) -> None:
        self._exiting.add(worker)
        try:
            await worker.close(grace=grace)
        finally:
            self._exiting.discard(worker)

    def recycle(self) -> None:
        if self.pool is not None:
            self.pool.recycle()

    def stop(self) -> None:
        if self.pool is not None:
            self.pool.stop_replacing()
        for worker in list(self._exiting):
            worker.kill()

    async def close(self) -> None:
        self.stop()
        if self.pool is not None:
            await self.pool.close()
        for worker in list(self._exiting):
            worker.kill()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def _worker_error(stderr: list[str]) -> str | None:
    """The error a worker printed before exiting with status 2 (``render-workflows: error:
    ...`` and the lines after it), or None if it printed none."""
    prefix = "render-workflows: error: "
    for index in range(len(stderr) - 1, -1, -1):
        if stderr[index].startswith(prefix):
            return "\n".join([stderr[index][len(prefix) :], *stderr[index + 1 :]])
    return None
