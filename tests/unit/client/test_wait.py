"""Waiting for a run: run_task and AwaitableTaskRun over SSE, reconnection, polling fallback."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from render_sdk.client import Render, RenderAsync, TaskRunStatus
from render_sdk.client.errors import ClientError, TaskRunError

from .conftest import (
    ChunkStream,
    FakeAPI,
    details_payload,
    error_response,
    run_payload,
    sse_event,
    sse_response,
)


def started(run_id: str = "trn-1") -> httpx.Response:
    return httpx.Response(202, json=run_payload(run_id))


def test_run_task_waits_on_the_stream(
    fake: FakeAPI, render: Render, instant_sleep: list[float]
) -> None:
    stream = ChunkStream([b"retry: 3000\n\n: ping\n\n", sse_event("1", details_payload())])
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    details = render.workflows.run_task("wf/square", [3])
    assert details.result == 9 and details.status is TaskRunStatus.COMPLETED
    assert [r.url.path for r in fake.requests] == ["/v1/task-runs", "/v1/task-runs/events"]
    assert fake.requests[1].url.params.get_list("taskRunIds") == ["trn-1"]
    assert instant_sleep == []  # nothing waits a fixed time on the success path
    assert stream.closed.is_set()


def test_succeeded_is_success(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on(
        "GET",
        "/task-runs/events",
        sse_response(sse_event("1", details_payload(status="succeeded"), "task.succeeded")),
    )
    assert render.workflows.run_task("wf/square", [3]).status is TaskRunStatus.SUCCEEDED


@pytest.mark.parametrize(
    ("status", "error"), [("failed", "ZeroDivisionError: division by zero"), ("canceled", None)]
)
def test_run_task_raises_task_run_error(
    fake: FakeAPI, render: Render, status: str, error: str | None
) -> None:
    payload = details_payload(status=status, results=[], **({"error": error} if error else {}))
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", sse_response(sse_event("1", payload)))
    with pytest.raises(TaskRunError) as info:
        render.workflows.run_task("wf/divide", [1, 0])
    assert info.value.task_run_id == "trn-1"
    assert info.value.error == error
    assert info.value.details.status == status
    assert info.value.operation == "run_task"


def test_run_task_reconnects_when_the_stream_drops(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on(
        "GET",
        "/task-runs/events",
        sse_response(b"retry: 100\n\n: ping\n\n", httpx.ReadError("reset")),
        httpx.ConnectError("engine restarting"),
        sse_response(sse_event("1", details_payload())),
    )
    assert render.workflows.run_task("wf/square", [3]).result == 9
    assert len(fake.calls("GET", "/task-runs/events")) == 3


@pytest.mark.parametrize(
    "unavailable",
    [
        error_response(404, "no such route"),
        error_response(501),
        httpx.Response(200, json={"not": "a stream"}),
    ],
)
def test_run_task_polls_when_streaming_is_unavailable(
    fake: FakeAPI, render: Render, instant_sleep: list[float], unavailable: httpx.Response
) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", unavailable)
    fake.on(
        "GET",
        "/task-runs/trn-1",
        httpx.Response(200, json=details_payload(status="pending", results=[])),
        httpx.Response(200, json=details_payload(status="running", results=[])),
        httpx.Response(200, json=details_payload()),
    )
    assert render.workflows.run_task("wf/square", [3]).result == 9
    assert len(fake.calls("GET", "/task-runs/trn-1")) == 3
    assert len(instant_sleep) == 2 and instant_sleep[0] <= instant_sleep[1] * 2


def test_polling_surfaces_a_failed_run(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", error_response(404))
    fake.on(
        "GET",
        "/task-runs/trn-1",
        httpx.Response(200, json=details_payload(status="failed", results=[], error="x")),
    )
    with pytest.raises(TaskRunError, match="task run trn-1 failed: x"):
        render.workflows.run_task("wf/square", [3])


def test_other_stream_errors_are_raised_not_polled(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", error_response(403, "forbidden"))
    with pytest.raises(ClientError, match="forbidden"):
        render.workflows.run_task("wf/square", [3])
    assert fake.calls("GET", "/task-runs/trn-1") == []


def test_start_errors_surface(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", error_response(404, "unknown task wf/nope", "not_found"))
    with pytest.raises(ClientError, match="unknown task wf/nope"):
        render.workflows.run_task("wf/nope")


async def test_async_run_task_and_awaitable(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", started("trn-1"), started("trn-2"))
    fake.on(
        "GET",
        "/task-runs/events",
        lambda request: sse_response(
            sse_event("1", details_payload(request.url.params["taskRunIds"], results=[4]))
        ),
    )
    details = await render_async.workflows.run_task("wf/square", [2])
    assert details.result == 4 and details.id == "trn-1"
    run = await render_async.workflows.start_task("wf/square", [2])
    assert run.id == "trn-2" and run.status is TaskRunStatus.PENDING
    finished = await run
    assert finished.id == "trn-2" and finished.result == 4


def all_events(request: httpx.Request) -> httpx.Response:
    """One event per requested id, each run's result being its own id; trn-bad fails."""
    chunks = []
    for n, run_id in enumerate(request.url.params.get_list("taskRunIds")):
        if run_id == "trn-bad":
            payload = details_payload(run_id, status="failed", results=[], error="bad")
        else:
            payload = details_payload(run_id, results=[run_id])
        chunks.append(sse_event(str(n), payload))
    return sse_response(*chunks)


async def test_gathered_runs_share_one_stream(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", *(started(f"trn-{i}") for i in range(3)), started("trn-bad"))
    fake.on("GET", "/task-runs/events", all_events)
    runs = [await render_async.workflows.start_task("wf/echo") for _ in range(4)]
    results = await asyncio.gather(*runs, return_exceptions=True)
    assert [getattr(d, "result", None) for d in results[:3]] == ["trn-0", "trn-1", "trn-2"]
    assert isinstance(results[3], TaskRunError) and results[3].error == "bad"
    (events_request,) = fake.calls("GET", "/task-runs/events")
    assert events_request.url.params.get_list("taskRunIds") == [
        "trn-0",
        "trn-1",
        "trn-2",
        "trn-bad",
    ]


async def test_concurrent_run_task_calls_share_one_stream(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", *(started(f"trn-{i}") for i in range(5)))
    fake.on("GET", "/task-runs/events", all_events)
    results = await asyncio.gather(
        *(render_async.workflows.run_task("wf/echo", [i]) for i in range(5))
    )
    assert sorted(d.result for d in results) == [f"trn-{i}" for i in range(5)]
    assert len(fake.calls("GET", "/task-runs/events")) == 1


async def test_awaiting_the_same_run_twice(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", started("trn-0"))
    fake.on("GET", "/task-runs/events", all_events)
    run = await render_async.workflows.start_task("wf/echo")
    first, second = await asyncio.gather(run, run)
    assert first.result == second.result == "trn-0"


async def test_cancelling_every_waiter_closes_the_stream(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    stream = ChunkStream([b": ping\n\n", ChunkStream.HANG])
    fake.on("POST", "/task-runs", started("trn-0"))
    opened = asyncio.Event()

    def open_stream(request: httpx.Request) -> httpx.Response:
        opened.set()
        return sse_response(stream=stream)

    fake.on("GET", "/task-runs/events", open_stream)
    run = await render_async.workflows.start_task("wf/slow")
    waiting = asyncio.ensure_future(run)
    await asyncio.wait_for(opened.wait(), 5)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await asyncio.wait_for(stream._event().wait(), 5)
    assert stream.closed.is_set()


async def test_batch_falls_back_to_polling(
    fake: FakeAPI, render_async: RenderAsync, instant_sleep: list[float]
) -> None:
    fake.on("POST", "/task-runs", started("trn-0"), started("trn-1"))
    fake.on("GET", "/task-runs/events", error_response(404))
    fake.on(
        "GET", "/task-runs/trn-0", httpx.Response(200, json=details_payload("trn-0", results=[0]))
    )
    fake.on(
        "GET",
        "/task-runs/trn-1",
        httpx.Response(200, json=details_payload("trn-1", status="running", results=[])),
        httpx.Response(200, json=details_payload("trn-1", results=[1])),
    )
    runs = [await render_async.workflows.start_task("wf/echo") for _ in range(2)]
    results = await asyncio.gather(*runs)
    assert [d.result for d in results] == [0, 1]
    assert len(fake.calls("GET", "/task-runs/events")) == 1


async def test_stream_errors_reach_every_waiter(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", started("trn-0"), started("trn-1"))
    fake.on("GET", "/task-runs/events", error_response(401, "bad key"))
    runs = [await render_async.workflows.start_task("wf/echo") for _ in range(2)]
    results = await asyncio.gather(*runs, return_exceptions=True)
    assert all(isinstance(r, ClientError) and r.status_code == 401 for r in results)


async def test_awaiting_a_failed_run_raises(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("POST", "/task-runs", started())
    fake.on("GET", "/task-runs/events", error_response(405))
    fake.on(
        "GET",
        "/task-runs/trn-1",
        httpx.Response(200, json=details_payload(status="running", results=[])),
        httpx.Response(200, json=details_payload(status="canceled", results=[])),
    )
    run = await render_async.workflows.start_task("wf/slow")
    with pytest.raises(TaskRunError) as info:
        await run
    assert info.value.details.status is TaskRunStatus.CANCELED
    assert info.value.operation == "start_task"
