"""The fast lane: how a new run gets into the store and to the scheduler with the fewest waits.

Two shortcuts, both safe because nothing reports a run before its insert is durable
(docs/engine.md, "Storage and durability"):

- A new run that can start at once (nothing queued, a free slot, an idle worker) is inserted
  already running with its first attempt: one write instead of two before its result can be
  written. With a store that offers :class:`~render_sdk.engine.store.StagedInserts`, the worker
  gets the run as soon as its insert is applied, while the commit is under way; the run is
  reported (the REST answer) only once it is committed.
- A subtask's id goes to its parent's worker only, and anything the parent does with it is
  written after the insert: it is answered once the insert is applied.

With any other store both shortcuts reduce to waiting for the insert. With a store that several
nodes share, a new run that cannot start at once and that another live node could run
(``Node.shares``) is stored without an owner instead of queued here: whichever node has a free
slot first claims it (render_sdk/engine/nodes.py). So is a run of a task that only other nodes
define: a node that defines it claims it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable
from typing import Any

from render_sdk.engine import lifecycle
from render_sdk.engine._attempts import ActiveRun
from render_sdk.engine.nodes import Node
from render_sdk.engine.records import EngineError, RunRecord
from render_sdk.engine.scheduler import Scheduler
from render_sdk.engine.store import InsertResult, StagedInserts, Store


def _consume(future: asyncio.Future[Any]) -> None:
    if not future.cancelled():
        future.exception()


class FastLane:
    """Inserts new runs and hands them to the scheduler.

    lane = FastLane(scheduler, store, node)
    created = await lane.create(ActiveRun(record, task), scope=None, subtask=False)
    """

    def __init__(self, scheduler: Scheduler, store: Store, node: Node) -> None:
        self.scheduler = scheduler
        self.store = store
        self.node = node  # this engine's node: it owns the runs it creates
        self._staged = store if isinstance(store, StagedInserts) else None

    def _insert(
        self, rec: RunRecord, scope: tuple[str, str] | None
    ) -> tuple[Awaitable[InsertResult], Awaitable[Any]]:
        """The insert's (applied, durable) awaitables: one and the same without staging."""
        if self._staged is not None:
            return self._staged.insert_run_staged(rec, scope)
        inserted = asyncio.ensure_future(self.store.insert_run(rec, scope))
        return inserted, inserted

    async def create(
        self, run: ActiveRun, scope: tuple[str, str] | None, *, subtask: bool, here: bool = True
    ) -> RunRecord | InsertResult:
        """Insert the new pending ``run`` and hand it to the scheduler; return the run as
        accepted (a snapshot), or the :class:`InsertResult` of an idempotency key already taken.
        ``subtask`` runs are answered once their insert is applied. Without ``here`` (a task
        this node does not define, with a shared store) the run is stored for other nodes."""
        rec = run.record
        rec.owner = self.node.id
        attempt = self.scheduler.reserve(run) if here else None
        if attempt is None and (not here or self.node.shares(rec.task_name)):
            # Another node may have a free slot: stored without an owner, claimed by whichever
            # node has one first (render_sdk/engine/nodes.py), this one included.
            rec.owner = None
            result = await self.store.insert_run(rec, scope)
            if not result.created:
                return result
            self.scheduler.log_state(rec)
            return rec.copy()
        if attempt is None:
            if subtask:
                applied, durable = self._insert(rec, scope)
                if durable is not applied:
                    asyncio.ensure_future(durable).add_done_callback(_consume)
                result = await applied
            else:
                result = await self.store.insert_run(rec, scope)
            if not result.created:
                return result
            # On a shared store a run waits here only while no other node could run it.
            run.kept_alone = self.store.shared
            self.scheduler.admit(run)
            self.scheduler.log_state(rec)
            return rec.copy()
        started = lifecycle.new_attempt(rec, rec.created_at)
        running = lifecycle.started_copy(rec, started, rec.created_at)
        applied, durable = self._insert(running, scope)
        if subtask and durable is not applied:
            asyncio.ensure_future(durable).add_done_callback(_consume)
            durable = applied
        try:
            result = await applied
        except BaseException:
            self.scheduler.unreserve(attempt)
            if durable is not applied:
                asyncio.ensure_future(durable).add_done_callback(_consume)  # the same error
            raise
        if not result.created:
            self.scheduler.unreserve(attempt)
            await durable
            return result
        created = rec.copy()  # as accepted: pending, as the client is told
        lifecycle.start(rec, started, rec.created_at)
        self.scheduler.log_state(created)
        self.scheduler.admit_started(run, attempt, started)
        if durable is not applied:
            try:
                await durable
            except Exception:
                # Started but not stored: stop it rather than let it run unrecorded.
                run.cancel_reason = lifecycle.NOT_STORED
                with contextlib.suppress(EngineError):
                    await self.scheduler.cancel(rec.id, None)
                raise
        return created
