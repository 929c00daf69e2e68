"""What every store of the engine does (render_sdk/engine/store.py), one suite over every store."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from render_sdk.engine.records import (
    AttemptRecord,
    LogRecord,
    ParameterRecord,
    ReasonCode,
    RetryOptions,
    RunFilter,
    RunRecord,
    RunStatus,
    TaskRecord,
)
from render_sdk.engine.store import NodeInfo, Store, StoreCounters
from render_sdk.engine.store_memory import MemoryStore
from render_sdk.engine.store_sqlite import SQLiteStore

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)


@dataclass
class Stores:
    """A store under test (open), its counters, and how to get a closed store back with the
    same data (not open yet)."""

    store: Store
    reopen: Callable[[], Store]
    counters: StoreCounters | None = None


def _sqlite_file(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    path = str(tmp_path / "conformance.db")
    return Stores(SQLiteStore(path, durable=False), lambda: SQLiteStore(path, durable=False))


def _memory(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    store = MemoryStore()
    return Stores(store, lambda: store)


def _postgres(request: pytest.FixtureRequest, tmp_path: Path) -> Stores:
    """A fresh database of the tests' throwaway cluster (tests/pg.py)."""
    from render_sdk.engine.store_postgres import PostgresStore

    url = request.getfixturevalue("postgres_url")
    return Stores(PostgresStore(url), lambda: PostgresStore(url))


STORES: dict[str, Callable[[pytest.FixtureRequest, Path], Stores]] = {
    "sqlite": _sqlite_file,
    "memory": _memory,
    "postgres": _postgres,
}


@pytest.fixture(params=sorted(STORES))
async def stores(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Stores]:
    made = STORES[request.param](request, tmp_path)
    made.counters = await made.store.open()
    yield made
    await made.store.close()


def run(n: int, task: str = "tsk-a", root: str | None = None) -> RunRecord:
    run_id = f"trn-{n:06d}"
    return RunRecord(
        id=run_id,
        task_id=task,
        task_name=task.removeprefix("tsk-"),
        status=RunStatus.PENDING,
        input=[n, {"k": "v"}],
        parent_id="" if root is None else root,
        root_id=run_id if root is None else root,
        created_at=T0 + timedelta(seconds=n),
    )


def finished(n: int, seq: int) -> RunRecord:
    rec = run(n)
    at = rec.created_at
    rec.status = RunStatus.COMPLETED
    rec.started_at, rec.completed_at = at, at + timedelta(seconds=1)
    rec.results = [{"x": n}]
    rec.event_seq = seq
    rec.attempts = [
        AttemptRecord(
            1,
            RunStatus.FAILED,
            at,
            at,
            error="worker process ended without a callback (signal SIGKILL)",
            reason=ReasonCode.CRASHED,
            reason_detail="signal SIGKILL",
        ),
        AttemptRecord(
            2,
            RunStatus.COMPLETED,
            at,
            at + timedelta(seconds=1),
            results=[{"x": n}],
            startup={"sdk_started_at": at},
            reason=ReasonCode.SUCCEEDED,
        ),
    ]
    rec.retries = 1
    rec.reason = ReasonCode.SUCCEEDED
    return rec


async def test_a_run_reads_back_as_written(stores: Stores) -> None:
    store = stores.store
    assert (await store.insert_run(run(1), None)).created
    assert await store.get_run("trn-000001") == run(1)
    done = finished(1, seq=4)
    await store.save_run(done)
    assert await store.get_run("trn-000001") == done
    assert await store.get_run("trn-nope") is None


async def test_many_runs_read_back_together_as_written(stores: Stores) -> None:
    """get_runs reads many runs at once (more than one statement's worth on SQLite): each as
    written, including a write still queued when the read is called; unknown ids left out."""
    store = stores.store
    await asyncio.gather(*(store.insert_run(run(n), None) for n in range(1, 1201)))
    done = finished(7, seq=9)
    store.save_run(done)  # not waited for: the read must see it
    wanted = [run(n).id for n in range(1, 1201, 2)] + ["trn-nope", run(7).id]
    found = await store.get_runs(wanted)
    assert sorted(found) == sorted(run(n).id for n in range(1, 1201, 2))
    assert found[run(7).id] == done
    assert found[run(1).id] == run(1)
    assert await store.get_runs([]) == {}


async def test_a_write_takes_its_snapshot_when_called(stores: Stores) -> None:
    store = stores.store
    rec = run(1)
    inserted = store.insert_run(rec, None)
    rec.status = RunStatus.RUNNING  # changed after the call: not part of the insert
    await inserted
    stored = await store.get_run(rec.id)
    assert stored is not None and stored.status is RunStatus.PENDING
    rec.attempts.append(AttemptRecord(1, RunStatus.RUNNING, T0))
    saved = store.save_run(rec)
    rec.attempts[0].status = RunStatus.COMPLETED
    await saved
    stored = await store.get_run(rec.id)
    assert stored is not None and [a.status for a in stored.attempts] == [RunStatus.RUNNING]
    stored.status = RunStatus.FAILED  # and a read is a copy
    again = await store.get_run(rec.id)
    assert again is not None and again.status is RunStatus.RUNNING


async def test_later_writes_of_a_run_win(stores: Stores) -> None:
    store = stores.store
    rec = run(1)
    writes = [store.insert_run(rec, None)]
    for status in (RunStatus.RUNNING, RunStatus.PENDING, RunStatus.FAILED):
        rec.status = status
        writes.append(store.save_run(rec))
    for write in writes:
        await write
    stored = await store.get_run(rec.id)
    assert stored is not None and stored.status is RunStatus.FAILED


async def test_reasons_read_back_as_written(stores: Stores) -> None:
    """Why a run and each attempt are where they are (render_sdk/engine/lifecycle.py) is kept
    with them; an attempt without a reason (written before reasons were kept) reads back
    without one, next to one that has start-up times but no reason."""
    store = stores.store
    rec = run(1)
    await store.insert_run(rec, None)
    rec.status, rec.event_seq = RunStatus.CANCELED, 5
    rec.reason, rec.reason_detail = ReasonCode.ANCESTOR_CANCELED, "trn-000000"
    rec.attempts = [
        AttemptRecord(1, RunStatus.FAILED, T0, T0, error="old"),
        AttemptRecord(2, RunStatus.FAILED, T0, T0, error="x", startup={"sdk_started_at": T0}),
        AttemptRecord(
            3,
            RunStatus.FAILED,
            T0,
            T0,
            error="timed out after 2s",
            reason=ReasonCode.TIMED_OUT,
            reason_detail="2s",
        ),
        AttemptRecord(4, RunStatus.CANCELED, T0, T0, error="canceled", reason=ReasonCode.CANCELED),
    ]
    await store.save_run(rec)
    assert await store.get_run(rec.id) == rec
    ((listed, _),) = await store.list_runs(RunFilter(), 10, None)
    assert listed == rec


async def test_idempotency_keys_are_scoped(stores: Stores) -> None:
    store = stores.store
    first = await store.insert_run(run(1), ("rest", "k"))
    again = await store.insert_run(run(2), ("rest", "k"))
    other_scope = await store.insert_run(run(3), ("subtask:trn-x", "k"))
    assert first.created and first.run_id == "trn-000001"
    assert not again.created and again.run_id == "trn-000001"
    assert other_scope.created
    assert await store.get_run("trn-000002") is None


async def test_the_same_run_id_twice_is_refused(stores: Stores) -> None:
    store = stores.store
    await store.insert_run(run(1), None)
    with pytest.raises(Exception):  # noqa: B017 - each store raises its own error
        await store.insert_run(run(1), None)
    assert (await store.insert_run(run(2), None)).created  # and the store goes on


async def test_listing_is_newest_first_in_pages_and_filtered(stores: Stores) -> None:
    store = stores.store
    rows = [run(i, task="tsk-a" if i % 2 else "tsk-b") for i in range(1, 31)]
    rows += [run(100 + i, root="trn-000001") for i in range(3)]
    for rec in rows:
        await store.insert_run(rec, None)
    page = await store.list_runs(RunFilter(), 5, None)
    assert [r.id for r, _ in page] == [r.id for r in reversed(rows)][:5]
    seen: list[str] = []
    before = None
    while True:
        page = await store.list_runs(RunFilter(task_id="tsk-a"), 4, before)
        if not page:
            break
        assert len(page) <= 4
        seen.extend(r.id for r, _ in page)
        before = page[-1][1]
    assert seen == [r.id for r in reversed(rows) if r.task_id == "tsk-a"]
    by_root = await store.list_runs(RunFilter(root_run_id="trn-000001"), 100, None)
    assert [r.id for r, _ in by_root] == ["trn-000102", "trn-000101", "trn-000100", "trn-000001"]
    both = await store.list_runs(RunFilter(task_id="tsk-b", root_run_id="trn-000001"), 10, None)
    assert both == []
    positions = [p for _, p in await store.list_runs(RunFilter(), 100, None)]
    assert positions == sorted(positions, reverse=True) and len(set(positions)) == len(rows)


async def test_a_listing_shows_the_latest_state(stores: Stores) -> None:
    store = stores.store
    await store.insert_run(run(1), None)
    await store.save_run(finished(1, seq=1))
    ((listed, _),) = await store.list_runs(RunFilter(), 10, None)
    assert listed == finished(1, seq=1)


async def test_logs_in_order_after_a_cursor_and_the_truncated_flag(stores: Stores) -> None:
    store = stores.store
    await store.insert_run(run(1), None)
    await store.insert_run(run(2), None)
    lines = [
        LogRecord("trn-000001", 1, "stdout" if i % 2 else "stderr", T0, f"line {i}", seq=10 + i)
        for i in range(6)
    ]
    other = LogRecord("trn-000002", 1, "stdout", T0, "elsewhere", seq=20)
    store.append_logs(lines[:3])
    store.append_logs([other])
    store.append_logs(lines[3:])
    await store.save_run(run(1))  # a write waited for: the logs before it are durable too
    got, truncated = await store.get_logs("trn-000001", None, 100)
    assert got == lines and not truncated
    got, _ = await store.get_logs("trn-000001", 12, 2)
    assert [line.seq for line in got] == [13, 14]
    store.mark_logs_truncated("trn-000001")
    await store.save_run(run(1))
    got, truncated = await store.get_logs("trn-000001", 15, 10)
    assert got == [] and truncated
    assert await store.get_logs("trn-000002", None, 10) == ([other], False)
    assert await store.get_logs("trn-nope", None, 10) == ([], False)


async def test_unfinished_runs_oldest_first(stores: Stores) -> None:
    store = stores.store
    running = run(2)
    running.status = RunStatus.RUNNING
    running.attempts = [AttemptRecord(1, RunStatus.RUNNING, T0)]
    for rec in (run(1), running, finished(3, seq=1), run(4)):
        await store.insert_run(rec, None)
    unfinished = await store.load_unfinished()
    assert [r.id for r in unfinished] == ["trn-000001", "trn-000002", "trn-000004"]
    assert unfinished[1] == running


async def test_tasks_keep_their_first_registration_time(stores: Stores) -> None:
    store = stores.store
    square = TaskRecord(
        id="tsk-1",
        name="square",
        created_at=T0,
        retry=RetryOptions(2, 100, 1.5),
        timeout_seconds=30.0,
        plan="starter",
        parameters=(ParameterRecord("x", False, "int"), ParameterRecord("y", True, None, "2")),
        workflow_id="wf",
        workflow_version_id="wfv",
    )
    other = TaskRecord(id="tsk-2", name="other", created_at=T0 + timedelta(seconds=1))
    await store.save_tasks([square, other])
    changed = TaskRecord(id="tsk-1", name="square", created_at=T0 + timedelta(days=1))
    await store.save_tasks([changed])
    loaded = await store.load_tasks()
    assert [t.id for t in loaded] == ["tsk-1", "tsk-2"]
    assert loaded[0] == TaskRecord(id="tsk-1", name="square", created_at=T0)
    assert loaded[1] == other


async def test_counters_and_data_survive_a_reopen(stores: Stores) -> None:
    store = stores.store
    assert stores.counters is not None
    assert (stores.counters.event_seq, stores.counters.log_seq) == (0, 0)
    await store.insert_run(run(1), ("rest", "key"))
    await store.save_run(finished(1, seq=41))
    store.append_logs([LogRecord("trn-000001", 1, "stdout", T0, "hi", seq=77)])
    await store.save_tasks([TaskRecord(id="tsk-1", name="square", created_at=T0)])
    await store.close()
    store = stores.store = stores.reopen()  # closed again by the fixture
    counters = await store.open()
    assert (counters.event_seq, counters.log_seq) == (41, 77)
    assert counters.cursor_key == stores.counters.cursor_key
    assert await store.get_run("trn-000001") == finished(1, seq=41)
    assert not (await store.insert_run(run(2), ("rest", "key"))).created
    assert [t.name for t in await store.load_tasks()] == ["square"]


def _mixed() -> list[RunRecord]:
    """Runs of two tasks in every status, roots and subtasks, in insertion order."""
    statuses = list(RunStatus)
    rows: list[RunRecord] = []
    for i in range(1, 41):
        root = None if i % 3 else f"trn-{i - 1:06d}"
        rec = run(i, task="tsk-a" if i % 2 else "tsk-b", root=root)
        rec.status = statuses[(i * 7) % len(statuses)]
        if rec.status.terminal:
            rec.event_seq = i  # as the engine gives it (a store several nodes share would)
        rows.append(rec)
    return rows


FILTERS = [
    RunFilter(statuses=frozenset({RunStatus.FAILED})),
    RunFilter(statuses=frozenset({RunStatus.PENDING, RunStatus.RUNNING})),
    RunFilter(statuses=frozenset(RunStatus)),
    RunFilter(statuses=frozenset()),
    RunFilter(roots_only=True),
    RunFilter(task_id="tsk-a", statuses=frozenset({RunStatus.COMPLETED})),
    RunFilter(task_id="tsk-b", roots_only=True),
    RunFilter(statuses=frozenset({RunStatus.CANCELED}), roots_only=True),
    RunFilter(
        task_id="tsk-a",
        statuses=frozenset({RunStatus.PENDING, RunStatus.CANCELED}),
        roots_only=True,
    ),
    RunFilter(root_run_id="trn-000002", statuses=frozenset({RunStatus.PENDING})),
]


def _matches(rec: RunRecord, f: RunFilter) -> bool:
    return (
        (f.task_id is None or rec.task_id == f.task_id)
        and (f.root_run_id is None or rec.root_id == f.root_run_id)
        and (f.statuses is None or rec.status in f.statuses)
        and not (f.roots_only and rec.parent_id)
    )


def _filter_id(f: RunFilter) -> str:
    """A test id that is the same in every run (a frozenset's repr is not)."""
    parts = [f"task={f.task_id}"] if f.task_id else []
    if f.root_run_id:
        parts.append(f"root={f.root_run_id}")
    if f.statuses is not None:
        parts.append("status=" + "+".join(sorted(s.value for s in f.statuses)))
    if f.roots_only:
        parts.append("roots")
    return ",".join(parts)


@pytest.mark.parametrize("run_filter", FILTERS, ids=_filter_id)
async def test_listing_by_status_and_root_runs_in_pages(
    stores: Stores, run_filter: RunFilter
) -> None:
    store = stores.store
    rows = _mixed()
    for rec in rows:
        await store.insert_run(run(int(rec.id[4:]), rec.task_id, rec.parent_id or None), None)
        await store.save_run(rec)  # the status is a saved state, not only an inserted one
    expected = [r.id for r in reversed(rows) if _matches(r, run_filter)]
    seen: list[str] = []
    before = None
    while True:
        page = await store.list_runs(run_filter, 3, before)
        assert len(page) <= 3
        seen.extend(r.id for r, _ in page)
        if len(page) < 3:
            break
        before = page[-1][1]
    assert seen == expected
    for rec, _ in await store.list_runs(run_filter, 100, None):
        assert _matches(rec, run_filter) and rec == next(r for r in rows if r.id == rec.id)


async def test_a_status_listing_sees_writes_called_before_it(stores: Stores) -> None:
    store = stores.store
    await store.insert_run(run(1), None)
    rec = run(1)
    rec.status = RunStatus.RUNNING
    rec.attempts = [AttemptRecord(1, RunStatus.RUNNING, T0)]
    saved = store.save_run(rec)  # not waited for: a read called after it sees it all the same
    running = await store.list_runs(RunFilter(statuses=frozenset({RunStatus.RUNNING})), 10, None)
    pending = await store.list_runs(RunFilter(statuses=frozenset({RunStatus.PENDING})), 10, None)
    await saved
    assert [r.id for r, _ in running] == ["trn-000001"] and pending == []


# --- nodes and claims (render_sdk/engine/store.py) ----------------------------------------------
def owned(n: int, owner: str | None, status: RunStatus = RunStatus.PENDING) -> RunRecord:
    """Run ``n`` held by ``owner``; a running one with its first attempt running."""
    rec = run(n)
    rec.owner = owner
    rec.status = status
    if status is RunStatus.RUNNING:
        rec.started_at = rec.created_at
        rec.attempts = [AttemptRecord(1, RunStatus.RUNNING, rec.created_at)]
    return rec


async def test_claims_take_unowned_runs_that_are_due_oldest_first(stores: Stores) -> None:
    store = stores.store
    now = datetime.now(timezone.utc)
    later = owned(4, None)
    later.retries, later.not_before = 1, now + timedelta(hours=1)
    due = owned(5, None)
    due.retries, due.not_before = 1, now - timedelta(seconds=1)
    rows = [
        owned(1, "nod-other"),
        owned(2, None),
        owned(3, None, RunStatus.RUNNING),  # running without an owner: only a sweep takes it
        later,
        due,
        finished(6, seq=1),
        owned(7, None),
        owned(8, None),
    ]
    for rec in rows:
        await store.insert_run(rec, None)
    first = await store.claim_runs("nod-a", 2)
    assert [r.id for r in first] == ["trn-000002", "trn-000005"]
    assert all(r.owner == "nod-a" for r in first)
    assert first[1].not_before == due.not_before and first[1].retries == 1
    rest = await store.claim_runs("nod-b", None)
    assert [r.id for r in rest] == ["trn-000007", "trn-000008"]
    assert await store.claim_runs("nod-b", 10) == []
    waiting = await store.claim_runs("nod-c", None, waiting=True)
    assert [r.id for r in waiting] == ["trn-000004"] and waiting[0].not_before == later.not_before
    for rec in [*first, *rest, *waiting]:
        assert await store.get_run(rec.id) == rec  # the owner is stored
    stored = await store.get_run("trn-000001")
    assert stored is not None and stored.owner == "nod-other"


async def test_claims_can_take_only_runs_of_the_tasks_named(stores: Stores) -> None:
    store = stores.store
    rows = [owned(1, None), owned(2, None), owned(3, None), owned(4, None)]
    rows[1].task_id, rows[1].task_name = "tsk-b", "b"
    rows[3].task_id, rows[3].task_name = "tsk-c", "c"
    for rec in rows:
        await store.insert_run(rec, None)
    assert await store.claim_runs("nod-x", None, tasks=["x"]) == []
    assert await store.claim_runs("nod-x", None, tasks=set()) == []
    first = await store.claim_runs("nod-b", 10, tasks={"b": "digest", "x": "digest"})
    assert [(r.id, r.owner) for r in first] == [("trn-000002", "nod-b")]
    both = await store.claim_runs("nod-ac", 1, tasks=("a", "c"))
    assert [r.id for r in both] == ["trn-000001"]
    waiting = await store.claim_runs("nod-ac", None, waiting=True, tasks=("c", "a"))
    assert [r.id for r in waiting] == ["trn-000003", "trn-000004"]
    for rec in [*first, *both, *waiting]:
        assert await store.get_run(rec.id) == rec


async def test_live_nodes_say_the_tasks_they_joined_with(stores: Stores) -> None:
    store = stores.store
    await store.join("nod-b", 600, {"square": "d1", "cube": "d2"})
    await store.join("nod-a", 600, {"square": "d1"})
    await store.join("nod-quiet", 600)  # says nothing of its tasks
    await store.join("nod-short", 0.05, {"square": "d9"})
    await asyncio.sleep(0.3)  # at least this long: the short lease has lapsed
    live = await store.live_nodes()
    assert [(n.id, n.tasks) for n in live] == [
        ("nod-a", {"square": "d1"}),
        ("nod-b", {"square": "d1", "cube": "d2"}),
        ("nod-quiet", None),
    ]
    assert live[0].fingerprint != live[1].fingerprint and live[2].fingerprint == ""
    assert live[0].fingerprint == NodeInfo("nod-other", {"square": "d1"}).fingerprint
    await store.join("nod-a", 600, {"square": "d3"})  # joined again: what it says now
    await store.leave("nod-b")
    assert await store.renew("nod-quiet", 600)  # a renewal keeps what it said
    live = await store.live_nodes()
    assert [(n.id, n.tasks) for n in live] == [("nod-a", {"square": "d3"}), ("nod-quiet", None)]


async def test_concurrent_claims_never_return_one_run_twice(stores: Stores) -> None:
    store = stores.store
    for n in range(1, 41):
        await store.insert_run(owned(n, None), None)
    claims = await asyncio.gather(*(store.claim_runs(f"nod-{i}", 3) for i in range(20)))
    ids = [rec.id for claim in claims for rec in claim]
    assert sorted(ids) == [f"trn-{n:06d}" for n in range(1, 41)]  # each once, none left out
    for i, claim in enumerate(claims):
        for rec in claim:
            stored = await store.get_run(rec.id)
            assert stored is not None and stored.owner == f"nod-{i}"


async def test_a_sweep_frees_the_runs_of_owners_that_are_gone(stores: Stores) -> None:
    store = stores.store
    await store.join("nod-live", 600)
    waiting = owned(4, "nod-gone")
    waiting.retries = 1
    waiting.not_before = datetime.now(timezone.utc) + timedelta(hours=1)
    rows = [
        owned(1, "nod-live", RunStatus.RUNNING),
        owned(2, "nod-gone", RunStatus.RUNNING),
        owned(3, None, RunStatus.RUNNING),  # written before owners were kept
        waiting,
        owned(5, None),
        finished(6, seq=1),
    ]
    for rec in rows:
        await store.insert_run(rec, None)
    freed = await store.sweep()
    assert {owner: sorted(ids) for owner, ids in freed.items()} == {
        "nod-gone": ["trn-000002", "trn-000004"],
        "": ["trn-000003"],
    }
    for run_id in ("trn-000002", "trn-000003"):
        rec = await store.get_run(run_id)
        assert rec is not None and rec.status is RunStatus.PENDING and rec.owner is None
        assert rec.retries == 0  # an interrupted attempt spends no retry
        assert [(a.status, a.reason) for a in rec.attempts] == [
            (RunStatus.FAILED, ReasonCode.INTERRUPTED)
        ]
        assert rec.reason is ReasonCode.INTERRUPTED
    rec = await store.get_run("trn-000004")
    assert rec is not None and rec.owner is None and rec.not_before == waiting.not_before
    assert await store.get_run("trn-000001") == rows[0]  # a live node keeps its runs
    assert await store.get_run("trn-000006") == rows[5]
    assert await store.sweep() == {}
    claimed = await store.claim_runs("nod-live", None)
    assert [r.id for r in claimed] == ["trn-000002", "trn-000003", "trn-000005"]


async def test_a_lapsed_lease_loses_the_nodes_runs(stores: Stores) -> None:
    store = stores.store
    await store.join("nod-short", 0.05)
    await store.join("nod-long", 600)
    await store.insert_run(owned(1, "nod-short", RunStatus.RUNNING), None)
    await store.insert_run(owned(2, "nod-long", RunStatus.RUNNING), None)
    assert await store.renew("nod-short", 0.05)
    await asyncio.sleep(0.3)  # at least this long: the short lease has lapsed
    assert await store.renew("nod-long", 600)
    assert await store.sweep() == {"nod-short": ["trn-000001"]}
    assert not await store.renew("nod-short", 600)  # it holds nothing any more: it must know
    assert await store.renew("nod-long", 600)
    rec = await store.get_run("trn-000002")
    assert rec is not None and rec.owner == "nod-long" and rec.status is RunStatus.RUNNING


async def test_a_node_that_leaves_frees_its_runs_at_once(stores: Stores) -> None:
    store = stores.store
    await store.join("nod-a", 600)
    await store.join("nod-b", 600)
    await store.insert_run(owned(1, "nod-a", RunStatus.RUNNING), None)
    await store.insert_run(owned(2, "nod-b", RunStatus.RUNNING), None)
    await store.insert_run(owned(3, "nod-a"), None)
    await store.leave("nod-a")
    first = await store.get_run("trn-000001")
    assert first is not None and first.owner is None and first.status is RunStatus.PENDING
    assert first.attempts[0].reason is ReasonCode.INTERRUPTED
    third = await store.get_run("trn-000003")
    assert third is not None and third.owner is None and third.attempts == []
    second = await store.get_run("trn-000002")
    assert second is not None and second.owner == "nod-b"
    assert not await store.renew("nod-a", 600) and await store.renew("nod-b", 600)


async def test_a_store_of_one_node_forgets_earlier_nodes_when_it_opens(stores: Stores) -> None:
    """SQLite and memory: one node at a time, so at open every earlier owner is gone. A shared
    store (PostgreSQL) keeps a node's lease across the open of another store object."""
    store = stores.store
    await store.join("nod-before", 600)
    await store.insert_run(owned(1, "nod-before", RunStatus.RUNNING), None)
    await store.close()
    store = stores.store = stores.reopen()
    await store.open()
    freed = await store.sweep()
    if store.shared:
        assert freed == {} and await store.renew("nod-before", 600)
    else:
        assert freed == {"nod-before": ["trn-000001"]}
        assert not await store.renew("nod-before", 600)
