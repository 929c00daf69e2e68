"""The platform side of the callback API: HTTP/1.1 over one Unix socket, parsed by h11.

A :class:`CallbackServer` listens on one socket path and hands each complete request to an async
handler, which returns a :class:`CallbackResponse`. Connections are kept alive; a handler may hold
a request as long as it likes (long-poll). Bodies larger than ``max_body`` get ``413``; a request
h11 cannot parse gets ``400``. Errors are JSON ``{"error": "..."}``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11

_log = logging.getLogger("render_sdk.engine.callbacks")
DEFAULT_MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class CallbackRequest:
    """One request from a worker: ``headers`` has lower-case names."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


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
        self._server = await asyncio.start_unix_server(self._serve, path=str(self.path))
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

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        try:
            await self._serve_connection(reader, writer)
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            # Closed by close(): end quietly (asyncio's stream callback would report a
            # cancelled connection task as an error).
            pass
        finally:
            self._connections.discard(task)
            writer.close()

    async def _serve_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        conn = h11.Connection(h11.SERVER)
        while True:
            try:
                request = await self._read_request(conn, reader)
            except h11.RemoteProtocolError as exc:
                _log.warning("callback API: unparsable request: %s", exc)
                if conn.our_state in (h11.IDLE, h11.SEND_RESPONSE):
                    await self._send(conn, writer, error_response(400, f"bad request: {exc}"))
                return
            except _TooLarge:
                _log.warning("callback API: request body over %d bytes", self._max_body)
                await self._send(
                    conn,
                    writer,
                    error_response(413, f"request body larger than {self._max_body} bytes"),
                )
                return
            if request is None:
                return
            response = await self._handler(request)
            await self._send(conn, writer, response)
            if conn.our_state is h11.MUST_CLOSE or conn.their_state is h11.MUST_CLOSE:
                return
            try:
                conn.start_next_cycle()
            except h11.LocalProtocolError:
                return

    async def _read_request(
        self, conn: h11.Connection, reader: asyncio.StreamReader
    ) -> CallbackRequest | None:
        head: h11.Request | None = None
        body = bytearray()
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                conn.receive_data(data)
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                return None
            if isinstance(event, h11.Request):
                head = event
                length = _content_length(event)
                if length is not None and length > self._max_body:
                    raise _TooLarge
            elif isinstance(event, h11.Data):
                body += event.data
                if len(body) > self._max_body:
                    raise _TooLarge
            elif isinstance(event, h11.EndOfMessage):
                assert head is not None
                headers = {
                    name.decode("latin-1").lower(): value.decode("latin-1")
                    for name, value in head.headers
                }
                target = head.target.decode("latin-1").split("?", 1)[0]
                return CallbackRequest(head.method.decode("ascii"), target, headers, bytes(body))

    async def _send(
        self, conn: h11.Connection, writer: asyncio.StreamWriter, response: CallbackResponse
    ) -> None:
        payload = b"" if response.body is None else json.dumps(response.body).encode()
        headers = [("content-length", str(len(payload)))]
        if response.body is not None:
            headers.append(("content-type", "application/json"))
        headers.extend(response.headers)
        try:
            data = conn.send(h11.Response(status_code=response.status, headers=headers))
            if payload:
                data += conn.send(h11.Data(data=payload))
            data += conn.send(h11.EndOfMessage())
        except h11.LocalProtocolError:
            return
        writer.write(data)
        await writer.drain()


class _TooLarge(Exception):
    pass


def _content_length(request: h11.Request) -> int | None:
    for name, value in request.headers:
        if name.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
