"""A worker backend without processes: each task is a coroutine of this test module.

The engine under test is real (scheduler, lifecycle, fast lane, callback API); only where the
attempts run is replaced, so tests of scheduling run in milliseconds. A task function gets the
run's input and a :class:`Calls` object for what a worker does over the callback API: its
subtask requests go through the engine's own callback handler (the same answers a worker gets
on its socket), without a socket. How an attempt ends is scripted by the function: it returns
(completed), raises :class:`Fail` (the worker reports exactly these details), raises
:class:`Crash` (the worker ends without a callback) or raises anything else (reported as
``"<Type>: <message>"`` with its traceback). Nothing here sleeps: tests wait on events.
"""

from __future__ import annotations

import asyncio
import json
import traceback
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from render_sdk import _callback_protocol as protocol
from render_sdk.engine._attempts import Attempt, SocketContext
from render_sdk.engine._ids import task_id_for
from render_sdk.engine.callback_server import CallbackRequest, CallbackResponse
from render_sdk.engine.callbacks import CallbackAPI
from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import EngineConfig
from render_sdk.engine.lifecycle import Completed, Crashed, Errored, Outcome
from render_sdk.engine.records import ParameterRecord, RetryOptions, TaskRecord
from render_sdk.engine.store import Store
from render_sdk.engine.store_memory import MemoryStore

TaskFn = Callable[[Any, "Calls"], Awaitable[Any]]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SUBTASK_WAIT_MS = 30_000  # the long poll of a subtask's result, as the SDK's worker asks


class Fail(Exception):
    """Raised by a task function: the worker reports an error with exactly ``details``."""

    def __init__(self, details: str, stack_trace: str | None = None) -> None:
        super().__init__(details)
        self.details = details
        self.stack_trace = stack_trace


class Crash(Exception):
    """Raised by a task function: its worker ends without a callback; the message is what the
    backend reports (as :class:`~render_sdk.engine.lifecycle.Crashed`)."""


class SubtaskFailed(Exception):
    """A subtask's result was an error; the message is the ``details`` the engine answered."""


class Calls:
    """What a task may ask of the engine, as a worker does over the callback API: the requests
    are answered by the engine's callback handler for this attempt's (run-mode) socket."""

    def __init__(self, core: EngineCore, attempt: Attempt) -> None:
        self.core = core
        self.attempt = attempt
        self.api = CallbackAPI(core)
        self.ctx = SocketContext(mode="run", attempt=attempt, delivered=True)

    async def request(self, path: str, body: dict[str, Any]) -> CallbackResponse:
        """POST ``body`` to ``path`` of the callback API, as this attempt's worker."""
        raw = CallbackRequest("POST", path, {}, json.dumps(body).encode())
        return await self.api.handle(self.ctx, raw)

    async def start(self, name: str, value: Any, key: str | None = None) -> str:
        """Start a subtask (``POST /run-subtask``); its run id."""
        body: dict[str, Any] = {"task_name": name, "input": protocol.encode(value)}
        if key is not None:
            body["idempotency_key"] = key
        answer = await self.request(protocol.RUN_SUBTASK, body)
        if answer.status != 200:
            raise RuntimeError(f"/run-subtask answered {answer.status}: {answer.body}")
        return str(answer.body["task_run_id"])

    async def result(self, run_id: str) -> Any:
        """Wait for a subtask's result, long-polling as the SDK's worker does; SubtaskFailed
        with the engine's details if it failed or was canceled."""
        while True:
            body = {"task_run_id": run_id, "wait_ms": SUBTASK_WAIT_MS}
            answer = await self.request(protocol.GET_SUBTASK_RESULT, body)
            if answer.status != 200:
                raise RuntimeError(f"/get-subtask-result answered {answer.status}: {answer.body}")
            if answer.body["still_running"]:
                continue
            if "complete" in answer.body:
                return protocol.decode(answer.body["complete"]["output"])[0]
            raise SubtaskFailed(answer.body["error"]["details"])

    async def subtask(self, name: str, value: Any, key: str | None = None) -> Any:
        """Start a subtask and wait for its result."""
        return await self.result(await self.start(name, value, key))

    def log(self, stream: str, *lines: str) -> None:
        """Write ``lines`` to the attempt's ``stream``, as the worker's output reader hands them."""
        self.attempt.log.add(stream, list(lines))


class FakeWorkers:
    """The :class:`~render_sdk.engine.worker_backend.WorkerBackend` of these tests."""

    def __init__(self, functions: dict[str, TaskFn], tasks: list[TaskRecord]) -> None:
        self.functions = functions
        self.tasks = tasks  # what the next registration reports
        self.core: EngineCore | None = None
        self.running: dict[Attempt, asyncio.Task[None]] = {}
        self.attempts: dict[str, list[Attempt]] = {}  # run id -> its attempts, in start order
        self.ended: list[tuple[str, int, str]] = []  # (run id, attempt number, outcome kind)
        self.registrations = 0
        self.most_at_once = 0
        self._started = 0
        self._changed = asyncio.Condition()
        self.stopped = False

    @property
    def attempts_started(self) -> int:
        return self._started

    async def open(self) -> None:
        pass

    async def register(self) -> list[TaskRecord]:
        self.registrations += 1
        return list(self.tasks)

    def idle(self) -> bool:
        return True

    async def start_attempt(self, attempt: Attempt) -> None:
        assert self.core is not None
        self._started += 1
        self.attempts.setdefault(attempt.run.record.id, []).append(attempt)
        self.running[attempt] = asyncio.ensure_future(self._run(attempt))
        self.most_at_once = max(self.most_at_once, self.core.scheduler.busy())
        async with self._changed:
            self._changed.notify_all()

    async def wait_started(self, count: int) -> None:
        """Until ``count`` attempts have started."""
        async with self._changed:
            await self._changed.wait_for(lambda: self._started >= count)

    async def wait_attempt(self, run_id: str, number: int = 1) -> Attempt:
        """Attempt ``number`` of ``run_id`` once it has started on this backend."""
        async with self._changed:
            await self._changed.wait_for(lambda: len(self.attempts.get(run_id, [])) >= number)
        return self.attempts[run_id][number - 1]

    async def _run(self, attempt: Attempt) -> None:
        assert self.core is not None
        function = self.functions[attempt.run.record.task_name]
        try:
            result = await function(attempt.run.record.input, Calls(self.core, attempt))
        except asyncio.CancelledError:
            raise
        except Fail as exc:
            attempt.resolve(Errored(exc.details, exc.stack_trace))
        except Crash as exc:
            attempt.resolve(Crashed(str(exc)))
        except Exception as exc:
            attempt.resolve(Errored(f"{type(exc).__name__}: {exc}", traceback.format_exc()))
        else:
            attempt.resolve(Completed([result]))

    async def end_attempt(self, attempt: Attempt, outcome: Outcome) -> None:
        task = self.running.pop(attempt, None)
        if task is not None and not task.done():
            task.cancel()  # the process would be killed
        self.ended.append((attempt.run.record.id, attempt.number, type(outcome).__name__))

    def recycle(self) -> None:
        pass

    def stop(self) -> None:
        self.stopped = True

    async def close(self) -> None:
        for task in self.running.values():
            task.cancel()
        await asyncio.gather(*self.running.values(), return_exceptions=True)


def param(name: str, default: str | None = None) -> ParameterRecord:
    """A task parameter; ``default`` is its JSON-encoded default value, if it has one."""
    return ParameterRecord(name, has_default=default is not None, default_value=default)


def task(
    name: str,
    *,
    retries: int = 0,
    wait_ms: int = 1,
    factor: float = 2.0,
    timeout: float | None = None,
    parameters: tuple[ParameterRecord, ...] | None = None,
) -> TaskRecord:
    """A registered task; by default it takes one optional argument."""
    return TaskRecord(
        id=task_id_for(name),
        name=name,
        created_at=T0,
        retry=RetryOptions(retries, wait_ms, factor) if retries else None,
        timeout_seconds=timeout,
        parameters=(param("x", "null"),) if parameters is None else parameters,
    )


async def fake_engine(
    functions: dict[str, TaskFn],
    tasks: list[TaskRecord] | None = None,
    *,
    limit: int = 4,
    store: Store | None = None,
    workers_class: type[FakeWorkers] | None = None,
    log_limit: int | None = None,
) -> tuple[EngineCore, FakeWorkers]:
    """A started engine on the in-memory store (or ``store``) and fake workers (of
    ``workers_class``, a subclass of FakeWorkers, if given)."""
    workers = (workers_class or FakeWorkers)(functions, tasks or [task(name) for name in functions])
    extra: dict[str, Any] = {} if log_limit is None else {"log_limit": log_limit}
    core = EngineCore(
        EngineConfig(app_target="fake:app", max_concurrency=limit),
        store=store or MemoryStore(),
        workers=workers,
        **extra,
    )
    workers.core = core
    await core.start()
    return core, workers
