"""Process tests of attempts, on real worker processes in both worker modes: a timeout kills
the worker, a crash reports its exit status and stderr, a cancel kills the process tree, and a
process the engine killed on purpose draws no warning. What these do to a run's state
(retries, subtasks, cancel) is tested without processes in test_scheduling.py."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest

from render_sdk.engine.reasons import run_reason
from render_sdk.engine.records import Conflict, ReasonCode, RunStatus

from .conftest import MakeEngine, run_to_end


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


async def test_timeout_kills_the_attempt(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "sleep", [30])
    assert rec.status is RunStatus.FAILED
    assert rec.error == "timed out after 1s"
    assert (rec.reason, rec.reason_detail) == (ReasonCode.TIMED_OUT, "1s")
    # The engine keeps working afterwards (in serve mode: a replacement process).
    assert (await run_to_end(core, "square", [5])).results == [25]


async def test_crash_reports_exit_status_and_stderr(make_engine: MakeEngine, serve: bool) -> None:
    core = await make_engine(serve=serve)
    rec = await run_to_end(core, "crash", [4])
    assert rec.status is RunStatus.FAILED
    assert rec.error is not None
    assert "without a callback (exit status 4)" in rec.error
    assert "the last words" in rec.error
    assert [(a.reason, a.reason_detail) for a in rec.attempts] == [
        (ReasonCode.CRASHED, "exit status 4")
    ]
    assert run_reason(rec).label == "crashed (exit status 4)"  # what the console and pages say
    assert (await run_to_end(core, "square", [6])).results == [36]


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
