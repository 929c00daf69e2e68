"""The client over real TCP against a small scripted server (uvicorn in a thread).

Covers what a fake transport cannot: chunked SSE over a socket, a server that drops the
connection mid-stream, the server seeing the client go away on ``break``, and the blocking client
used inside a running event loop.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from render_sdk.client import Render, RenderAsync

from .conftest import details_payload, run_payload


class Script:
    """State of the scripted server, shared with the test."""

    def __init__(self) -> None:
        self.event_requests: list[dict[str, str]] = []
        self.runs = 0
        self.disconnected = threading.Event()
        self.drop_first_stream = True


def build_app(script: Script) -> Starlette:
    async def start(request: Request) -> Response:
        body = await request.json()
        script.runs += 1
        return JSONResponse(run_payload(f"trn-{script.runs}", input=body["input"]), status_code=202)

    async def events(request: Request) -> Response:
        ids = request.query_params.getlist("taskRunIds")
        script.event_requests.append(
            {"ids": ",".join(ids), "last": request.headers.get("last-event-id", "")}
        )
        first = len(script.event_requests) == 1

        async def body() -> AsyncIterator[bytes]:
            try:
                yield b"retry: 10\n\n"
                if first and script.drop_first_stream:
                    yield b": ping\n\n"
                    raise RuntimeError("connection dropped by the test server")
                for n, run_id in enumerate(ids):
                    data = json.dumps(details_payload(run_id, results=[run_id]))
                    # One event in three writes, with CRLF line ends.
                    yield f"id: {n + 10}\r\nevent: task.completed\r\n".encode()
                    yield b"data: "
                    yield f"{data}\r\n\r\n".encode()
                    await asyncio.sleep(0)
                    if ids[0] == "trn-hold":
                        while True:  # hold the stream open until the client leaves
                            yield b": ping\n\n"
                            await asyncio.sleep(0.01)
            finally:
                if ids and ids[0] == "trn-hold":
                    script.disconnected.set()

        return StreamingResponse(body(), media_type="text/event-stream")

    return Starlette(
        routes=[
            Route("/v1/task-runs", start, methods=["POST"]),
            Route("/v1/task-runs/events", events, methods=["GET"]),
        ]
    )


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)  # clients may connect before uvicorn starts accepting
    port = sock.getsockname()[1]
    config = uvicorn.Config(build_app(script), log_level="error", lifespan="off")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", script
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()


@pytest.fixture(autouse=True)
def instant_sleep() -> list[float]:
    """Overrides conftest's fixture: against this server the client sleeps for real (10 ms)."""
    return []


def test_run_task_over_tcp_reconnects_after_a_drop(server: tuple[str, Script]) -> None:
    url, script = server
    with Render(base_url=url) as render:
        details = render.workflows.run_task("wf/echo", [1])
    assert details.result == "trn-1"
    assert [r["ids"] for r in script.event_requests] == ["trn-1", "trn-1"]


def test_break_disconnects_from_the_server(server: tuple[str, Script]) -> None:
    url, script = server
    script.drop_first_stream = False
    with Render(base_url=url) as render:
        for details in render.workflows.task_run_events(["trn-hold", "trn-other"]):
            assert details.id == "trn-hold"
            break
        assert script.disconnected.wait(10)


async def test_async_break_disconnects_from_the_server(server: tuple[str, Script]) -> None:
    url, script = server
    script.drop_first_stream = False
    async with RenderAsync(base_url=url) as render:
        async for details in render.workflows.task_run_events(["trn-hold", "trn-other"]):
            assert details.id == "trn-hold"
            break
        assert await asyncio.to_thread(script.disconnected.wait, 10)


def test_blocking_client_inside_a_running_event_loop(server: tuple[str, Script]) -> None:
    url, script = server
    script.drop_first_stream = False

    def blocking_call(n: int) -> Any:
        with Render(base_url=url) as render:
            return render.workflows.run_task("wf/echo", [n]).result

    async def main() -> list[Any]:
        asyncio.get_running_loop()  # a loop is running in this thread
        direct = blocking_call(0)
        threaded = await asyncio.gather(*(asyncio.to_thread(blocking_call, n) for n in (1, 2)))
        return [direct, *threaded]

    results = asyncio.run(main())
    assert results[0] == "trn-1" and sorted(results[1:]) == ["trn-2", "trn-3"]
