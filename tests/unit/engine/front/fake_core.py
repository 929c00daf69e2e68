"""An in-memory EngineCoreAPI for the front's tests: no store, no workers.

Tests drive runs by hand (:meth:`FakeCore.finish`, :meth:`FakeCore.begin`) in the engine's loop.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timezone

from render_sdk.engine.interface import RunFilter
from render_sdk.engine.records import (
    AttemptRecord,
    Conflict,
    InvalidRequest,
    JSONInput,
    LogRecord,
    NotFound,
    ParameterRecord,
    ReasonCode,
    RunRecord,
    RunStatus,
    TaskRecord,
)

T0 = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=timezone.utc)


def square_task() -> TaskRecord:
    return TaskRecord(
        id="tsk-square",
        name="square",
        created_at=T0,
        parameters=(ParameterRecord(name="a", has_default=False, type="int"),),
    )


def greet_task() -> TaskRecord:
    return TaskRecord(
        id="tsk-greet",
        name="greet",
        created_at=T0,
        parameters=(ParameterRecord(name="name", has_default=True, default_value='"you"'),),
        workflow_id="wfl-1",
        workflow_version_id="wfv-1",
    )


class FakeCore:
    """EngineCoreAPI in memory. ``started``/``stopped`` record the lifecycle."""

    def __init__(self, tasks: list[TaskRecord] | None = None) -> None:
        self.tasks = tasks if tasks is not None else [square_task(), greet_task()]
        self.runs: dict[str, RunRecord] = {}
        self.order: list[str] = []
        self.logs: dict[str, list[LogRecord]] = {}
        self.truncated: set[str] = set()
        self.idempotency: dict[str, str] = {}
        self.started = False
        self.stopped = False
        self.subscribers: set[asyncio.Queue[RunRecord]] = set()
        self.listeners: dict[str, list[Callable[[RunRecord], None]]] = {}
        self.state_listeners: list[Callable[[RunRecord], None]] = []
        self._subscribers_changed: asyncio.Event | None = None
        self.explode: Exception | None = None  # raised by the next list_tasks
        self.find_calls: list[str] = []
        self._ids = itertools.count(1)
        self._seq = itertools.count(1)
        self._log_seq = itertools.count(1)

    async def start(self) -> None:
        self.started = True

    async def stop(self) -> None:
        self.stopped = True

    # --- tasks ---------------------------------------------------------------------------
    def list_tasks(self) -> list[TaskRecord]:
        if self.explode is not None:
            exc, self.explode = self.explode, None
            raise exc
        return list(self.tasks)

    async def find_task(self, ref: str) -> TaskRecord | None:
        self.find_calls.append(ref)
        name = ref.rsplit("/", 1)[-1].split(":", 1)[0]
        for task in self.tasks:
            if ref == task.id or name == task.name:
                return task
        return None

    # --- runs ----------------------------------------------------------------------------
    async def start_run(
        self, task: TaskRecord, input: JSONInput, idempotency_key: str | None = None
    ) -> RunRecord:
        if idempotency_key is not None and idempotency_key in self.idempotency:
            return self.runs[self.idempotency[idempotency_key]]
        names = [p.name for p in task.parameters]
        if isinstance(input, list) and len(input) > len(names):
            raise InvalidRequest(f"{task.name} takes {len(names)} arguments, got {len(input)}")
        if isinstance(input, dict):
            for key in input:
                if key not in names:
                    raise InvalidRequest(f"{task.name} has no parameter {key!r}")
        run_id = f"trn-{next(self._ids):04d}"
        run = RunRecord(
            id=run_id,
            task_id=task.id,
            task_name=task.name,
            status=RunStatus.PENDING,
            input=input,
            parent_id="",
            root_id=run_id,
            created_at=T0,
        )
        self.runs[run_id] = run
        self.order.append(run_id)
        if idempotency_key is not None:
            self.idempotency[idempotency_key] = run_id
        self._changed(run)
        return run

    def add_child(self, parent_id: str, task: TaskRecord, input: JSONInput) -> RunRecord:
        """A subtask of ``parent_id``, pending."""
        parent = self.runs[parent_id]
        run_id = f"trn-{next(self._ids):04d}"
        run = RunRecord(
            id=run_id,
            task_id=task.id,
            task_name=task.name,
            status=RunStatus.PENDING,
            input=input,
            parent_id=parent.id,
            root_id=parent.root_id,
            created_at=T0,
        )
        self.runs[run_id] = run
        self.order.append(run_id)
        self._changed(run)
        return run

    def watch_states(self, callback: Callable[[RunRecord], None]) -> Callable[[], None]:
        self.state_listeners.append(callback)

        def withdraw() -> None:
            if callback in self.state_listeners:
                self.state_listeners.remove(callback)

        return withdraw

    def _changed(self, run: RunRecord) -> None:
        for listener in list(self.state_listeners):
            listener(run)

    async def get_run(self, run_id: str) -> RunRecord:
        run = self.runs.get(run_id)
        if run is None:
            raise NotFound(f"task run {run_id!r} not found")
        return run

    async def unknown_runs(self, run_ids: Sequence[str]) -> list[str]:
        return [run_id for run_id in dict.fromkeys(run_ids) if run_id not in self.runs]

    async def list_runs(
        self, filter: RunFilter, limit: int, cursor: str | None
    ) -> list[tuple[RunRecord, str]]:
        newest_first = list(reversed(self.order))
        if cursor is not None:
            if cursor not in newest_first:
                raise InvalidRequest(f"cursor {cursor!r} is not valid")
            newest_first = newest_first[newest_first.index(cursor) + 1 :]
        runs = [self.runs[i] for i in newest_first]
        if filter.task_id is not None:
            runs = [r for r in runs if r.task_id == filter.task_id]
        if filter.root_run_id is not None:
            runs = [r for r in runs if r.root_id == filter.root_run_id]
        if filter.statuses is not None:
            runs = [r for r in runs if r.status in filter.statuses]
        if filter.roots_only:
            runs = [r for r in runs if not r.parent_id]
        return [(r, r.id) for r in runs[:limit]]

    async def cancel_run(self, run_id: str) -> None:
        run = await self.get_run(run_id)
        if run.status.terminal:
            raise Conflict(f"task run {run_id} is already {run.status.value}")
        self.finish(run_id, RunStatus.CANCELED)

    def on_terminal(
        self, run_id: str, callback: Callable[[RunRecord], None]
    ) -> Callable[[], None] | None:
        run = self.runs.get(run_id)
        if run is None or run.status.terminal:
            return None
        listeners = self.listeners.setdefault(run_id, [])
        listeners.append(callback)

        def withdraw() -> None:
            if callback in listeners:
                listeners.remove(callback)

        return withdraw

    async def terminal_events(
        self, run_ids: list[str], after_seq: int | None = None
    ) -> AsyncIterator[RunRecord]:
        for run_id in run_ids:
            await self.get_run(run_id)
        queue: asyncio.Queue[RunRecord] = asyncio.Queue()
        self.subscribers.add(queue)
        self._notify()
        try:
            waiting = set(run_ids)
            for run_id in run_ids:
                run = self.runs[run_id]
                if run.status.terminal:
                    waiting.discard(run_id)
                    if after_seq is None or (run.event_seq or 0) > after_seq:
                        yield run
            while waiting:
                run = await queue.get()
                if run.id in waiting:
                    waiting.discard(run.id)
                    yield run
        finally:
            self.subscribers.discard(queue)
            self._notify()

    async def get_logs(
        self, run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[LogRecord], bool]:
        await self.get_run(run_id)
        lines = [x for x in self.logs.get(run_id, []) if cursor is None or x.seq > cursor]
        return lines[:limit], run_id in self.truncated

    # --- test controls -------------------------------------------------------------------
    def _notify(self) -> None:
        if self._subscribers_changed is not None:
            self._subscribers_changed.set()
            self._subscribers_changed = None

    async def wait_for_subscribers(self, count: int) -> None:
        """Return once exactly ``count`` event streams are subscribed."""
        while len(self.subscribers) != count:
            if self._subscribers_changed is None:
                self._subscribers_changed = asyncio.Event()
            await self._subscribers_changed.wait()

    def begin(self, run_id: str) -> None:
        run = self.runs[run_id]
        run.status = RunStatus.RUNNING
        run.started_at = T0
        run.attempts.append(AttemptRecord(number=1, status=RunStatus.RUNNING, started_at=T0))
        self._changed(run)

    def finish(
        self,
        run_id: str,
        status: RunStatus = RunStatus.COMPLETED,
        results: list[object] | None = None,
        error: str | None = None,
        reason: ReasonCode | None = None,
        detail: str | None = None,
    ) -> RunRecord:
        """End the run (and its attempt) with ``status``; ``reason`` and ``detail`` as the
        lifecycle would record them (None: as a record from before reasons were kept)."""
        run = self.runs[run_id]
        if not run.attempts and status is not RunStatus.CANCELED:
            self.begin(run_id)
        run.status = status
        run.completed_at = T0
        run.results = results
        run.error = error
        run.reason, run.reason_detail = reason, detail
        if run.attempts:
            attempt = run.attempts[-1]
            attempt.status = status
            attempt.completed_at = T0
            attempt.results = results
            attempt.error = error
            attempt.reason, attempt.reason_detail = reason, detail
        run.event_seq = next(self._seq)
        for listener in self.listeners.pop(run_id, []):
            listener(run)
        for queue in list(self.subscribers):
            queue.put_nowait(run)
        self._changed(run)
        return run

    def add_log(self, run_id: str, message: str, stream: str = "stdout") -> LogRecord:
        record = LogRecord(
            run_id=run_id,
            attempt=1,
            stream=stream,
            timestamp=T0,
            message=message,
            seq=next(self._log_seq),
        )
        self.logs.setdefault(run_id, []).append(record)
        return record
