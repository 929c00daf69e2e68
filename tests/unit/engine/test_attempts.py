"""Retries with backoff, timeouts, crashes, subtasks and cancel, in both worker modes."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from render_sdk.engine.records import Conflict, RunStatus

from .conftest import MakeEngine, run_to_end, wait_end


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie is not alive
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ", 1)[1][0] != "Z"
    except OSError:
        return True


@pytest.fixture(params=[False, True], ids=["run-mode", "serve-mode"])
def serve(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


async def test_retries_follow_the_backoff(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "always_fail", [])
    assert rec.status is RunStatus.FAILED
    assert rec.error == "always fails"
    assert rec.retries == 2
    assert [a.status for a in rec.attempts] == [RunStatus.FAILED] * 3
    assert [a.number for a in rec.attempts] == [1, 2, 3]
    first, second, third = rec.attempts
    assert first.completed_at and second.completed_at
    # wait_duration_ms=150, factor=2: the first retry waits 0.15 s, the second 0.3 s.
    assert (second.started_at - first.completed_at).total_seconds() >= 0.15
    assert (third.started_at - second.completed_at).total_seconds() >= 0.3


async def test_timeout_kills_the_attempt(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "sleep", [30])
    assert rec.status is RunStatus.FAILED
    assert rec.error == "timed out after 1s"
    # The engine keeps working afterwards (in serve mode: a replacement process).
    assert (await run_to_end(core, "square", [5])).results == [25]


async def test_crash_reports_exit_status_and_stderr(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "crash", [4])
    assert rec.status is RunStatus.FAILED
    assert rec.error is not None
    assert "without a callback (exit status 4)" in rec.error
    assert "the last words" in rec.error
    assert (await run_to_end(core, "square", [6])).results == [36]


async def test_crash_is_retried(make_engine: MakeEngine, serve: bool, tmp_path: Path) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "crash_then_ok", [str(tmp_path / "crashed-once")])
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == ["ok"]
    assert rec.retries == 1
    assert [a.status for a in rec.attempts] == [RunStatus.FAILED, RunStatus.COMPLETED]
    assert "exit status 3" in (rec.attempts[0].error or "")


async def test_fan_out_subtasks(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve, max_concurrency=2)
    rec = await run_to_end(core, "fan_out", [6])
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == [sum(i * i for i in range(6))]
    from render_sdk.engine.interface import RunFilter

    tree = await core.list_runs(RunFilter(root_run_id=rec.id), 100, None)
    children = [r for r, _ in tree if r.id != rec.id]
    assert len(children) == 6
    assert all(c.parent_id == rec.id and c.root_id == rec.id for c in children)


async def test_parent_sees_subtask_error(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "call_fail", [])
    assert rec.results == ["subtask failed: child broke"]


async def test_subtask_idempotency_key(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "subtask_twice", [])
    assert rec.results == [[True, 16]]


async def test_cancel_tree_kills_processes(
    make_engine: MakeEngine, serve: bool, tmp_path: Path
) -> None:
    core = await make_engine(serve=serve)
    pidfile = tmp_path / "pids"
    task = await core.find_task("sleeper_tree")
    assert task is not None
    root = await core.start_run(task, [str(pidfile)])
    # Wait until the child run exists and runs (the root started it).
    from render_sdk.engine.interface import RunFilter

    child_id = None
    while child_id is None:
        tree = await core.list_runs(RunFilter(root_run_id=root.id), 10, None)
        for r, _ in tree:
            if r.id != root.id and r.status is RunStatus.RUNNING:
                child_id = r.id
        await asyncio.sleep(0.02)
    worker_pid, grandchild_pid = map(int, pidfile.read_text().split())
    await core.cancel_run(root.id)
    root_rec = await core.get_run(root.id)
    child_rec = await core.get_run(child_id)
    assert root_rec.status is RunStatus.CANCELED
    assert child_rec.status is RunStatus.CANCELED
    assert child_rec.error == f"canceled: ancestor run {root.id} was canceled"
    for _ in range(500):  # SIGKILL was sent before cancel_run returned; wait for delivery
        if not (_alive(worker_pid) or _alive(grandchild_pid)):
            break
        await asyncio.sleep(0.01)
    else:
        raise AssertionError("the canceled tree's processes are still alive")
    with pytest.raises(Conflict, match="already canceled"):
        await core.cancel_run(root.id)
    assert (await run_to_end(core, "square", [3])).results == [9]


async def test_cancel_subtask_only_cancels_that_subtree(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True)
    task = await core.find_task("sleeper_tree")
    assert task is not None
    root = await core.start_run(task, [os.devnull])
    from render_sdk.engine.interface import RunFilter

    child_id = None
    while child_id is None:
        tree = await core.list_runs(RunFilter(root_run_id=root.id), 10, None)
        child_id = next((r.id for r, _ in tree if r.id != root.id), None)
        await asyncio.sleep(0.02)
    await core.cancel_run(child_id)
    parent = await wait_end(core, root.id)
    # The parent's await raised, so the parent failed with the subtask's cancel message.
    assert parent.status is RunStatus.FAILED
    assert parent.error == f"subtask failed: subtask {child_id} was canceled"


async def test_cancel_pending_run(make_engine: MakeEngine) -> None:
    core = await make_engine(max_concurrency=1, serve=True)
    task = await core.find_task("long_sleep")
    assert task is not None
    busy = await core.start_run(task, [60])
    queued = await core.start_run(task, [60])
    await core.cancel_run(queued.id)
    assert (await core.get_run(queued.id)).attempts == []
    assert (await core.get_run(queued.id)).status is RunStatus.CANCELED
    await core.cancel_run(busy.id)
    assert (await wait_end(core, busy.id)).status is RunStatus.CANCELED


async def test_no_warning_for_a_worker_the_engine_stopped(
    make_engine: MakeEngine, caplog: pytest.LogCaptureFixture
) -> None:
    """A timed-out and a canceled attempt's processes are killed by the engine on purpose: the
    console says why the runs ended, and no 'worker exited' warning."""
    core = await make_engine(serve=True, max_concurrency=2)
    assert core.pool is not None
    started = core.pool.started
    timed_out = await run_to_end(core, "sleep", [30])
    assert timed_out.error == "timed out after 1s"
    task = await core.find_task("long_sleep")
    assert task is not None
    run = await core.start_run(task, [30])
    for _ in range(3000):
        if (await core.get_run(run.id)).status is RunStatus.RUNNING:
            break
        await asyncio.sleep(0.02)
    await core.cancel_run(run.id)
    # Both killed processes were replaced, which happens only once each had exited.
    for _ in range(1000):
        if core.pool.started >= started + 2:
            break
        await asyncio.sleep(0.02)
    else:
        raise AssertionError("the killed workers were never replaced")
    assert "worker exited" not in caplog.text, caplog.text
