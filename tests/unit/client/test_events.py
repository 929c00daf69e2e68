"""task_run_events: one event per requested run, reconnection, and closing the connection."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from render_sdk.client import Render, RenderAsync, TaskRunStatus
from render_sdk.client.errors import ClientError, ServerError

from .conftest import ChunkStream, FakeAPI, details_payload, error_response, sse_event, sse_response

A = details_payload("trn-a", "completed", results=[1])
B = details_payload("trn-b", "failed", results=[], error="boom")


def awkward_stream() -> ChunkStream:
    return ChunkStream(
        [
            b"retry: 2000\r\n: ping\r\n\r\n",
            b"event: task.progress\ndata: {}\n\n",  # unknown event type: ignored
            sse_event("1", details_payload("trn-other")),  # a run nobody asked for
            sse_event("2", details_payload("trn-a", "running", results=[])),  # not terminal
            sse_event("3", A)[:25],  # an event split across chunks
            sse_event("3", A)[25:],
            b": ping\n\n",
            sse_event("4", B, event="task.failed").replace(b"\n", b"\r"),
            ChunkStream.HANG,
        ]
    )


def test_yields_one_event_per_run_then_ends(fake: FakeAPI, render: Render) -> None:
    stream = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    events = list(render.workflows.task_run_events(["trn-a", "trn-b"]))
    assert [(e.id, e.status) for e in events] == [
        ("trn-a", TaskRunStatus.COMPLETED),
        ("trn-b", TaskRunStatus.FAILED),
    ]
    assert events[0].result == 1 and events[1].error == "boom"
    assert stream.closed.is_set()
    (request,) = fake.requests
    assert request.url.params.get_list("taskRunIds") == ["trn-a", "trn-b"]
    assert request.headers["accept"] == "text/event-stream"
    assert "last-event-id" not in request.headers


@pytest.mark.parametrize("name", ["task.succeeded", "task.canceled", "task.failed"])
def test_every_terminal_event_name_is_accepted(fake: FakeAPI, render: Render, name: str) -> None:
    fake.on("GET", "/task-runs/events", sse_response(sse_event("1", A, event=name)))
    (event,) = render.workflows.task_run_events(["trn-a"])
    assert event.status is TaskRunStatus.COMPLETED  # the outcome comes from the data


def test_reconnects_with_last_event_id(
    fake: FakeAPI, render: Render, instant_sleep: list[float]
) -> None:
    first = ChunkStream(
        [b"retry: 1500\n\n", sse_event("7", A), httpx.ReadError("connection reset")]
    )
    second = ChunkStream([b": ping\n\n", sse_event("8", B)])
    fake.on("GET", "/task-runs/events", sse_response(stream=first), sse_response(stream=second))
    events = list(render.workflows.task_run_events(["trn-a", "trn-b"]))
    assert [e.id for e in events] == ["trn-a", "trn-b"]
    _, second_request = fake.requests
    assert second_request.headers["last-event-id"] == "7"
    assert second_request.url.params.get_list("taskRunIds") == ["trn-b"]
    assert instant_sleep == [1.5]  # the server's retry time
    assert first.closed.is_set() and second.closed.is_set()


def test_reconnects_after_clean_end_of_stream(fake: FakeAPI, render: Render) -> None:
    fake.on(
        "GET",
        "/task-runs/events",
        sse_response(b": ping\n\n"),
        error_response(503),
        sse_response(sse_event("1", A)),
    )
    assert [e.id for e in render.workflows.task_run_events(["trn-a"])] == ["trn-a"]
    assert len(fake.requests) == 3


def test_gives_up_when_stream_keeps_closing_empty(fake: FakeAPI) -> None:
    fake.on("GET", "/task-runs/events", lambda request: sse_response())
    with Render(
        base_url="http://127.0.0.1:1", max_retries=2, transport=httpx.MockTransport(fake)
    ) as render:
        with pytest.raises(ServerError, match="closed before sending anything"):
            list(render.workflows.task_run_events(["trn-a"]))
    assert len(fake.requests) == 3


def test_client_errors_are_raised(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/events", error_response(401, "bad key", "unauthorized"))
    with pytest.raises(ClientError, match="bad key") as info:
        list(render.workflows.task_run_events(["trn-a"]))
    assert info.value.operation == "task_run_events"


def test_break_closes_the_connection(fake: FakeAPI, render: Render) -> None:
    stream = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    for _ in render.workflows.task_run_events(["trn-a", "trn-b"]):
        break
    assert stream.closed.is_set()


def test_context_manager_closes_the_connection(fake: FakeAPI, render: Render) -> None:
    stream = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    with render.workflows.task_run_events(["trn-a", "trn-b"]) as events:
        assert next(events).id == "trn-a"
        assert not stream.closed.is_set()
    assert stream.closed.is_set()
    with pytest.raises(StopIteration):
        next(events)


@pytest.mark.parametrize("bad", [[], [""], [None]])
def test_bad_ids(render: Render, bad: list[object]) -> None:
    with pytest.raises(ValueError, match="task_run_ids"):
        render.workflows.task_run_events(bad)  # type: ignore[arg-type]


async def test_async_events_and_reconnect(fake: FakeAPI, render_async: RenderAsync) -> None:
    first = ChunkStream([sse_event("1", A), httpx.RemoteProtocolError("peer closed")])
    second = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=first), sse_response(stream=second))
    events = [e async for e in render_async.workflows.task_run_events(["trn-a", "trn-b"])]
    assert [e.id for e in events] == ["trn-a", "trn-b"]
    assert fake.requests[1].headers["last-event-id"] == "1"
    assert second.closed.is_set()


async def test_async_break_closes_the_connection(fake: FakeAPI, render_async: RenderAsync) -> None:
    stream = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    async for _ in render_async.workflows.task_run_events(["trn-a", "trn-b"]):
        break
    # The event loop closes the dropped async generator in a callback it schedules at once.
    for _ in range(100):
        if stream.closed.is_set():
            break
        await asyncio.sleep(0)
    assert stream.closed.is_set()


async def test_async_context_manager_and_await(fake: FakeAPI, render_async: RenderAsync) -> None:
    stream = awkward_stream()
    fake.on("GET", "/task-runs/events", sse_response(stream=stream))
    async with await render_async.workflows.task_run_events(["trn-a", "trn-b"]) as events:
        first = await events.__anext__()
        assert first.id == "trn-a"
    assert stream.closed.is_set()
