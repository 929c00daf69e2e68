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
from render_sdk.engine.store_sqlite import (
    SCHEMA_VERSION,
    SQLiteStore,
    StoreInUse,
    StoreTooNew,
    _listing,
)

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


FILTER_COMBINATIONS = [
    RunFilter(
        task_id=task,
        root_run_id=tree,
        statuses=None if statuses is None else frozenset(statuses),
        roots_only=roots,
    )
    for task in (None, "tsk-a")
    for tree in (None, "trn-000001")
    for statuses in (None, [RunStatus.FAILED], [RunStatus.PENDING, RunStatus.RUNNING])
    for roots in (False, True)
]


def _index_for(f: RunFilter) -> str | None:
    """The index a page of ``f`` must be read from (None: the table itself, by position)."""
    if f.root_run_id is not None:
        return "runs_root"
    name = "runs_top" if f.roots_only else "runs"
    if f.task_id is not None:
        name += "_task"
    if f.statuses is not None:
        name += "_status"
    return None if name == "runs" else name


@pytest.mark.parametrize("run_filter", FILTER_COMBINATIONS, ids=repr)
async def test_every_combination_of_filters_reads_a_page_off_an_index(
    tmp_path: Path, run_filter: RunFilter
) -> None:
    """A page reads its own rows, newest first, however many runs are stored: each read is a
    search of the combination's index in position order, never a sort of every match (the one
    sort allowed merges several statuses' pages, each at most one page long)."""
    store = SQLiteStore(str(tmp_path / "w.db"), durable=False)
    await store.open()
    rows = [run(i, task="tsk-a" if i % 2 else "tsk-b") for i in range(2000)]
    await asyncio.gather(*(store.insert_run(r, None) for r in rows))
    for before in (None, 1000):
        sql, args = _listing(run_filter, 51, before)
        plan = await store._writer.read(
            lambda c, sql=sql, args=args: [
                str(r[-1]) for r in c.execute("EXPLAIN QUERY PLAN " + sql, args)
            ]
        )
        reads = [line for line in plan if " runs" in line]
        index = _index_for(run_filter)
        for line in reads:
            if index is None:
                assert line in ("SCAN runs", "SEARCH runs USING INTEGER PRIMARY KEY (rowid<?)")
            else:
                assert line.startswith(("SEARCH runs USING INDEX", "SCAN runs USING INDEX"))
                assert line.split()[4] == index, plan
        merged = run_filter.statuses is not None and len(run_filter.statuses) > 1
        merged = merged and run_filter.root_run_id is None
        assert len(reads) == (2 if merged else 1), plan
        sorts = [i for i, line in enumerate(plan) if "TEMP B-TREE" in line]
        assert all(merged and plan[i - 1].startswith("SCAN (subquery") for i in sorts), plan
    await store.close()


# The schema as written before it had versions (user_version 0); ``parent_attempt`` came later
# still, so a file may lack it.
_UNVERSIONED = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value BLOB NOT NULL);
CREATE TABLE tasks (
    id TEXT PRIMARY KEY, name TEXT NOT NULL UNIQUE, created_at TEXT NOT NULL, spec TEXT NOT NULL
);
CREATE TABLE runs (
    pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, task_id TEXT NOT NULL,
    task_name TEXT NOT NULL, status TEXT NOT NULL, input TEXT NOT NULL, parent_id TEXT NOT NULL,
    root_id TEXT NOT NULL, created_at TEXT NOT NULL, retries INTEGER NOT NULL DEFAULT 0,
    started_at TEXT, completed_at TEXT, results TEXT, error TEXT, event_seq INTEGER,
    attempts TEXT NOT NULL DEFAULT '[]', logs_truncated INTEGER NOT NULL DEFAULT 0{extra}
);
CREATE INDEX runs_task ON runs (task_id, pos);
CREATE INDEX runs_root ON runs (root_id, pos);
CREATE TABLE logs (
    seq INTEGER PRIMARY KEY, run_id TEXT NOT NULL, attempt INTEGER NOT NULL,
    stream TEXT NOT NULL, ts TEXT NOT NULL, message TEXT NOT NULL
);
CREATE INDEX logs_run ON logs (run_id, seq);
CREATE TABLE idempotency (
    scope TEXT NOT NULL, key TEXT NOT NULL, run_id TEXT NOT NULL, PRIMARY KEY (scope, key)
) WITHOUT ROWID;
"""


@pytest.mark.parametrize("parent_attempt", [True, False])
async def test_a_database_from_before_schema_versions_opens_and_works(
    tmp_path: Path, parent_attempt: bool
) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(
        _UNVERSIONED.format(extra=",\n    parent_attempt INTEGER" if parent_attempt else "")
    )
    columns = "id, task_id, task_name, status, input, parent_id, root_id, created_at, event_seq"
    conn.executemany(
        f"INSERT INTO runs ({columns}) VALUES (?, 'tsk-a', 'a', ?, '[1]', ?, ?, ?, ?)",
        [
            ("trn-1", "completed", "", "trn-1", T0.isoformat(), 7),
            ("trn-2", "failed", "trn-1", "trn-1", T0.isoformat(), 8),
            ("trn-3", "failed", "", "trn-3", T0.isoformat(), 9),
        ],
    )
    conn.commit()
    conn.close()
    store = SQLiteStore(str(path), durable=False)
    counters = await store.open()
    assert counters.event_seq == 9
    failed_roots = RunFilter(statuses=frozenset({RunStatus.FAILED}), roots_only=True)
    assert [r.id for r, _ in await store.list_runs(failed_roots, 10, None)] == ["trn-3"]
    failed = RunFilter(statuses=frozenset({RunStatus.FAILED}))
    assert [r.id for r, _ in await store.list_runs(failed, 10, None)] == ["trn-3", "trn-2"]
    assert (await store.insert_run(run(4, root="trn-1"), None)).created
    child = await store.get_run("trn-000004")
    assert child is not None and child.parent_attempt is None
    await store.close()
    reopened = sqlite3.connect(path)
    assert reopened.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    indexes = {row[0] for row in reopened.execute("SELECT name FROM sqlite_master")}
    assert {"runs_status", "runs_top_task_status"} <= indexes
    reopened.close()
    again = SQLiteStore(str(path), durable=False)  # a current file opens as it is
    await again.open()
    assert len(await again.list_runs(RunFilter(), 10, None)) == 4
    await again.close()


async def test_a_database_from_a_newer_version_is_refused_clearly(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    store = SQLiteStore(str(path), durable=False)
    with pytest.raises(StoreTooNew, match=r"newer render_sdk .* upgrade render_sdk"):
        await store.open()
    assert store._lock_fd is None  # and the file is left as it was
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()


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
