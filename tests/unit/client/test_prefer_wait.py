"""run_task in one request: ``Prefer: wait`` on the start, the event stream only as a fallback."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from render_sdk.client import Render, RenderAsync, TaskRunStatus
from render_sdk.client.errors import RenderError, ServerError, TaskRunError

from .conftest import (
    BASE,
    ChunkStream,
    FakeAPI,
    details_payload,
    error_response,
    run_payload,
    sse_event,
    sse_response,
)


def waited(payload: dict[str, Any], seconds: int = 10) -> httpx.Response:
    return httpx.Response(202, json=payload, headers={"Preference-Applied": f"wait={seconds}"})


def test_a_finished_run_needs_no_event_stream(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", waited(details_payload()))
    details = render.workflows.run_task("wf/square", [3])
    assert details.result == 9 and details.status is TaskRunStatus.COMPLETED
    assert details.input == [3]
    assert [r.url.path for r in fake.requests] == ["/v1/task-runs"]
    assert fake.requests[0].headers["prefer"] == "wait=10"


async def test_a_finished_run_needs_no_event_stream_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", waited(details_payload()))
    details = await render_async.workflows.run_task("wf/square", [3])
    assert details.result == 9
    assert [r.url.path for r in fake.requests] == ["/v1/task-runs"]
    assert fake.requests[0].headers["prefer"] == "wait=10"


def test_a_waited_failure_raises_task_run_error(fake: FakeAPI, render: Render) -> None:
    payload = details_payload(status="failed", results=[], error="ValueError: bad")
    fake.on("POST", "/task-runs", waited(payload))
    with pytest.raises(TaskRunError) as info:
        render.workflows.run_task("wf/square", [3])
    assert info.value.operation == "run_task"
    assert info.value.details.error == "ValueError: bad"
    assert len(fake.requests) == 1


async def test_a_waited_cancel_raises_task_run_error_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", waited(details_payload(status="canceled", results=[])))
    with pytest.raises(TaskRunError) as info:
        await render_async.workflows.run_task("wf/square", [3])
    assert info.value.details.status is TaskRunStatus.CANCELED


@pytest.mark.parametrize(
    "answer",
    [
        waited(details_payload(status="running", results=[])),  # the wait ran out
        httpx.Response(202, json=run_payload()),  # a server that ignores the preference
        waited(run_payload(status="running")),  # says it waited, but sends no details
    ],
)
def test_a_run_still_going_is_awaited_on_events(
    fake: FakeAPI, render: Render, answer: httpx.Response
) -> None:
    fake.on("POST", "/task-runs", answer)
    fake.on("GET", "/task-runs/events", sse_response(sse_event("1", details_payload())))
    assert render.workflows.run_task("wf/square", [3]).result == 9
    assert [r.url.path for r in fake.requests] == ["/v1/task-runs", "/v1/task-runs/events"]


async def test_a_run_still_going_is_awaited_on_events_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", waited(details_payload(status="running", results=[])))
    fake.on("GET", "/task-runs/events", sse_response(sse_event("1", details_payload())))
    assert (await render_async.workflows.run_task("wf/square", [3])).result == 9
    assert len(fake.calls("GET", "/task-runs/events")) == 1


def test_start_task_does_not_ask_to_wait(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload()))
    render.workflows.start_task("wf/square", [3])
    assert "prefer" not in fake.requests[0].headers


@pytest.mark.parametrize(("timeout", "prefer"), [(30.0, "wait=10"), (5.0, "wait=2"), (1.5, None)])
def test_the_wait_stays_within_the_request_timeout(
    fake: FakeAPI, timeout: float, prefer: str | None
) -> None:
    fake.on("POST", "/task-runs", waited(details_payload()))
    fake.on("GET", "/task-runs/events", sse_response(sse_event("1", details_payload())))
    with Render(base_url=BASE, transport=httpx.MockTransport(fake), timeout=timeout) as render:
        render.workflows.run_task("wf/square", [3])
    assert fake.requests[0].headers.get("prefer") == prefer


def held_then_lost(run_id: str = "trn-7") -> httpx.Response:
    """A held start answer whose head arrives and whose body is lost (the server went away)."""
    return httpx.Response(
        202,
        headers={
            "Preference-Applied": "wait=10",
            "Location": f"/v1/task-runs/{run_id}",
            "Content-Type": "application/json",
        },
        stream=ChunkStream([httpx.ReadError("connection reset by peer")]),
    )


def test_a_held_answer_lost_mid_body_is_sent_again_with_its_key(
    fake: FakeAPI, render: Render
) -> None:
    """The engine went away while it held the answer: the start is sent again with the same
    idempotency key, so the engine answers for the run it already has."""
    fake.on("POST", "/task-runs", held_then_lost(), waited(details_payload("trn-7")))
    details = render.workflows.run_task("wf/square", [3])
    assert details.id == "trn-7" and details.result == 9
    posts = fake.calls("POST", "/task-runs")
    assert len(posts) == 2
    assert (
        json.loads(posts[0].content)["idempotencyKey"]
        == json.loads(posts[1].content)["idempotencyKey"]
    )


async def test_a_held_answer_lost_mid_body_is_sent_again_with_its_key_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", held_then_lost(), waited(details_payload("trn-7")))
    details = await render_async.workflows.run_task("wf/square", [3])
    assert details.id == "trn-7"
    posts = fake.calls("POST", "/task-runs")
    assert len(posts) == 2
    assert (
        json.loads(posts[0].content)["idempotencyKey"]
        == json.loads(posts[1].content)["idempotencyKey"]
    )


def sent_key(request: httpx.Request) -> str | None:
    """The idempotency key a start sent (in its body, as Render takes it)."""
    key = json.loads(request.content).get("idempotencyKey")
    assert "idempotency-key" not in request.headers
    return key if isinstance(key, str) else None


def lost_answer() -> httpx.Response:
    """A start answer whose body is lost, with no head naming the run."""
    return httpx.Response(
        202,
        headers={"Content-Type": "application/json"},
        stream=ChunkStream([httpx.ReadError("connection reset by peer")]),
    )


def test_against_the_local_engine_a_lost_start_is_sent_again_with_its_own_key(
    fake: FakeAPI, render: Render
) -> None:
    fake.on("POST", "/task-runs", httpx.ConnectError("engine restarting"), lost_answer())
    fake.on("POST", "/task-runs", waited(details_payload()))
    assert render.workflows.run_task("wf/square", [3]).result == 9
    posts = fake.calls("POST", "/task-runs")
    keys = {json.loads(p.content).get("idempotencyKey") for p in posts}
    assert len(posts) == 3 and len(keys) == 1
    (key,) = keys
    assert key is not None and key.startswith("run-task-")


async def test_against_the_local_engine_a_lost_start_is_sent_again_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("POST", "/task-runs", lost_answer(), waited(details_payload()))
    assert (await render_async.workflows.run_task("wf/square", [3])).result == 9
    posts = fake.calls("POST", "/task-runs")
    assert len(posts) == 2
    assert (
        json.loads(posts[0].content)["idempotencyKey"]
        == json.loads(posts[1].content)["idempotencyKey"]
    )


def test_a_callers_key_is_kept(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", waited(details_payload()))
    render.workflows.run_task("wf/square", [3], idempotency_key="mine")
    assert json.loads(fake.requests[0].content)["idempotencyKey"] == "mine"


def test_against_a_remote_api_a_lost_start_is_an_error_and_not_retried(fake: FakeAPI) -> None:
    fake.on("POST", "/task-runs", lost_answer())
    transport = httpx.MockTransport(fake)
    with Render("rnd_key", base_url="https://api.example.com", transport=transport) as render:
        with pytest.raises(ServerError, match="lost the connection"):
            render.workflows.run_task("wf/square", [3])
    posts = fake.calls("POST", "/task-runs")
    assert len(posts) == 1
    assert "idempotencyKey" not in json.loads(posts[0].content)


def test_a_held_answer_naming_no_run_is_an_error(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", waited({"status": "running"}))
    with pytest.raises(RenderError, match="answered with a body this client cannot read"):
        render.workflows.run_task("wf/square", [3])


def test_an_engine_that_answered_then_went_away_is_waited_for(
    fake: FakeAPI, instant_sleep: list[float]
) -> None:
    """A 503 from an engine shutting down means it was reached: the keyed start then rides out
    refused connections (a restart) for the reconnect patience, not max_retries."""
    refused = [httpx.ConnectError("connection refused")] * 5
    fake.on("POST", "/task-runs", error_response(503), *refused, waited(details_payload()))
    with Render(base_url=BASE, transport=httpx.MockTransport(fake), max_retries=1) as render:
        assert render.workflows.run_task("wf/square", [3]).result == 9
    assert len(fake.calls("POST", "/task-runs")) == 7
    assert all(delay <= 1.0 for delay in instant_sleep)  # the reconnect backoff
