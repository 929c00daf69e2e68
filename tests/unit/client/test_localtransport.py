"""LocalEngineTransport over real sockets against small scripted asyncio servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest

from render_sdk.client import RenderAsync
from render_sdk.client._localtransport import LocalEngineTransport
from render_sdk.client.errors import ServerError, TimeoutError

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


class Server:
    def __init__(self) -> None:
        self.connections = 0
        self.requests: list[bytes] = []
        self.url = ""


async def read_request(reader: asyncio.StreamReader) -> bytes | None:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    length = 0
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"content-length:"):
            length = int(line.split(b":", 1)[1])
    body = await reader.readexactly(length) if length else b""
    return head + body


def ok(body: bytes = b'{"ok": true}', extra: bytes = b"") -> bytes:
    return (
        b"HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
        + extra
        + b"content-length: "
        + str(len(body)).encode()
        + b"\r\n\r\n"
        + body
    )


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler | None], Awaitable[Server]]]:
    servers: list[asyncio.Server] = []

    async def start(per_request: Handler | None = None) -> Server:
        state = Server()

        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            state.connections += 1
            try:
                if per_request is not None:
                    await per_request(reader, writer)
                    return
                while (request := await read_request(reader)) is not None:
                    state.requests.append(request)
                    writer.write(ok())
                    await writer.drain()
            finally:
                writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        servers.append(server)
        state.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
        return state

    yield start
    for server in servers:
        server.close()
        await server.wait_closed()


async def test_keep_alive_reuses_one_connection(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve()
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        for n in range(5):
            response = await client.post(f"{server.url}/x?n={n}", json={"n": n})
            assert response.status_code == 200 and response.json() == {"ok": True}
    assert server.connections == 1
    assert server.requests[2].startswith(b"POST /x?n=2 HTTP/1.1\r\n")
    assert server.requests[2].endswith(b'{"n":2}')


async def test_connection_limit(serve: Callable[..., Awaitable[Server]]) -> None:
    server = await serve()
    transport = LocalEngineTransport(max_connections=2)
    async with httpx.AsyncClient(transport=transport) as client:
        responses = await asyncio.gather(*(client.get(f"{server.url}/{n}") for n in range(20)))
    assert all(r.status_code == 200 for r in responses)
    assert server.connections <= 2


async def test_idle_connection_closed_by_the_server_is_not_reused(
    serve: Callable[..., Awaitable[Server]],
) -> None:
    closed: asyncio.Queue[None] = asyncio.Queue()

    async def one_per_connection(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_request(reader)
        writer.write(ok())  # keep-alive by the headers, but the server closes right after
        await writer.drain()
        writer.close()
        await writer.wait_closed()
        closed.put_nowait(None)

    server = await serve(one_per_connection)
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        for _ in range(3):
            assert (await client.get(server.url)).status_code == 200
            await closed.get()  # the server's FIN is sent before the next request
    assert server.connections == 3


async def test_connection_close_header_is_honoured(serve: Callable[..., Awaitable[Server]]) -> None:
    async def closing(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while await read_request(reader) is not None:
            writer.write(ok(extra=b"connection: close\r\n"))
            await writer.drain()

    server = await serve(closing)
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        for _ in range(2):
            assert (await client.get(server.url)).status_code == 200
    assert server.connections == 2


async def test_truncated_body_is_a_protocol_error(serve: Callable[..., Awaitable[Server]]) -> None:
    async def truncate(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\nshort")
        await writer.drain()

    server = await serve(truncate)
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        with pytest.raises(httpx.RemoteProtocolError):
            await client.get(server.url)


async def test_read_timeout_through_the_client(serve: Callable[..., Awaitable[Server]]) -> None:
    release = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_request(reader)
        await release.wait()

    server = await serve(silent)
    async with RenderAsync(base_url=server.url, timeout=0.2) as render:
        with pytest.raises(TimeoutError):
            await render.workflows.get_task_run("trn-1")
    release.set()


async def test_refused_connection_through_the_client() -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    async with RenderAsync(base_url=f"http://127.0.0.1:{port}", max_retries=0) as render:
        with pytest.raises(
            ServerError, match=f"could not connect to the Render API at http://127.0.0.1:{port}/v1"
        ):
            await render.workflows.list_task_runs()


async def test_chunked_streaming_body(serve: Callable[..., Awaitable[Server]]) -> None:
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
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        async with client.stream("GET", server.url) as response:
            body = b"".join([chunk async for chunk in response.aiter_raw()])
    assert body == b"data: a\n\ndata: b\n\n"


def test_usable_from_successive_event_loops() -> None:
    transport = LocalEngineTransport()

    async def once() -> int:
        async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            while await read_request(reader) is not None:
                writer.write(ok())
                await writer.drain()
            writer.close()

        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        client = httpx.AsyncClient(transport=transport)
        response = await client.get(f"http://127.0.0.1:{port}/")
        server.close()
        return response.status_code

    assert asyncio.run(once()) == 200
    assert asyncio.run(once()) == 200


@pytest.mark.parametrize(
    "url", ["https://127.0.0.1:9/", "http://api.example.com/", "http://10.0.0.1:8120/"]
)
async def test_it_refuses_anything_but_plain_http_to_loopback(url: str) -> None:
    async with httpx.AsyncClient(transport=LocalEngineTransport()) as client:
        with pytest.raises(httpx.UnsupportedProtocol, match="loopback addresses only"):
            await client.get(url)


def test_the_async_client_uses_it_for_a_local_engine_only() -> None:
    from render_sdk.client._client import default_async_transport
    from render_sdk.client._config import resolve_settings

    local = resolve_settings(None, "http://127.0.0.1:8120", environ={})
    assert isinstance(default_async_transport(local), LocalEngineTransport)
    for url in ("https://api.render.com", "https://localhost:8120", "http://engine.internal"):
        settings = resolve_settings("rnd_key", url, environ={})
        assert default_async_transport(settings) is None  # httpx's own transport


async def test_a_test_tool_patching_httpx_sees_requests_given_httpx_transport(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """vcrpy-style tools patch httpx's transport: pass one to the client and they see it all."""
    seen: list[str] = []

    async def fake_handle(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    monkeypatch.setattr(httpx.AsyncHTTPTransport, "handle_async_request", fake_handle)
    transport = httpx.AsyncHTTPTransport()
    async with RenderAsync(base_url="http://127.0.0.1:9", transport=transport) as render:
        assert await render.workflows.cancel_task_run("trn-1") is None
    assert seen == ["http://127.0.0.1:9/v1/task-runs/trn-1"]
