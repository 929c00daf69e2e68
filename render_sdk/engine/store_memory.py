"""An in-memory :class:`~render_sdk.engine.store.Store`: nothing survives the process.

For tests of the engine that are about scheduling, not storage; it passes the same conformance
tests as the SQLite store. Every write is durable (as durable as it gets here) when called, so
its awaitables are already resolved. Records are copied in and out: a caller's later changes to
a record it saved never show in the store.
"""

from __future__ import annotations

import asyncio
import bisect
import secrets
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TypeVar

from render_sdk.engine import lifecycle
from render_sdk.engine.records import LogRecord, RunFilter, RunRecord, RunStatus, TaskRecord
from render_sdk.engine.store import InsertResult, LocalLeases, NodeInfo, StoreCounters

T = TypeVar("T")


def _done(value: T) -> asyncio.Future[T]:
    future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
    future.set_result(value)
    return future


@dataclass
class _Logs:
    lines: list[LogRecord] = field(default_factory=list)
    seqs: list[int] = field(default_factory=list)
    truncated: bool = False


class MemoryStore:
    """The engine's store in this process's memory.

    store = MemoryStore()
    counters = await store.open()
    """

    def __init__(self) -> None:
        self._tasks: dict[str, TaskRecord] = {}
        self._runs: dict[str, tuple[int, RunRecord]] = {}  # id -> (position, record)
        self._order: list[str] = []  # run ids by position (position = index + 1)
        self._idempotency: dict[tuple[str, str], str] = {}
        self._logs: dict[str, _Logs] = {}
        self._cursor_key = secrets.token_bytes(16)
        self._open = False
        self._leases = LocalLeases()

    def _check_open(self) -> None:
        if not self._open:
            raise RuntimeError("the store is not open (await MemoryStore.open() first)")

    async def open(self) -> StoreCounters:
        self._open = True
        self._leases = LocalLeases()  # one node at a time: every earlier one is gone
        event_seq = max((r.event_seq or 0 for _, r in self._runs.values()), default=0)
        log_seq = max((logs.seqs[-1] for logs in self._logs.values() if logs.seqs), default=0)
        return StoreCounters(event_seq=event_seq, log_seq=log_seq, cursor_key=self._cursor_key)

    async def close(self) -> None:
        self._open = False

    # --- tasks ----------------------------------------------------------------------------------
    async def save_tasks(self, tasks: Sequence[TaskRecord]) -> None:
        self._check_open()
        for task in tasks:
            known = self._tasks.get(task.id)
            if known is not None:
                task = TaskRecord(**{**task.__dict__, "created_at": known.created_at})
            self._tasks[task.id] = task

    async def load_tasks(self) -> list[TaskRecord]:
        self._check_open()
        return sorted(self._tasks.values(), key=lambda t: (t.created_at, t.name))

    # --- runs -----------------------------------------------------------------------------------
    def insert_run(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> asyncio.Future[InsertResult]:
        self._check_open()
        if idempotency is not None and idempotency in self._idempotency:
            first = self._idempotency[idempotency]
            return _done(InsertResult(created=False, run_id=first))
        if run.id in self._runs:
            raise ValueError(f"run {run.id} is already stored")
        if idempotency is not None:
            self._idempotency[idempotency] = run.id
        self._order.append(run.id)
        self._runs[run.id] = (len(self._order), run.copy())
        return _done(InsertResult(created=True, run_id=run.id))

    def save_run(self, run: RunRecord) -> asyncio.Future[None]:
        self._check_open()
        found = self._runs.get(run.id)
        if found is not None:  # as an UPDATE: a run never inserted stays unknown
            self._runs[run.id] = (found[0], run.copy())
        return _done(None)

    def append_logs(self, lines: Sequence[LogRecord]) -> None:
        for line in lines:
            logs = self._logs.setdefault(line.run_id, _Logs())
            logs.lines.append(line)
            logs.seqs.append(line.seq)

    def mark_logs_truncated(self, run_id: str) -> None:
        self._logs.setdefault(run_id, _Logs()).truncated = True

    async def get_run(self, run_id: str) -> RunRecord | None:
        self._check_open()
        found = self._runs.get(run_id)
        return None if found is None else found[1].copy()

    async def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        self._check_open()
        found = (self._runs.get(run_id) for run_id in run_ids)
        return {entry[1].id: entry[1].copy() for entry in found if entry is not None}

    async def list_runs(
        self, filter: RunFilter, limit: int, before: int | None
    ) -> list[tuple[RunRecord, int]]:
        self._check_open()
        end = len(self._order) if before is None else min(before - 1, len(self._order))
        out: list[tuple[RunRecord, int]] = []
        for index in range(end - 1, -1, -1):
            rec = self._runs[self._order[index]][1]
            if filter.task_id is not None and rec.task_id != filter.task_id:
                continue
            if filter.root_run_id is not None and rec.root_id != filter.root_run_id:
                continue
            if filter.statuses is not None and rec.status not in filter.statuses:
                continue
            if filter.roots_only and rec.parent_id:
                continue
            out.append((rec.copy(), index + 1))
            if len(out) >= limit:
                break
        return out

    async def get_logs(
        self, run_id: str, after: int | None, limit: int
    ) -> tuple[list[LogRecord], bool]:
        self._check_open()
        logs = self._logs.get(run_id)
        if logs is None:
            return [], False
        start = 0 if after is None else bisect.bisect_right(logs.seqs, after)
        return logs.lines[start : start + limit], logs.truncated

    async def load_unfinished(self) -> list[RunRecord]:
        self._check_open()
        unfinished = (RunStatus.PENDING, RunStatus.RUNNING)
        runs = (self._runs[run_id][1] for run_id in self._order)
        return [rec.copy() for rec in runs if rec.status in unfinished]

    # --- nodes and claims -----------------------------------------------------------------------
    @property
    def shared(self) -> bool:
        return False

    async def join(
        self, node: str, lease_seconds: float, tasks: Mapping[str, str] | None = None
    ) -> None:
        self._check_open()
        self._leases.join(node, lease_seconds, tasks)

    async def live_nodes(self) -> list[NodeInfo]:
        self._check_open()
        return self._leases.live()

    async def renew(self, node: str, lease_seconds: float) -> bool:
        self._check_open()
        return self._leases.renew(node, lease_seconds)

    async def sweep(self) -> dict[str, list[str]]:
        self._check_open()
        live = self._leases.expire()
        return self._free(lambda owner: owner is None or owner not in live)

    async def leave(self, node: str) -> None:
        self._leases.leave(node)
        self._free(lambda owner: owner == node)

    def _free(self, gone: Callable[[str | None], bool]) -> dict[str, list[str]]:
        """Free the unfinished runs whose owner is ``gone`` (an unowned run only if running)."""
        freed: dict[str, list[str]] = {}
        now = datetime.now(timezone.utc)
        for _, rec in self._runs.values():
            owner = rec.owner
            if rec.status.terminal or not gone(owner):
                continue
            if owner is None and rec.status is not RunStatus.RUNNING:
                continue
            lifecycle.release(rec, now)
            freed.setdefault(owner or "", []).append(rec.id)
        return freed

    async def claim_runs(
        self,
        node: str,
        limit: int | None,
        *,
        waiting: bool = False,
        tasks: Collection[str] | None = None,
    ) -> list[RunRecord]:
        self._check_open()
        now = datetime.now(timezone.utc)
        claimed: list[RunRecord] = []
        for run_id in self._order:
            if limit is not None and len(claimed) >= limit:
                break
            rec = self._runs[run_id][1]
            if rec.status is not RunStatus.PENDING or rec.owner is not None:
                continue
            if tasks is not None and rec.task_name not in tasks:
                continue
            if not waiting and rec.not_before is not None and rec.not_before > now:
                continue
            rec.owner = node
            claimed.append(rec.copy())
        return claimed
