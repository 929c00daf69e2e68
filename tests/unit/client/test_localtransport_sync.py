"""LocalEngineBlockingTransport over real sockets against the scripted asyncio servers of
test_localtransport.py (the blocking calls run in a thread while the server's loop runs)."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Awaitable, Callable

import httpx
import pytest

from render_sdk.client import Render
from render_sdk.client._localtransport_sync import LocalEngineBlockingTransport
from render_sdk.client.errors import ServerError, TimeoutError
from tests.unit.client.test_localtransport import Server, ok, read_request, serve

__all__ = ["serve"]  # the fixture, shared with the async transport's tests

Serve = Callable[..., Awaitable[Server]]


def blocking_client() -> httpx.Client:
    return httpx.Client(transport=LocalEngineBlockingTransport())


async def test_keep_alive_reuses_one_connection(serve: Serve) -> None:
    server = await serve()

    def calls() -> list[httpx.Response]:
        with blocking_client() as client:
            return [client.post(f"{server.url}/x?n={n}", json={"n": n}) for n in range(5)]

    responses = await asyncio.to_thread(calls)
    assert [(r.status_code, r.json()) for r in responses] == [(200, {"ok": True})] * 5
    assert server.connections == 1
    assert server.requests[2].startswith(b"POST /x?n=2 HTTP/1.1\r\n")
    assert server.requests[2].endswith(b'{"n":2}')


async def test_connection_limit_across_threads(serve: Serve) -> None:
    server = await serve()
    transport = LocalEngineBlockingTransport(max_connections=2)
    client = httpx.Client(transport=transport)
    statuses: list[int] = []

    def worker() -> None:
        for n in range(5):
            statuses.append(client.get(f"{server.url}/{n}").status_code)

    def run_threads() -> None:
        threads = [threading.Thread(target=worker) for _ in range(6)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    await asyncio.to_thread(run_threads)
    await asyncio.to_thread(client.close)
    assert statuses == [200] * 30
    assert 1 <= server.connections <= 2


async def test_pool_timeout_when_every_connection_is_busy(serve: Serve) -> None:
    release = asyncio.Event()
    held = asyncio.Event()

    async def slow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        held.set()
        await release.wait()
        writer.write(ok())
        await writer.drain()

    server = await serve(slow)
    client = httpx.Client(
        transport=LocalEngineBlockingTransport(max_connections=1),
        timeout=httpx.Timeout(30, pool=0.2),
    )
    first = asyncio.ensure_future(asyncio.to_thread(client.get, server.url))
    await held.wait()  # the only connection is busy
    with pytest.raises(httpx.PoolTimeout):
        await asyncio.to_thread(client.get, server.url)
    release.set()
    assert (await first).status_code == 200
    await asyncio.to_thread(client.close)


async def test_idle_connection_closed_by_the_server_is_not_reused(serve: Serve) -> None:
    closed = threading.Semaphore(0)

    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(ok())  # keep-alive by the headers, but the server closes right after
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.release()

    server = await serve(one_per_connection)

    def calls() -> list[int]:
        statuses = []
        with blocking_client() as client:
            for _ in range(3):
                statuses.append(client.get(server.url).status_code)
                closed.acquire()  # the server's FIN is sent before the next request
        return statuses

    assert await asyncio.to_thread(calls) == [200, 200, 200]
    assert server.connections == 3


async def test_connection_close_header_is_honoured(serve: Serve) -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(ok(extra=b"connection: close\r\n"))
            await writer.drain()

    server = await serve(closing)

    def calls() -> list[int]:
        with blocking_client() as client:
            return [client.get(server.url).status_code for _ in range(2)]

    assert await asyncio.to_thread(calls) == [200, 200]
    assert server.connections == 2


async def test_truncated_body_is_a_protocol_error(serve: Serve) -> None:
    async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort")
        await writer.drain()

    server = await serve(truncate)
    with blocking_client() as client, pytest.raises(httpx.RemoteProtocolError):
        await asyncio.to_thread(client.get, server.url)


async def test_read_timeout_through_the_client(serve: Serve) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()

    server = await serve(silent)
    with Render(base_url=server.url, timeout=0.2) as render, pytest.raises(TimeoutError):
        await asyncio.to_thread(render.workflows.get_task_run, "trn-1")
    release.set()


def test_refused_connection_through_the_client() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Render(base_url=f"http://127.0.0.1:{port}", max_retries=0) as render:
        with pytest.raises(
            ServerError, match=f"could not connect to the Render API at http://127.0.0.1:{port}/v1"
        ):
            render.workflows.list_task_runs()


async def test_chunked_streaming_body(serve: Serve) -> None:
    async def chunked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n")
        for part in (b"data: a\n", b"\n", b"data: b\n\n"):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        await writer.drain()
        await read_request(reader)

    server = await serve(chunked)

    def read_stream() -> bytes:
        with blocking_client() as client, client.stream("GET", server.url) as response:
            return b"".join(response.iter_raw())

    assert await asyncio.to_thread(read_stream) == b"data: a\n\ndata: b\n\n"


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:9/", "http://api.example.com/", "http://10.0.0.1:8120/"]
)
def test_it_refuses_anything_but_plain_http_to_loopback(url: str) -> None:
    with blocking_client() as client:
        with pytest.raises(httpx.UnsupportedProtocol, match="loopback addresses only"):
            client.get(url)


def test_the_blocking_client_uses_it_for_a_local_engine_only() -> None:
    from render_sdk.client._client import default_sync_transport
    from render_sdk.client._config import resolve_settings

    local = resolve_settings(None, "http://127.0.0.1:8120", environ={})
    assert isinstance(default_sync_transport(local), LocalEngineBlockingTransport)
    for url in ("https://api.render.com", "https://localhost:8120", "http://engine.internal"):
        settings = resolve_settings("rnd_key", url, environ={})
        assert default_sync_transport(settings) is None  # httpx's own transport


def test_a_test_tool_patching_httpx_sees_requests_given_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """vcrpy-style tools patch httpx's transport: pass one to the client and they see it all."""
    seen: list[str] = []

    def fake_handle(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    monkeypatch.setattr(httpx.HTTPTransport, "handle_request", fake_handle)
    with Render(base_url="http://127.0.0.1:9", transport=httpx.HTTPTransport()) as render:
        assert render.workflows.cancel_task_run("trn-1") is None
    assert seen == ["http://127.0.0.1:9/v1/task-runs/trn-1"]


class _Conn:
    def __init__(self, name: str, open_: bool = True) -> None:
        self.name = name
        self.open = open_

    def still_open(self) -> bool:
        return self.open


def test_idle_connections_are_kept_per_origin_most_recent_first_within_the_limit() -> None:
    from render_sdk.client._localtransport import IdleConnections

    a, b = ("http", "127.0.0.1", 1), ("http", "127.0.0.1", 2)
    idle: IdleConnections[_Conn] = IdleConnections(limit=3)
    first, second, closed, other = _Conn("first"), _Conn("second"), _Conn("closed"), _Conn("b")
    assert idle.put(a, first) and idle.put(a, closed) and idle.put(b, other)
    assert not idle.put(a, second)  # three idle already: the caller closes this one
    closed.open = False  # the server closed it while it was idle
    discarded: list[_Conn] = []
    assert idle.take(a, discarded.append) is first  # the closed, more recent one is skipped
    assert discarded == [closed]
    assert idle.take(a, discarded.append) is None
    assert idle.put(a, second)
    assert {idle.oldest(), idle.oldest()} == {other, second}  # any origin's make room
    assert idle.oldest() is None
