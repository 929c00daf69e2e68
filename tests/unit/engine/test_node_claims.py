"""What a node asks of a shared store when it claims runs (render_sdk/engine/nodes.py), on a
real PostgreSQL database (tests/pg.py): a claim of runs that never ran takes no fresh block of
log line numbers; a claim of a run that ran before (on a node that is gone) takes one, so the
run's new lines come after its earlier ones."""

from __future__ import annotations

import asyncio
from datetime import datetime, timezone

from render_sdk.engine import lifecycle
from render_sdk.engine.nodes import Node
from render_sdk.engine.records import RunRecord, RunStatus
from render_sdk.engine.store_postgres import PostgresStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


class Host:
    """A NodeHost that records what the node hands it."""

    def __init__(self) -> None:
        self.taken: list[RunRecord] = []
        self.blocks: list[int] = []

    def free_slots(self) -> int:
        return 10

    async def take(self, records: list[RunRecord]) -> None:
        self.taken.extend(records)

    async def cancel_here(self, run_id: str, ancestor: str | None = None) -> None:
        raise AssertionError("no cancel expected")

    def log_block(self, start: int) -> None:
        self.blocks.append(start)


def run(n: int) -> RunRecord:
    run_id = f"trn-{n:06d}"
    return RunRecord(
        id=run_id,
        task_id="tsk-a",
        task_name="a",
        status=RunStatus.PENDING,
        input=[n],
        parent_id="",
        root_id=run_id,
        created_at=T0,
    )


async def until(condition: object, what: str) -> None:
    for _ in range(600):
        if callable(condition) and condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"waited in vain for {what}")


async def test_only_a_claim_of_runs_that_ran_before_takes_a_fresh_log_block(
    postgres_url: str,
) -> None:
    store, other = PostgresStore(postgres_url), PostgresStore(postgres_url)
    await store.open()
    await other.open()
    node = Node(store, "nod-here", lease_seconds=60)
    host = Host()
    try:
        await node.join()
        node.start(host)
        for n in (1, 2, 3):  # new runs nobody holds (another node could not start them)
            await other.insert_run(run(n), None)
        await until(lambda: len(host.taken) == 3, "the three new runs to be claimed")
        assert host.blocks == []  # they never ran: no lines to come after

        moved = run(4)  # ran on a node that died: its attempt was interrupted, it is free
        lifecycle.start(moved, lifecycle.new_attempt(moved, T0), T0)
        lifecycle.release(moved, T0)
        assert moved.attempts and moved.owner is None and moved.status is RunStatus.PENDING
        await other.insert_run(moved, None)
        await until(lambda: len(host.taken) == 4, "the moved run to be claimed")
        assert len(host.blocks) == 1  # a fresh block for its new lines
    finally:
        await node.leave()
        await store.close()
        await other.close()
