"""A worker backend without processes: each task is a coroutine of this test module.

The engine under test is real (scheduler, lifecycle, fast lane, callback host); only where the
attempts run is replaced, so tests of scheduling run in milliseconds. A task function gets the
run's input and a :class:`Calls` object for what a worker would do over the callback API.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timezone
from typing import Any

from render_sdk.engine._attempts import ActiveRun, Attempt
from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import EngineConfig
from render_sdk.engine.lifecycle import Completed, Errored, Outcome
from render_sdk.engine.records import ParameterRecord, RetryOptions, RunRecord, TaskRecord
from render_sdk.engine.store import Store
from render_sdk.engine.store_memory import MemoryStore

TaskFn = Callable[[Any, "Calls"], Awaitable[Any]]
T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Calls:
    """What a task may ask of the engine, as a worker does over the callback API."""

    def __init__(self, core: EngineCore, attempt: Attempt) -> None:
        self.core = core
        self.attempt = attempt

    async def subtask(self, name: str, value: Any) -> Any:
        """Start a subtask and wait for its result (long-polling, as the SDK's worker does)."""
        task = await self.core.find_task(name)
        assert task is not None, name
        child = await self.core.start_subtask(self.attempt.run, task, value, None)
        while True:
            found = await self.core.lookup_run(child.id)
            if isinstance(found, ActiveRun) and not found.settled.is_set():
                await self.core.hold_for(self.attempt, found, 30.0)
                continue
            record = found.record if isinstance(found, ActiveRun) else found
            assert isinstance(record, RunRecord)
            if record.error is not None:
                raise RuntimeError(record.error)
            return (record.results or [None])[0]


class FakeWorkers:
    """The :class:`~render_sdk.engine.worker_backend.WorkerBackend` of these tests."""

    def __init__(self, functions: dict[str, TaskFn], tasks: list[TaskRecord]) -> None:
        self.functions = functions
        self.tasks = tasks
        self.core: EngineCore | None = None
        self.running: dict[Attempt, asyncio.Task[None]] = {}
        self.ended: list[tuple[str, int, str]] = []  # (run id, attempt number, outcome kind)
        self.most_at_once = 0
        self._started = 0
        self._start_seen = asyncio.Event()
        self.stopped = False

    @property
    def attempts_started(self) -> int:
        return self._started

    async def open(self) -> None:
        pass

    async def register(self) -> list[TaskRecord]:
        return list(self.tasks)

    def idle(self) -> bool:
        return True

    async def start_attempt(self, attempt: Attempt) -> None:
        assert self.core is not None
        self._started += 1
        self._start_seen.set()
        self.running[attempt] = asyncio.ensure_future(self._run(attempt))
        self.most_at_once = max(self.most_at_once, self.core.scheduler.busy())

    async def wait_started(self, count: int) -> None:
        """Until ``count`` attempts have started."""
        while self._started < count:
            self._start_seen.clear()
            await self._start_seen.wait()

    async def _run(self, attempt: Attempt) -> None:
        assert self.core is not None
        function = self.functions[attempt.run.record.task_name]
        try:
            result = await function(attempt.run.record.input, Calls(self.core, attempt))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            attempt.resolve(Errored(f"{type(exc).__name__}: {exc}"))
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


def task(
    name: str, *, retries: int = 0, wait_ms: int = 1, timeout: float | None = None
) -> TaskRecord:
    return TaskRecord(
        id=f"tsk-{name}",
        name=name,
        created_at=T0,
        retry=RetryOptions(retries, wait_ms, 2.0) if retries else None,
        timeout_seconds=timeout,
        parameters=(ParameterRecord("x", has_default=True, default_value="null"),),
    )


async def fake_engine(
    functions: dict[str, TaskFn],
    tasks: list[TaskRecord] | None = None,
    *,
    limit: int = 4,
    store: Store | None = None,
    workers_class: type[FakeWorkers] | None = None,
) -> tuple[EngineCore, FakeWorkers]:
    """A started engine on the in-memory store (or ``store``) and fake workers (of
    ``workers_class``, a subclass of FakeWorkers, if given)."""
    workers = (workers_class or FakeWorkers)(functions, tasks or [task(name) for name in functions])
    core = EngineCore(
        EngineConfig(app_target="fake:app", max_concurrency=limit),
        store=store or MemoryStore(),
        workers=workers,
    )
    workers.core = core
    await core.start()
    return core, workers
