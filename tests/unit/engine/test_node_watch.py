"""A node's watch of runs (render_sdk/engine/nodes.py): what it reads of the store to tell the
watchers of runs that end anywhere. Runs watched at once are read together; a run that ends
on this node is told without a read; the news of an end elsewhere reads that run."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from datetime import datetime, timezone

from render_sdk.engine.nodes import CHECK_AT_ONCE, Node
from render_sdk.engine.records import RunRecord, RunStatus
from render_sdk.engine.store_memory import MemoryStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class CountingStore(MemoryStore):
    """The in-memory store, counting the reads of runs."""

    def __init__(self) -> None:
        super().__init__()
        self.reads: list[int] = []  # how many ids each read asked for

    async def get_run(self, run_id: str) -> RunRecord | None:
        self.reads.append(1)
        return await super().get_run(run_id)

    async def get_runs(self, run_ids: Sequence[str]) -> dict[str, RunRecord]:
        self.reads.append(len(run_ids))
        return await super().get_runs(run_ids)


def run(n: int, status: RunStatus = RunStatus.PENDING) -> RunRecord:
    run_id = f"trn-{n:06d}"
    rec = RunRecord(
        id=run_id,
        task_id="tsk-a",
        task_name="a",
        status=status,
        input=[n],
        parent_id="",
        root_id=run_id,
        created_at=T0,
    )
    if status.terminal:
        rec.event_seq = n
    return rec


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(1000):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the condition did not hold")


async def started_node(count: int, ended_every: int) -> tuple[CountingStore, Node]:
    store = CountingStore()
    await store.open()
    for n in range(count):
        status = RunStatus.COMPLETED if n % ended_every == 0 else RunStatus.PENDING
        await store.insert_run(run(n, status), None)
    return store, Node(store, "nod-test", lease_seconds=15)


async def test_runs_watched_at_once_are_read_together() -> None:
    count = CHECK_AT_ONCE + 200
    store, node = await started_node(count, ended_every=3)
    heard: list[str] = []
    for n in range(count):
        node.watch(run(n).id, lambda rec: heard.append(rec.id))
    ended = [run(n).id for n in range(0, count, 3)]
    await until(lambda: len(heard) == len(ended))
    assert sorted(heard) == sorted(ended)
    assert sorted(store.reads) == [200, CHECK_AT_ONCE]  # two reads, not one per run


async def test_a_run_that_ends_here_is_told_without_a_read() -> None:
    store, node = await started_node(3, ended_every=100)  # only run 0 has ended
    heard: list[RunRecord] = []
    node.watch(run(1).id, heard.append)
    await until(lambda: store.reads == [1])
    assert heard == []  # still pending
    ended = run(1, RunStatus.COMPLETED)
    node.ended(ended)
    assert heard == [ended]
    node.done(run(1).id)  # the news of that same end, coming back: nobody left to tell
    await asyncio.sleep(0)
    assert store.reads == [1]


async def test_the_news_of_an_end_elsewhere_reads_that_run() -> None:
    store, node = await started_node(3, ended_every=100)
    heard: list[str] = []
    withdraw = node.watch(run(2).id, lambda rec: heard.append(rec.id))
    node.watch(run(1).id, lambda rec: heard.append(rec.id))
    await until(lambda: sum(store.reads) == 2)
    await store.save_run(run(1, RunStatus.FAILED))  # another node ended it
    node.done(run(1).id)
    await until(lambda: heard == [run(1).id])
    assert store.reads[-1] == 1
    withdraw()
    node.done(run(2).id)  # withdrawn: not read again
    await asyncio.sleep(0)
    assert sum(store.reads) == 3
