"""The blocking client's transport for the local engine: HTTP/1.1 keep-alive over plain sockets
and h11, the twin of :mod:`render_sdk.client._localtransport` (the async client's).

httpx's own blocking transport spends about a quarter of a millisecond of CPU per request more
than this one (measured against the local engine, one client process: 0.70-0.74 ms against
0.96-1.05 ms of client CPU per ``run_task``); against a local engine that answers a no-op run in
about two milliseconds, that is a tenth of the caller's wait. Like its twin it speaks plain HTTP
to loopback addresses only: anything else goes through httpx's own transport.
:class:`~render_sdk.Render` uses it for a local engine unless given ``transport=``
(docs/client.md, "Transports").

    client = httpx.Client(transport=LocalEngineBlockingTransport())
"""

from __future__ import annotations

import select
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import h11
import httpx

from render_sdk.client import _constants as C
from render_sdk.client._localtransport import (
    IdleConnections,
    Origin,
    local_origin,
    request_bytes,
)


class _Connection:
    """One TCP connection and its h11 state machine."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.h11 = h11.Connection(h11.CLIENT)
        self.closed = False

    @property
    def reusable(self) -> bool:
        """True when idle and open: both sides finished the last exchange, nothing is pending."""
        return (
            not self.closed and self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE
        )

    def still_open(self) -> bool:
        """False when the server closed this idle connection (or sent something unasked): the
        socket is readable."""
        if not self.reusable:
            return False
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def send(self, data: bytes, timeout: float | None) -> None:
        try:
            self.sock.settimeout(timeout)
            self.sock.sendall(data)
        except TimeoutError:
            raise httpx.WriteTimeout("timed out sending the request") from None
        except OSError as exc:
            raise httpx.WriteError(str(exc) or type(exc).__name__) from exc

    def next_event(self, timeout: float | None) -> Any:
        """The next h11 event from the server, waiting at most ``timeout`` for more data."""
        while True:
            try:
                event = self.h11.next_event()
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if event is not h11.NEED_DATA:
                return event
            try:
                self.sock.settimeout(timeout)
                data = self.sock.recv(65536)
            except TimeoutError:
                raise httpx.ReadTimeout("timed out reading the response") from None
            except OSError as exc:
                raise httpx.ReadError(str(exc) or type(exc).__name__) from exc
            self.h11.receive_data(data)

    def close(self) -> None:
        self.closed = True
        try:
            self.sock.close()
        except OSError:
            pass


class _ResponseStream(httpx.SyncByteStream):
    """The body of one response; gives the connection back to the pool once fully read."""

    def __init__(
        self,
        pool: LocalEngineBlockingTransport,
        origin: Origin,
        conn: _Connection,
        timeout: float | None,
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._conn = conn
        self._timeout = timeout
        self._complete = False
        self._released = False

    def __iter__(self) -> Iterator[bytes]:
        while not self._complete:
            event = self._conn.next_event(self._timeout)
            if type(event) is h11.Data:
                yield bytes(event.data)
            elif type(event) is h11.EndOfMessage:
                self._complete = True
            else:
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")

    def close(self) -> None:
        if self._released:
            return
        self._released = True
        conn = self._conn
        if self._complete and conn.h11.their_state is h11.DONE and conn.h11.our_state is h11.DONE:
            conn.h11.start_next_cycle()
            self._pool._release(self._origin, conn)
        else:
            self._pool._discard(conn)


class LocalEngineBlockingTransport(httpx.BaseTransport):
    """HTTP/1.1 with keep-alive over blocking sockets, for :class:`httpx.Client`, to ``http://``
    loopback addresses only (a local engine). Safe to share between threads.

    At most ``max_connections`` connections are open at once; a request beyond that waits for
    one to be free (``pool`` timeout). At most ``max_keepalive`` idle connections are kept.

        transport = LocalEngineBlockingTransport(max_connections=100)
        with httpx.Client(transport=transport) as client: ...
    """

    def __init__(
        self,
        *,
        max_connections: int = C.MAX_CONNECTIONS,
        max_keepalive: int = C.MAX_KEEPALIVE_CONNECTIONS,
    ) -> None:
        self._max_connections = max_connections
        self._idle: IdleConnections[_Connection] = IdleConnections(max_keepalive)
        self._open: set[_Connection] = set()
        self._connecting = 0
        self._changed = threading.Condition()
        self._closed = False

    # --- pool ------------------------------------------------------------------------------
    def _release(self, origin: Origin, conn: _Connection) -> None:
        with self._changed:
            if not conn.reusable or self._closed or not self._idle.put(origin, conn):
                self._discard_locked(conn)
                return
            self._changed.notify()

    def _discard(self, conn: _Connection) -> None:
        with self._changed:
            self._discard_locked(conn)

    def _discard_locked(self, conn: _Connection) -> None:
        conn.close()
        if conn in self._open:
            self._open.discard(conn)
            self._changed.notify()  # a slot is free: a waiter may connect

    def _evict_idle_locked(self) -> bool:
        """Close one idle connection of any origin to make room; False if there is none."""
        conn = self._idle.oldest()
        if conn is None:
            return False
        self._discard_locked(conn)
        return True

    def _acquire(self, origin: Origin, timeouts: dict[str, float | None]) -> _Connection:
        pool_timeout = timeouts.get("pool")
        deadline = None if pool_timeout is None else time.monotonic() + pool_timeout
        with self._changed:
            while True:
                conn = self._idle.take(origin, self._discard_locked)
                if conn is not None:
                    return conn
                if self._slots_used() < self._max_connections or self._evict_idle_locked():
                    self._connecting += 1  # holds the slot while connecting
                    break
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise httpx.PoolTimeout("no free connection within the pool timeout")
                self._changed.wait(remaining)
        conn = None
        try:
            conn = self._connect(origin, timeouts.get("connect"))
        finally:
            with self._changed:
                self._connecting -= 1
                if conn is not None:
                    self._open.add(conn)
                else:
                    self._changed.notify()
        return conn

    def _slots_used(self) -> int:
        return len(self._open) + self._connecting

    @staticmethod
    def _connect(origin: Origin, timeout: float | None) -> _Connection:
        _, host, port = origin
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except TimeoutError:
            raise httpx.ConnectTimeout(
                f"no connection to {host}:{port} within {timeout} s"
            ) from None
        except OSError as exc:
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return _Connection(sock)

    # --- httpx.BaseTransport ---------------------------------------------------------------
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        origin = local_origin(request.url, type(self).__name__)
        timeouts: dict[str, float | None] = request.extensions.get("timeout", {})
        conn = self._acquire(origin, timeouts)
        read_timeout = timeouts.get("read")
        try:
            conn.send(request_bytes(conn.h11, request, [request.read()]), timeouts.get("write"))
            event = conn.next_event(read_timeout)
            while type(event) is h11.InformationalResponse:
                event = conn.next_event(read_timeout)
            if type(event) is not h11.Response:
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without sending a response"
                )
        except h11.LocalProtocolError as exc:
            self._discard(conn)
            raise httpx.LocalProtocolError(str(exc)) from exc
        except BaseException:
            self._discard(conn)
            raise
        return httpx.Response(
            status_code=event.status_code,
            headers=list(event.headers),
            stream=_ResponseStream(self, origin, conn, read_timeout),
            extensions={"http_version": b"HTTP/1.1", "reason_phrase": bytes(event.reason)},
        )

    def close(self) -> None:
        with self._changed:
            self._closed = True
            for conn in list(self._open):
                conn.close()
            self._open.clear()
            self._idle.clear()
            self._changed.notify_all()
