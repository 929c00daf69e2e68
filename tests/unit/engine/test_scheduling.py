"""Scheduling through the real engine core on the in-memory store and fake workers (no process,
socket or database): the concurrency limit, retries, timeouts, cancel, subtasks, stop and
recovery."""

from __future__ import annotations

import asyncio
from typing import Any

from render_sdk.engine.lifecycle import INTERRUPTED_ERROR
from render_sdk.engine.records import RunRecord, RunStatus
from render_sdk.engine.store_memory import MemoryStore

from .conftest import wait_end
from .fake_workers import Calls, fake_engine, task


async def start(core: Any, name: str, value: Any) -> RunRecord:
    found = await core.find_task(name)
    assert found is not None
    rec: RunRecord = await core.start_run(found, value)
    return rec


async def test_runs_complete_with_their_results() -> None:
    async def square(value: Any, calls: Calls) -> Any:
        return value[0] ** 2

    core, workers = await fake_engine({"square": square})
    runs = [await start(core, "square", [i]) for i in range(10)]
    done = [await wait_end(core, r.id) for r in runs]
    assert [d.results for d in done] == [[i * i] for i in range(10)]
    assert all(d.status is RunStatus.COMPLETED and len(d.attempts) == 1 for d in done)
    assert workers.attempts_started == 10
    stored = await core.store.get_run(runs[3].id)
    assert stored is not None and stored.results == [9] and stored.event_seq is not None
    await core.stop()


async def test_no_more_than_the_limit_run_at_once() -> None:
    gate = asyncio.Event()

    async def held(value: Any, calls: Calls) -> Any:
        await gate.wait()
        return value

    core, workers = await fake_engine({"held": held}, limit=2)
    runs = [await start(core, "held", [i]) for i in range(6)]
    await workers.wait_started(2)
    statuses = [(await core.get_run(r.id)).status for r in runs]
    assert statuses.count(RunStatus.PENDING) == 4
    gate.set()
    for r in runs:
        assert (await wait_end(core, r.id)).status is RunStatus.COMPLETED
    assert workers.most_at_once == 2
    await core.stop()


async def test_a_failing_task_is_retried_then_succeeds() -> None:
    tries: list[int] = []

    async def flaky(value: Any, calls: Calls) -> Any:
        tries.append(1)
        if len(tries) < 3:
            raise ValueError(f"try {len(tries)}")
        return "ok"

    core, _ = await fake_engine({"flaky": flaky}, [task("flaky", retries=2, wait_ms=5)])
    done = await wait_end(core, (await start(core, "flaky", [])).id)
    assert done.status is RunStatus.COMPLETED and done.results == ["ok"]
    assert done.retries == 2
    assert [(a.status, a.error) for a in done.attempts] == [
        (RunStatus.FAILED, "ValueError: try 1"),
        (RunStatus.FAILED, "ValueError: try 2"),
        (RunStatus.COMPLETED, None),
    ]
    await core.stop()


async def test_retries_run_out() -> None:
    async def broken(value: Any, calls: Calls) -> Any:
        raise ValueError("always")

    core, _ = await fake_engine({"broken": broken}, [task("broken", retries=1)])
    done = await wait_end(core, (await start(core, "broken", [])).id)
    assert done.status is RunStatus.FAILED and done.error == "ValueError: always"
    assert len(done.attempts) == 2 and done.retries == 1
    await core.stop()


async def test_a_task_past_its_timeout_is_stopped() -> None:
    async def forever(value: Any, calls: Calls) -> Any:
        await asyncio.Event().wait()

    core, workers = await fake_engine({"forever": forever}, [task("forever", timeout=0.05)])
    done = await wait_end(core, (await start(core, "forever", [])).id)
    assert done.status is RunStatus.FAILED and done.error == "timed out after 0.05s"
    assert workers.ended == [(done.id, 1, "TimedOut")]
    await core.stop()


async def test_cancel_ends_the_whole_tree() -> None:
    child_started = asyncio.Event()

    async def parent(value: Any, calls: Calls) -> Any:
        return await calls.subtask("child", [])

    async def child(value: Any, calls: Calls) -> Any:
        child_started.set()
        await asyncio.Event().wait()

    core, workers = await fake_engine({"parent": parent, "child": child})
    root = await start(core, "parent", [])
    await child_started.wait()
    await core.cancel_run(root.id)
    done = await wait_end(core, root.id)
    assert done.status is RunStatus.CANCELED and done.error == "canceled"
    (child_rec, _), _ = await core.list_runs(_filter(root.id), 10, None)
    assert child_rec.parent_id == root.id and child_rec.status is RunStatus.CANCELED
    assert child_rec.error == f"canceled: ancestor run {root.id} was canceled"
    assert [a.status for a in child_rec.attempts] == [RunStatus.CANCELED]
    assert sorted(kind for _, _, kind in workers.ended) == ["Canceled", "Canceled"]
    await core.stop()


async def test_a_parent_waiting_for_its_subtasks_holds_no_slot() -> None:
    async def tree(value: Any, calls: Calls) -> Any:
        depth = value[0]
        if depth == 0:
            return 1
        return 1 + await calls.subtask("tree", [depth - 1])

    core, _ = await fake_engine({"tree": tree}, limit=1)
    done = await wait_end(core, (await start(core, "tree", [5])).id)
    assert done.status is RunStatus.COMPLETED and done.results == [6]
    await core.stop()


async def test_stop_leaves_running_runs_to_the_next_start_which_reruns_them() -> None:
    store = MemoryStore()
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(value: Any, calls: Calls) -> Any:
        started.set()
        await release.wait()
        return "done"

    core, _ = await fake_engine({"slow": slow}, store=store)
    rec = await start(core, "slow", [])
    await started.wait()
    await core.stop()
    await store.open()
    stored = await store.get_run(rec.id)
    assert stored is not None and stored.status is RunStatus.RUNNING  # for the next start
    await store.close()

    release.set()
    again, _ = await fake_engine({"slow": slow}, store=store)
    done = await wait_end(again, rec.id)
    assert done.status is RunStatus.COMPLETED and done.results == ["done"] and done.retries == 0
    assert [(a.status, a.error) for a in done.attempts] == [
        (RunStatus.FAILED, INTERRUPTED_ERROR),
        (RunStatus.COMPLETED, None),
    ]
    await again.stop()


async def test_a_recovered_run_whose_task_is_gone_fails() -> None:
    store = MemoryStore()
    gate = asyncio.Event()

    async def old(value: Any, calls: Calls) -> Any:
        await gate.wait()

    core, _ = await fake_engine({"old": old}, store=store, limit=1)
    first = await start(core, "old", [])
    queued = await start(core, "old", [])
    await core.stop()

    async def new(value: Any, calls: Calls) -> Any:
        return None

    again, _ = await fake_engine({"new": new}, store=store)
    for run_id in (first.id, queued.id):
        done = await again.get_run(run_id)
        assert done.status is RunStatus.FAILED
        assert done.error == "task 'old' is no longer registered by the worker"
        assert all(a.status is not RunStatus.RUNNING for a in done.attempts)
    await again.stop()


def _filter(root: str) -> Any:
    from render_sdk.engine.records import RunFilter

    return RunFilter(root_run_id=root)
