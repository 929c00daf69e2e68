"""A tiny real HTTP server in front of an engine that answers with scripted faults.

Requests pass through to the engine (event streams included, chunk by chunk) unless a fault is
queued for their method and path. A fault is used once, in order:

    front = FaultyFront(engine.base_url)
    front.fail("POST", "/v1/task-runs", Fault(429, {"Retry-After": "1"}))
    front.fail("POST", "/v1/task-runs", Fault(503, forward=True))  # the engine acts, answer lost
    with front:
        ... point a client at front.base_url ...
    front.seen  # [Seen(method, path, status, at), ...]

``Fault(None)`` closes the connection without any answer.
"""

from __future__ import annotations

import json
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType

import httpx

_FORWARDED = ("authorization", "idempotency-key", "last-event-id", "accept", "content-type")


@dataclass(frozen=True)
class Fault:
    """An answer to give instead of the engine's: ``status`` None drops the connection."""

    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    forward: bool = False  # send the request to the engine first, then answer with the fault
    body: bytes | None = None  # instead of the error body (then give the content type in headers)


@dataclass(frozen=True)
class Seen:
    method: str
    path: str
    status: int | None
    at: float


class FaultyFront:
    """See the module docstring."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.faults: dict[tuple[str, str], deque[Fault]] = defaultdict(deque)
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def fail(self, method: str, path: str, *faults: Fault) -> None:
        with self._lock:
            self.faults[(method, path)].extend(faults)

    def requests(self, method: str, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.method == method and s.path == path]

    def __enter__(self) -> FaultyFront:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _next_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            queue = self.faults.get((method, path))
            return queue.popleft() if queue else None

    def _note(self, method: str, path: str, status: int | None) -> None:
        with self._lock:
            self.seen.append(Seen(method, path, status, time.monotonic()))

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        front = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def _any(self) -> None:
                path = self.path.split("?", 1)[0]
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                fault = front._next_fault(self.command, path)
                if fault is not None and fault.forward:
                    front._forward_quietly(self.command, self.path, self.headers, body)
                if fault is not None:
                    front._note(self.command, path, fault.status)
                    if fault.status is None:
                        self.close_connection = True
                        self.connection.close()
                        return
                    payload = fault.body
                    headers = dict(fault.headers)
                    if payload is None:
                        payload = json.dumps({"id": "injected", "message": "injected"}).encode()
                        headers["Content-Type"] = "application/json"
                    self.send_response(fault.status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload)
                    return
                front._relay(self, path, body)

            do_GET = do_POST = do_DELETE = _any

        return Handler

    def _request(self, method: str, target: str, headers: object, body: bytes) -> httpx.Request:
        sent = {k: v for k, v in headers.items() if k.lower() in _FORWARDED}  # type: ignore[attr-defined]
        return httpx.Request(method, self.upstream + target, headers=sent, content=body)

    def _forward_quietly(self, method: str, target: str, headers: object, body: bytes) -> None:
        with httpx.Client(timeout=30) as client:
            client.send(self._request(method, target, headers, body))

    def _relay(self, handler: BaseHTTPRequestHandler, path: str, body: bytes) -> None:
        request = self._request(handler.command, handler.path, handler.headers, body)
        with httpx.Client(timeout=httpx.Timeout(30, read=None)) as client:
            try:
                response = client.send(request, stream=True)
            except httpx.TransportError:
                self._note(handler.command, path, None)
                handler.close_connection = True
                return
            try:
                self._note(handler.command, path, response.status_code)
                handler.send_response(response.status_code)
                for name, value in response.headers.items():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        handler.send_header(name, value)
                handler.send_header("Connection", "close")
                handler.end_headers()
                try:
                    for chunk in response.iter_raw():
                        handler.wfile.write(chunk)
                        handler.wfile.flush()
                except (httpx.TransportError, OSError):
                    pass
                handler.close_connection = True
            finally:
                response.close()
