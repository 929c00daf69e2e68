"""The callback server's HTTP/1.1 handling, over a real Unix socket with raw bytes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from render_sdk.engine.callback_server import CallbackRequest, CallbackResponse, CallbackServer


async def echo(request: CallbackRequest) -> CallbackResponse:
    if request.path == "/explode":
        raise RuntimeError("a bug in a handler")
    if request.path == "/slow":
        await asyncio.sleep(0.05)
    return CallbackResponse(
        200,
        {"method": request.method, "path": request.path, "body": request.body.decode()},
        [("x-seen-header", request.headers.get("x-test", "-"))],
    )


@pytest.fixture
async def server(tmp_path: Path) -> AsyncIterator[CallbackServer]:
    srv = CallbackServer(tmp_path / "cb.sock", echo, max_body=1000)
    await srv.start()
    yield srv
    await srv.close()


Answer = tuple[str, dict[str, str], bytes]


async def exchange(path: Path, data: bytes, answers: int) -> list[Answer]:
    """Send ``data`` and read ``answers`` responses: (status line, headers, body)."""
    reader, writer = await asyncio.open_unix_connection(str(path))
    writer.write(data)
    out = []
    try:
        for _ in range(answers):
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
            status, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
            headers = dict(line.lower().split(": ", 1) for line in lines)
            body = await reader.readexactly(int(headers["content-length"]))
            out.append((status, headers, body))
    finally:
        writer.close()
    return out


def post(path: str, body: bytes, extra: str = "") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {len(body)}\r\n{extra}\r\n"
    ).encode() + body


async def test_pipelined_requests_are_answered_in_order(server: CallbackServer) -> None:
    data = post("/slow", b"one") + post("/fast?q=1", b"two", "X-Test: yes\r\n")
    (s1, h1, b1), (s2, h2, b2) = await exchange(server.path, data, 2)
    assert s1 == s2 == "HTTP/1.1 200 OK"
    assert json.loads(b1) == {"method": "POST", "path": "/slow", "body": "one"}
    assert json.loads(b2) == {"method": "POST", "path": "/fast", "body": "two"}
    assert h1["x-seen-header"] == "-" and h2["x-seen-header"] == "yes"
    assert h2["content-type"] == "application/json"


async def test_a_failing_handler_is_a_500_and_the_connection_goes_on(
    server: CallbackServer, caplog: pytest.LogCaptureFixture
) -> None:
    data = post("/explode", b"") + post("/after", b"ok")
    (s1, _, b1), (s2, _, b2) = await exchange(server.path, data, 2)
    assert s1 == "HTTP/1.1 500 Internal Server Error"
    assert "failed to handle" in json.loads(b1)["error"]
    assert s2 == "HTTP/1.1 200 OK" and json.loads(b2)["body"] == "ok"
    assert "a bug in a handler" in caplog.text


async def test_connection_close_is_honoured(server: CallbackServer) -> None:
    reader, writer = await asyncio.open_unix_connection(str(server.path))
    writer.write(post("/x", b"", "Connection: close\r\n"))
    answer = await asyncio.wait_for(reader.read(), 5)  # read() returns once the server closes
    writer.close()
    assert answer.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"connection: close\r\n" in answer.lower()


@pytest.mark.parametrize(
    ("data", "status"),
    [
        (b"NOT HTTP AT ALL\r\n\r\n", "HTTP/1.1 400 Bad Request"),
        (post("/x", b"y" * 1001), "HTTP/1.1 413 Request Entity Too Large"),
        (
            b"POST /x HTTP/1.1\r\nHost: l\r\nTransfer-Encoding: chunked\r\n\r\n"
            + b"3e8\r\n"
            + b"z" * 1000
            + b"\r\n"
            + b"3e8\r\n"
            + b"z" * 1000
            + b"\r\n",
            "HTTP/1.1 413 Request Entity Too Large",
        ),
    ],
)
async def test_refusals_answer_then_close(server: CallbackServer, data: bytes, status: str) -> None:
    reader, writer = await asyncio.open_unix_connection(str(server.path))
    writer.write(data)
    answer = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    assert answer.decode("latin-1").startswith(status + "\r\n")
    assert json.loads(answer.split(b"\r\n\r\n", 1)[1])["error"]
    # The server goes on serving new connections.
    [(ok, _, _)] = await exchange(server.path, post("/x", b""), 1)
    assert ok == "HTTP/1.1 200 OK"
