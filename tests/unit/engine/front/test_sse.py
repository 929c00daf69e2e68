"""The events stream: framing, heartbeats, Last-Event-ID, id forms, closing, many subscribers."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx

from render_sdk.engine.records import RunStatus

from .conftest import Served
from .test_rest import check_error

EVENTS = "/v1/task-runs/events"


async def frames(answer: httpx.Response) -> AsyncIterator[str]:
    """Raw SSE frames (the text between blank lines) as they arrive."""
    buffer = ""
    async for chunk in answer.aiter_text():
        buffer += chunk
        while "\n\n" in buffer:
            frame, buffer = buffer.split("\n\n", 1)
            yield frame
    assert buffer == "", f"stream ended inside a frame: {buffer!r}"


def fields(frame: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for line in frame.split("\n"):
        name, _, value = line.partition(": ")
        out[name] = value
    return out


async def new_run(served: Served) -> str:
    answer = await served.http.post("/v1/task-runs", json={"task": "square", "input": [2]})
    return str(answer.json()["id"])


async def test_stream_framing_for_a_run_that_finishes_later(served: Served) -> None:
    run_id = await new_run(served)
    async with served.http.stream("GET", EVENTS, params={"taskRunIds": run_id}) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        assert answer.headers["cache-control"] == "no-store"
        stream = frames(answer)
        assert await anext(stream) == "retry: 2000"
        # Idle: heartbeat comments (the fixture pings every 50 ms).
        assert await anext(stream) == ": ping"
        served.core.finish(run_id, results=[4])
        frame = await anext(stream)
        while frame == ": ping":
            frame = await anext(stream)
        lines = frame.split("\n")
        assert lines[0] == f"id: {served.core.runs[run_id].event_seq}"
        assert lines[1] == "event: task.completed"
        assert lines[2].startswith("data: {")
        assert len(lines) == 3
        data = json.loads(lines[2][len("data: ") :])
        assert data["id"] == run_id
        assert data["status"] == "completed"
        assert data["results"] == [4]
        assert data["input"] == [2]
        # The stream ends after the last requested run's event.
        assert [f async for f in stream if f != ": ping"] == []
    assert served.core.subscribers == set()


async def test_already_terminal_runs_and_every_status_are_named_task_completed(
    served: Served,
) -> None:
    ids = [await new_run(served) for _ in range(3)]
    served.core.finish(ids[0], RunStatus.COMPLETED, results=[1])
    served.core.finish(ids[1], RunStatus.FAILED, error="boom")
    served.core.finish(ids[2], RunStatus.CANCELED)
    params = {"taskRunIds": ",".join(ids)}
    async with served.http.stream("GET", EVENTS, params=params) as answer:
        got = [fields(f) async for f in frames(answer) if not f.startswith((":", "retry"))]
    assert [g["event"] for g in got] == ["task.completed"] * 3
    assert [json.loads(g["data"])["status"] for g in got] == ["completed", "failed", "canceled"]
    assert json.loads(got[1]["data"])["error"] == "boom"


async def test_repeated_and_comma_joined_ids_with_duplicates(served: Served) -> None:
    a, b, c = [await new_run(served) for _ in range(3)]
    for run_id in (a, b, c):
        served.core.finish(run_id)
    query = f"taskRunIds={a},{b}&taskRunIds={c}&taskRunIds={a}"
    async with served.http.stream("GET", f"{EVENTS}?{query}") as answer:
        got = [fields(f) async for f in frames(answer) if f.startswith("id")]
    assert sorted(json.loads(g["data"])["id"] for g in got) == sorted([a, b, c])


async def test_last_event_id_skips_events_already_seen(served: Served) -> None:
    a, b = await new_run(served), await new_run(served)
    first = served.core.finish(a)
    served.core.finish(b)
    headers = {"Last-Event-ID": str(first.event_seq)}
    async with served.http.stream(
        "GET", EVENTS, params={"taskRunIds": f"{a},{b}"}, headers=headers
    ) as answer:
        got = [fields(f) async for f in frames(answer) if f.startswith("id")]
    assert [json.loads(g["data"])["id"] for g in got] == [b]
    answer = await served.http.get(
        EVENTS, params={"taskRunIds": a}, headers={"Last-Event-ID": "yesterday"}
    )
    check_error(answer, 400, "invalid_request", "Last-Event-ID")


async def test_many_subscribers_of_one_run(served: Served) -> None:
    run_id = await new_run(served)

    async def subscribe(opened: asyncio.Event) -> list[str]:
        async with served.http.stream("GET", EVENTS, params={"taskRunIds": run_id}) as answer:
            out = []
            async for frame in frames(answer):
                if frame.startswith("retry"):
                    opened.set()
                elif frame.startswith("id"):
                    out.append(json.loads(fields(frame)["data"])["id"])
            return out

    opened = [asyncio.Event() for _ in range(5)]
    tasks = [asyncio.create_task(subscribe(o)) for o in opened]
    for o in opened:
        await o.wait()
    # Each stream is subscribed once its first frame is out.
    await served.core.wait_for_subscribers(5)
    served.core.finish(run_id)
    assert await asyncio.gather(*tasks) == [[run_id]] * 5


async def test_closing_the_stream_releases_the_subscription(served: Served) -> None:
    run_id = await new_run(served)
    async with served.http.stream("GET", EVENTS, params={"taskRunIds": run_id}) as answer:
        stream = frames(answer)
        assert await anext(stream) == "retry: 2000"
        await served.core.wait_for_subscribers(1)
    # The client hung up; the engine lets go of the core's iterator.
    await served.core.wait_for_subscribers(0)
    assert (await served.http.get("/v1/tasks")).status_code == 200


async def test_engine_stop_ends_open_streams(served: Served) -> None:
    run_id = await new_run(served)
    async with served.http.stream("GET", EVENTS, params={"taskRunIds": run_id}) as answer:
        stream = frames(answer)
        assert await anext(stream) == "retry: 2000"
        stopping = asyncio.create_task(served.engine.astop())
        rest = [f async for f in stream]
        assert all(f == ": ping" for f in rest)
        await stopping
    assert served.core.stopped
    assert served.core.subscribers == set()


async def test_bad_requests_are_refused_before_the_stream(served: Served) -> None:
    check_error(await served.http.get(EVENTS), 400, "invalid_request", "taskRunIds is required")
    check_error(await served.http.get(EVENTS, params={"taskRunIds": " , "}), 400, "invalid_request")
    many = ",".join(f"trn-{i}" for i in range(1001))
    check_error(
        await served.http.get(EVENTS, params={"taskRunIds": many}),
        400,
        "invalid_request",
        "at most 1000",
        "1001",
    )
    known = await new_run(served)
    answer = await served.http.get(EVENTS, params={"taskRunIds": f"{known},trn-zz,trn-yy"})
    check_error(answer, 404, "not_found", "trn-zz", "trn-yy")
    assert known not in answer.json()["message"]


async def test_a_thousand_ids_are_accepted(served: Served) -> None:
    task = served.core.tasks[0]
    ids = [(await served.core.start_run(task, [i])).id for i in range(1000)]
    for run_id in ids:
        served.core.finish(run_id)
    params = {"taskRunIds": ",".join(ids)}
    async with served.http.stream("GET", EVENTS, params=params) as answer:
        assert answer.status_code == 200
        count = len([f async for f in frames(answer) if f.startswith("id")])
    assert count == 1000


async def test_head_answers_without_opening_a_stream(served: Served) -> None:
    run_id = await new_run(served)
    answer = await served.http.head(EVENTS, params={"taskRunIds": run_id})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/event-stream")
    assert served.core.subscribers == set()


async def test_a_reader_that_does_not_read_does_not_hold_up_the_core(served: Served) -> None:
    task = served.core.tasks[0]
    ids = [(await served.core.start_run(task, [i])).id for i in range(20)]
    reader, writer = await asyncio.open_connection("127.0.0.1", served.engine.port)
    try:
        query = "&".join(f"taskRunIds={i}" for i in ids)
        writer.write(f"GET {EVENTS}?{query} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        await writer.drain()
        await served.core.wait_for_subscribers(1)
        # 20 events of 1 MB each: far more than the socket buffers hold. The client reads none.
        for run_id in ids:
            served.core.finish(run_id, results=["x" * 1024 * 1024])
        # The stream still took every event from the core's iterator, which has ended.
        await served.core.wait_for_subscribers(0)
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200")
    finally:
        writer.close()


async def test_unicode_line_separators_in_data_stay_on_one_line(served: Served) -> None:
    run_id = await new_run(served)
    text = "a\u2028b\u2029c\x85d\ne"
    served.core.finish(run_id, results=[text])
    async with served.http.stream("GET", EVENTS, params={"taskRunIds": run_id}) as answer:
        # httpx splits lines like str.splitlines(), as many SSE clients do.
        data = [line async for line in answer.aiter_lines() if line.startswith("data: ")]
    assert len(data) == 1
    assert json.loads(data[0][len("data: ") :])["results"] == [text]
