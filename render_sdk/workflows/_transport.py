"""HTTP/1.1 over the platform's Unix socket, standard library only.

Each thread keeps its own keep-alive connection. Transient failures (connection refused, reset
or missing socket file, a broken HTTP exchange, a timeout, 429 and 5xx answers) are retried with
bounded exponential backoff for ``retry_seconds`` in total, so a platform restart in the middle
of a run does not lose it. Under the local engine (``RENDER_SDK_ENGINE_PID`` set), retrying stops
as soon as that engine process is gone.
"""

from __future__ import annotations

import http.client
import json
import os
import random
import socket
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from render_sdk._callback_protocol import ATTEMPT_HEADER
from render_sdk._useragent import USER_AGENT
from render_sdk.workflows._errors import CallbackAPIError

DEFAULT_RETRY_SECONDS = 180.0
DEFAULT_TIMEOUT = 60.0
_FIRST_BACKOFF = 0.05
_MAX_BACKOFF = 2.0
_MAX_RETRY_AFTER = 30.0


class UnixHTTPConnection(http.client.HTTPConnection):
    """An ``http.client`` connection to ``http://localhost`` over a Unix domain socket."""

    def __init__(self, socket_path: str, timeout: float | None) -> None:
        super().__init__("localhost", timeout=timeout)
        self.socket_path = socket_path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.settimeout(self.timeout)
            sock.connect(self.socket_path)
        except BaseException:
            sock.close()
            raise
        self.sock = sock


@dataclass(frozen=True)
class Response:
    """A finished exchange: status, lower-cased headers and body."""

    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        """The body as JSON; CallbackAPIError when it is not."""
        try:
            return json.loads(self.body)
        except ValueError:
            raise CallbackAPIError(
                f"the platform answered {self.status} with a body that is not JSON: "
                f"{self.body[:200]!r}",
                self.status,
            ) from None


def _transient_status(status: int) -> bool:
    return status == 429 or 500 <= status <= 599


class CallbackClient:
    """Calls to the platform's callback API.

    client = CallbackClient("/tmp/render.sock")
    body = client.call("GET", "/input").json()
    """

    def __init__(
        self,
        socket_path: str,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        engine_pid: int | None = None,
    ) -> None:
        self.socket_path = socket_path
        self.retry_seconds = retry_seconds
        # The local engine serving the socket (RENDER_SDK_ENGINE_PID): once that process is
        # gone nothing will answer again, so retrying stops at once.
        self.engine_pid = engine_pid
        self._engine_is_parent = engine_pid is not None and os.getppid() == engine_pid
        self._local = threading.local()
        self._all: set[UnixHTTPConnection] = set()
        self._lock = threading.Lock()

    def call(
        self,
        method: str,
        path: str,
        payload: Any = None,
        *,
        attempt_id: str | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
        accept: Iterable[int] = (200,),
        abort: threading.Event | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        """Send one request, retrying transient failures; return an accepted answer.

        An answer whose status is neither transient nor in ``accept`` raises CallbackAPIError,
        as does running out of retry time.
        """
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        sent = {"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})}
        if body is not None:
            sent["Content-Type"] = "application/json"
        if attempt_id is not None:
            sent[ATTEMPT_HEADER] = attempt_id
        accepted = set(accept)
        deadline = time.monotonic() + self.retry_seconds
        backoff = _FIRST_BACKOFF
        while True:
            conn, reused = self._connection(timeout)
            wait = backoff
            try:
                conn.request(method, path, body=body, headers=sent)
                answer = conn.getresponse()
                data = answer.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop(conn)
                if reused:
                    # A kept-alive connection the platform closed meanwhile: reconnect at once.
                    continue
                problem = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            else:
                response = Response(
                    answer.status, {k.lower(): v for k, v in answer.getheaders()}, data
                )
                if answer.will_close:
                    self._drop(conn)
                if response.status in accepted:
                    return response
                if not _transient_status(response.status):
                    raise CallbackAPIError(
                        f"{method} {path} was refused with HTTP {response.status}: "
                        f"{data[:500].decode('utf-8', 'replace')}",
                        response.status,
                    )
                problem = f"HTTP {response.status}"
                retry_after = _retry_after(response.headers.get("retry-after"))
                if retry_after is not None:
                    wait = retry_after
            if self._engine_gone():
                raise CallbackAPIError(
                    f"{method} {path} on {self.socket_path} failed: {problem} (the engine that "
                    f"started this worker, pid {self.engine_pid}, has exited)"
                )
            if time.monotonic() + wait > deadline:
                raise CallbackAPIError(
                    f"{method} {path} on {self.socket_path} failed: {problem} "
                    f"(gave up after retrying for {self.retry_seconds:g}s)"
                )
            wait *= random.uniform(0.8, 1.2)
            if abort is not None:
                if abort.wait(wait):
                    raise CallbackAPIError(f"{method} {path} abandoned: the attempt is over")
            else:
                time.sleep(wait)
            backoff = min(backoff * 2, _MAX_BACKOFF)

    def _engine_gone(self) -> bool:
        if self.engine_pid is None:
            return False
        if self._engine_is_parent and os.getppid() != self.engine_pid:
            return True  # re-parented: the engine died (even if not reaped yet)
        try:
            os.kill(self.engine_pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False
        return False

    def _connection(self, timeout: float | None) -> tuple[UnixHTTPConnection, bool]:
        conn: UnixHTTPConnection | None = getattr(self._local, "conn", None)
        if conn is not None and conn.sock is not None:
            conn.timeout = timeout
            conn.sock.settimeout(timeout)
            return conn, True
        if conn is None:
            conn = UnixHTTPConnection(self.socket_path, timeout)
            self._local.conn = conn
            with self._lock:
                self._all.add(conn)
        conn.timeout = timeout
        return conn, False

    def _drop(self, conn: UnixHTTPConnection) -> None:
        conn.close()

    def close(self) -> None:
        """Close every connection this client opened (in any thread)."""
        with self._lock:
            conns = list(self._all)
            self._all.clear()
        for conn in conns:
            conn.close()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        return None
    return max(0.0, min(seconds, _MAX_RETRY_AFTER))
