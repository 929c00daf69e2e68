"""A scripted fake of the REST API behind httpx.MockTransport, and payload builders."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest

from render_sdk.client import Render, RenderAsync

BASE = "http://127.0.0.1:8120"

Responder = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def run_payload(run_id: str = "trn-1", status: str = "pending", **extra: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "id": run_id,
        "taskId": "tsk-1",
        "status": status,
        "parentTaskRunId": "",
        "rootTaskRunId": run_id,
        "retries": 0,
        "attempts": [],
    }
    payload.update(extra)
    return payload


def details_payload(
    run_id: str = "trn-1",
    status: str = "completed",
    results: list[Any] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    payload = run_payload(run_id, status)
    payload.update(
        {
            "results": [9] if results is None else results,
            "input": [3],
            "startedAt": "2026-01-02T03:04:05Z",
            "completedAt": "2026-01-02T03:04:06.5Z",
            "attempts": [
                {
                    "status": status,
                    "startedAt": "2026-01-02T03:04:05Z",
                    "completedAt": "2026-01-02T03:04:06.5Z",
                }
            ],
        }
    )
    payload.update(extra)
    return payload


def sse_event(event_id: str, data: dict[str, Any], event: str = "task.completed") -> bytes:
    return f"id: {event_id}\nevent: {event}\ndata: {json.dumps(data)}\n\n".encode()


def error_response(
    status: int, message: str = "nope", error_id: str = "err", **kw: Any
) -> httpx.Response:
    return httpx.Response(status, json={"id": error_id, "message": message}, **kw)


class ChunkStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A response body sent in chunks. An exception in ``chunks`` is raised at that point;
    ``HANG`` blocks until the stream is closed (or a safety timeout passes)."""

    HANG = object()

    def __init__(self, chunks: list[Any]) -> None:
        self.chunks = chunks
        self.closed = threading.Event()
        self.async_closed: asyncio.Event | None = None

    def _items(self) -> Iterator[Any]:
        yield from self.chunks

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._items():
            if chunk is ChunkStream.HANG:
                self.closed.wait(10)
                raise httpx.ReadError("stream closed by the test")
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._items():
            if chunk is ChunkStream.HANG:
                await asyncio.wait_for(self._event().wait(), 10)
                raise httpx.ReadError("stream closed by the test")
            if isinstance(chunk, Exception):
                raise chunk
            yield chunk

    def _event(self) -> asyncio.Event:
        if self.async_closed is None:
            self.async_closed = asyncio.Event()
        return self.async_closed

    def close(self) -> None:
        self.closed.set()

    async def aclose(self) -> None:
        self.closed.set()
        self._event().set()


def sse_response(*chunks: Any, stream: ChunkStream | None = None) -> httpx.Response:
    body = stream or ChunkStream(list(chunks))
    return httpx.Response(200, headers={"content-type": "text/event-stream"}, stream=body)


class FakeAPI:
    """Routes ``(method, path)`` to queued responders; the last responder of a route repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Responder]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *responders: Responder) -> FakeAPI:
        self.routes.setdefault((method, "/v1" + path), []).extend(responders)
        return self

    def calls(self, method: str, path: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.method == method and r.url.path == "/v1" + path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return error_response(404, f"no route {request.method} {request.url.path}", "not_found")
        responder = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(responder, Exception):
            raise responder
        if callable(responder) and not isinstance(responder, httpx.Response):
            return responder(request)
        return responder


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("RENDER_API_KEY", "RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(autouse=True)
def instant_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Record the client's backoff sleeps instead of sleeping them."""
    slept: list[float] = []

    def fake_sleep(seconds: float) -> None:
        slept.append(seconds)

    real_async_sleep = asyncio.sleep

    async def fake_async_sleep(seconds: float, *args: Any) -> None:
        slept.append(seconds)
        await real_async_sleep(0)

    monkeypatch.setattr("render_sdk.client._sync.sleep", fake_sleep)
    monkeypatch.setattr("render_sdk.client._async.sleep", fake_async_sleep)
    return slept


@pytest.fixture
def fake() -> FakeAPI:
    return FakeAPI()


@pytest.fixture
def render(fake: FakeAPI) -> Iterator[Render]:
    with Render(base_url=BASE, transport=httpx.MockTransport(fake)) as client:
        yield client


@pytest.fixture
async def render_async(fake: FakeAPI) -> AsyncIterator[RenderAsync]:
    async with RenderAsync(base_url=BASE, transport=httpx.MockTransport(fake)) as client:
        yield client
