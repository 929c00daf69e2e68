"""A test double of the platform side of the callback API, on a real Unix socket.

It serves HTTP/1.1 with asyncio and h11 on a background thread, records every request, and
answers as the test scripts it: inputs for ``GET /input``, outcomes of subtasks, failures to
inject (an HTTP status, a dropped connection, or a restart of the whole server).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import h11


def b64(value: Any) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


def unb64(data: str) -> Any:
    return json.loads(base64.b64decode(data)) if data else None


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    query: str = ""

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


@dataclass
class Outcome:
    """How a subtask ends: ``complete`` with ``value`` or ``error`` with ``details``, after
    answering ``still_running`` to ``polls_before`` polls, or after ``delay`` seconds."""

    value: Any = None
    error: str | None = None
    polls_before: int = 0
    delay: float = 0.0
    gated: bool = False  # ends when FakePlatform.gate_at long-polls are held at once


@dataclass
class _Subtask:
    name: str
    input: Any
    outcome: Outcome
    ready: asyncio.Event
    polls: int = 0


DROP = "drop"  # close the connection without answering
RESTART = "restart"  # stop the server, close every connection, listen again after a pause


@dataclass
class FakePlatform:
    """The platform's side of the callback API, scripted by a test.

    ``inputs`` holds the answers to ``GET /input`` in order, each a (status, body) pair; once
    empty, ``GET /input`` answers 410. ``subtask`` decides each subtask's Outcome from its name
    and decoded input. ``faults[path]`` lists what to do instead of answering the next requests
    to ``path``: an HTTP status, DROP or RESTART. With ``next_input``, a callback that asks for
    it (``Render-Next-Input: 1``) is answered with the next of ``inputs``, as the engine does.
    """

    long_poll: bool = True
    restart_pause: float = 0.3
    inputs: deque[tuple[int, Any]] = field(default_factory=deque)
    subtask: Callable[[str, Any], Outcome] = lambda name, value: Outcome(value=value)
    faults: dict[str, list[int | str]] = field(default_factory=dict)
    callback_status: int = 200
    next_input: bool = False
    requests: list[Recorded] = field(default_factory=list)
    restarts: int = 0
    connections: int = 0
    gate_at: int = 0
    held: int = 0
    max_held: int = 0

    def __post_init__(self) -> None:
        self._dir = tempfile.mkdtemp(prefix="rsdk-", dir="/tmp")
        self.socket_path = os.path.join(self._dir, "platform.sock")
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._server: asyncio.AbstractServer | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._subtasks: dict[str, _Subtask] = {}
        self._ids = itertools.count(1)
        self._keys: dict[str, str] = {}
        self._background: set[asyncio.Future[None]] = set()
        self.callback_received = threading.Event()

    # --- control, from the test's thread -------------------------------------------------
    def start(self) -> FakePlatform:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._listen(), self._loop).result()
        return self

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._close(), self._loop).result()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def env(self, mode: str, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(RENDER_SDK_MODE=mode, RENDER_SDK_SOCKET_PATH=self.socket_path)
        env.update(extra)
        return env

    def drop_connections(self) -> None:
        """Close every open connection (as a server closing idle keep-alive connections)."""

        async def drop() -> None:
            for writer in list(self._writers):
                writer.transport.abort()

        asyncio.run_coroutine_threadsafe(drop(), self._loop).result()

    def calls(self, path: str) -> list[Recorded]:
        return [r for r in list(self.requests) if r.path == path]

    def add_run(self, task_name: str, value: Any, attempt_id: str | None = None) -> None:
        body: dict[str, Any] = {
            "task_name": task_name,
            "input": "" if value is None else b64(value),
        }
        if attempt_id is not None:
            body["attempt_id"] = attempt_id
        self.inputs.append((200, body))

    # --- the server -----------------------------------------------------------------------
    async def _listen(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, path=self.socket_path)

    async def _close(self) -> None:
        await self._shutdown()
        others = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in others:
            task.cancel()
        await asyncio.gather(*others, return_exceptions=True)

    async def _shutdown(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.socket_path)

    async def _restart(self) -> None:
        self.restarts += 1
        await self._shutdown()
        await asyncio.sleep(self.restart_pause)
        await self._listen()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.add(writer)
        self.connections += 1
        conn = h11.Connection(h11.SERVER)
        request: h11.Request | None = None
        body = b""
        try:
            while True:
                event = conn.next_event()
                if event is h11.NEED_DATA:
                    conn.receive_data(await reader.read(65536))
                    continue
                if isinstance(event, h11.Request):
                    request, body = event, b""
                elif isinstance(event, h11.Data):
                    body += event.data
                elif isinstance(event, h11.EndOfMessage):
                    assert request is not None
                    answer = await self._answer(request, body)
                    if answer is None:
                        writer.transport.abort()
                        return
                    status, headers, payload = answer
                    data = b"" if payload is None else json.dumps(payload).encode()
                    headers = [*headers, ("Content-Length", str(len(data)))]
                    if data:
                        headers.append(("Content-Type", "application/json"))
                    writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
                    if data:
                        writer.write(conn.send(h11.Data(data=data)))
                    writer.write(conn.send(h11.EndOfMessage()))
                    await writer.drain()
                    if conn.our_state is h11.MUST_CLOSE:
                        break
                    conn.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    break
        except (ConnectionError, h11.RemoteProtocolError, asyncio.CancelledError):
            pass
        finally:
            self._writers.discard(writer)
            writer.close()

    async def _answer(
        self, request: h11.Request, body: bytes
    ) -> tuple[int, list[tuple[str, str]], Any] | None:
        path, _, query = request.target.decode().partition("?")
        headers = {k.decode().lower(): v.decode() for k, v in request.headers}
        parsed: Any = json.loads(body) if body else None
        self.requests.append(Recorded(request.method.decode(), path, headers, parsed, query))
        pending = self.faults.get(path)
        if pending:
            fault = pending.pop(0)
            if fault == DROP:
                return None
            if fault == RESTART:
                self._background.add(asyncio.ensure_future(self._restart()))
                return None
            return int(fault), [], {"message": "injected fault"}
        if path == "/register-tasks":
            return 200, [], {}
        if path == "/input":
            if not self.inputs:
                return 410, [], None
            status, payload = self.inputs.popleft()
            return status, [], payload
        if path == "/callback":
            self.callback_received.set()
            asked = headers.get("render-next-input") == "1"
            if self.next_input and self.callback_status == 200 and asked:
                status, payload = self.inputs.popleft() if self.inputs else (410, None)
                return status, [("Render-Next-Input", "1")], payload
            return self.callback_status, [], {}
        if path == "/run-subtask":
            return 200, [], {"task_run_id": self._start_subtask(parsed)}
        if path == "/get-subtask-result":
            return await self._subtask_result(parsed)
        return 404, [], {"message": f"no route {path}"}

    def _start_subtask(self, body: dict[str, Any]) -> str:
        key = body["idempotency_key"]
        if key in self._keys:
            return self._keys[key]
        run_id = f"trn-{next(self._ids):04d}"
        self._keys[key] = run_id
        value = unb64(body["input"])
        outcome = self.subtask(body["task_name"], value)
        sub = _Subtask(body["task_name"], value, outcome, asyncio.Event())
        self._subtasks[run_id] = sub
        if outcome.delay:
            self._loop.call_later(outcome.delay, sub.ready.set)
        elif not outcome.polls_before and not outcome.gated:
            sub.ready.set()
        return run_id

    async def _subtask_result(self, body: dict[str, Any]) -> tuple[int, list[tuple[str, str]], Any]:
        sub = self._subtasks.get(body["task_run_id"])
        if sub is None:
            return 404, [], {"message": "unknown run"}
        headers: list[tuple[str, str]] = []
        if self.long_poll and "wait_ms" in body:
            headers.append(("Render-Long-Poll", "1"))
        if headers and not sub.outcome.polls_before:
            # Hold until the subtask ends. (With polls_before, each held request is answered
            # still_running at once, as if its wait_ms had run out.)
            self.held += 1
            self.max_held = max(self.max_held, self.held)
            if self.gate_at and self.held >= self.gate_at:
                for other in self._subtasks.values():
                    if other.outcome.gated:
                        other.ready.set()
            try:
                await asyncio.wait_for(sub.ready.wait(), body["wait_ms"] / 1000)
            except asyncio.TimeoutError:
                pass
            finally:
                self.held -= 1
        if not sub.ready.is_set():
            sub.polls += 1
            if sub.outcome.polls_before and sub.polls >= sub.outcome.polls_before:
                sub.ready.set()
            return 200, headers, {"still_running": True}
        if sub.outcome.error is not None:
            return 200, headers, {"still_running": False, "error": {"details": sub.outcome.error}}
        return (
            200,
            headers,
            {"still_running": False, "complete": {"output": b64([sub.outcome.value])}},
        )
