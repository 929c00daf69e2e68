"""The platform side of the callback API: HTTP/1.1 over one Unix socket, parsed by httptools.

A :class:`CallbackServer` listens on one socket path and hands each complete request to an async
handler, which returns a :class:`CallbackResponse`. Connections are kept alive and their requests
answered in order; a handler may hold a request as long as it likes (long-poll). Bodies larger
than ``max_body`` get ``413``; a request that cannot be parsed gets ``400``. Both close the
connection. Errors are JSON ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any, cast

import httptools

_log = logging.getLogger("render_sdk.engine.callbacks")
DEFAULT_MAX_BODY = 32 * 1024 * 1024
_MAX_QUEUED = 8  # complete requests of one connection waiting for their turn; then stop reading


@dataclass(frozen=True)
class CallbackRequest:
    """One request from a worker: ``headers`` has lower-case names."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    query: str = ""  # the raw query string, without "?"


@dataclass
class CallbackResponse:
    """The answer to a :class:`CallbackRequest`; ``body`` is JSON-encoded unless None.

    >>> CallbackResponse(409, {"error": "attempt already finished"}).status
    409
    """

    status: int
    body: Any = None
    headers: list[tuple[str, str]] = field(default_factory=list)


def error_response(status: int, message: str) -> CallbackResponse:
    """A JSON error answer; ``error_response(404, "unknown subtask")``."""
    return CallbackResponse(status, {"error": message})


Handler = Callable[[CallbackRequest], Awaitable[CallbackResponse]]


def encode_response(response: CallbackResponse, keep_alive: bool) -> bytes:
    """The bytes of ``response`` on the wire.

    >>> encode_response(CallbackResponse(204), keep_alive=True)
    b'HTTP/1.1 204 No Content\\r\\ncontent-length: 0\\r\\n\\r\\n'
    """
    payload = b"" if response.body is None else json.dumps(response.body).encode()
    try:
        reason = HTTPStatus(response.status).phrase
    except ValueError:
        reason = ""
    head = [f"HTTP/1.1 {response.status} {reason}\r\ncontent-length: {len(payload)}\r\n"]
    if response.body is not None:
        head.append("content-type: application/json\r\n")
    for name, value in response.headers:
        head.append(f"{name}: {value}\r\n")
    if not keep_alive:
        head.append("connection: close\r\n")
    head.append("\r\n")
    return "".join(head).encode("latin-1") + payload


@dataclass(frozen=True)
class _Refusal:
    """A request that cannot be served: answered with ``status``, then the connection closes."""

    status: int
    message: str


class _Connection(asyncio.Protocol):
    """One worker connection: parses requests as bytes arrive and answers them in order."""

    def __init__(self, handler: Handler, max_body: int, tasks: set[asyncio.Task[None]]) -> None:
        self._handler = handler
        self._max_body = max_body
        self._tasks = tasks
        self._parser = httptools.HttpRequestParser(self)
        self._transport: asyncio.Transport | None = None
        self._queue: deque[tuple[CallbackRequest, bool] | _Refusal] = deque()
        self._wake: asyncio.Future[None] | None = None
        self._closed = False
        self._paused = False
        self._broken = False  # a refusal is queued: ignore what follows
        # The message being parsed.
        self._url = b""
        self._headers: list[tuple[bytes, bytes]] = []
        self._body = bytearray()
        self._too_large = False

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.Transport, transport)
        task = asyncio.get_running_loop().create_task(self._serve())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def data_received(self, data: bytes) -> None:
        if self._broken:
            return
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            self._refuse(400, "bad request: protocol upgrades are not served")
        except httptools.HttpParserError as exc:
            if self._too_large:
                self._refuse(413, f"request body larger than {self._max_body} bytes")
            else:
                _log.warning("callback API: unparsable request: %s", exc)
                self._refuse(400, f"bad request: {exc}")

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = True
        self._notify()

    # --- httptools callbacks ----------------------------------------------------------------
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._body = bytearray()

    def on_url(self, url: bytes) -> None:
        self._url += url

    def on_header(self, name: bytes, value: bytes) -> None:
        self._headers.append((name, value))

    def on_headers_complete(self) -> None:
        for name, value in self._headers:
            if name.lower() == b"content-length" and value.isdigit():
                if int(value) > self._max_body:
                    self._too_large = True
                    raise _TooLarge

    def on_body(self, body: bytes) -> None:
        self._body += body
        if len(self._body) > self._max_body:
            self._too_large = True
            raise _TooLarge

    def on_message_complete(self) -> None:
        headers = {
            name.decode("latin-1").lower(): value.decode("latin-1") for name, value in self._headers
        }
        target, _, query = self._url.decode("latin-1").partition("?")
        method = self._parser.get_method().decode("ascii", "replace")
        request = CallbackRequest(method, target, headers, bytes(self._body), query)
        self._enqueue((request, self._parser.should_keep_alive()))

    # --- answering --------------------------------------------------------------------------
    def _refuse(self, status: int, message: str) -> None:
        if status == 413:
            _log.warning("callback API: request body over %d bytes", self._max_body)
        self._broken = True
        self._enqueue(_Refusal(status, message))

    def _enqueue(self, item: tuple[CallbackRequest, bool] | _Refusal) -> None:
        self._queue.append(item)
        if len(self._queue) >= _MAX_QUEUED and self._transport is not None and not self._paused:
            self._paused = True
            self._transport.pause_reading()
        self._notify()

    def _notify(self) -> None:
        if self._wake is not None and not self._wake.done():
            self._wake.set_result(None)

    async def _serve(self) -> None:
        transport = self._transport
        assert transport is not None
        try:
            while True:
                while not self._queue:
                    if self._closed:
                        return
                    self._wake = asyncio.get_running_loop().create_future()
                    await self._wake
                item = self._queue.popleft()
                if self._paused and len(self._queue) < _MAX_QUEUED // 2 and not self._closed:
                    self._paused = False
                    transport.resume_reading()
                if isinstance(item, _Refusal):
                    refusal = error_response(item.status, item.message)
                    transport.write(encode_response(refusal, keep_alive=False))
                    return
                request, keep_alive = item
                try:
                    response = await self._handler(request)
                except Exception:
                    _log.exception("callback API %s %s failed", request.method, request.path)
                    response = error_response(500, "the engine failed to handle this request")
                if self._closed:
                    return
                transport.write(encode_response(response, keep_alive))
                if not keep_alive:
                    return
        finally:
            transport.close()


class _TooLarge(Exception):
    """Raised from a parser callback: stops parsing a body over the limit."""


class CallbackServer:
    """Serve the callback API on ``path`` with ``handler``.

    server = CallbackServer(sock_dir / "w1.sock", handler)
    await server.start()
    ...
    await server.close()
    """

    def __init__(self, path: Path, handler: Handler, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.path = path
        self._handler = handler
        self._max_body = max_body
        self._server: asyncio.AbstractServer | None = None
        self._connections: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        loop = asyncio.get_running_loop()
        self._server = await loop.create_unix_server(
            lambda: _Connection(self._handler, self._max_body, self._connections),
            path=str(self.path),
        )
        os.chmod(self.path, 0o600)

    async def close(self) -> None:
        """Stop listening, drop open connections and remove the socket file."""
        if self._server is not None:
            self._server.close()
            self._server = None
        tasks = list(self._connections)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
