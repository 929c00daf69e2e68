"""Scheduling through the real engine core on the in-memory store and fake workers (no process,
socket or database): the concurrency limit, retries and their backoff, timeouts, cancel of
pending runs and of subtrees, subtasks and fan-out. Stop and restart: test_restart.py."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from render_sdk import _callback_protocol as protocol
from render_sdk.engine import scheduler, serialize
from render_sdk.engine.records import RunFilter, RunRecord, RunStatus

from .conftest import MakeFake, run_to_end, wait_end
from .fake_workers import Calls, Crash, Fail, SubtaskFailed, task


async def start(core: Any, name: str, value: Any) -> RunRecord:
    found = await core.find_task(name)
    assert found is not None
    rec: RunRecord = await core.start_run(found, value)
    return rec


async def test_runs_complete_with_their_results(make_fake: MakeFake) -> None:
    async def square(value: Any, calls: Calls) -> Any:
        return value[0] ** 2

    core, workers = await make_fake({"square": square})
    runs = [await start(core, "square", [i]) for i in range(10)]
    done = [await wait_end(core, r.id) for r in runs]
    assert [d.results for d in done] == [[i * i] for i in range(10)]
    assert all(d.status is RunStatus.COMPLETED and len(d.attempts) == 1 for d in done)
    assert workers.attempts_started == 10
    stored = await core.store.get_run(runs[3].id)
    assert stored is not None and stored.results == [9] and stored.event_seq is not None


async def test_no_more_than_the_limit_run_at_once(make_fake: MakeFake) -> None:
    gate = asyncio.Event()

    async def held(value: Any, calls: Calls) -> Any:
        await gate.wait()
        return value

    core, workers = await make_fake({"held": held}, limit=2)
    runs = [await start(core, "held", [i]) for i in range(6)]
    await workers.wait_started(2)
    statuses = [(await core.get_run(r.id)).status for r in runs]
    assert statuses.count(RunStatus.PENDING) == 4
    gate.set()
    for r in runs:
        assert (await wait_end(core, r.id)).status is RunStatus.COMPLETED
    assert workers.most_at_once == 2


async def test_a_failing_task_is_retried_then_succeeds(make_fake: MakeFake) -> None:
    tries: list[int] = []

    async def flaky(value: Any, calls: Calls) -> Any:
        tries.append(1)
        if len(tries) < 3:
            raise ValueError(f"try {len(tries)}")
        return "ok"

    core, _ = await make_fake({"flaky": flaky}, [task("flaky", retries=2, wait_ms=5)])
    done = await wait_end(core, (await start(core, "flaky", [])).id)
    assert done.status is RunStatus.COMPLETED and done.results == ["ok"]
    assert done.retries == 2
    assert [(a.status, a.error) for a in done.attempts] == [
        (RunStatus.FAILED, "ValueError: try 1"),
        (RunStatus.FAILED, "ValueError: try 2"),
        (RunStatus.COMPLETED, None),
    ]


async def test_retries_run_out(make_fake: MakeFake) -> None:
    async def broken(value: Any, calls: Calls) -> Any:
        raise ValueError("always")

    core, _ = await make_fake({"broken": broken}, [task("broken", retries=1)])
    done = await wait_end(core, (await start(core, "broken", [])).id)
    assert done.status is RunStatus.FAILED and done.error == "ValueError: always"
    assert len(done.attempts) == 2 and done.retries == 1


async def test_a_task_past_its_timeout_is_stopped(make_fake: MakeFake) -> None:
    async def forever(value: Any, calls: Calls) -> Any:
        await asyncio.Event().wait()

    core, workers = await make_fake({"forever": forever}, [task("forever", timeout=0.05)])
    done = await wait_end(core, (await start(core, "forever", [])).id)
    assert done.status is RunStatus.FAILED and done.error == "timed out after 0.05s"
    assert workers.ended == [(done.id, 1, "TimedOut")]


async def test_cancel_ends_the_whole_tree(make_fake: MakeFake) -> None:
    child_started = asyncio.Event()

    async def parent(value: Any, calls: Calls) -> Any:
        return await calls.subtask("child", [])

    async def child(value: Any, calls: Calls) -> Any:
        child_started.set()
        await asyncio.Event().wait()

    core, workers = await make_fake({"parent": parent, "child": child})
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


async def test_a_parent_waiting_for_its_subtasks_holds_no_slot(make_fake: MakeFake) -> None:
    async def tree(value: Any, calls: Calls) -> Any:
        depth = value[0]
        if depth == 0:
            return 1
        return 1 + await calls.subtask("tree", [depth - 1])

    core, _ = await make_fake({"tree": tree}, limit=1)
    done = await wait_end(core, (await start(core, "tree", [5])).id)
    assert done.status is RunStatus.COMPLETED and done.results == [6]


def _filter(root: str) -> Any:
    return RunFilter(root_run_id=root)


async def square(value: Any, calls: Calls) -> Any:
    return value[0] ** 2


async def forever(value: Any, calls: Calls) -> Any:
    await asyncio.Event().wait()


async def test_retries_follow_the_backoff(make_fake: MakeFake) -> None:
    async def always_fail(value: Any, calls: Calls) -> Any:
        raise Fail("always fails")

    backoff = task("always_fail", retries=2, wait_ms=150, factor=2.0)
    core, workers = await make_fake({"always_fail": always_fail}, [backoff])
    rec = await run_to_end(core, "always_fail", [])
    assert rec.status is RunStatus.FAILED
    assert rec.error == "always fails"
    assert rec.retries == 2
    assert [(a.status, a.error) for a in rec.attempts] == [(RunStatus.FAILED, "always fails")] * 3
    assert [a.number for a in rec.attempts] == [1, 2, 3]
    first, second, third = rec.attempts
    assert first.completed_at and second.completed_at
    # wait_duration_ms=150, factor=2: the first retry waits 0.15 s, the second 0.3 s.
    assert (second.started_at - first.completed_at).total_seconds() >= 0.15
    assert (third.started_at - second.completed_at).total_seconds() >= 0.3
    assert [kind for _, _, kind in workers.ended] == ["Errored"] * 3


def crash_once() -> Any:
    """A task whose first attempt's worker ends without a callback; the next one succeeds."""
    tries: list[int] = []

    async def crash_then_ok(value: Any, calls: Calls) -> Any:
        tries.append(1)
        if len(tries) == 1:
            raise Crash("worker exited without a callback (exit status 3)")
        return "ok"

    return crash_then_ok


RETRY_AT_ONCE = task("crash_then_ok", retries=1, wait_ms=0, factor=1.0)


async def test_a_crash_is_retried(make_fake: MakeFake) -> None:
    core, _ = await make_fake({"crash_then_ok": crash_once()}, [RETRY_AT_ONCE])
    rec = await run_to_end(core, "crash_then_ok", [])
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == ["ok"]
    assert rec.retries == 1
    assert [(a.status, a.error) for a in rec.attempts] == [
        (RunStatus.FAILED, "worker exited without a callback (exit status 3)"),
        (RunStatus.COMPLETED, None),
    ]


async def test_retries_are_numbered_from_zero_and_enqueued_when_the_last_ended(
    make_fake: MakeFake,
) -> None:
    core, _ = await make_fake({"crash_then_ok": crash_once()}, [RETRY_AT_ONCE])
    done = await run_to_end(core, "crash_then_ok", [])
    assert done.status is RunStatus.COMPLETED
    shown = serialize.task_run(done)["attempts"]
    assert [a["attempt"] for a in shown] == [0, 1]
    assert shown[0]["enqueuedAt"] == serialize.timestamp(done.created_at)
    assert shown[1]["enqueuedAt"] == shown[0]["completedAt"]
    assert all("sdkStartedAt" not in a for a in shown)  # this worker reports none


def fan_out_tasks() -> dict[str, Any]:
    async def fan_out(value: Any, calls: Calls) -> Any:
        ids = [await calls.start("square", [i]) for i in range(value[0])]
        return sum([await calls.result(i) for i in ids])

    return {"fan_out": fan_out, "square": square}


async def test_fan_out_subtasks(make_fake: MakeFake) -> None:
    core, workers = await make_fake(fan_out_tasks(), limit=2)
    rec = await run_to_end(core, "fan_out", [6])
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == [sum(i * i for i in range(6))]
    tree = await core.list_runs(RunFilter(root_run_id=rec.id), 100, None)
    children = [r for r, _ in tree if r.id != rec.id]
    assert len(children) == 6
    assert all(c.parent_id == rec.id and c.root_id == rec.id for c in children)
    assert all(c.parent_attempt == 0 and c.status is RunStatus.COMPLETED for c in children)
    assert sorted(c.results[0] for c in children if c.results) == [i * i for i in range(6)]
    assert workers.most_at_once <= 2


async def test_a_parent_fanning_out_needs_only_one_slot(make_fake: MakeFake) -> None:
    # The parent waits for its children; waiting holds no slot, so one slot is enough.
    core, workers = await make_fake(fan_out_tasks(), limit=1)
    rec = await run_to_end(core, "fan_out", [3])
    assert rec.status is RunStatus.COMPLETED and rec.results == [5]
    assert workers.attempts_started == 4


async def test_parent_sees_subtask_error(make_fake: MakeFake) -> None:
    async def call_fail(value: Any, calls: Calls) -> Any:
        child = await calls.start("fail", ["child broke"])
        try:
            await calls.result(child)
        except SubtaskFailed as exc:
            return f"subtask failed: {exc}"
        return "no error"

    async def fail(value: Any, calls: Calls) -> Any:
        raise Fail(value[0])

    core, _ = await make_fake({"call_fail": call_fail, "fail": fail})
    rec = await run_to_end(core, "call_fail", [])
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == ["subtask failed: child broke"]


async def test_subtask_idempotency_key(make_fake: MakeFake) -> None:
    async def subtask_twice(value: Any, calls: Calls) -> Any:
        a = await calls.start("square", [4], key="same-key")
        b = await calls.start("square", [4], key="same-key")
        c = await calls.start("square", [5], key="other-key")
        return [a == b, a != c, await calls.result(a)]

    core, _ = await make_fake({"subtask_twice": subtask_twice, "square": square})
    rec = await run_to_end(core, "subtask_twice", [])
    assert rec.results == [[True, True, 16]]
    tree = await core.list_runs(RunFilter(root_run_id=rec.id), 100, None)
    assert len(tree) == 3  # the root and two children: the repeated key started nothing


async def test_cancel_subtask_only_cancels_that_subtree(make_fake: MakeFake) -> None:
    child_ids: list[str] = []
    child_started = asyncio.Event()

    async def parent(value: Any, calls: Calls) -> Any:
        try:
            return await calls.subtask("child", [])
        except SubtaskFailed as exc:  # as a worker reports what its await raised
            raise Fail(f"subtask failed: {exc}") from exc

    async def child(value: Any, calls: Calls) -> Any:
        child_ids.append(calls.attempt.run.record.id)
        child_started.set()
        await asyncio.Event().wait()

    core, workers = await make_fake({"parent": parent, "child": child})
    root = await core.start_run(await _task(core, "parent"), [])
    await child_started.wait()
    [child_id] = child_ids
    await core.cancel_run(child_id)
    parent_rec = await wait_end(core, root.id)
    # The parent's await raised, so the parent failed with the subtask's cancel message.
    assert parent_rec.status is RunStatus.FAILED
    assert parent_rec.error == f"subtask failed: subtask {child_id} was canceled"
    child_rec = await core.get_run(child_id)
    assert child_rec.status is RunStatus.CANCELED and child_rec.error == "canceled"
    assert sorted(workers.ended) == sorted([(child_id, 1, "Canceled"), (root.id, 1, "Errored")])


async def test_cancel_pending_run(make_fake: MakeFake) -> None:
    core, workers = await make_fake({"forever": forever}, limit=1)
    found = await _task(core, "forever")
    busy = await core.start_run(found, [])
    queued = await core.start_run(found, [])
    await core.cancel_run(queued.id)
    assert (await core.get_run(queued.id)).attempts == []
    assert (await core.get_run(queued.id)).status is RunStatus.CANCELED
    await core.cancel_run(busy.id)
    assert (await wait_end(core, busy.id)).status is RunStatus.CANCELED
    assert workers.attempts_started == 1  # the canceled queued run never started


async def test_the_console_says_why_a_run_is_retried_and_why_it_failed(
    make_fake: MakeFake, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each attempt's start is written at once, before its timeout (a later timer) can end it:
    # the retry is shown running.
    monkeypatch.setattr(scheduler, "RECORD_START_AFTER", 0.0)
    too_slow = task("too_slow", retries=1, wait_ms=50, timeout=0.05)
    core, _ = await make_fake({"too_slow": forever}, [too_slow])
    with caplog.at_level("INFO", logger="render_sdk.engine.runs"):
        details = await run_to_end(core, "too_slow", [])
    assert details.status is RunStatus.FAILED
    lines = [r.getMessage() for r in caplog.records if r.name == "render_sdk.engine.runs"]
    mine = [line for line in lines if details.id in line]
    retrying = f"too_slow {details.id} pending: attempt 1 timed out after 0.05s; retry 1 in 50.0 ms"
    assert retrying in mine
    assert f"too_slow {details.id} running (attempt 2)" in mine
    assert mine.index(retrying) < mine.index(f"too_slow {details.id} running (attempt 2)")
    assert mine[-1].startswith(f"too_slow {details.id} failed in ")
    assert mine[-1].endswith(": timed out after 0.05s (attempt 2)")


async def test_subtasks_and_the_long_poll_through_the_callback_api(make_fake: MakeFake) -> None:
    """The answers a worker gets about its subtasks; with one slot, so the children can only
    run while the parent waits for them (a held long poll holds no slot)."""
    held: list[Calls] = []
    ready = asyncio.Event()

    async def parent(value: Any, calls: Calls) -> Any:
        held.append(calls)  # the test speaks for this worker
        ready.set()
        await asyncio.Event().wait()

    core, _ = await make_fake({"parent": parent, "square": square, "forever": forever}, limit=1)
    done = await run_to_end(core, "square", [9])
    root = await core.start_run(await _task(core, "parent"), [])
    await ready.wait()
    [calls] = held
    result = protocol.GET_SUBTASK_RESULT
    # A run that is not a subtask of this attempt's run is unknown here.
    answer = await calls.request(result, {"task_run_id": done.id})
    assert answer.status == 404 and "not a subtask" in answer.body["error"]
    body = {"task_name": "square", "input": protocol.encode([3]), "idempotency_key": "k"}
    child = (await calls.request(protocol.RUN_SUBTASK, body)).body["task_run_id"]
    same = (await calls.request(protocol.RUN_SUBTASK, body)).body["task_run_id"]
    assert child == same
    assert (await core.get_run(child)).status is RunStatus.PENDING  # the parent holds the slot
    # The long poll holds the answer until the child is done.
    answer = await calls.request(result, {"task_run_id": child, "wait_ms": 60000})
    assert answer.headers == [("render-long-poll", "1")]
    assert answer.body == {"still_running": False, "complete": {"output": protocol.encode([9])}}
    answer = await calls.request(result, {"task_run_id": child})
    assert answer.headers == []
    body = {"task_name": "forever", "input": protocol.encode([])}
    slow = (await calls.request(protocol.RUN_SUBTASK, body)).body["task_run_id"]
    answer = await calls.request(result, {"task_run_id": slow, "wait_ms": 0})
    assert answer.status == 200 and answer.body == {"still_running": True}
    answer = await calls.request(result, {"task_run_id": slow, "wait_ms": -1})
    assert answer.status == 400 and "'wait_ms'" in answer.body["error"]
    child_rec = await core.get_run(child)
    assert child_rec.parent_id == root.id and child_rec.results == [9]
    await core.cancel_run(root.id)
    assert (await core.get_run(slow)).status is RunStatus.CANCELED


async def _task(core: Any, name: str) -> Any:
    found = await core.find_task(name)
    assert found is not None
    return found
