"""Each workflows operation: the request it sends and the object it returns (sync and async)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from render_sdk.client import (
    AwaitableTaskRun,
    ListTaskRunsParams,
    Render,
    RenderAsync,
    TaskRun,
    TaskRunDetails,
    TaskRunStatus,
)

from .conftest import FakeAPI, details_payload, run_payload


@pytest.mark.parametrize(
    ("input_data", "sent"),
    [
        ([3], [3]),
        ((3, 4), [3, 4]),
        ({"a": 1, "b": [2]}, {"a": 1, "b": [2]}),
        (None, []),
    ],
)
def test_start_task_body(fake: FakeAPI, render: Render, input_data: Any, sent: Any) -> None:
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload()))
    run = render.workflows.start_task("wf/square", input_data)
    assert json.loads(fake.requests[0].content) == {"task": "wf/square", "input": sent}
    assert "idempotency-key" not in fake.requests[0].headers  # and no idempotencyKey above
    assert type(run) is TaskRun
    assert run.id == "trn-1" and run.status is TaskRunStatus.PENDING
    assert run.parent_task_run_id == "" and run.root_task_run_id == "trn-1"


def test_get_task_run_converts_every_field(fake: FakeAPI, render: Render) -> None:
    payload = details_payload(
        results=[{"x": 1}], input={"n": 3}, parentTaskRunId="trn-0", retries=1
    )
    payload["attempts"].insert(
        0,
        {
            "status": "failed",
            "startedAt": "2026-01-02T03:04:00Z",
            "completedAt": "2026-01-02T03:04:01Z",
            "error": "flaky",
        },
    )
    fake.on("GET", "/task-runs/trn-1", httpx.Response(200, json=payload))
    details = render.workflows.get_task_run("trn-1")
    assert isinstance(details, TaskRunDetails)
    assert details.status is TaskRunStatus.COMPLETED and details.status.is_success
    assert details.result == {"x": 1} and details.results == [{"x": 1}]
    assert details.input == {"n": 3}
    assert details.parent_task_run_id == "trn-0" and details.retries == 1
    assert details.started_at == datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    assert details.completed_at == datetime(2026, 1, 2, 3, 4, 6, 500000, tzinfo=timezone.utc)
    assert [a.status for a in details.attempts] == [TaskRunStatus.FAILED, TaskRunStatus.COMPLETED]
    assert details.attempts[0].error == "flaky"
    assert details.error is None


def test_result_is_none_without_results(fake: FakeAPI, render: Render) -> None:
    fake.on(
        "GET",
        "/task-runs/trn-1",
        httpx.Response(200, json=details_payload(status="running", results=[])),
    )
    details = render.workflows.get_task_run("trn-1")
    assert details.result is None and not details.is_terminal


def test_succeeded_is_success_too() -> None:
    assert TaskRunStatus.SUCCEEDED.is_success and TaskRunStatus.SUCCEEDED.is_terminal
    assert not TaskRunStatus.FAILED.is_success and TaskRunStatus.CANCELED.is_terminal
    assert not TaskRunStatus.RUNNING.is_terminal


def test_list_task_runs_sends_every_filter(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs", httpx.Response(200, json=[]))
    params = ListTaskRunsParams(
        limit=2,
        cursor="c0",
        owner_id="own",
        task_slug="wf/sq",
        root_task_run_id="trn-r",
        workflow_id="wf-1",
        workflow_version_id="wfv-1",
    )
    page = render.workflows.list_task_runs(params)
    assert dict(fake.requests[0].url.params) == {
        "limit": "2",
        "cursor": "c0",
        "ownerId": "own",
        "taskSlug": "wf/sq",
        "rootTaskRunId": "trn-r",
        "workflowId": "wf-1",
        "workflowVersionId": "wfv-1",
    }
    assert page == [] and page.next_cursor is None


def test_list_task_runs_pages(fake: FakeAPI, render: Render) -> None:
    full = [{"taskRun": run_payload(f"trn-{i}"), "cursor": f"c{i}"} for i in (3, 2)]
    last = [{"taskRun": run_payload("trn-1"), "cursor": "c1"}]
    fake.on("GET", "/task-runs", httpx.Response(200, json=full), httpx.Response(200, json=last))
    page = render.workflows.list_task_runs(ListTaskRunsParams(limit=2))
    assert [r.id for r in page] == ["trn-3", "trn-2"]
    assert isinstance(page, list) and page.next_cursor == "c2"
    page = render.workflows.list_task_runs(ListTaskRunsParams(limit=2, cursor=page.next_cursor))
    assert fake.requests[1].url.params["cursor"] == "c2"
    assert [r.id for r in page] == ["trn-1"] and page.next_cursor is None


def test_list_without_params_sends_no_query(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs", httpx.Response(200, json=[]))
    render.workflows.list_task_runs()
    assert fake.requests[0].url.query == b""


def test_cancel(fake: FakeAPI, render: Render) -> None:
    fake.on("DELETE", "/task-runs/trn-1", httpx.Response(204))
    assert render.workflows.cancel_task_run("trn-1") is None
    assert fake.requests[0].method == "DELETE"


def test_ids_are_escaped_in_paths(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/a/b", httpx.Response(200, json=details_payload("a/b")))
    render.workflows.get_task_run("a/b")
    assert fake.requests[0].url.raw_path == b"/v1/task-runs/a%2Fb"


def test_tasks(fake: FakeAPI, render: Render) -> None:
    task = {"id": "tsk-1", "name": "square", "createdAt": "2026-01-01T00:00:00Z"}
    fake.on("GET", "/tasks", httpx.Response(200, json=[{"task": task, "cursor": "t1"}]))
    fake.on("GET", "/tasks/tsk-1", httpx.Response(200, json={**task, "workflowId": "wf-1"}))
    tasks = render.workflows.list_tasks(task_slug="wf/square", limit=1)
    assert [t.name for t in tasks] == ["square"] and tasks.next_cursor == "t1"
    assert fake.requests[0].url.params["taskSlug"] == "wf/square"
    one = render.workflows.get_task("tsk-1")
    assert one.workflow_id == "wf-1" and one.workflow_version_id is None
    assert one.created_at == datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_logs(fake: FakeAPI, render: Render) -> None:
    line = {
        "taskRunId": "trn-1",
        "attempt": 1,
        "stream": "stdout",
        "timestamp": "2026-01-01T00:00:00Z",
        "message": "hello\n",
    }
    fake.on(
        "GET",
        "/logs",
        httpx.Response(
            200, json=[{"log": line, "cursor": "l1"}], headers={"Render-Logs-Truncated": "true"}
        ),
    )
    logs = render.workflows.get_logs("trn-1", limit=5)
    assert fake.requests[0].url.params["taskRunId"] == "trn-1"
    assert [entry.message for entry in logs] == ["hello\n"]
    assert logs.truncated and logs.next_cursor is None
    assert logs[0].stream == "stdout" and logs[0].attempt == 1


async def test_async_operations(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload("trn-9", "pending")))
    fake.on("GET", "/task-runs/trn-9", httpx.Response(200, json=details_payload("trn-9")))
    fake.on(
        "GET",
        "/task-runs",
        httpx.Response(200, json=[{"taskRun": run_payload("trn-9"), "cursor": "c"}]),
    )
    fake.on("DELETE", "/task-runs/trn-9", httpx.Response(204))
    run = await render_async.workflows.start_task("wf/square", {"a": 3}, idempotency_key="k")
    assert isinstance(run, AwaitableTaskRun) and isinstance(run, TaskRun)
    assert run.id == "trn-9" and run.status is TaskRunStatus.PENDING
    assert "AwaitableTaskRun(id='trn-9'" in repr(run) and "workflows" not in repr(run)
    assert json.loads(fake.requests[0].content)["idempotencyKey"] == "k"
    assert (await render_async.workflows.get_task_run("trn-9")).result == 9
    page = await render_async.workflows.list_task_runs(ListTaskRunsParams(limit=1))
    assert [r.id for r in page] == ["trn-9"] and page.next_cursor == "c"
    assert await render_async.workflows.cancel_task_run("trn-9") is None
