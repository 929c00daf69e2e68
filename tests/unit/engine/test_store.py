"""The SQLite store's own behaviour: group commit, durability settings, indexes, file lock,
staged inserts, cursors. What every store does is in test_store_conformance.py."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from render_sdk.engine._cursor import decode_cursor, encode_cursor
from render_sdk.engine.records import InvalidRequest, RunFilter, RunRecord, RunStatus
from render_sdk.engine.store_sqlite import SQLiteStore, StoreInUse

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


def run(n: int, task: str = "tsk-a", root: str | None = None) -> RunRecord:
    run_id = f"trn-{n:06d}"
    return RunRecord(
        id=run_id,
        task_id=task,
        task_name=task,
        status=RunStatus.PENDING,
        input=[n],
        parent_id="" if root is None else root,
        root_id=run_id if root is None else root,
        created_at=T0 + timedelta(seconds=n),
    )


async def test_group_commit_batches_concurrent_writes(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "db" / "w.db"), durable=True)
    await store.open()
    before = store.commits
    results = await asyncio.gather(*(store.insert_run(run(i), None) for i in range(300)))
    assert all(r.created for r in results)
    assert store.commits - before < 30  # 300 writes, a handful of commits
    page = await store.list_runs(RunFilter(), 500, None)
    assert len(page) == 300
    await store.close()


async def test_a_failing_write_does_not_undo_its_batch(tmp_path: Path) -> None:
    store = SQLiteStore(":memory:", durable=False)
    await store.open()
    writer = store._writer
    good = store.insert_run(run(1), None)
    bad = writer.write(lambda conn: conn.execute("INSERT INTO no_such_table VALUES (1)"))
    also_good = store.insert_run(run(2), None)
    assert (await good).created and (await also_good).created
    with pytest.raises(sqlite3.OperationalError):
        await bad
    assert await store.get_run("trn-000002") is not None
    await store.close()


@pytest.mark.parametrize(("durable", "level"), [(True, 2), (False, 1)])
async def test_durability_settings(tmp_path: Path, durable: bool, level: int) -> None:
    path = tmp_path / "nested" / "dir" / "w.db"
    store = SQLiteStore(str(path), durable=durable)
    await store.open()
    mode = await store._writer.read(lambda c: c.execute("PRAGMA journal_mode").fetchone()[0])
    sync = await store._writer.read(lambda c: c.execute("PRAGMA synchronous").fetchone()[0])
    assert (mode, sync) == ("wal", level)
    assert path.exists()
    await store.close()


async def test_keyset_pagination_uses_indexes(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "w.db"), durable=False)
    await store.open()
    rows = [run(i, task="tsk-a" if i % 2 else "tsk-b") for i in range(5000)]
    await asyncio.gather(*(store.insert_run(r, None) for r in rows))
    seen: list[str] = []
    before = None
    while True:
        page = await store.list_runs(RunFilter(task_id="tsk-a"), 100, before)
        if not page:
            break
        seen.extend(r.id for r, _ in page)
        before = page[-1][1]
    assert seen == [r.id for r in reversed(rows) if r.task_id == "tsk-a"]

    def plan(conn: sqlite3.Connection, sql: str) -> str:
        return " ".join(str(row[-1]) for row in conn.execute("EXPLAIN QUERY PLAN " + sql))

    by_task = await store._writer.read(
        lambda c: plan(
            c, "SELECT id FROM runs WHERE task_id = 'x' AND pos < 10 ORDER BY pos DESC LIMIT 5"
        )
    )
    assert "runs_task" in by_task and "TEMP B-TREE" not in by_task
    by_root = await store._writer.read(
        lambda c: plan(
            c, "SELECT id FROM runs WHERE root_id = 'x' AND pos < 10 ORDER BY pos DESC LIMIT 5"
        )
    )
    assert "runs_root" in by_root and "TEMP B-TREE" not in by_root
    await store.close()


def test_cursors_are_tamper_evident() -> None:
    key = b"0123456789abcdef"
    token = encode_cursor(1234, key)
    assert decode_cursor(token, key) == 1234
    for bad in [token[:-1] + ("A" if token[-1] != "A" else "B"), "cjEuMTIzNA", "", "!!", "a" * 500]:
        with pytest.raises(InvalidRequest, match="invalid cursor"):
            decode_cursor(bad, key)
    with pytest.raises(InvalidRequest):
        decode_cursor(token, b"another engine's key")


async def test_a_second_store_on_the_same_file_is_refused(tmp_path: Path) -> None:
    path = str(tmp_path / "w.db")
    first = SQLiteStore(path)
    await first.open()
    second = SQLiteStore(path)
    with pytest.raises(StoreInUse, match="in use by another engine"):
        await second.open()
    await first.close()
    await second.open()  # free again once the first one closed
    await second.close()


async def test_a_failed_transaction_fails_its_writers_and_the_store_goes_on(
    tmp_path: Path,
) -> None:
    store = SQLiteStore(":memory:", durable=False)
    await store.open()
    writer = store._writer
    # A statement that ends the transaction early makes the batch's COMMIT fail.
    broken = writer.write(lambda conn: conn.execute("COMMIT"))
    with pytest.raises(sqlite3.Error):
        await broken
    assert (await store.insert_run(run(7), None)).created
    assert await store.get_run("trn-000007") is not None
    await store.close()


async def _occupy(store: SQLiteStore) -> tuple[threading.Event, asyncio.Future[None]]:
    """Hold the writer thread (in a batch of its own) until the returned event is set, so that
    the writes queued meanwhile form one batch."""
    started, release = threading.Event(), threading.Event()

    def hold(conn: sqlite3.Connection) -> None:
        started.set()
        release.wait(10)

    held = store._writer.write(hold)
    assert await asyncio.get_running_loop().run_in_executor(None, started.wait, 10)
    return release, held


async def test_a_staged_insert_is_applied_then_committed(tmp_path: Path) -> None:
    store = SQLiteStore(str(tmp_path / "s.db"), durable=True)
    await store.open()
    order: list[str] = []
    release, held = await _occupy(store)
    applied, committed = store.insert_run_staged(run(1), None)
    asyncio.ensure_future(applied).add_done_callback(lambda f: order.append("applied"))
    asyncio.ensure_future(committed).add_done_callback(lambda f: order.append("committed"))
    commits = store.commits
    release.set()
    await held
    result = await applied
    assert result.created and result.run_id == "trn-000001"
    await committed
    await asyncio.sleep(0)  # the done callbacks run
    assert order == ["applied", "committed"]
    assert store.commits > commits
    assert await store.get_run("trn-000001") is not None
    # A taken idempotency key is known once applied, like insert_run's answer.
    assert (await store.insert_run(run(2), ("rest", "k"))).created
    applied, committed = store.insert_run_staged(run(3), ("rest", "k"))
    assert (await applied).created is False and (await applied).run_id == "trn-000002"
    await committed
    await store.close()


async def test_a_failed_commit_fails_the_commit_of_a_staged_insert(tmp_path: Path) -> None:
    store = SQLiteStore(":memory:", durable=False)
    await store.open()
    release, held = await _occupy(store)
    applied, committed = store.insert_run_staged(run(1), None)
    broken = store._writer.write(lambda conn: conn.execute("COMMIT"))  # the batch's COMMIT fails
    release.set()
    await held
    assert (await applied).created  # applied, then its commit failed
    with pytest.raises(sqlite3.Error):
        await committed
    with pytest.raises(sqlite3.Error):
        await broken
    await store.close()


async def test_a_failing_staged_insert_fails_both_of_its_results(tmp_path: Path) -> None:
    store = SQLiteStore(":memory:", durable=False)
    await store.open()
    assert (await store.insert_run(run(1), None)).created
    applied, committed = store.insert_run_staged(run(1), None)  # the same id again
    with pytest.raises(sqlite3.IntegrityError):
        await applied
    with pytest.raises(sqlite3.IntegrityError):
        await committed
    assert (await store.insert_run(run(2), None)).created  # the store goes on
    await store.close()
