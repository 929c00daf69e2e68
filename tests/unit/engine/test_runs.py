"""Runs end to end through the core with real worker processes (process-per-attempt mode)."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from render_sdk.engine import scheduler
from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import RunFilter
from render_sdk.engine.records import InvalidRequest, NotFound, RunStatus

from .conftest import MakeEngine, run_to_end, wait_end


async def test_success_and_failure(make_engine: MakeEngine) -> None:
    core = await make_engine()
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
    assert any("ValueError: it broke" in line.message for line in logs)
    assert not truncated


async def test_find_task_forms(make_engine: MakeEngine) -> None:
    core = await make_engine()
    task = await core.find_task("square")
    assert task is not None
    assert await core.find_task("my-workflow/square") == task
    assert await core.find_task("my-workflow/square:v3") == task
    assert await core.find_task(task.id) == task
    assert await core.find_task("no-such-task") is None
    names = [t.name for t in core.list_tasks()]
    assert "square" in names and "fan_out" in names


@pytest.mark.parametrize(
    ("task", "value", "message"),
    [
        ("square", [1, 2], "takes 1 argument(s) (x) but 2 were given"),
        ("square", {"y": 1}, "has no parameter named 'y'"),
        ("square", [], "missing a value for parameter 'x'"),
        ("add", {"b": 2}, "missing a value for parameter 'a'"),
        ("square", 5, "must be a JSON array"),
    ],
)
async def test_input_validation(
    make_engine: MakeEngine, task: str, value: object, message: str
) -> None:
    core = await make_engine()
    found = await core.find_task(task)
    assert found is not None
    with pytest.raises(InvalidRequest, match=message.replace("(", r"\(").replace(")", r"\)")):
        await core.start_run(found, value)  # type: ignore[arg-type]


async def test_defaults_and_named_input(make_engine: MakeEngine) -> None:
    core = await make_engine()
    assert (await run_to_end(core, "add", [2])).results == [3]
    assert (await run_to_end(core, "add", {"a": 2, "b": 5})).results == [7]


async def test_idempotency_key_returns_first_run(make_engine: MakeEngine) -> None:
    core = await make_engine()
    task = await core.find_task("square")
    assert task is not None
    first = await core.start_run(task, [3], idempotency_key="k1")
    second = await core.start_run(task, [4], idempotency_key="k1")
    other = await core.start_run(task, [4], idempotency_key="k2")
    assert first.id == second.id != other.id
    await wait_end(core, first.id)
    again = await core.start_run(task, [5], idempotency_key="k1")
    assert again.id == first.id and again.status is RunStatus.COMPLETED
    await wait_end(core, other.id)
    assert core.scheduler.running == set()  # duplicates gave their reserved slots back


async def test_fast_lane_and_queue_keep_the_limit(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=2)
    task = await core.find_task("long_sleep")
    assert task is not None
    runs = [await core.start_run(task, [30]) for _ in range(5)]
    assert core.scheduler.busy() == 2
    assert len(core.scheduler.queue) == 3
    for run in runs:
        await core.cancel_run(run.id)
        assert (await core.get_run(run.id)).status is RunStatus.CANCELED
    assert core.scheduler.running == set()


async def test_unknown_run(make_engine: MakeEngine) -> None:
    core = await make_engine()
    with pytest.raises(NotFound):
        await core.get_run("trn-nope")
    with pytest.raises(NotFound):
        await core.cancel_run("trn-nope")
    with pytest.raises(NotFound):
        await core.get_logs("trn-nope", 10, None)
    with pytest.raises(NotFound):
        async for _ in core.terminal_events(["trn-nope"]):
            pass


async def _start_many(core: EngineCore, task: str, values: list[list[int]]) -> list[str]:
    found = await core.find_task(task)
    assert found is not None
    return [(await core.start_run(found, v)).id for v in values]


async def test_list_runs_pagination_filters_and_cursor(make_engine: MakeEngine) -> None:
    core = await make_engine(max_concurrency=1)
    squares = await _start_many(core, "square", [[i] for i in range(5)])
    adds = await _start_many(core, "add", [[i] for i in range(2)])
    newest_first = list(reversed(squares + adds))
    page1 = await core.list_runs(RunFilter(), 3, None)
    assert [r.id for r, _ in page1] == newest_first[:3]
    page2 = await core.list_runs(RunFilter(), 3, page1[-1][1])
    assert [r.id for r, _ in page2] == newest_first[3:6]
    page3 = await core.list_runs(RunFilter(), 3, page2[-1][1])
    assert [r.id for r, _ in page3] == newest_first[6:]

    square = await core.find_task("square")
    assert square is not None
    only = await core.list_runs(RunFilter(task_id=square.id), 100, None)
    assert [r.id for r, _ in only] == list(reversed(squares))
    by_root = await core.list_runs(RunFilter(root_run_id=squares[0]), 100, None)
    assert [r.id for r, _ in by_root] == [squares[0]]

    for bad in ["garbage", page1[-1][1][:-2] + "AA", "", "%%%"]:
        if bad == "":
            continue
        with pytest.raises(InvalidRequest, match="invalid cursor"):
            await core.list_runs(RunFilter(), 3, bad)
    with pytest.raises(InvalidRequest, match="limit"):
        await core.list_runs(RunFilter(), 0, None)
    for run_id in squares + adds:
        await wait_end(core, run_id)


async def test_terminal_events_after_seq_and_order(make_engine: MakeEngine) -> None:
    core = await make_engine()
    a = await run_to_end(core, "square", [2])
    task = await core.find_task("square")
    assert task is not None
    b = await core.start_run(task, [3])
    seen = [rec.id async for rec in core.terminal_events([a.id, b.id, a.id])]
    assert seen == [a.id, b.id]
    assert a.event_seq is not None
    later = [rec.id async for rec in core.terminal_events([a.id, b.id], after_seq=a.event_seq)]
    assert later == [b.id]


async def test_log_capture_is_bounded(make_engine: MakeEngine) -> None:
    core = await make_engine()
    # A small limit makes truncation cheap to provoke.
    core.scheduler.log_limit = 200
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
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worker gets a new run once its insert is applied; if the commit then fails, the run
    is canceled (it must not run unrecorded) and the start fails with the store's error."""
    core = await make_engine(serve=True)
    staged = core.store.insert_run_staged

    def failing_commit(run, idempotency):  # type: ignore[no-untyped-def]
        applied, committed = staged(run, idempotency)

        async def commit_fails() -> None:
            await committed
            raise sqlite3.OperationalError("disk I/O error")

        return applied, commit_fails()

    monkeypatch.setattr(core.store, "insert_run_staged", failing_commit)
    task = await core.find_task("long_sleep")
    assert task is not None
    with pytest.raises(sqlite3.OperationalError, match="disk I/O error"):
        await core.start_run(task, [60])
    monkeypatch.undo()
    (rec, _), *_ = await core.list_runs(RunFilter(), 1, None)
    assert rec.task_name == "long_sleep"
    assert rec.status is RunStatus.CANCELED
    assert rec.error == "canceled: the engine could not store this run"
    assert (await run_to_end(core, "square", [3])).results == [9]  # the engine goes on


async def _queued_behind_a_blocker(core: EngineCore, task: str, value: list[object]) -> str:
    """Start ``task`` while the only slot is taken, so that it waits in the queue and starts
    through the scheduler; free the slot; return the queued run's id."""
    blocker_task = await core.find_task("long_sleep")
    queued_task = await core.find_task(task)
    assert blocker_task is not None and queued_task is not None
    blocker = await core.start_run(blocker_task, [60])
    queued = await core.start_run(queued_task, value)
    assert (await core.get_run(queued.id)).status is RunStatus.PENDING
    await core.cancel_run(blocker.id)
    return queued.id


async def test_a_short_attempt_is_written_once_with_its_outcome(
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # "Short" is shorter than RECORD_START_AFTER. Raised here so that the attempt counts as short
    # however long its worker takes to start (canceling the blocker kills the only worker).
    monkeypatch.setattr(scheduler, "RECORD_START_AFTER", 60.0)
    core = await make_engine(serve=True, max_concurrency=1)
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
    make_engine: MakeEngine,
) -> None:
    core = await make_engine(serve=True, max_concurrency=1)
    run_id = await _queued_behind_a_blocker(core, "long_sleep", [60])
    # The engine reports a run as running only once that is committed, so wait on what it
    # reports: the store's read is then sure to see the start too (a read of the store alone
    # can see the start applied before its commit, while the engine still says pending).
    for _ in range(3000):  # RECORD_START_AFTER (0.05 s), then the commit: 30 s at most
        if (await core.get_run(run_id)).status is RunStatus.RUNNING:
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the engine never reported the attempt as running")
    stored = await core.store.get_run(run_id)
    assert stored is not None and stored.status is RunStatus.RUNNING
    assert [a.status for a in stored.attempts] == [RunStatus.RUNNING]
    await core.cancel_run(run_id)
    done = await wait_end(core, run_id)
    assert [a.status for a in done.attempts] == [RunStatus.CANCELED]
