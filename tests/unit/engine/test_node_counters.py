"""A node of a shared store numbers log lines from blocks of the store's (render_sdk/engine/
nodes.py): half a block used, it asks for a fresh one, so it never runs into numbers another
node took."""

from __future__ import annotations

from render_sdk.engine.scheduler import Scheduler
from render_sdk.engine.store import LOG_BLOCK
from render_sdk.engine.store_memory import MemoryStore

from .fake_workers import FakeWorkers


async def test_half_a_log_block_used_asks_for_a_fresh_one() -> None:
    scheduler = Scheduler(
        MemoryStore(), limit=1, event_seq=0, log_seq=0, workers=FakeWorkers({}, [])
    )
    asked: list[int] = []
    scheduler.on_log_block_low = lambda: asked.append(scheduler._log_seq)
    scheduler.log_block(1_000_001)
    seqs = [scheduler.next_log_seq() for _ in range(LOG_BLOCK // 2 + 10)]
    assert seqs == list(range(1_000_001, 1_000_001 + LOG_BLOCK // 2 + 10))
    assert asked == [1_000_001 + LOG_BLOCK // 2]  # once, at half the block
    scheduler.log_block(7_000_001)  # the fresh block
    assert scheduler.next_log_seq() == 7_000_001


async def test_a_single_node_store_numbers_log_lines_on_without_blocks() -> None:
    scheduler = Scheduler(
        MemoryStore(), limit=1, event_seq=0, log_seq=41, workers=FakeWorkers({}, [])
    )
    scheduler.on_log_block_low = lambda: (_ for _ in ()).throw(AssertionError("no blocks"))
    assert [scheduler.next_log_seq() for _ in range(3)] == [42, 43, 44]
