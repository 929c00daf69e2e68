"""Execution semantics, real engine: subtasks, retries, timeouts, cancel, crashes, logs."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from render_sdk import Render
from render_sdk.client import ListTaskRunsParams
from render_sdk.client.errors import TaskRunError
from tests.e2e._engine import EngineProcess
from tests.e2e._helpers import SUCCESS, status_of


def test_parent_awaits_one_subtask(local_env: EngineProcess) -> None:
    with Render() as render:
        details = render.workflows.run_task("parent_of_one", [7])
        assert details.result == 50
        tree = render.workflows.list_task_runs(ListTaskRunsParams(root_task_run_id=details.id))
    children = [r for r in tree if r.id != details.id]
    assert len(children) == 1
    assert children[0].parent_task_run_id == details.id
    assert children[0].root_task_run_id == details.id


def test_fan_out_of_fifty_subtasks(local_env: EngineProcess) -> None:
    with Render() as render:
        details = render.workflows.run_task("fan_out", [50])
        assert details.result == sum(i * i for i in range(50))
        tree = render.workflows.list_task_runs(
            ListTaskRunsParams(root_task_run_id=details.id, limit=100)
        )
    assert len([r for r in tree if r.parent_task_run_id == details.id]) == 50


def test_retries_follow_the_backoff(local_env: EngineProcess, tmp_path: Path) -> None:
    counter = str(tmp_path / "count")
    with Render() as render:
        details = render.workflows.run_task("fail_then_succeed", [counter, 2])
    assert details.result == 3
    assert details.retries == 2
    assert len(details.attempts) == 3
    statuses = [status_of(a) for a in details.attempts]
    assert statuses[:2] == ["failed", "failed"] and statuses[2] in SUCCESS
    # Retry(wait_duration_ms=200, backoff_scaling=2.0): waits of 0.2 s, then 0.4 s.
    first_gap = (details.attempts[1].started_at - details.attempts[0].completed_at).total_seconds()
    second_gap = (details.attempts[2].started_at - details.attempts[1].completed_at).total_seconds()
    assert first_gap >= 0.2 - 0.01
    assert second_gap >= 0.4 - 0.01


def test_retries_exhausted_fail_the_run(local_env: EngineProcess, tmp_path: Path) -> None:
    counter = tmp_path / "count"
    with Render() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("always_fail", [str(counter)])
    assert "attempt 3 failed" in str(caught.value)
    assert counter.read_text() == "3"  # max_retries=2: three attempts, no more


def test_subtask_failure_reaches_parent_after_last_retry(
    local_env: EngineProcess, tmp_path: Path
) -> None:
    counter = tmp_path / "count"
    with Render() as render:
        details = render.workflows.run_task("parent_of_failing_child", [str(counter)])
    assert "child failed" in details.result
    assert "attempt 3 failed" in details.result
    assert counter.read_text() == "3"


def test_timeout_stops_the_attempt_and_retries(local_env: EngineProcess) -> None:
    with Render() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("too_slow", [30])
    details = render_details(local_env, caught.value.task_run_id)
    assert len(details.attempts) == 2  # timeout 1 s, one retry
    assert all("timed out" in (a.error or "") for a in details.attempts)
    for attempt in details.attempts:
        assert (attempt.completed_at - attempt.started_at).total_seconds() < 10


def render_details(engine: EngineProcess, run_id: str):  # type: ignore[no-untyped-def]
    with Render() as render:
        return render.workflows.get_task_run(run_id)


def test_cancel_root_cancels_the_tree(local_env: EngineProcess) -> None:
    with Render() as render:
        root = render.workflows.start_task("sleepy_tree", [3, 60])
        deadline = time.monotonic() + 30
        children: list = []
        while time.monotonic() < deadline and len(children) < 3:
            children = [
                r
                for r in render.workflows.list_task_runs(
                    ListTaskRunsParams(root_task_run_id=root.id)
                )
                if r.id != root.id and status_of(r) == "running"
            ]
            time.sleep(0.05)
        assert len(children) == 3, "the subtasks did not start"
        render.workflows.cancel_task_run(root.id)
        events = list(render.workflows.task_run_events([root.id] + [c.id for c in children]))
    assert {status_of(e) for e in events} == {"canceled"}
    assert len(events) == 4


@pytest.mark.parametrize("how", ["exit", "kill"])
def test_worker_crash_is_a_failed_attempt(local_env: EngineProcess, how: str) -> None:
    with Render() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("crash", [how])
    details = render_details(local_env, caught.value.task_run_id)
    assert len(details.attempts) == 2  # one retry, as configured
    for attempt in details.attempts:
        error = attempt.error or ""
        assert ("3" in error) if how == "exit" else ("SIGKILL" in error or "9" in error)
        assert "about to crash" in error
    # The engine still serves other runs.
    with Render() as render:
        assert render.workflows.run_task("square", [3]).result == 9


def test_logs_are_captured(local_env: EngineProcess) -> None:
    with Render() as render:
        details = render.workflows.run_task("chatty", [3])
    answer = httpx.get(f"{local_env.base_url}/v1/logs", params={"taskRunId": details.id})
    assert answer.status_code == 200
    entries = [item["log"] for item in answer.json()]
    messages = [(e["stream"], e["message"].rstrip("\n")) for e in entries]
    assert ("stdout", "line 0") in messages
    assert ("stdout", "line 2") in messages
    assert ("stderr", "to stderr") in messages
    assert all(e["taskRunId"] == details.id for e in entries)
