"""Runs through the engine core's API on the in-memory store and fake workers (no process):
results and errors, task lookup, input validation, idempotency, the fast lane and the queue,
listing, terminal events, logs, and when an attempt's start is written."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from render_sdk.engine import scheduler
from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import RunFilter
from render_sdk.engine.records import InvalidRequest, NotFound, RunRecord, RunStatus
from render_sdk.engine.store import Store
from render_sdk.engine.store_memory import MemoryStore
from render_sdk.engine.store_postgres import PostgresStore
from render_sdk.engine.store_sqlite import SQLiteStore

from .conftest import MakeFake, run_to_end, wait_end
from .fake_workers import Calls, Fail, param, task

TRACE = 'Traceback (most recent call last):\n  File "main.py", line 3\nValueError: it broke\n'


async def square(value: Any, calls: Calls) -> Any:
    return value[0] ** 2


def held(gate: asyncio.Event) -> Any:
    """A task that runs until ``gate`` is set."""

    async def wait(value: Any, calls: Calls) -> Any:
        await gate.wait()
        return "released"

    return wait


async def test_success_and_failure(make_fake: MakeFake) -> None:
    async def fail(value: Any, calls: Calls) -> Any:
        raise Fail(value["message"], TRACE)

    tasks = [task("square"), task("fail", parameters=(param("message"),))]
    core, _ = await make_fake({"square": square, "fail": fail}, tasks)
    ok = await run_to_end(core, "square", [7])
    assert ok.status is RunStatus.COMPLETED
    assert ok.results == [49]
    assert ok.root_id == ok.id and ok.parent_id == ""
    assert ok.task_id.startswith("tsk-") and ok.id.startswith("trn-")
    assert [a.status for a in ok.attempts] == [RunStatus.COMPLETED]
    assert ok.started_at is not None and ok.completed_at is not None
    assert ok.event_seq is not None

    bad = await run_to_end(core, "fail", {"message": "it broke"})
    assert bad.status is RunStatus.FAILED
    assert bad.error == "it broke"
    assert bad.attempts[0].error == "it broke"
    assert bad.event_seq is not None and bad.event_seq > ok.event_seq
    logs, truncated = await core.get_logs(bad.id, 100, None)
    # The stack trace the worker reported is in the run's logs, line by line.
    assert [line.message for line in logs] == TRACE.rstrip("\n").split("\n")
    assert {line.stream for line in logs} == {"stderr"}
    assert not truncated
    assert await core.store.get_run(bad.id) == bad


async def test_find_task_forms(make_fake: MakeFake) -> None:
    core, workers = await make_fake({"square": square, "fan_out": square})
    found = await core.find_task("square")
    assert found is not None
    assert await core.find_task("my-workflow/square") == found
    assert await core.find_task("my-workflow/square:v3") == found
    assert await core.find_task(found.id) == found
    assert workers.registrations == 1
    assert await core.find_task("no-such-task") is None
    assert workers.registrations == 2  # an unknown name asks the worker once more
    names = [t.name for t in core.list_tasks()]
    assert "square" in names and "fan_out" in names


async def test_an_unknown_task_triggers_one_registration(make_fake: MakeFake) -> None:
    core, workers = await make_fake({"square": square, "brand_new": square}, [task("square")])
    assert await core.find_task("brand_new") is None  # not registered at first
    workers.tasks = [task("square"), task("brand_new")]
    registrations = workers.registrations
    # Lookups of unknown names at the same time share one registration.
    found = await asyncio.gather(core.find_task("brand_new"), core.find_task("brand_new"))
    assert found[0] is not None and found[0].name == "brand_new" and found[1] == found[0]
    assert workers.registrations == registrations + 1
    assert "brand_new" in [t.name for t in core.list_tasks()]
    assert (await run_to_end(core, "brand_new", [4])).results == [16]


TYPED = [
    task("square", parameters=(param("x"),)),
    task("add", parameters=(param("a"), param("b", "1"))),
]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("square", [1, 2], "takes 1 argument(s) (x) but 2 were given"),
        ("square", {"y": 1}, "has no parameter named 'y'"),
        ("square", [], "missing a value for parameter 'x'"),
        ("add", {"b": 2}, "missing a value for parameter 'a'"),
        ("square", 5, "must be a JSON array"),
    ],
)
async def test_input_validation(
    make_fake: MakeFake, name: str, value: object, message: str
) -> None:
    core, workers = await make_fake({"square": square, "add": square}, TYPED)
    found = await core.find_task(name)
    assert found is not None
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        await core.start_run(found, value)  # type: ignore[arg-type]
    assert workers.attempts_started == 0
    assert await core.list_runs(RunFilter(), 10, None) == []  # nothing was stored


async def test_defaults_and_named_input(make_fake: MakeFake) -> None:
    received: list[Any] = []

    async def add(value: Any, calls: Calls) -> Any:
        received.append(value)
        args = list(value.values()) if isinstance(value, dict) else value
        return args[0] + (args[1] if len(args) > 1 else 1)  # the worker applies the default

    core, _ = await make_fake({"add": add}, [TYPED[1]])
    assert (await run_to_end(core, "add", [2])).results == [3]
    assert (await run_to_end(core, "add", {"a": 2, "b": 5})).results == [7]
    assert received == [[2], {"a": 2, "b": 5}]  # the input reaches the worker as it was given


async def test_idempotency_key_returns_first_run(make_fake: MakeFake) -> None:
    core, workers = await make_fake({"square": square})
    found = await core.find_task("square")
    assert found is not None
    first = await core.start_run(found, [3], idempotency_key="k1")
    second = await core.start_run(found, [4], idempotency_key="k1")
    other = await core.start_run(found, [4], idempotency_key="k2")
    assert first.id == second.id != other.id
    assert (await wait_end(core, first.id)).results == [9]
    again = await core.start_run(found, [5], idempotency_key="k1")
    assert again.id == first.id and again.status is RunStatus.COMPLETED
    assert (await wait_end(core, other.id)).results == [16]
    assert core.scheduler.running == set()  # duplicates gave their reserved slots back
    assert workers.attempts_started == 2
    assert len(await core.list_runs(RunFilter(), 10, None)) == 2


async def test_fast_lane_and_queue_keep_the_limit(make_fake: MakeFake) -> None:
    core, workers = await make_fake({"held": held(asyncio.Event())}, limit=2)
    found = await core.find_task("held")
    assert found is not None
    runs = [await core.start_run(found, []) for _ in range(5)]
    assert core.scheduler.busy() == 2
    assert len(core.scheduler.queue) == 3
    for run in runs:
        await core.cancel_run(run.id)
        assert (await core.get_run(run.id)).status is RunStatus.CANCELED
    assert core.scheduler.running == set()
    # Each cancel of a running run let a queued one start: every attempt was canceled.
    assert {kind for _, _, kind in workers.ended} == {"Canceled"}
    assert workers.most_at_once == 2
    for run in runs:
        attempts = (await core.get_run(run.id)).attempts
        assert [a.status for a in attempts] in ([], [RunStatus.CANCELED])


async def test_unknown_run(make_fake: MakeFake) -> None:
    core, _ = await make_fake({"square": square})
    with pytest.raises(NotFound):
        await core.get_run("trn-nope")
    with pytest.raises(NotFound):
        await core.cancel_run("trn-nope")
    with pytest.raises(NotFound):
        await core.get_logs("trn-nope", 10, None)
    with pytest.raises(NotFound):
        async for _ in core.terminal_events(["trn-nope"]):
            pass


async def _start_many(core: EngineCore, name: str, values: list[list[int]]) -> list[str]:
    found = await core.find_task(name)
    assert found is not None
    return [(await core.start_run(found, v)).id for v in values]


async def test_list_runs_pagination_filters_and_cursor(make_fake: MakeFake) -> None:
    core, _ = await make_fake({"square": square, "add": square}, limit=1)
    squares = await _start_many(core, "square", [[i] for i in range(5)])
    adds = await _start_many(core, "add", [[i] for i in range(2)])
    newest_first = list(reversed(squares + adds))
    page1 = await core.list_runs(RunFilter(), 3, None)
    assert [r.id for r, _ in page1] == newest_first[:3]
    page2 = await core.list_runs(RunFilter(), 3, page1[-1][1])
    assert [r.id for r, _ in page2] == newest_first[3:6]
    page3 = await core.list_runs(RunFilter(), 3, page2[-1][1])
    assert [r.id for r, _ in page3] == newest_first[6:]

    found = await core.find_task("square")
    assert found is not None
    only = await core.list_runs(RunFilter(task_id=found.id), 100, None)
    assert [r.id for r, _ in only] == list(reversed(squares))
    by_root = await core.list_runs(RunFilter(root_run_id=squares[0]), 100, None)
    assert [r.id for r, _ in by_root] == [squares[0]]

    for bad in ["garbage", page1[-1][1][:-2] + "AA", "%%%"]:
        with pytest.raises(InvalidRequest, match="invalid cursor"):
            await core.list_runs(RunFilter(), 3, bad)
    with pytest.raises(InvalidRequest, match="limit"):
        await core.list_runs(RunFilter(), 0, None)
    for run_id in squares + adds:
        await wait_end(core, run_id)


async def test_terminal_events_after_seq_and_order(make_fake: MakeFake) -> None:
    gate = asyncio.Event()
    core, _ = await make_fake({"square": square, "held": held(gate)})
    a = await run_to_end(core, "square", [2])
    found = await core.find_task("held")
    assert found is not None
    b = await core.start_run(found, [])
    seen: asyncio.Queue[RunRecord] = asyncio.Queue()

    async def watch() -> None:
        async for rec in core.terminal_events([a.id, b.id, a.id]):
            seen.put_nowait(rec)

    watching = asyncio.ensure_future(watch())
    assert (await seen.get()).id == a.id  # the run already ended comes at once ...
    assert seen.empty()
    gate.set()  # ... the other once it ends
    await watching
    assert (await seen.get()).id == b.id and seen.empty()
    assert a.event_seq is not None
    later = [rec.id async for rec in core.terminal_events([a.id, b.id], after_seq=a.event_seq)]
    assert later == [b.id]


async def test_a_shared_store_gives_the_terminal_event_ids(
    postgres_url: str, make_fake: MakeFake
) -> None:  # the database first: it outlives the engine
    """With a store several nodes share, each end's event id comes from the store as it writes
    the end: the record heard, the record read back and the stored row carry the same id, later
    ends larger ones, and a stream resumed after an id skips the run that had it."""
    store = PostgresStore(postgres_url)
    core, _ = await make_fake({"square": square}, store=store)
    first = await run_to_end(core, "square", [2])
    second = await run_to_end(core, "square", [3])
    assert first.event_seq is not None and second.event_seq is not None
    assert second.event_seq > first.event_seq
    for ended in (first, second):
        stored = await store.get_run(ended.id)
        assert stored is not None and stored.event_seq == ended.event_seq
    after = [rec.id async for rec in core.terminal_events([first.id, second.id], first.event_seq)]
    assert after == [second.id]


async def test_log_capture_is_bounded(make_fake: MakeFake) -> None:
    async def chatty(value: Any, calls: Calls) -> Any:
        for i in range(value[0]):
            calls.log("stdout", f"line {i}")
            calls.log("stderr", f"err {i}")
        return value[0]

    # A small limit makes truncation cheap to provoke.
    core, _ = await make_fake({"chatty": chatty}, log_limit=200)
    rec = await run_to_end(core, "chatty", [50])
    assert rec.status is RunStatus.COMPLETED
    logs, truncated = await core.get_logs(rec.id, 1000, None)
    assert truncated
    assert logs[-1].message.startswith("[output truncated")
    assert sum(len(x.message) + 1 for x in logs[:-1]) <= 200
    first, _ = await core.get_logs(rec.id, 2, None)
    rest, _ = await core.get_logs(rec.id, 1000, first[-1].seq)
    assert [x.seq for x in first + rest] == [x.seq for x in logs]


async def test_a_started_run_whose_insert_does_not_commit_is_stopped(
    make_fake: MakeFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker gets a new run once its insert is applied; if the commit then fails, the run
    is canceled (it must not run unrecorded) and the start fails with the store's error."""
    store = SQLiteStore(":memory:", durable=False)  # its inserts are staged
    core, workers = await make_fake({"held": held(asyncio.Event()), "square": square}, store=store)
    staged = store.insert_run_staged

    def failing_commit(run, idempotency):  # type: ignore[no-untyped-def]
        applied, committed = staged(run, idempotency)

        async def commit_fails() -> None:
            await committed
            raise sqlite3.OperationalError("disk I/O error")

        return applied, commit_fails()

    monkeypatch.setattr(store, "insert_run_staged", failing_commit)
    found = await core.find_task("held")
    assert found is not None
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        await core.start_run(found, [])
    monkeypatch.undo()
    (rec, _), *_ = await core.list_runs(RunFilter(), 1, None)
    assert rec.task_name == "held"
    assert rec.status is RunStatus.CANCELED
    assert rec.error == "canceled: the engine could not store this run"
    assert workers.ended == [(rec.id, 1, "Canceled")]  # its worker was stopped
    assert (await run_to_end(core, "square", [3])).results == [9]  # the engine goes on


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest) -> Store:
    """The in-memory store, or SQLite (whose writes commit later, on its writer thread)."""
    return MemoryStore() if request.param == "memory" else SQLiteStore(":memory:", durable=False)


async def _queued_behind_a_blocker(core: EngineCore, name: str, value: list[object]) -> str:
    """Start ``name`` while the only slot is taken, so that it waits in the queue and starts
    through the scheduler; free the slot; return the queued run's id."""
    blocker_task = await core.find_task("blocker")
    queued_task = await core.find_task(name)
    assert blocker_task is not None and queued_task is not None
    blocker = await core.start_run(blocker_task, [])
    queued = await core.start_run(queued_task, value)
    assert (await core.get_run(queued.id)).status is RunStatus.PENDING
    await core.cancel_run(blocker.id)
    return queued.id


async def test_a_short_attempt_is_written_once_with_its_outcome(
    make_fake: MakeFake, monkeypatch: pytest.MonkeyPatch, store: Store
) -> None:
    # "Short" is shorter than RECORD_START_AFTER, raised here so that the attempt counts as
    # short however slow the machine.
    monkeypatch.setattr(scheduler, "RECORD_START_AFTER", 60.0)
    core, _ = await make_fake(
        {"blocker": held(asyncio.Event()), "square": square}, limit=1, store=store
    )
    saved: list[tuple[str, RunStatus]] = []
    save = core.store.save_run

    def recording_save(run):  # type: ignore[no-untyped-def]
        saved.append((run.id, run.status))
        return save(run)

    monkeypatch.setattr(core.store, "save_run", recording_save)
    run_id = await _queued_behind_a_blocker(core, "square", [5])
    done = await wait_end(core, run_id)
    assert done.status is RunStatus.COMPLETED and done.results == [25]
    assert [a.status for a in done.attempts] == [RunStatus.COMPLETED]
    assert done.started_at is not None and done.attempts[0].started_at == done.started_at
    assert [status for rid, status in saved if rid == run_id] == [RunStatus.COMPLETED]
    stored = await core.store.get_run(run_id)
    assert stored is not None and stored.status is RunStatus.COMPLETED
    assert [a.status for a in stored.attempts] == [RunStatus.COMPLETED]


async def test_a_longer_attempt_is_written_as_running_while_it_runs(
    make_fake: MakeFake, store: Store
) -> None:
    core, _ = await make_fake(
        {"blocker": held(asyncio.Event()), "long": held(asyncio.Event())}, limit=1, store=store
    )
    running = asyncio.Event()
    reported: list[tuple[str, RunStatus]] = []

    def on_change(rec: RunRecord) -> None:
        reported.append((rec.id, rec.status))
        if rec.status is RunStatus.RUNNING and rec.task_name == "long":
            running.set()

    core.watch_states(on_change)
    run_id = await _queued_behind_a_blocker(core, "long", [])
    # The engine reports the run as running once its start is committed (after
    # RECORD_START_AFTER): a read of the store then sees it too.
    await running.wait()
    stored = await core.store.get_run(run_id)
    assert stored is not None and stored.status is RunStatus.RUNNING
    assert [a.status for a in stored.attempts] == [RunStatus.RUNNING]
    assert (await core.get_run(run_id)).status is RunStatus.RUNNING
    await core.cancel_run(run_id)
    done = await wait_end(core, run_id)
    assert [a.status for a in done.attempts] == [RunStatus.CANCELED]
    assert [s for rid, s in reported if rid == run_id] == [
        RunStatus.PENDING,
        RunStatus.RUNNING,
        RunStatus.CANCELED,
    ]
