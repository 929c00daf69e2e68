"""The fast lane (render_sdk/engine/fastlane.py) on the in-memory store, with a recording
stand-in for the scheduler's slot accounting: no processes, no database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime, timezone
from typing import Any

import pytest

from render_sdk.engine import lifecycle
from render_sdk.engine._attempts import ActiveRun
from render_sdk.engine.fastlane import FastLane
from render_sdk.engine.nodes import Node
from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus, TaskRecord
from render_sdk.engine.store import InsertResult, StagedInserts
from render_sdk.engine.store_memory import MemoryStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
TASK = TaskRecord(id="tsk-1", name="square", created_at=T0)


class Slots:
    """The part of the scheduler the fast lane uses, recording what it was asked."""

    def __init__(self, free: bool) -> None:
        self.free = free
        self.calls: list[tuple[str, Any]] = []
        self.started = asyncio.Event()

    def reserve(self, run: ActiveRun) -> object | None:
        self.calls.append(("reserve", run.record.id))
        return object() if self.free else None

    def unreserve(self, attempt: object) -> None:
        self.calls.append(("unreserve", None))

    def admit(self, run: ActiveRun) -> None:
        self.calls.append(("admit", run.record.status))

    def admit_started(self, run: ActiveRun, attempt: object, started: AttemptRecord) -> None:
        self.calls.append(("admit_started", (run.record.status, started.number)))
        self.started.set()

    async def cancel(self, run_id: str, stored: RunRecord | None) -> None:
        self.calls.append(("cancel", run_id))

    def log_state(self, rec: RunRecord) -> None:
        pass


class StagedMemory(MemoryStore):
    """The in-memory store with staged inserts whose commit the test decides."""

    def __init__(self) -> None:
        super().__init__()
        self.commit: asyncio.Future[None] | None = None

    def insert_run_staged(
        self, run: RunRecord, idempotency: tuple[str, str] | None
    ) -> tuple[Awaitable[InsertResult], Awaitable[None]]:
        self.commit = asyncio.get_running_loop().create_future()
        return self.insert_run(run, idempotency), self.commit


def new_run(n: int = 1) -> ActiveRun:
    rec = RunRecord(
        id=f"trn-{n}",
        task_id=TASK.id,
        task_name=TASK.name,
        status=RunStatus.PENDING,
        input=[n],
        parent_id="",
        root_id=f"trn-{n}",
        created_at=T0,
    )
    return ActiveRun(rec, TASK)


async def lane(store: MemoryStore, free: bool) -> tuple[FastLane, Slots]:
    await store.open()
    slots = Slots(free)
    return FastLane(slots, store, Node(store, "nod-test", 15.0)), slots  # type: ignore[arg-type]


async def test_a_run_that_must_wait_is_inserted_pending_and_queued() -> None:
    store = MemoryStore()
    fast, slots = await lane(store, free=False)
    created = await fast.create(new_run(), None, subtask=False)
    assert isinstance(created, RunRecord) and created.status is RunStatus.PENDING
    assert slots.calls == [("reserve", "trn-1"), ("admit", RunStatus.PENDING)]
    stored = await store.get_run("trn-1")
    assert stored is not None and stored.status is RunStatus.PENDING and stored.attempts == []


async def test_a_run_that_can_start_is_inserted_running_in_one_write() -> None:
    store = MemoryStore()
    fast, slots = await lane(store, free=True)
    run = new_run()
    created = await fast.create(run, None, subtask=False)
    assert isinstance(created, RunRecord)
    assert created.status is RunStatus.PENDING and created.attempts == []  # as accepted
    stored = await store.get_run("trn-1")
    assert stored is not None and stored.status is RunStatus.RUNNING
    assert [(a.number, a.status) for a in stored.attempts] == [(1, RunStatus.RUNNING)]
    assert run.record.status is RunStatus.RUNNING and run.record.started_at == T0
    assert slots.calls == [("reserve", "trn-1"), ("admit_started", (RunStatus.RUNNING, 1))]


@pytest.mark.parametrize("free", [False, True])
async def test_a_taken_key_gives_back_the_first_run_and_the_slot(free: bool) -> None:
    store = MemoryStore()
    fast, slots = await lane(store, free=free)
    await fast.create(new_run(1), ("rest", "k"), subtask=False)
    slots.calls.clear()
    again = await fast.create(new_run(2), ("rest", "k"), subtask=False)
    assert again == InsertResult(created=False, run_id="trn-1")
    assert await store.get_run("trn-2") is None
    assert slots.calls == [("reserve", "trn-2")] + ([("unreserve", None)] if free else [])


async def test_with_staged_inserts_the_answer_waits_for_the_commit() -> None:
    store = StagedMemory()
    assert isinstance(store, StagedInserts)
    fast, slots = await lane(store, free=True)
    creating = asyncio.ensure_future(fast.create(new_run(), None, subtask=False))
    await slots.started.wait()  # the run starts once its insert is applied ...
    assert not creating.done()  # ... and is reported only once it is committed
    assert store.commit is not None
    store.commit.set_result(None)
    created = await creating
    assert isinstance(created, RunRecord) and created.status is RunStatus.PENDING


async def test_a_subtask_is_answered_once_applied() -> None:
    store = StagedMemory()
    fast, _ = await lane(store, free=False)
    created = await fast.create(new_run(), None, subtask=True)
    assert isinstance(created, RunRecord)
    assert store.commit is not None and not store.commit.done()
    store.commit.set_result(None)


async def test_a_started_run_whose_commit_fails_is_canceled() -> None:
    store = StagedMemory()
    fast, slots = await lane(store, free=True)
    run = new_run()
    creating = asyncio.ensure_future(fast.create(run, None, subtask=False))
    await slots.started.wait()
    assert store.commit is not None
    store.commit.set_exception(OSError("disk full"))
    with pytest.raises(OSError, match="disk full"):
        await creating
    assert slots.calls[-1] == ("cancel", "trn-1")
    assert run.cancel_reason is lifecycle.NOT_STORED


class SharedMemory(MemoryStore):
    """The in-memory store saying it is shared, as PostgreSQL does (no other node has joined)."""

    @property
    def shared(self) -> bool:
        return True


@pytest.mark.parametrize(("store", "kept"), [(MemoryStore(), False), (SharedMemory(), True)])
async def test_a_run_a_node_alone_queues_is_marked_as_kept_for_want_of_other_nodes(
    store: MemoryStore, kept: bool
) -> None:
    """Only runs queued for want of another node are given up when one joins (not those a node
    claimed, nor any on a single-node store)."""
    fast, slots = await lane(store, free=False)
    run = new_run()
    await fast.create(run, None, subtask=False)
    assert slots.calls[-1] == ("admit", RunStatus.PENDING)
    assert run.kept_alone is kept
    stored = await store.get_run("trn-1")
    assert stored is not None and stored.owner == "nod-test"  # held: no claim to write
