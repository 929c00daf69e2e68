"""``Prefer: wait=N`` on POST /v1/task-runs: the answer waits for the run's outcome."""

from __future__ import annotations

import asyncio
import json
import time

import httpx
import pytest

from render_sdk.engine.api import MAX_PREFER_WAIT, prefer_wait
from render_sdk.engine.embedded import LocalEngine
from render_sdk.engine.records import RunStatus

from .conftest import Served
from .fake_core import FakeCore


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        (None, None),
        ("", None),
        ("wait=10", 10),
        ("WAIT = 7", 7),
        ('wait="3"', 3),
        ("respond-async, wait=5", 5),
        ("wait=4; foo=bar", 4),
        ("respond-async", None),
        ("wait=soon", None),
        ("wait=-1", None),
        ("wait=1.5", None),
        ("wait=\u0665", None),  # a digit, but not an ASCII one
        ("wait=0", 0),
        ("wait=100000", MAX_PREFER_WAIT),
    ],
)
def test_prefer_wait_reads_the_wait_preference(header: str | None, seconds: int | None) -> None:
    assert prefer_wait(header) == seconds


SQUARE_3 = {"task": "square", "input": [3]}


async def _post(served: Served, prefer: str, **headers: str) -> httpx.Response:
    return await served.http.post(
        "/v1/task-runs",
        json={"task": "square", "input": [3]},
        headers={"Prefer": prefer, **headers},
    )


async def _waiting_on(served: Served, run_id: str) -> None:
    """Return once a start is waiting for ``run_id``."""
    deadline = time.monotonic() + 5
    while not served.core.listeners.get(run_id):
        assert time.monotonic() < deadline, "the start never waited for its run"
        await asyncio.sleep(0.005)


async def test_the_answer_waits_for_the_run_and_carries_its_details(served: Served) -> None:
    answer = asyncio.ensure_future(_post(served, "wait=10"))
    await _waiting_on(served, "trn-0001")
    assert not answer.done()
    served.core.finish("trn-0001", results=[9])
    response = await answer
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "wait=10"
    assert response.headers["location"] == "/v1/task-runs/trn-0001"
    body = response.json()
    assert body["id"] == "trn-0001"
    assert body["status"] == "completed"
    assert body["results"] == [9]
    assert body["input"] == [3]
    assert "trn-0001" not in served.core.listeners


async def test_a_failed_run_is_answered_with_its_error(served: Served) -> None:
    answer = asyncio.ensure_future(_post(served, "respond-async, wait=10"))
    await _waiting_on(served, "trn-0001")
    served.core.finish("trn-0001", RunStatus.FAILED, error="boom")
    body = (await answer).json()
    assert body["status"] == "failed"
    assert body["error"] == "boom"


async def test_when_the_wait_runs_out_the_run_is_answered_as_it_is(served: Served) -> None:
    started = time.monotonic()
    response = await _post(served, "wait=1")
    assert time.monotonic() - started >= 0.9
    assert response.status_code == 202
    assert response.headers["preference-applied"] == "wait=1"
    body = response.json()
    assert body["status"] == "pending"
    assert body["input"] == [3]
    assert "results" not in body or body["results"] in (None, [])
    assert served.core.listeners["trn-0001"] == []  # the waiter was withdrawn


async def test_without_the_preference_the_answer_is_immediate_and_plain(served: Served) -> None:
    for prefer in ("", "respond-async", "wait=soon"):
        response = await _post(served, prefer)
        assert response.status_code == 202
        assert "preference-applied" not in response.headers
        assert "input" not in response.json()
    assert served.core.listeners == {}


async def test_wait_zero_answers_at_once_with_details(served: Served) -> None:
    response = await _post(served, "wait=0")
    assert response.headers["preference-applied"] == "wait=0"
    assert response.json()["input"] == [3]
    assert response.json()["status"] == "pending"


async def test_a_finished_run_repeated_by_its_key_is_answered_at_once(served: Served) -> None:
    first = await _post(served, "", **{"Idempotency-Key": "k1"})
    run_id = first.json()["id"]
    served.core.finish(run_id, results=[9])
    response = await asyncio.wait_for(_post(served, "wait=30", **{"Idempotency-Key": "k1"}), 5)
    assert response.json()["id"] == run_id
    assert response.json()["results"] == [9]


async def test_stopping_the_engine_answers_waiting_starts() -> None:
    core = FakeCore()
    engine = await LocalEngine(core=core).astart()
    try:
        async with httpx.AsyncClient(base_url=engine.base_url, timeout=10) as http:
            served = Served(core, engine, http)
            answer = asyncio.ensure_future(_post(served, f"wait={MAX_PREFER_WAIT}"))
            await _waiting_on(served, "trn-0001")
            stopping = asyncio.ensure_future(engine.astop())
            response = await asyncio.wait_for(answer, 5)
            assert response.status_code == 202
            assert response.json()["status"] == "pending"
            await asyncio.wait_for(stopping, 5)
    finally:
        await engine.astop()


async def test_a_run_still_going_gets_the_answers_head_first(served: Served) -> None:
    """Past HEADERS_WITHIN the head (with the run's Location) goes out; the body follows."""
    request = served.http.build_request(
        "POST", "/v1/task-runs", json=SQUARE_3, headers={"Prefer": "wait=10"}
    )
    response = await served.http.send(request, stream=True)
    try:
        assert response.status_code == 202
        assert response.headers["location"] == "/v1/task-runs/trn-0001"
        assert response.headers["preference-applied"] == "wait=10"
        assert served.core.runs["trn-0001"].status is RunStatus.PENDING  # the body is held
        served.core.finish("trn-0001", results=[9])
        body = json.loads(await response.aread())
    finally:
        await response.aclose()
    assert body["status"] == "completed" and body["results"] == [9]
    assert "trn-0001" not in served.core.listeners


async def test_a_client_that_leaves_a_held_answer_stops_the_wait(served: Served) -> None:
    request = served.http.build_request(
        "POST", "/v1/task-runs", json=SQUARE_3, headers={"Prefer": "wait=30"}
    )
    response = await served.http.send(request, stream=True)
    assert response.status_code == 202
    await _waiting_on(served, "trn-0001")
    await response.aclose()  # the connection goes away with the body unread
    deadline = time.monotonic() + 5
    while served.core.listeners.get("trn-0001"):
        assert time.monotonic() < deadline, "the held answer kept waiting for a gone client"
        await asyncio.sleep(0.01)
    assert served.core.runs["trn-0001"].status is RunStatus.PENDING  # the run itself goes on
