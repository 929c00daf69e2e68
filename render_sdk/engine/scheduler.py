"""The scheduler: queue, concurrency limit, attempts, retries, timeouts, cancel, terminal events.

Runs that are not terminal live in memory as :class:`~render_sdk.engine._attempts.ActiveRun`.
A queued run starts as soon as fewer than ``limit`` attempts hold a slot; an attempt that waits for
a subtask's result holds no slot, so a parent never starves its own children. Every state change is
written through the store; a terminal change is committed before anyone hears of it.
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Callable, Coroutine
from datetime import datetime, timedelta, timezone
from typing import Any

from render_sdk.engine import lifecycle
from render_sdk.engine._attempts import ActiveRun, Attempt
from render_sdk.engine._ids import new_attempt_token
from render_sdk.engine._logcapture import DEFAULT_LOG_LIMIT, AttemptLog
from render_sdk.engine.lifecycle import (
    INTERRUPTED_ERROR,
    Canceled,
    Crashed,
    Errored,
    Interrupted,
    Outcome,
    Reason,
    RunEvent,
    TimedOut,
)
from render_sdk.engine.reasons import console_line
from render_sdk.engine.records import AttemptRecord, Conflict, NotFound, RunRecord
from render_sdk.engine.store import LOG_BLOCK, Store
from render_sdk.engine.worker_backend import WorkerBackend
from render_sdk.engine.workers import WorkerStartError

runs_logger = logging.getLogger("render_sdk.engine.runs")
_RECENT = 2000  # terminal runs kept in memory for fast reads
# An attempt that is still running after this many seconds has its start written; a shorter one
# is written once, with its outcome (one write per run fewer for short tasks).
RECORD_START_AFTER = 0.05
__all__ = ["INTERRUPTED_ERROR", "RECORD_START_AFTER", "Scheduler", "utcnow"]


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Scheduler:
    """Drives active runs through attempts to a terminal state.

    scheduler = Scheduler(store, limit=4, event_seq=0, log_seq=0, workers=workers)
    scheduler.admit(ActiveRun(record, task))
    """

    def __init__(
        self,
        store: Store,
        *,
        limit: int,
        event_seq: int,
        log_seq: int,
        workers: WorkerBackend,
        log_limit: int = DEFAULT_LOG_LIMIT,
    ) -> None:
        self.store = store
        self.limit = limit
        self._event_seq = event_seq
        self._log_seq = log_seq
        self.workers = workers
        self.log_limit = log_limit
        self.active: dict[str, ActiveRun] = {}
        self.recent: collections.OrderedDict[str, RunRecord] = collections.OrderedDict()
        self.queue: collections.deque[ActiveRun] = collections.deque()
        self.running: set[Attempt] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # Called with each run whose state changed (see EngineCore.watch_states).
        self.state_listeners: list[Callable[[RunRecord], None]] = []
        # With a store several nodes share (store.shared): terminal event ids come from the
        # store, given as it writes each end (so no two nodes hand out the same), and what to
        # call when a slot frees up (the node may claim work then). With a single-node store:
        # counters in memory, no claims.
        self.on_slot_freed: Callable[[], None] | None = None
        self.on_log_block_low: Callable[[], None] | None = None
        # Called with each run that ended here, after its listeners (with a store that several
        # nodes share: the node's watchers of it hear it without reading it back).
        self.on_run_ended: Callable[[RunRecord], None] | None = None
        self._log_refill_at: int | None = None

    # --- bookkeeping --------------------------------------------------------------------------
    def next_log_seq(self) -> int:
        """The next log line sequence number (monotonic over the store's life)."""
        self._log_seq += 1
        if self._log_refill_at is not None and self._log_seq >= self._log_refill_at:
            self._log_refill_at = None  # half the block is used: the node takes a fresh one
            if self.on_log_block_low is not None:
                self.on_log_block_low()
        return self._log_seq

    def log_block(self, start: int) -> None:
        """Number log lines from ``start`` on: a block of LOG_BLOCK numbers of a store that
        several nodes share."""
        self._log_seq = start - 1
        self._log_refill_at = start + LOG_BLOCK // 2

    def _background(self, coro: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            runs_logger.error("engine task failed", exc_info=task.exception())

    def log_state(self, rec: RunRecord, retry_in: float | None = None) -> None:
        """Tell the state listeners, and write one line on ``render_sdk.engine.runs``: task,
        run id, parent, status, duration, and why (the inspector's reasons, engine/reasons.py).
        """
        for listener in self.state_listeners:
            listener(rec)
        if runs_logger.isEnabledFor(logging.INFO):
            runs_logger.info("%s", console_line(rec, retry_in))

    def lookup(self, run_id: str) -> ActiveRun | RunRecord | None:
        """The active run, or a recently finished record, from memory only."""
        active = self.active.get(run_id)
        if active is not None:
            return active
        return self.recent.get(run_id)

    # --- queueing -----------------------------------------------------------------------------
    def admit(self, run: ActiveRun) -> None:
        """Take a pending run into memory and queue it (at its ``not_before``, if it is in a
        retry wait)."""
        self.active[run.record.id] = run
        parent = self.active.get(run.record.parent_id) if run.record.parent_id else None
        if parent is not None:
            parent.children.append(run.record.id)
        if run.record.not_before is not None:
            wait = (run.record.not_before - utcnow()).total_seconds()
            if wait > 0 and not self._stopping:
                loop = asyncio.get_running_loop()
                run.retry_timer = loop.call_later(wait, self._enqueue, run)
                return
        self._enqueue(run)

    def _enqueue(self, run: ActiveRun) -> None:
        run.retry_timer = None
        if run.canceling or self._stopping:
            return
        run.queued = True
        self.queue.append(run)
        self.pump()

    def unqueue(self, which: Callable[[ActiveRun], bool]) -> list[ActiveRun]:
        """Take the queued runs ``which`` selects out of the queue and out of memory (to be
        held by another node); :meth:`admit` takes one back."""
        taken: list[ActiveRun] = []
        kept: list[ActiveRun] = []
        for run in self.queue:
            if run.queued:
                (taken if which(run) else kept).append(run)
        if taken:
            self.queue.clear()
            self.queue.extend(kept)
            for run in taken:
                run.queued = False
                self.active.pop(run.record.id, None)
        return taken

    def busy(self) -> int:
        """Attempts holding a concurrency slot."""
        return sum(1 for attempt in self.running if not attempt.blocked)

    def pump(self) -> None:
        """Start queued runs while slots are free."""
        if self._stopping:
            return
        busy = self.busy()
        while self.queue and busy < self.limit:
            run = self.queue.popleft()
            if not run.queued:
                continue
            run.queued = False
            attempt = self._new_attempt(run)
            busy += 1
            self._background(self._run_attempt(run, attempt, None))

    def _new_attempt(self, run: ActiveRun) -> Attempt:
        """The next attempt of ``run``, holding a slot from now on."""
        number = len(run.record.attempts) + 1
        token = new_attempt_token()
        log = AttemptLog(
            run.record.id,
            number,
            run.record.task_name,
            self.store.append_logs,
            self.next_log_seq,
            self.store.mark_logs_truncated,
            token=token,
            limit=self.log_limit,
        )
        attempt = Attempt(run, number, token, log)
        run.attempt = attempt
        self.running.add(attempt)
        return attempt

    # --- attempts waiting for subtasks ------------------------------------------------------
    def wait_for(self, attempt: Attempt, subtask: ActiveRun | None) -> None:
        """``attempt`` waits for ``subtask`` (None: for nothing): while it is not settled, the
        attempt holds no slot."""
        attempt.awaiting = subtask
        if subtask is not None:
            self.pump()

    async def hold_for(self, attempt: Attempt, subtask: ActiveRun, seconds: float) -> None:
        """Hold ``attempt``, which holds no slot meanwhile, until ``subtask`` settles or
        ``seconds`` pass."""
        attempt.long_polls += 1
        self.pump()
        try:
            await asyncio.wait_for(subtask.settled.wait(), seconds)
        except asyncio.TimeoutError:
            pass
        finally:
            attempt.long_polls -= 1

    async def hold_until(
        self, attempt: Attempt, ended: asyncio.Future[None], seconds: float
    ) -> None:
        """Hold ``attempt``, which holds no slot meanwhile, until ``ended`` is done or
        ``seconds`` pass."""
        attempt.long_polls += 1
        self.pump()
        try:
            await asyncio.wait([ended], timeout=seconds)
        finally:
            attempt.long_polls -= 1

    # --- the fast lane: a new run that can start at once ----------------------------------------
    def reserve(self, run: ActiveRun) -> Attempt | None:
        """The first attempt of a new run if it can start at once (nothing queued, a free slot,
        an idle worker), else None. The caller writes the run already running with this attempt
        in its insert (one commit instead of two), then calls :meth:`admit_started` or
        :meth:`unreserve`."""
        if self._stopping or self.queue or self.busy() >= self.limit:
            return None
        if not self.workers.idle():
            return None
        return self._new_attempt(run)

    def unreserve(self, attempt: Attempt) -> None:
        """Give back a reservation whose run was not created."""
        self.running.discard(attempt)
        attempt.run.attempt = None
        self.pump()

    def admit_started(self, run: ActiveRun, attempt: Attempt, started: AttemptRecord) -> None:
        """Take in a new run whose insert already recorded ``attempt`` as running."""
        self.active[run.record.id] = run
        parent = self.active.get(run.record.parent_id) if run.record.parent_id else None
        if parent is not None:
            parent.children.append(run.record.id)
        if self._stopping:  # it is running on disk: the next start recovers it
            self.running.discard(attempt)
            return
        self._background(self._run_attempt(run, attempt, started))

    # --- one attempt --------------------------------------------------------------------------
    async def _run_attempt(
        self, run: ActiveRun, attempt: Attempt, published: AttemptRecord | None
    ) -> None:
        """Execute ``attempt``; ``published`` is its record when the run's insert already
        wrote it (the fast lane), else the start is written here."""
        rec = run.record
        now = utcnow()
        loop = asyncio.get_running_loop()
        start_saved: asyncio.Future[None] | None = None
        start_timer: asyncio.TimerHandle | None = None
        if published is None:
            started = lifecycle.new_attempt(rec, now)
            # An attempt's start is written only once it has run for RECORD_START_AFTER; a
            # shorter attempt is written once, with its outcome (a crash before then leaves
            # the run pending on disk: it runs again). The run is reported running only once
            # its start is on disk, so a run reported as running is recovered as interrupted.

            def save_start() -> None:
                nonlocal start_saved
                start_saved = asyncio.ensure_future(self._save_start(rec, started, now))

            start_timer = loop.call_later(RECORD_START_AFTER, save_start)
        else:
            started = published
        timer = None
        if run.task.timeout_seconds:
            timer = loop.call_later(
                run.task.timeout_seconds, attempt.resolve, TimedOut(run.task.timeout_seconds)
            )
        try:
            try:
                await self.workers.start_attempt(attempt)
            except WorkerStartError as exc:
                attempt.resolve(Crashed(str(exc)))
            if published is not None:
                self.log_state(rec)
            outcome = await attempt.outcome
            unshown = False  # a short attempt's start: shown and written with its outcome
            if start_timer is not None:
                start_timer.cancel()
                if start_saved is not None:
                    await start_saved  # the start is on disk and in the record
                else:
                    unshown = True
            if timer is not None:
                timer.cancel()
            await self.workers.end_attempt(attempt, outcome)
            if not attempt.released.done():
                attempt.released.set_result(None)
            if isinstance(outcome, Errored) and outcome.stack_trace:
                attempt.log.add("stderr", outcome.stack_trace.rstrip("\n").split("\n"))
            if isinstance(outcome, Interrupted):
                self.running.discard(attempt)
                return
            if unshown:
                # Only now, with the outcome's write called in the same step: a run is never
                # shown running while it is stored pending (EngineCore.list_runs relies on it).
                lifecycle.start(rec, started, now)
            await self._settle(run, attempt, outcome)
        finally:
            if start_timer is not None:
                start_timer.cancel()
            self.running.discard(attempt)
            for future in (attempt.released, attempt.finished):
                if not future.done():
                    future.set_result(None)
            self.pump()
            if self.on_slot_freed is not None and not self.queue:
                self.on_slot_freed()

    async def _save_start(self, rec: RunRecord, started: AttemptRecord, now: datetime) -> None:
        """Write the start of a still running attempt, then show it in the record."""
        await self.store.save_run(lifecycle.started_copy(rec, started, now))
        lifecycle.start(rec, started, now)
        self.log_state(rec)

    async def _settle(self, run: ActiveRun, attempt: Attempt, outcome: Outcome) -> None:
        rec = run.record
        if attempt.startup:
            rec.attempts[-1].startup = attempt.startup
        self.running.discard(attempt)
        self.pump()
        canceling = None
        if run.canceling:
            canceling = run.cancel_reason or lifecycle.CANCELED_BY_REQUEST
        settled = lifecycle.settle(
            rec,
            outcome,
            utcnow(),
            retry=run.task.retry,
            plan=run.task.plan,
            cancel_reason=canceling,
            may_retry=not self._stopping,
        )
        if settled.event is not RunEvent.RETRY:
            await self._terminal(run, settled.event, settled.reason, settled.results)
            return
        delay = settled.retry_after or 0.0
        lifecycle.retry_wait(rec, settled.reason, utcnow() + timedelta(seconds=delay))
        run.attempt = None
        await self.store.save_run(rec)
        self.log_state(rec, retry_in=settled.retry_after)
        if not run.canceling:
            loop = asyncio.get_running_loop()
            run.retry_timer = loop.call_later(delay, self._enqueue, run)

    async def _terminal(
        self,
        run: ActiveRun,
        event: RunEvent,
        reason: Reason,
        results: list[Any] | None = None,
    ) -> None:
        rec = run.record
        if run.done.is_set() or rec.status.terminal:
            return  # it ended another way first (a cancel racing an outcome)
        seq: int | None = None  # with a shared store: given by the store as it writes the end
        if not self.store.shared:
            self._event_seq += 1
            seq = self._event_seq
        lifecycle.finish(rec, event, reason, utcnow(), seq, results)
        run.attempt = None
        committed = self.store.save_run(rec)
        run.settled.set()
        self.pump()  # a parent waiting for this run holds its slot again
        given = await committed
        if seq is None:
            rec.event_seq = given
        self.active.pop(rec.id, None)
        self.recent[rec.id] = rec
        while len(self.recent) > _RECENT:
            self.recent.popitem(last=False)
        run.done.set()
        for listener in run.listeners:
            listener(rec)
        run.listeners.clear()
        if self.on_run_ended is not None:
            self.on_run_ended(rec)
        self.log_state(rec)
        self.pump()

    # --- cancel -------------------------------------------------------------------------------
    async def cancel(self, run_id: str, stored: RunRecord | None) -> None:
        """Cancel ``run_id`` and every active run below it."""
        run = self.active.get(run_id)
        if run is None:
            if stored is None:
                raise NotFound(f"task run {run_id} not found")
            raise Conflict(f"task run {run_id} is already {stored.status.value}; cannot cancel it")
        tree: list[ActiveRun] = []
        stack = [run]
        while stack:
            current = stack.pop()
            tree.append(current)
            stack.extend(self.active[c] for c in current.children if c in self.active)
        for node in reversed(tree):
            node.canceling = True
            if node is not run:
                node.cancel_reason = lifecycle.ancestor_canceled(run_id)
            if node.attempt is not None:
                node.attempt.resolve(Canceled())
                continue
            node.queued = False
            if node.retry_timer is not None:
                node.retry_timer.cancel()
                node.retry_timer = None
            reason = node.cancel_reason or lifecycle.CANCELED_BY_REQUEST
            self._background(self._terminal(node, RunEvent.CANCEL, reason))
        await asyncio.gather(*(node.done.wait() for node in tree))

    # --- stop ---------------------------------------------------------------------------------
    async def stop(self) -> None:
        """Stop starting attempts, kill the running ones (they stay ``running`` on disk until
        the node leaves the store, render_sdk/engine/nodes.py)."""
        self._stopping = True
        self.workers.stop()
        for run in self.active.values():
            if run.retry_timer is not None:
                run.retry_timer.cancel()
        for attempt in list(self.running):
            attempt.resolve(Interrupted())
        self.workers.stop()  # and the workers of those attempts, still exiting
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def fail_unrunnable(self, run: ActiveRun, reason: Reason) -> None:
        """End a recovered run whose task is gone (its running attempt, if any, interrupted)."""
        lifecycle.interrupt(run.record, utcnow())
        self.active[run.record.id] = run
        await self._terminal(run, RunEvent.FAIL, reason)
