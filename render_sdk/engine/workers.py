"""Worker processes: one OS process with its own callback socket, and the serve-mode pool.

Every worker runs in a new session (process group), so a kill reaches the children it started,
with its stdout and stderr captured (see :mod:`render_sdk.engine._logcapture`). The environment is
the engine's own, plus ``EngineConfig.env``, plus ``RENDER_SDK_MODE`` and
``RENDER_SDK_SOCKET_PATH``; the working directory is ``EngineConfig.cwd``.

:class:`ServePool` keeps pre-started ``serve``-mode processes of a ``module:app`` worker so that a
run starts without paying for interpreter start-up and imports. A process is retired after
``worker_max_runs`` attempts or when its resident memory passes ``worker_max_rss_mb``; a process
whose attempt timed out, was canceled or crashed is killed and replaced.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import signal
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from render_sdk.engine._attempts import Attempt, SocketContext
from render_sdk.engine._limits import apply_memory_limit
from render_sdk.engine._logcapture import ProcessOutput
from render_sdk.engine.callback_server import CallbackRequest, CallbackResponse, CallbackServer
from render_sdk.engine.lifecycle import Crashed

_log = logging.getLogger("render_sdk.engine.workers")
_counter = itertools.count(1)
_PAGE_SIZE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096
_RSS_CHECK_EVERY = 8  # attempts between two memory checks of a reused process (and the first)

ContextHandler = Callable[[SocketContext, CallbackRequest], Awaitable[CallbackResponse]]


def describe_exit(returncode: int) -> str:
    """``"exit status 3"`` or ``"signal SIGKILL"``.

    >>> describe_exit(-9)
    'signal SIGKILL'
    """
    if returncode < 0:
        try:
            return f"signal {signal.Signals(-returncode).name}"
        except ValueError:
            return f"signal {-returncode}"
    return f"exit status {returncode}"


class WorkerLauncher:
    """What every worker process shares: command, environment, directories.

    launcher = WorkerLauncher(["python", "worker.py"], cwd, {"A": "1"}, sock_dir, handler)
    worker = await launcher.launch("run")
    """

    def __init__(
        self,
        command: list[str],
        cwd: Path,
        env: dict[str, str],
        socket_dir: Path,
        handler: ContextHandler,
    ) -> None:
        self.command = command
        self.cwd = cwd
        self.env = env
        self.socket_dir = socket_dir
        self.handler = handler

    async def launch(self, mode: str, attempt: Attempt | None = None) -> WorkerProcess:
        """Start a process in ``mode`` (``register``, ``run`` or ``serve``) with its socket."""
        ctx = SocketContext(mode=mode)  # type: ignore[arg-type]
        if mode == "register":
            ctx.registered = asyncio.get_running_loop().create_future()
        if attempt is not None:
            ctx.assign(attempt)
        worker = WorkerProcess(self, ctx)
        await worker.start()
        return worker


class WorkerProcess:
    """One worker OS process and the callback socket it talks to."""

    def __init__(self, launcher: WorkerLauncher, ctx: SocketContext) -> None:
        self.launcher = launcher
        self.ctx = ctx
        self.number = next(_counter)
        self.socket_path = launcher.socket_dir / f"w{self.number}.sock"
        self.server = CallbackServer(self.socket_path, self._handle)
        # A register-mode worker's output is not echoed: a failure is reported once, by the
        # engine's error, with the output's last lines.
        self.output = ProcessOutput(
            label=f"worker {self.number} ({ctx.mode})", echo=ctx.mode != "register"
        )
        self.process: asyncio.subprocess.Process | None = None
        self.runs = 0
        self.exited: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._watch: asyncio.Task[None] | None = None
        self.on_exit: Callable[[WorkerProcess], None] | None = None
        self._statm: int | None = None
        self._limited = False
        # The engine stopped the process on purpose (timeout, cancel, retirement, shutdown):
        # its exit is expected, not a fault to warn about.
        self.stopped_by_engine = False

    async def _handle(self, request: CallbackRequest) -> CallbackResponse:
        attempt = self.ctx.attempt
        if self.ctx.mode == "run" and attempt is not None and not self._limited:
            self.limit_memory(attempt)  # before the attempt's input is handed out
        return await self.launcher.handler(self.ctx, request)

    def limit_memory(self, attempt: Attempt) -> None:
        """Apply the memory size of ``attempt``'s plan to this process (see ``_limits``)."""
        if self.process is not None and self.alive:
            apply_memory_limit(self.process.pid, attempt.run.task.plan)
            self._limited = True

    async def start(self) -> None:
        """Listen on the socket, then start the process."""
        await self.server.start()
        env = dict(os.environ)
        env.pop("RENDER_WORKFLOWS_DEV_API_KEY", None)  # the engine's own key stays with it
        env.setdefault("PYTHONUNBUFFERED", "1")
        env.update(self.launcher.env)
        env["RENDER_SDK_MODE"] = self.ctx.mode
        env["RENDER_SDK_SOCKET_PATH"] = str(self.socket_path)
        env["RENDER_SDK_ENGINE_PID"] = str(os.getpid())  # workers stop retrying once it is gone
        try:
            self.process = await asyncio.create_subprocess_exec(
                *self.launcher.command,
                cwd=str(self.launcher.cwd),
                env=env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except OSError as exc:
            await self.server.close()
            raise WorkerStartError(
                f"cannot start worker command {self.launcher.command!r}: {exc}"
            ) from exc
        self.output.label = f"worker pid {self.process.pid} ({self.ctx.mode})"
        self._watch = asyncio.create_task(self._watch_process(self.process))

    async def _watch_process(self, process: asyncio.subprocess.Process) -> None:
        pumps = asyncio.gather(
            self.output.pump(process.stdout, "stdout"),
            self.output.pump(process.stderr, "stderr"),
        )
        pumps.add_done_callback(consume)
        returncode = await process.wait()
        self._kill_group()  # children left behind would keep the pipes open
        try:
            await asyncio.wait_for(asyncio.shield(pumps), 2.0)
        except asyncio.TimeoutError:
            pumps.cancel()
        attempt = self.ctx.attempt
        if attempt is not None and not attempt.outcome.done():
            tail = self.output.stderr_tail
            how = describe_exit(returncode)
            message = f"worker process ended without a callback ({how})"
            if tail:
                message += "; last lines of stderr:\n" + "\n".join(tail)
            attempt.resolve(Crashed(message, exit=how))
        self._close_statm()
        await self.server.close()
        if not self.exited.done():
            self.exited.set_result(returncode)
        if self.on_exit is not None:
            self.on_exit(self)

    @property
    def alive(self) -> bool:
        return not self.exited.done()

    def _kill_group(self) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def kill(self) -> None:
        """Stop the process and everything it started, at once."""
        self.stopped_by_engine = True
        self._kill_group()

    async def wait_exit(self, timeout: float | None = None) -> int | None:
        """The exit status once the process ended, None if ``timeout`` passed first."""
        try:
            return await asyncio.wait_for(asyncio.shield(self.exited), timeout)
        except asyncio.TimeoutError:
            return None

    async def close(self, grace: float = 0.0) -> None:
        """Let the process end within ``grace`` seconds, then kill it; wait until it is gone."""
        if self.alive and grace > 0:
            await self.wait_exit(grace)
        if self.alive:
            self.kill()
        await asyncio.shield(self.exited)

    def rss_mb(self) -> float | None:
        """Resident memory of the process in MiB (Linux ``/proc``), or None when unknown."""
        if self.process is None or not self.alive:
            return None
        try:
            if self._statm is None:
                self._statm = os.open(f"/proc/{self.process.pid}/statm", os.O_RDONLY)
            pages = int(os.pread(self._statm, 128, 0).split()[1])
        except (OSError, ValueError, IndexError):
            return None
        return pages * _PAGE_SIZE / (1024 * 1024)

    def _close_statm(self) -> None:
        if self._statm is not None:
            with contextlib.suppress(OSError):
                os.close(self._statm)
            self._statm = None


def consume(future: asyncio.Future[Any]) -> None:
    """Retrieve a finished future's outcome so that asyncio does not report it."""
    if not future.cancelled():
        future.exception()


class WorkerStartError(Exception):
    """A worker process could not be started or did not register its tasks."""


class AppLoadError(WorkerStartError):
    """The worker could not load the app (``render-workflows MODULE:APP`` exited with status 2:
    a module that cannot be imported, a wrong target); the message is the worker's own."""


class ServePool:
    """Reused ``serve``-mode worker processes.

    pool = ServePool(launcher, prestart=2, max_runs=1000, max_rss_mb=512)
    await pool.start()
    worker = await pool.acquire()
    """

    def __init__(
        self, launcher: WorkerLauncher, prestart: int, max_runs: int, max_rss_mb: int
    ) -> None:
        self.launcher = launcher
        self.prestart = prestart
        self.max_runs = max_runs
        self.max_rss_mb = max_rss_mb
        self.idle: deque[WorkerProcess] = deque()
        self.workers: set[WorkerProcess] = set()
        self._closing = False
        self._background: set[asyncio.Task[None]] = set()
        self.started = 0  # processes started so far
        self.retired = 0  # processes retired after max_runs / max_rss_mb

    async def start(self) -> None:
        await asyncio.gather(*(self._spawn_idle() for _ in range(self.prestart)))

    async def _spawn(self) -> WorkerProcess:
        worker = await self.launcher.launch("serve")
        self.started += 1
        worker.on_exit = self._on_exit
        self.workers.add(worker)
        return worker

    async def _spawn_idle(self) -> None:
        try:
            worker = await self._spawn()
        except WorkerStartError as exc:
            _log.error("%s", exc)
            return
        if self._closing:
            worker.kill()
            return
        self.idle.append(worker)

    def _on_exit(self, worker: WorkerProcess) -> None:
        self.workers.discard(worker)
        with contextlib.suppress(ValueError):
            self.idle.remove(worker)
        expected = worker.stopped_by_engine or worker.ctx.retiring or self._closing
        if worker.ctx.attempt is None and not expected:
            code = worker.exited.result()
            tail = "\n".join(worker.output.stderr_tail)
            _log.warning(
                "idle serve worker exited (%s)%s",
                describe_exit(code),
                f"; last lines of stderr:\n{tail}" if tail else "",
            )

    async def acquire(self, attempt: Attempt) -> WorkerProcess:
        """An idle process (or a new one) with ``attempt`` assigned to it."""
        while self.idle:
            worker = self.idle.popleft()
            if worker.alive and not worker.ctx.retiring:
                worker.limit_memory(attempt)
                worker.ctx.assign(attempt)
                return worker
        worker = await self._spawn()
        worker.limit_memory(attempt)
        worker.ctx.assign(attempt)
        return worker

    def release(self, worker: WorkerProcess) -> None:
        """The attempt on ``worker`` ended normally: keep the process or retire it."""
        worker.ctx.clear()
        worker.runs += 1
        if not worker.alive or self._closing:
            return
        check = worker.runs == 1 or worker.runs % _RSS_CHECK_EVERY == 0
        rss = worker.rss_mb() if check else None
        if worker.runs >= self.max_runs or (rss is not None and rss > self.max_rss_mb):
            self.retired += 1
            _log.info(
                "retiring serve worker %s after %d runs (%.0f MiB resident)",
                worker.output.label,
                worker.runs,
                rss or 0.0,
            )
            worker.ctx.retire()
            self._in_background(self._retire(worker))
            return
        self.idle.append(worker)

    async def _retire(self, worker: WorkerProcess) -> None:
        await worker.close(grace=10.0)
        await self._spawn_idle()

    def discard(self, worker: WorkerProcess) -> None:
        """Kill ``worker`` (its attempt timed out, was canceled or crashed) and replace it."""
        worker.ctx.clear()
        with contextlib.suppress(ValueError):
            self.idle.remove(worker)
        worker.kill()
        if not self._closing:
            self._in_background(self._replace(worker))

    async def _replace(self, worker: WorkerProcess) -> None:
        await worker.close()
        if len(self.idle) < self.prestart:
            await self._spawn_idle()

    def _in_background(self, coro: Awaitable[None]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def recycle(self) -> None:
        """Retire every idle process (their code is stale); replacements start fresh."""
        while self.idle:
            worker = self.idle.popleft()
            worker.ctx.retire()
            self._in_background(self._retire(worker))

    def stop_replacing(self) -> None:
        """From now on, processes that end are not replaced."""
        self._closing = True

    async def close(self) -> None:
        """Kill every process of the pool and wait for them."""
        self._closing = True
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)
        workers = list(self.workers)
        for worker in workers:
            worker.kill()
        await asyncio.gather(*(w.close() for w in workers), return_exceptions=True)
        self.idle.clear()
