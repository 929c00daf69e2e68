"""SSE load: many subscribers while runs go through; slow readers; reconnects with Last-Event-ID.

Every subscriber watches a slice of the runs plus one *gate* run that ends only when the test
releases it, so all subscribers are connected at once. Each run is watched by two subscribers.
Some subscribers drop their connection halfway and reconnect with ``Last-Event-ID``; a few raw
sockets subscribe to hundreds of runs with a tiny receive buffer and read nothing until the end.
Every subscriber must receive every event of its runs exactly once, with the right result, while
the slow readers are still blocked; the slow readers then get all of theirs too.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import json
import socket
import struct
import termios
import time
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from render_sdk.client._sse import SSEDecoder
from tests.e2e._engine import EngineProcess
from tests.reliability.e1._rest import SUCCESS, engine_process, report_figures

SLOW_READER_RCVBUF = 4096


@dataclass
class Subscriber:
    """One SSE subscriber: the runs it watches and what it received."""

    ids: list[str]
    reconnect_after: int | None = None
    got: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: int = 0
    connections: int = 0
    connected_at: str = ""
    have_all: asyncio.Event = field(default_factory=asyncio.Event)


class Gate:
    """A TCP port the ``gate`` task connects to; ``release`` ends that task."""

    def __init__(self) -> None:
        self.released = asyncio.Event()
        self.connected = asyncio.Event()
        self.server: asyncio.Server | None = None
        self.port = 0

    async def __aenter__(self) -> Gate:
        self.server = await asyncio.start_server(self._hold, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]
        return self

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connected.set()
        await self.released.wait()
        writer.close()

    def release(self) -> None:
        self.released.set()

    async def __aexit__(self, *exc: object) -> None:
        self.release()
        assert self.server is not None
        self.server.close()
        await self.server.wait_closed()


async def _events(
    client: httpx.AsyncClient, ids: list[str], last_event_id: str | None
) -> AsyncGenerator[tuple[str | None, dict[str, Any]], None]:
    headers = {"Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = last_event_id
    params = {"taskRunIds": ",".join(ids)}
    async with client.stream("GET", "/v1/task-runs/events", params=params, headers=headers) as r:
        assert r.status_code == 200, (await r.aread()).decode()
        decoder = SSEDecoder()
        async for text in r.aiter_text():
            for event in decoder.feed(text):
                yield event.id, json.loads(event.data)


async def _subscribe(client: httpx.AsyncClient, sub: Subscriber, gate_run: str) -> None:
    wanted = set(sub.ids)
    last_id: str | None = None
    sub.connected_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    while True:
        sub.connections += 1
        dropped = False
        stream = _events(client, [gate_run, *sub.ids], last_id)
        async for event_id, body in stream:
            if body["id"] in sub.got:
                sub.duplicates += 1
            sub.got[body["id"]] = body
            last_id = event_id
            if wanted <= sub.got.keys():
                sub.have_all.set()
            if sub.connections == 1 and sub.reconnect_after is not None:
                if len(sub.got) >= sub.reconnect_after:
                    dropped = True
                    break
        await stream.aclose()
        if not dropped:
            return


def _open_slow_reader(port: int, ids: list[str]) -> socket.socket:
    """Subscribe over a raw socket with a tiny receive buffer, and read nothing yet."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, SLOW_READER_RCVBUF)
    sock.connect(("127.0.0.1", port))
    request = (
        f"GET /v1/task-runs/events?taskRunIds={','.join(ids)} HTTP/1.1\r\n"
        "Host: 127.0.0.1\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
    )
    sock.sendall(request.encode())
    return sock


def _pending_bytes(sock: socket.socket) -> int:
    raw = fcntl.ioctl(sock.fileno(), termios.FIONREAD, struct.pack("i", 0))
    return int(struct.unpack("i", raw)[0])


def _drain_slow_reader(sock: socket.socket, timeout: float) -> tuple[int, list[dict[str, Any]]]:
    """Read the whole response; its byte count and the events in it."""
    sock.settimeout(timeout)
    data = bytearray()
    with contextlib.closing(sock):
        while chunk := sock.recv(1 << 20):
            data += chunk
    head, _, body = bytes(data).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:200]
    if b"transfer-encoding: chunked" in head.lower():
        body = _dechunk(body)
    decoder = SSEDecoder()
    events = [json.loads(e.data) for e in decoder.feed(body.decode("utf-8"))]
    return len(data), events


def _dechunk(body: bytes) -> bytes:
    out = bytearray()
    at = 0
    while True:
        end = body.index(b"\r\n", at)
        size = int(body[at:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[end + 2 : end + 2 + size]
        at = end + 2 + size + 2


async def _post_all(client: httpx.AsyncClient, runs: int, pad: int, first: int = 0) -> list[str]:
    limit = asyncio.Semaphore(16)

    async def post(i: int) -> str:
        async with limit:
            answer = await client.post("/v1/task-runs", json={"task": "double", "input": [i, pad]})
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    return list(await asyncio.gather(*(post(i) for i in range(first, first + runs))))


async def _sse_load(
    engine: EngineProcess, *, subscribers: int, runs: int, slow: int, pad: int, timeout: float
) -> dict[str, Any]:
    limits = httpx.Limits(max_connections=subscribers + 32, max_keepalive_connections=32)
    timeouts = httpx.Timeout(30.0, read=timeout)
    async with (
        Gate() as gate,
        httpx.AsyncClient(base_url=engine.base_url, limits=limits, timeout=timeouts) as client,
    ):
        answer = await client.post("/v1/task-runs", json={"task": "gate", "input": [gate.port]})
        assert answer.status_code == 202, answer.text
        gate_run = str(answer.json()["id"])
        await asyncio.wait_for(gate.connected.wait(), timeout)

        began = time.monotonic()
        # Runs are posted in chunks; each chunk's subscribers connect right after it is posted,
        # while it and the following chunks go through.
        chunks = 10
        per_chunk = subscribers // chunks
        run_ids: list[str] = []
        subs: list[Subscriber] = []
        readers: list[asyncio.Task[None]] = []
        slow_socks: list[socket.socket] = []
        slow_ids: list[str] = []
        for c in range(chunks):
            size = runs // chunks
            chunk = await _post_all(client, size, pad, first=c * size)
            run_ids += chunk
            for k in range(per_chunk):
                ids = [r for j, r in enumerate(chunk) if j % per_chunk in (k, (k + 1) % per_chunk)]
                sub = Subscriber(ids, reconnect_after=len(ids) // 2 if k % 5 == 0 else None)
                subs.append(sub)
                readers.append(asyncio.create_task(_subscribe(client, sub, gate_run)))
            if not slow_socks and (len(run_ids) >= 300 or c == chunks - 1):
                slow_ids = [gate_run, *run_ids[:300]]
                slow_socks = [_open_slow_reader(engine.port, slow_ids) for _ in range(slow)]
        posted = time.monotonic() - began

        async def all_received() -> None:
            await asyncio.gather(*(sub.have_all.wait() for sub in subs))

        waiting = asyncio.ensure_future(all_received())
        pending: set[asyncio.Future[None]] = {waiting, *readers}
        deadline = time.monotonic() + timeout
        while not waiting.done():
            done, pending = await asyncio.wait(
                pending, timeout=deadline - time.monotonic(), return_when="FIRST_COMPLETED"
            )
            assert done, "subscribers did not receive every event while slow readers waited"
            for task in done:
                task.result()  # a subscriber that failed fails the test here
        delivered = time.monotonic() - began
        unread = [_pending_bytes(s) for s in slow_socks]
        status = (await client.get(f"/v1/task-runs/{run_ids[-1]}")).json()["status"]
        assert status in SUCCESS

        gate.release()
        await asyncio.wait_for(asyncio.gather(*readers), timeout)
        slow_results = await asyncio.gather(
            *(asyncio.to_thread(_drain_slow_reader, s, timeout) for s in slow_socks)
        )

    for i, run_id in enumerate(run_ids):
        watchers = [sub for sub in subs if run_id in sub.ids]
        assert len(watchers) == 2
        for sub in watchers:
            body = sub.got[run_id]
            assert body["status"] in SUCCESS, body
            assert body["results"][0]["double"] == 2 * i
    for sub in subs:
        assert set(sub.got) == {gate_run, *sub.ids}, "a subscriber missed events"
        assert sub.got[gate_run]["results"] == ["released"]
        assert sub.duplicates == 0
        if sub.reconnect_after is not None:
            assert sub.connections == 2
    finished_after_connect = sum(
        1
        for i, run_id in enumerate(run_ids)
        if any(
            sub.got[run_id]["completedAt"] > sub.connected_at for sub in subs if run_id in sub.ids
        )
    )
    slow_bytes = []
    for size, events in slow_results:
        assert {e["id"] for e in events} == set(slow_ids), "a slow reader missed events"
        slow_bytes.append(size)
    return {
        "subscribers": subscribers,
        "runs": runs,
        "slow_readers": slow,
        "reconnecting_subscribers": sum(1 for s in subs if s.reconnect_after is not None),
        "events_delivered": sum(len(s.got) for s in subs) + sum(len(e) for _, e in slow_results),
        "duplicates": sum(s.duplicates for s in subs),
        "missed": 0,
        "runs_finished_after_a_watcher_connected": finished_after_connect,
        "post_s": round(posted, 2),
        "all_events_s": round(delivered, 2),
        "runs_per_s": round(runs / delivered, 1),
        "slow_reader_bytes_unread_when_others_done": unread,
        "slow_reader_bytes_total": slow_bytes,
    }


@pytest.fixture
def load_engine(tmp_path: Path) -> Iterator[EngineProcess]:
    engine = engine_process(tmp_path, ["load_app:app"], "--max-concurrency", "4", "--quiet")
    engine.start()
    yield engine
    engine.stop()


async def test_reconnect_with_last_event_id_after_runs_finished(
    load_engine: EngineProcess,
) -> None:
    """Runs that ended before the stream opened come in event-id order, so a reconnect that
    sends the last id it saw gets exactly the rest, whatever order the ids were asked in."""
    async with httpx.AsyncClient(base_url=load_engine.base_url, timeout=30.0) as client:
        ids = await _post_all(client, 12, 10)
        first: list[tuple[str | None, dict[str, Any]]] = []
        async for item in _events(client, ids, None):
            first.append(item)
        by_seq = [body["id"] for _, body in sorted(first, key=lambda e: int(e[0] or 0))]
        asked = list(reversed(by_seq))  # the latest first
        seen: list[tuple[str | None, dict[str, Any]]] = []
        stream = _events(client, asked, None)
        async for item in stream:
            seen.append(item)
            if len(seen) == 5:
                break
        await stream.aclose()
        rest = [item async for item in _events(client, asked, seen[-1][0])]
    received = [body["id"] for _, body in seen + rest]
    assert sorted(received) == sorted(ids), "the reconnect missed or repeated events"
    assert [int(i or 0) for i, _ in seen + rest] == sorted(int(i or 0) for i, _ in first)


async def test_sse_subscribers_under_load(load_engine: EngineProcess) -> None:
    figures = await _sse_load(load_engine, subscribers=50, runs=300, slow=2, pad=4000, timeout=120)
    report_figures("sse_load_bounded", figures)


@pytest.mark.soak
@pytest.mark.timeout(1800)
async def test_sse_subscribers_under_load_soak(load_engine: EngineProcess) -> None:
    figures = await _sse_load(
        load_engine, subscribers=200, runs=2000, slow=5, pad=8000, timeout=900
    )
    report_figures("sse_load_soak", figures)
