"""The async client's transport for the local engine: HTTP/1.1 keep-alive over asyncio and h11.

httpx's own async transport costs about a millisecond of CPU per request when many requests are
in flight (its pool scans every connection for every request). This one keeps the per-request
work small: h11 parses and frames the messages, idle connections wait in a LIFO stack per origin
(one zero-timeout ``select`` tells whether the server closed one meanwhile), and timeouts are
timer callbacks rather than tasks. It speaks plain HTTP to loopback addresses only: anything
else (Render's API over TLS, a proxy) goes through httpx's own transport, certificates, proxies
and all. :class:`~render_sdk.RenderAsync` uses it for a local engine unless given ``transport=``
(docs/client.md, "Transports").

    client = httpx.AsyncClient(transport=LocalEngineTransport())
"""

from __future__ import annotations

import asyncio
import functools
import select
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from typing import Any, Generic, Protocol, TypeVar

import h11
import httpx

from render_sdk.client import _constants as C
from render_sdk.client._config import is_loopback_name

Origin = tuple[str, str, int]  # (scheme, host, port)


@functools.lru_cache(maxsize=64)
def _is_local(scheme: str, host: str) -> bool:
    return scheme == "http" and is_loopback_name(host.lower())


def local_origin(url: httpx.URL, transport: str) -> Origin:
    """``url``'s (scheme, host, port); UnsupportedProtocol unless it is plain HTTP to a loopback
    address (the only servers the local engine transports speak to)."""
    if not _is_local(url.scheme, url.host):
        raise httpx.UnsupportedProtocol(
            f"{transport} speaks plain HTTP to loopback addresses only, not to "
            f"{url.scheme}://{url.host}: use httpx's own transport for other servers"
        )
    return (url.scheme, url.host, url.port or 80)


def request_bytes(h: h11.Connection, request: httpx.Request, body: Iterable[bytes]) -> bytes:
    """``request`` (head and ``body``) framed by ``h`` as it goes on the wire."""
    chunks = [
        h.send(
            h11.Request(
                method=request.method, target=request.url.raw_path, headers=request.headers.raw
            )
        )
        or b""
    ]
    chunks.extend(h.send(h11.Data(data=chunk)) or b"" for chunk in body if chunk)
    chunks.append(h.send(h11.EndOfMessage()) or b"")
    return b"".join(chunks)


class _KeptAlive(Protocol):
    def still_open(self) -> bool: ...


ConnT = TypeVar("ConnT", bound=_KeptAlive)


class IdleConnections(Generic[ConnT]):
    """Idle keep-alive connections of a transport: a LIFO stack per origin (the most recently
    used connection first), at most ``limit`` in all. Not thread-safe: the owner serialises."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._stacks: dict[Origin, list[ConnT]] = {}
        self._count = 0

    def put(self, origin: Origin, conn: ConnT) -> bool:
        """Keep ``conn``; False (not kept) when ``limit`` connections are idle already."""
        if self._count >= self.limit:
            return False
        self._stacks.setdefault(origin, []).append(conn)
        self._count += 1
        return True

    def take(self, origin: Origin, discard: Callable[[ConnT], None]) -> ConnT | None:
        """The most recent idle connection to ``origin`` that is still open, if any; the ones
        the server closed meanwhile go to ``discard``."""
        stack = self._stacks.get(origin)
        while stack:
            conn = stack.pop()
            self._count -= 1
            if conn.still_open():
                return conn
            discard(conn)
        return None

    def oldest(self) -> ConnT | None:
        """Remove and return an idle connection of any origin, the longest idle of its origin
        (to make room for a connection to another)."""
        for stack in self._stacks.values():
            if stack:
                self._count -= 1
                return stack.pop(0)
        return None

    def clear(self) -> None:
        self._stacks.clear()
        self._count = 0


def _expire(future: asyncio.Future[Any]) -> None:
    if not future.done():
        future.set_exception(TimeoutError())


class _Connection(asyncio.Protocol):
    """One TCP (or TLS) connection and its h11 state machine."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.h11 = h11.Connection(h11.CLIENT)
        self.transport: asyncio.Transport | None = None
        self.closed = False
        self._eof_fed = False
        self._waiter: asyncio.Future[None] | None = None

    # --- asyncio.Protocol ------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        if not self._eof_fed:
            self.h11.receive_data(data)
        self._wake()

    def eof_received(self) -> bool | None:
        self._feed_eof()
        self._wake()
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._feed_eof()
        self._wake()

    # --- helpers ---------------------------------------------------------------------------
    def _feed_eof(self) -> None:
        if not self._eof_fed:
            self._eof_fed = True
            self.h11.receive_data(b"")

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    @property
    def reusable(self) -> bool:
        """True when idle and open: both sides finished the last exchange, nothing is pending."""
        return (
            not self.closed and self.h11.our_state is h11.IDLE and self.h11.their_state is h11.IDLE
        )

    def still_open(self) -> bool:
        """False when the server closed this idle connection (or sent something unasked),
        even if the event loop has not processed that yet: the socket is readable."""
        if not self.reusable or self.transport is None:
            return False
        sock = self.transport.get_extra_info("socket")
        if sock is None:
            return True
        try:
            readable, _, _ = select.select([sock], [], [], 0)
        except (OSError, ValueError):
            return False
        return not readable

    def write(self, data: bytes) -> None:
        if self.transport is None or self.closed:
            raise httpx.WriteError("the connection is closed")
        self.transport.write(data)

    async def next_event(self, timeout: float | None) -> Any:
        """The next h11 event from the server, waiting at most ``timeout`` for more data."""
        while True:
            event = self.h11.next_event()
            if event is not h11.NEED_DATA:
                return event
            waiter: asyncio.Future[None] = self.loop.create_future()
            self._waiter = waiter
            timer = self.loop.call_later(timeout, _expire, waiter) if timeout is not None else None
            try:
                await waiter
            finally:
                self._waiter = None
                if timer is not None:
                    timer.cancel()

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()


class _ResponseStream(httpx.AsyncByteStream):
    """The body of one response; gives the connection back to the pool once fully read."""

    def __init__(
        self, pool: LocalEngineTransport, origin: Origin, conn: _Connection, timeout: float | None
    ) -> None:
        self._pool = pool
        self._origin = origin
        self._conn = conn
        self._timeout = timeout
        self._complete = False
        self._released = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        conn = self._conn
        while not self._complete:
            try:
                event = await conn.next_event(self._timeout)
            except TimeoutError:
                raise httpx.ReadTimeout("timed out reading the response") from None
            except h11.RemoteProtocolError as exc:
                raise httpx.RemoteProtocolError(str(exc)) from exc
            if type(event) is h11.Data:
                yield bytes(event.data)
            elif type(event) is h11.EndOfMessage:
                self._complete = True
            else:
                raise httpx.RemoteProtocolError(f"unexpected {type(event).__name__} in a body")

    async def aclose(self) -> None:
        if self._released:
            return
        self._released = True
        conn = self._conn
        if self._complete and conn.h11.their_state is h11.DONE and conn.h11.our_state is h11.DONE:
            conn.h11.start_next_cycle()
            self._pool._release(self._origin, conn)
        else:
            self._pool._discard(conn)


class LocalEngineTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 with keep-alive over asyncio, for :class:`httpx.AsyncClient`, to ``http://``
    loopback addresses only (a local engine).

    At most ``max_connections`` connections are open at once; a request beyond that waits for
    one to be free (``pool`` timeout). At most ``max_keepalive`` idle connections are kept.

        transport = LocalEngineTransport(max_connections=100)
        async with httpx.AsyncClient(transport=transport) as client: ...
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
        self._waiters: deque[tuple[Origin, asyncio.Future[_Connection | None]]] = deque()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False

    # --- pool ------------------------------------------------------------------------------
    def _check_loop(self) -> asyncio.AbstractEventLoop:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Connections belong to the loop that opened them; a new loop starts afresh.
            for conn in list(self._open):
                if conn.transport is not None and not conn.loop.is_closed():
                    conn.close()
            self._open.clear()
            self._idle.clear()
            self._waiters.clear()
            self._loop = loop
        return loop

    def _release(self, origin: Origin, conn: _Connection) -> None:
        if not conn.reusable:
            self._discard(conn)
            return
        while self._waiters:
            wanted, waiter = self._waiters.popleft()
            if not waiter.done():
                if wanted == origin:
                    waiter.set_result(conn)
                    return
                # A waiter for another origin: make room for it to connect.
                waiter.set_result(None)
                break
        if not self._idle.put(origin, conn):
            self._discard(conn)

    def _discard(self, conn: _Connection) -> None:
        conn.close()
        if conn in self._open:
            self._open.discard(conn)
            while self._waiters:
                _, waiter = self._waiters.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # a slot is free: the waiter may connect
                    break

    def _evict_idle(self) -> bool:
        """Close one idle connection of any origin to make room; False if there is none."""
        conn = self._idle.oldest()
        if conn is None:
            return False
        self._discard(conn)
        return True

    async def _acquire(self, request: httpx.Request, origin: Origin) -> _Connection:
        loop = self._check_loop()
        timeouts = request.extensions.get("timeout", {})
        while True:
            conn = self._idle.take(origin, self._discard)
            if conn is not None:
                return conn
            if len(self._open) < self._max_connections or self._evict_idle():
                return await self._connect(loop, request, origin, timeouts.get("connect"))
            waiter: asyncio.Future[_Connection | None] = loop.create_future()
            self._waiters.append((origin, waiter))
            pool_timeout = timeouts.get("pool")
            timer = loop.call_later(pool_timeout, _expire, waiter) if pool_timeout else None
            try:
                given = await waiter
            except TimeoutError:
                raise httpx.PoolTimeout("no free connection within the pool timeout") from None
            except BaseException:
                # Cancelled after a connection was handed over: give it back.
                if waiter.done() and not waiter.cancelled() and waiter.exception() is None:
                    handed = waiter.result()
                    if handed is not None:
                        self._release(origin, handed)
                raise
            finally:
                if timer is not None:
                    timer.cancel()
            if given is not None:
                return given

    async def _connect(
        self,
        loop: asyncio.AbstractEventLoop,
        request: httpx.Request,
        origin: Origin,
        timeout: float | None,
    ) -> _Connection:
        _, host, port = origin
        conn = _Connection(loop)
        self._open.add(conn)
        try:
            await asyncio.wait_for(loop.create_connection(lambda: conn, host, port), timeout)
        except asyncio.TimeoutError:
            self._discard(conn)
            raise httpx.ConnectTimeout(
                f"no connection to {host}:{port} within {timeout} s"
            ) from None
        except OSError as exc:
            self._discard(conn)
            raise httpx.ConnectError(str(exc) or type(exc).__name__) from exc
        except BaseException:
            self._discard(conn)
            raise
        return conn

    # --- httpx.AsyncBaseTransport ----------------------------------------------------------
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise httpx.ConnectError("the transport is closed")
        origin = local_origin(request.url, type(self).__name__)
        conn = await self._acquire(request, origin)
        read_timeout = request.extensions.get("timeout", {}).get("read")
        try:
            body = [chunk async for chunk in request.stream]  # type: ignore[union-attr]
            conn.write(request_bytes(conn.h11, request, body))
            event = await conn.next_event(read_timeout)
            while type(event) is h11.InformationalResponse:
                event = await conn.next_event(read_timeout)
            if type(event) is not h11.Response:
                raise httpx.RemoteProtocolError(
                    "the server closed the connection without sending a response"
                )
        except TimeoutError:
            self._discard(conn)
            raise httpx.ReadTimeout("timed out waiting for the response") from None
        except h11.RemoteProtocolError as exc:
            self._discard(conn)
            raise httpx.RemoteProtocolError(str(exc)) from exc
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

    async def aclose(self) -> None:
        self._closed = True
        for conn in list(self._open):
            if not conn.loop.is_closed():
                conn.close()
        self._open.clear()
        self._idle.clear()
