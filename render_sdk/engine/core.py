"""The local engine's core: :class:`EngineCore` implements
:class:`~render_sdk.engine.interface.EngineCoreAPI`.

It wires the store (:mod:`~render_sdk.engine.store_sqlite`), the scheduler
(:mod:`~render_sdk.engine.scheduler`), the worker processes (:mod:`~render_sdk.engine.workers`)
and the callback API (:mod:`~render_sdk.engine.callbacks`). See docs/engine.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import shutil
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any

from render_sdk.engine import lifecycle
from render_sdk.engine._attempts import ActiveRun, Attempt
from render_sdk.engine._cursor import decode_cursor, encode_cursor
from render_sdk.engine._ids import new_node_id, new_run_id
from render_sdk.engine._logcapture import DEFAULT_LOG_LIMIT
from render_sdk.engine._validation import parse_task, validate_input
from render_sdk.engine.callbacks import CallbackAPI
from render_sdk.engine.fastlane import FastLane
from render_sdk.engine.interface import EngineConfig
from render_sdk.engine.nodes import Node
from render_sdk.engine.records import (
    EngineError,
    InvalidRequest,
    JSONInput,
    LogRecord,
    NotFound,
    RunFilter,
    RunRecord,
    RunStatus,
    TaskRecord,
)
from render_sdk.engine.scheduler import Scheduler, utcnow
from render_sdk.engine.store import InsertResult, Store
from render_sdk.engine.stores import make_store
from render_sdk.engine.worker_backend import ProcessWorkers, WorkerBackend
from render_sdk.engine.workers import AppLoadError, ServePool, WorkerStartError

__all__ = ["AppLoadError", "EngineCore", "WorkerStartError", "default_concurrency"]

_log = logging.getLogger("render_sdk.engine")
# Seconds between asks to cancel a run another node holds (it may be gone, its runs freed).
CANCEL_ASK_EVERY = 5.0


def default_concurrency(cpu_count: int | None = None) -> int:
    """The default limit of attempts running at once: ``max(8, min(32, 4 * CPUs))``.

    Tasks mostly wait (on APIs, databases, subtasks), and a reused worker process that has just
    posted its result waits for the engine to hand it the next run: more slots than CPUs keep
    the CPUs busy.

    >>> default_concurrency(2), default_concurrency(64)
    (8, 32)
    """
    cpus = cpu_count if cpu_count is not None else (os.cpu_count() or 1)
    return max(8, min(32, 4 * cpus))


def stored_statuses(shown: frozenset[RunStatus]) -> frozenset[RunStatus]:
    """The statuses a run may be stored with while the engine shows it in one of ``shown``.

    A listing shows an active run's state in memory. It differs from the stored one in one way
    only: an attempt's start is written before it is shown (docs/engine.md, "Recovery"), so for
    the length of that commit a run is stored ``running`` and shown ``pending``. Every other
    change is shown no earlier than its write is called, and a store's reads see every write
    called before them.

    >>> sorted(s.value for s in stored_statuses(frozenset({RunStatus.PENDING})))
    ['pending', 'running']
    """
    if RunStatus.PENDING in shown:
        return shown | {RunStatus.RUNNING}
    return shown


def snapshot(rec: RunRecord) -> RunRecord:
    """A copy of ``rec`` that later state changes do not touch."""
    return rec.copy()


class EngineCore:
    """The engine's store, scheduler and workers behind the
    :class:`~render_sdk.engine.interface.EngineCoreAPI` seam.

        core = EngineCore(EngineConfig(db_path=":memory:", app_target="main:app"))
        await core.start()
        run = await core.start_run(await core.find_task("square"), [3])
    """

    def __init__(
        self,
        config: EngineConfig,
        *,
        store: Store | None = None,
        workers: WorkerBackend | None = None,
        serve_command: list[str] | None = None,
        log_limit: int = DEFAULT_LOG_LIMIT,
    ) -> None:
        if (config.app_target is None) == (config.start_command is None):
            raise ValueError("EngineConfig needs exactly one of app_target and start_command")
        if config.start_command is not None and not config.start_command:
            raise ValueError("EngineConfig.start_command is empty")
        self.config = config
        self.limit = config.max_concurrency or default_concurrency()
        if self.limit < 1:
            raise ValueError(f"max_concurrency must be at least 1, got {self.limit}")
        self.store: Store = store or make_store(config.db_path, durable=config.durable)
        self.node = Node(self.store, new_node_id(), config.lease_seconds)
        self._serve_command = serve_command
        self._log_limit = log_limit
        self._tasks: dict[str, TaskRecord] = {}
        self._tasks_by_id: dict[str, TaskRecord] = {}
        self._registering: asyncio.Future[None] | None = None
        self._callbacks = CallbackAPI(self)
        self._scheduler: Scheduler | None = None
        self._fast_lane: FastLane | None = None
        self._workers = workers
        self._cursor_key = b""
        self.socket_dir: Path | None = None
        self._own_socket_dir = False
        self._started = False

    # --- life cycle -----------------------------------------------------------------------------
    @property
    def scheduler(self) -> Scheduler:
        """The running scheduler (RuntimeError before :meth:`start`)."""
        if self._scheduler is None:
            raise RuntimeError("the engine is not started (await EngineCore.start() first)")
        return self._scheduler

    @property
    def fast_lane(self) -> FastLane:
        """How new runs get in (RuntimeError before :meth:`start`)."""
        if self._fast_lane is None:
            raise RuntimeError("the engine is not started (await EngineCore.start() first)")
        return self._fast_lane

    @property
    def workers(self) -> WorkerBackend:
        """Where attempts run (RuntimeError before :meth:`start`)."""
        if self._workers is None:
            raise RuntimeError("the engine is not started (await EngineCore.start() first)")
        return self._workers

    @property
    def pool(self) -> ServePool | None:
        """The pool of reused worker processes, if attempts run on one."""
        return self._workers.pool if isinstance(self._workers, ProcessWorkers) else None

    def _worker_command(self) -> list[str]:
        if self.config.start_command is not None:
            return list(self.config.start_command)
        if self._serve_command is not None:
            return list(self._serve_command)
        assert self.config.app_target is not None
        return [sys.executable, "-m", "render_sdk.cli", self.config.app_target]

    def _make_socket_dir(self) -> Path:
        if self.config.socket_dir is None:
            self._own_socket_dir = True
            return Path(tempfile.mkdtemp(prefix="render-engine-"))
        path = Path(self.config.socket_dir)
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
        return path

    async def start(self) -> None:
        """Open the store, register the tasks, pre-start workers, recover unfinished runs."""
        counters = await self.store.open()
        try:
            self._cursor_key = counters.cursor_key
            for task in await self.store.load_tasks():
                self._tasks_by_id[task.id] = task
            if self._workers is None:
                self.socket_dir = self._make_socket_dir()
                self._workers = ProcessWorkers(
                    self._worker_command(),
                    Path(self.config.cwd),
                    dict(self.config.env),
                    self.socket_dir,
                    self._callbacks.handle,
                    serve=self.config.app_target is not None,
                    prestart=min(self.limit, 8),
                    max_runs=self.config.worker_max_runs,
                    max_rss_mb=self.config.worker_max_rss_mb,
                )
            self._scheduler = Scheduler(
                self.store,
                limit=self.limit,
                event_seq=counters.event_seq,
                log_seq=counters.log_seq,
                workers=self._workers,
                log_limit=self._log_limit,
            )
            self._fast_lane = FastLane(self._scheduler, self.store, self.node)
            shared = self.node.shared
            if shared is not None:
                self._scheduler.on_slot_freed = self.node.slot_freed
                self._scheduler.on_log_block_low = self.node.log_block_low
                self._scheduler.on_run_ended = self.node.ended
            # Register first: an app that cannot load is then reported once, not once per
            # pre-started worker.
            await self._register()
            await self._workers.open()
            await self._recover()
        except BaseException:
            await self._shutdown()
            raise
        self._started = True

    async def _recover(self) -> None:
        """Join the store as a node and take up the runs nobody holds (with a single-node store:
        every unfinished run; their running attempts were interrupted by the sweep)."""
        claimed, freed = await self.node.join()
        if self.node.shared is not None:
            self.scheduler.log_block(await self.node.shared.log_block())
        await self.take(claimed, freed)
        self.node.start(self)
        _log.info("engine started: %d task(s), concurrency %d", len(self._tasks), self.limit)

    # --- this engine as a node of its store (render_sdk/engine/nodes.py) -----------------------
    async def take(
        self, records: list[RunRecord], freed: set[str] | frozenset[str] = frozenset()
    ) -> None:
        """Run these runs claimed by this node (``freed``: those whose attempt a sweep has just
        recorded as interrupted, told on the console)."""
        for rec in records:
            if rec.id in self.scheduler.active:
                continue
            task = self._tasks.get(rec.task_name)
            run = ActiveRun(rec, task or self._tasks_by_id.get(rec.task_id) or _placeholder(rec))
            if task is None:
                await self.scheduler.fail_unrunnable(run, lifecycle.task_gone(rec.task_name))
                continue
            if rec.id in freed:
                self.scheduler.log_state(rec)
            self.scheduler.admit(run)

    def free_slots(self) -> int:
        """How many more runs could start now."""
        scheduler = self.scheduler
        return scheduler.limit - scheduler.busy() - len(scheduler.queue)

    def log_block(self, start: int) -> None:
        self.scheduler.log_block(start)

    async def share_queued(self) -> None:
        """Give up this node's hold on the queued runs it kept because no other node could
        run them, now that one can: never started, of a task :meth:`Node.shares
        <render_sdk.engine.nodes.Node.shares>`, and not a subtask of a run here (its parent
        waits for it in memory). Whoever waits here for one of them is told of its end wherever
        it runs. Runs this node claimed are its share already: they stay."""
        shared = self.node.shared
        if shared is None:
            return
        active = self.scheduler.active
        runs = self.scheduler.unqueue(
            lambda run: (
                run.kept_alone
                and not run.record.attempts
                and not run.canceling
                and run.record.parent_id not in active
                and self.node.shares(run.record.task_name)
            )
        )
        if not runs:
            return
        try:
            await shared.release_runs(self.node.id, [run.record.id for run in runs])
        except BaseException:
            for run in runs:  # still this node's on disk: queued here again
                self.scheduler.admit(run)
            raise
        for run in runs:
            run.kept_alone = False
            for listener in run.listeners:
                self.node.watch(run.record.id, listener)
            run.listeners.clear()
        _log.info("node %s: %d queued run(s) left for any node to claim", self.node.id, len(runs))

    async def cancel_here(self, run_id: str, ancestor: str | None = None) -> None:
        """A cancel of ``run_id`` (of ``ancestor``, a run above it, if given) was asked for:
        cancel it and what is below it if this node holds it."""
        active = self.scheduler.active.get(run_id)
        if active is None:
            return
        if ancestor is not None:
            active.cancel_reason = lifecycle.ancestor_canceled(ancestor)
        with contextlib.suppress(EngineError):
            await self.scheduler.cancel(run_id, None)
        await self._cancel_below(run_id)

    async def stop(self) -> None:
        """Stop scheduling; kill running attempts (they run again at the next start)."""
        await self._shutdown()

    async def _shutdown(self) -> None:
        if self._scheduler is not None:
            await self._scheduler.stop()
        if self._workers is not None:
            await self._workers.close()
        try:
            await self.node.leave()
        except Exception as exc:  # the database is out of reach: the lease runs out instead
            _log.warning(
                "could not free this node's runs as it stops (%s): the next start, or another "
                "node once this one's lease lapses, takes them",
                exc,
            )
        finally:
            await self.store.close()
        if self.socket_dir is not None and self._own_socket_dir:
            shutil.rmtree(self.socket_dir, ignore_errors=True)
        self._started = False

    # --- tasks --------------------------------------------------------------------------------
    def parse_tasks(self, raw: list[Any]) -> list[TaskRecord]:
        """Registered task objects of the callback API as records (InvalidRequest if bad)."""
        now = utcnow()
        return [parse_task(item, now, self.config.min_timeout_seconds) for item in raw]

    async def _register(self) -> None:
        """Run the worker once in register mode and store the tasks it reports."""
        tasks = await self.workers.register()
        merged: list[TaskRecord] = []
        for task in tasks:
            known = self._tasks_by_id.get(task.id)
            if known is not None:
                task = dataclasses.replace(task, created_at=known.created_at)
            merged.append(task)
        await self.store.save_tasks(merged)
        changed = {t.name: t for t in merged} != self._tasks
        self._tasks = {t.name: t for t in merged}
        for task in merged:
            self._tasks_by_id[task.id] = task
        await self.node.define(merged)
        if changed and self._started:
            self.workers.recycle()

    def list_tasks(self) -> list[TaskRecord]:
        """Registered tasks, oldest first."""
        return sorted(self._tasks.values(), key=lambda t: (t.created_at, t.name))

    def _resolve_task(self, ref: str) -> TaskRecord | None:
        by_id = self._tasks_by_id.get(ref)
        if by_id is not None and by_id.name in self._tasks:
            return self._tasks[by_id.name]
        return self._tasks.get(_task_name(ref))

    async def _task_elsewhere(self, ref: str) -> TaskRecord | None:
        """A task that another live node defines and this one does not (a shared store): its
        runs are stored for a node that defines it to claim."""
        by_id = self._tasks_by_id.get(ref)
        name = by_id.name if by_id is not None else _task_name(ref)
        if not await self.node.defined_elsewhere(name):
            return None
        for _ in range(2):
            found = [t for t in self._tasks_by_id.values() if t.name == name]
            if found:
                return found[0]
            for task in await self.store.load_tasks():  # saved by a node that joined since
                self._tasks_by_id.setdefault(task.id, task)
        return None

    async def find_task(self, ref: str) -> TaskRecord | None:
        """A task by bare name, ``anything/name[:version]`` or id; with a shared store, also one
        that only other live nodes define; re-registers once if unknown."""
        task = self._resolve_task(ref)
        if task is not None:
            return task
        if self.node.shared is not None:
            task = await self._task_elsewhere(ref)
            if task is not None:
                return task
        if self._registering is None:
            self._registering = asyncio.ensure_future(self._register())
            try:
                await asyncio.shield(self._registering)
            except WorkerStartError as exc:
                _log.error("re-registering tasks failed: %s", exc)
            finally:
                self._registering = None
        else:
            with contextlib.suppress(WorkerStartError):
                await asyncio.shield(self._registering)
        return self._resolve_task(ref)

    # --- runs ---------------------------------------------------------------------------------
    def _new_run(self, task: TaskRecord, value: JSONInput, parent: RunRecord | None) -> RunRecord:
        run_id = new_run_id()
        return RunRecord(
            id=run_id,
            task_id=task.id,
            task_name=task.name,
            status=RunStatus.PENDING,
            input=value,
            parent_id=parent.id if parent else "",
            root_id=parent.root_id if parent else run_id,
            created_at=utcnow(),
        )

    async def _create(
        self,
        task: TaskRecord,
        value: JSONInput,
        parent: ActiveRun | None,
        scope: tuple[str, str] | None,
    ) -> RunRecord:
        task = self._tasks.get(task.name, task)
        validate_input(task, value)
        rec = self._new_run(task, value, parent.record if parent else None)
        if parent is not None and parent.attempt is not None:
            rec.parent_attempt = parent.attempt.number - 1
        created = await self.fast_lane.create(
            ActiveRun(rec, task), scope, subtask=parent is not None, here=task.name in self._tasks
        )
        if isinstance(created, InsertResult):  # the idempotency key was taken
            return await self.get_run(created.run_id)
        return created

    async def start_run(
        self, task: TaskRecord, input: JSONInput, idempotency_key: str | None = None
    ) -> RunRecord:
        """Validate, commit the new pending run, queue it; an idempotency key returns its run."""
        scope = ("rest", idempotency_key) if idempotency_key is not None else None
        return await self._create(task, input, None, scope)

    async def start_subtask(
        self, parent: ActiveRun, task: TaskRecord, input: JSONInput, key: str | None
    ) -> RunRecord:
        """Start ``task`` as a subtask of ``parent``; ``key`` is unique per parent run."""
        scope = (f"subtask:{parent.record.id}", key) if key is not None else None
        return await self._create(task, input, parent, scope)

    def wait_for(self, attempt: Attempt, subtask: ActiveRun | None) -> None:
        """The callback API's: ``attempt`` waits for ``subtask`` (None: for nothing)."""
        self.scheduler.wait_for(attempt, subtask)

    async def hold_for(self, attempt: Attempt, subtask: ActiveRun, seconds: float) -> None:
        """The callback API's: hold ``attempt`` until ``subtask`` settles or ``seconds`` pass."""
        await self.scheduler.hold_for(attempt, subtask, seconds)

    async def hold_for_stored(self, attempt: Attempt, run_id: str, seconds: float) -> None:
        """The callback API's: hold ``attempt`` (holding no slot) until ``run_id``, a subtask
        that another node runs, is terminal, or ``seconds`` pass."""
        if self.node.shared is None:
            return
        ended: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        withdraw = self.node.watch(run_id, _settler(ended))
        try:
            await self.scheduler.hold_until(attempt, ended, seconds)
        finally:
            withdraw()

    async def lookup_run(self, run_id: str) -> ActiveRun | RunRecord | None:
        """The active run (memory) or the stored record, None if unknown."""
        found = self.scheduler.lookup(run_id)
        if found is not None:
            return found
        return await self.store.get_run(run_id)

    async def lookup_runs(self, run_ids: Sequence[str]) -> dict[str, ActiveRun | RunRecord]:
        """:meth:`lookup_run` of many runs: those in memory, and the others read together (one
        read of the store); unknown ids are left out."""
        found: dict[str, ActiveRun | RunRecord] = {}
        unread = []
        for run_id in dict.fromkeys(run_ids):
            known = self.scheduler.lookup(run_id)
            if known is None:
                unread.append(run_id)
            else:
                found[run_id] = known
        if unread:
            found.update(await self.store.get_runs(unread))
        return found

    async def unknown_runs(self, run_ids: Sequence[str]) -> list[str]:
        """Those of ``run_ids`` that name no run, in order (all checked in one read)."""
        found = await self.lookup_runs(run_ids)
        return [run_id for run_id in dict.fromkeys(run_ids) if run_id not in found]

    async def get_run(self, run_id: str) -> RunRecord:
        """The run with its attempts; NotFound if unknown."""
        found = await self.lookup_run(run_id)
        if found is None:
            raise NotFound(f"task run {run_id} not found")
        return snapshot(found.record if isinstance(found, ActiveRun) else found)

    async def list_runs(
        self, filter: RunFilter, limit: int, cursor: str | None
    ) -> list[tuple[RunRecord, str]]:
        """Newest first, keyset-paginated; a malformed or forged cursor is InvalidRequest."""
        if not 1 <= limit <= 100:
            raise InvalidRequest(f"limit must be between 1 and 100, got {limit}")
        before = decode_cursor(cursor, self._cursor_key) if cursor else None
        stored = filter
        if filter.statuses is not None:
            stored = dataclasses.replace(filter, statuses=stored_statuses(filter.statuses))
        out: list[tuple[RunRecord, str]] = []
        while True:
            rows = await self.store.list_runs(stored, limit, before)
            for rec, position in rows:
                active = self.scheduler.active.get(rec.id)
                if active is not None:
                    rec = snapshot(active.record)
                if filter.statuses is not None and rec.status not in filter.statuses:
                    continue  # stored with a status it does not show yet
                out.append((rec, encode_cursor(position, self._cursor_key)))
                if len(out) == limit:
                    return out
            if len(rows) < limit:
                return out
            before = rows[-1][1]

    async def cancel_run(self, run_id: str) -> None:
        """Cancel a pending or running run and its whole subtree (with a shared store, on
        whichever nodes they are)."""
        stored = None
        if run_id not in self.scheduler.active:
            found = await self.lookup_run(run_id)
            stored = found.record if isinstance(found, ActiveRun) else found
            if stored is not None and not stored.status.terminal and self.node.shared:
                await self._cancel_elsewhere(run_id)
                return
        await self.scheduler.cancel(run_id, stored)
        if self.node.shared is not None:
            await self._cancel_below(run_id)

    async def _cancel_elsewhere(self, run_id: str, ancestor: str | None = None) -> None:
        """Cancel ``run_id``, which this node does not hold: take it if nobody holds it, else
        ask its node (again, while it is not terminal: its node may be gone meanwhile)."""
        shared = self.node.shared
        assert shared is not None
        loop = asyncio.get_running_loop()
        while True:
            ended: asyncio.Future[None] = loop.create_future()
            withdraw = self.node.watch(run_id, _settler(ended))
            try:
                taken = await shared.claim_run(self.node.id, run_id)
                if taken is not None:  # nobody held it: it is canceled here, never started
                    task = self._tasks_by_id.get(taken.task_id) or _placeholder(taken)
                    run = ActiveRun(taken, self._tasks.get(taken.task_name, task))
                    run.canceling = True
                    if ancestor is not None:
                        run.cancel_reason = lifecycle.ancestor_canceled(ancestor)
                    self.scheduler.admit(run)
                    with contextlib.suppress(EngineError):
                        await self.scheduler.cancel(run_id, None)
                    await self._cancel_below(run_id)
                    return
                await shared.request_cancel(run_id, ancestor)
                await asyncio.wait([ended], timeout=CANCEL_ASK_EVERY)
            finally:
                withdraw()
            if ended.done():
                return
            found = await self.store.get_run(run_id)
            if found is None or found.status.terminal:
                return

    async def _cancel_below(self, run_id: str) -> None:
        """Cancel the runs below ``run_id`` that other nodes hold (this node's are canceled)."""
        root = await self.store.get_run(run_id)
        if root is None:
            return
        below: dict[str, list[RunRecord]] = {}
        before = None
        unfinished = frozenset({RunStatus.PENDING, RunStatus.RUNNING})
        while True:
            page = await self.store.list_runs(
                RunFilter(root_run_id=root.root_id, statuses=unfinished), 100, before
            )
            for rec, _ in page:
                below.setdefault(rec.parent_id, []).append(rec)
            if len(page) < 100:
                break
            before = page[-1][1]
        stack = [run_id]
        waits = []
        while stack:
            for child in below.get(stack.pop(), []):
                stack.append(child.id)
                if child.id not in self.scheduler.active:
                    waits.append(self._cancel_elsewhere(child.id, run_id))
        await asyncio.gather(*waits)

    def on_terminal(
        self, run_id: str, callback: Callable[[RunRecord], None]
    ) -> Callable[[], None] | None:
        """Call ``callback`` with the run when it turns terminal; None if it is not active
        here, except with a store that several nodes share, where the run is watched wherever
        it runs (and the callback called at once if it has ended)."""
        active = self.scheduler.active.get(run_id)
        if active is None:
            if self.node.shared is not None:
                return self.node.watch(run_id, callback)
            return None
        listeners = active.listeners
        listeners.append(callback)

        def withdraw() -> None:
            with contextlib.suppress(ValueError):
                listeners.remove(callback)

        return withdraw

    def watch_states(self, callback: Callable[[RunRecord], None]) -> Callable[[], None]:
        """Call ``callback`` with every run whose state changes (created, started, retrying,
        ended), in the engine's loop; returns the function that stops the calls. The record is
        the engine's own: read it at once, do not keep or change it."""
        listeners = self.scheduler.state_listeners
        listeners.append(callback)

        def withdraw() -> None:
            with contextlib.suppress(ValueError):
                listeners.remove(callback)

        return withdraw

    async def terminal_events(
        self, run_ids: list[str], after_seq: int | None = None
    ) -> AsyncIterator[RunRecord]:
        """Yield each run once, when it is terminal; NotFound for unknown ids before anything."""
        queue: asyncio.Queue[RunRecord] = asyncio.Queue()
        watched: list[ActiveRun] = []
        elsewhere: list[Callable[[], None]] = []  # withdraws of runs on other nodes
        ready: list[RunRecord] = []
        try:
            found = await self.lookup_runs(run_ids)
            unknown = [run_id for run_id in run_ids if run_id not in found]
            if unknown:
                raise NotFound(f"task run {unknown[0]} not found")
            for run_id, known in found.items():
                # As it is now: it may have started or ended here while the others were read.
                known = self.scheduler.lookup(run_id) or known
                if isinstance(known, ActiveRun) and known.done.is_set():
                    known = known.record
                if isinstance(known, ActiveRun):
                    known.listeners.append(queue.put_nowait)
                    watched.append(known)
                elif not known.status.terminal and self.node.shared is not None:
                    elsewhere.append(self.node.watch(run_id, queue.put_nowait))
                else:
                    ready.append(known)
            # In event-id order, so a reconnect with Last-Event-ID resumes without a gap.
            ready.sort(key=lambda rec: rec.event_seq or 0)
            for rec in ready:
                if after_seq is None or (rec.event_seq or 0) > after_seq:
                    yield snapshot(rec)
            for _ in range(len(watched) + len(elsewhere)):
                rec = await queue.get()
                if after_seq is None or (rec.event_seq or 0) > after_seq:
                    yield snapshot(rec)
        finally:
            for active in watched:
                with contextlib.suppress(ValueError):
                    active.listeners.remove(queue.put_nowait)
            for withdraw in elsewhere:
                withdraw()

    async def get_logs(
        self, run_id: str, limit: int, cursor: int | None
    ) -> tuple[list[LogRecord], bool]:
        """Log lines of a run after ``cursor``, oldest first, and whether capture was truncated."""
        if await self.lookup_run(run_id) is None:
            raise NotFound(f"task run {run_id} not found")
        return await self.store.get_logs(run_id, cursor, limit)


def _settler(future: asyncio.Future[None]) -> Callable[[Any], None]:
    """A callback that resolves ``future`` (once)."""

    def settle(_: Any) -> None:
        if not future.done():
            future.set_result(None)

    return settle


def _task_name(ref: str) -> str:
    """The task name in ``anything/name[:version]`` (or a bare name).

    >>> _task_name("my-workflow/square:3"), _task_name("square")
    ('square', 'square')
    """
    name = ref.rsplit("/", 1)[-1]
    return name.split(":", 1)[0] if ":" in name else name


def _placeholder(rec: RunRecord) -> TaskRecord:
    return TaskRecord(id=rec.task_id, name=rec.task_name, created_at=rec.created_at)
