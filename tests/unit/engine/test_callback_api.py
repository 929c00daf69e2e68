"""The callback API refuses bad requests with clear 4xx answers and keeps serving.

These tests talk to a worker's socket directly with an HTTP client, acting as a misbehaving
worker next to the real one: process tests, over real Unix sockets of real worker processes.
What the answers about subtasks mean (the long poll, idempotency keys) is tested without a
process or socket in test_scheduling.py.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from render_sdk.engine import callbacks
from render_sdk.engine._attempts import Attempt
from render_sdk.engine.core import EngineCore
from render_sdk.engine.records import RunStatus

from .conftest import MakeEngine, wait_end


def b64(value: object) -> str:
    return base64.b64encode(json.dumps(value).encode()).decode()


@asynccontextmanager
async def raw_client(path: Path) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.AsyncHTTPTransport(uds=str(path))
    async with httpx.AsyncClient(
        transport=transport, base_url="http://localhost", timeout=60.0
    ) as client:
        yield client


async def running_attempt(core: EngineCore, task: str, value: list[object]) -> Attempt:
    """Start ``task`` and return its attempt once the worker holds its input."""
    found = await core.find_task(task)
    assert found is not None
    run = await core.start_run(found, value)
    for _ in range(2000):
        active = core.scheduler.active.get(run.id)
        attempt = active.attempt if active else None
        if attempt is not None and attempt.worker is not None and attempt.worker.ctx.delivered:
            return attempt
        await asyncio.sleep(0.005)
    raise AssertionError("the attempt never started")


def error_of(answer: httpx.Response) -> str:
    body = answer.json()
    assert set(body) == {"error"}
    return str(body["error"])


async def test_bad_requests_get_4xx_and_the_engine_keeps_serving(
    make_engine: MakeEngine,
) -> None:
    core = await make_engine()
    attempt = await running_attempt(core, "long_sleep", [60])
    assert attempt.worker is not None
    async with raw_client(attempt.worker.socket_path) as http:
        answer = await http.post("/callback", content=b"{not json")
        assert answer.status_code == 400 and "not valid JSON" in error_of(answer)
        answer = await http.post("/callback", json=["a list"])
        assert answer.status_code == 400 and "JSON object" in error_of(answer)
        answer = await http.post("/callback", json={"complete": {"output": "@@not base64@@"}})
        assert answer.status_code == 400 and "not base64" in error_of(answer)
        answer = await http.post("/callback", json={"something": "else"})
        assert answer.status_code == 400 and "'complete' or 'error'" in error_of(answer)
        answer = await http.post("/run-subtask", json={"task_name": "nope", "input": ""})
        assert answer.status_code == 404 and "unknown task 'nope'" in error_of(answer)
        answer = await http.post("/get-subtask-result", json={"task_run_id": "trn-unknown"})
        assert answer.status_code == 404 and "unknown subtask id" in error_of(answer)
        answer = await http.post("/get-subtask-result", json={"task_run_id": 5})
        assert answer.status_code == 400
        answer = await http.post("/register-tasks", json={"tasks": []})
        assert answer.status_code == 409 and "register mode" in error_of(answer)
        answer = await http.get("/nowhere")
        assert answer.status_code == 404
        answer = await http.get("/callback")
        assert answer.status_code == 405
        answer = await http.post("/callback", content=b"x" * (33 * 1024 * 1024))
        assert answer.status_code == 413 and "larger than" in error_of(answer)

        # After all that, a good callback is accepted: this client finishes the attempt.
        answer = await http.post("/callback", json={"complete": {"output": b64([42])}})
        assert answer.status_code == 200
        answer = await http.post("/callback", json={"complete": {"output": b64([43])}})
        assert answer.status_code == 409 and "already ended" in error_of(answer)
    rec = await wait_end(core, attempt.run.record.id)
    assert rec.status is RunStatus.COMPLETED and rec.results == [42]


async def test_serve_mode_order_and_attempt_id(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=2)
    assert core.pool is not None
    idle = next(iter(core.pool.idle))
    async with raw_client(idle.socket_path) as http:
        answer = await http.post("/callback", json={"complete": {"output": b64([1])}})
        assert answer.status_code == 409 and "wrong call order" in error_of(answer)
    attempt = await running_attempt(core, "long_sleep", [60])
    assert attempt.worker is not None
    async with raw_client(attempt.worker.socket_path) as http:
        answer = await http.post(
            "/callback",
            json={"complete": {"output": b64([1])}},
            headers={"Render-Attempt-Id": "someone-else"},
        )
        assert answer.status_code == 409 and "Render-Attempt-Id" in error_of(answer)
        answer = await http.post("/callback", json={"complete": {"output": b64([1])}})
        assert answer.status_code == 409
        answer = await http.post(
            "/callback",
            json={"complete": {"output": b64(["mine"])}},
            headers={"Render-Attempt-Id": attempt.token},
        )
        assert answer.status_code == 200
    rec = await wait_end(core, attempt.run.record.id)
    assert rec.results == ["mine"]


async def test_serve_mode_callback_can_carry_the_next_input(
    make_engine: MakeEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(callbacks, "INPUT_HOLD_SECONDS", 0.3)
    core = await make_engine(serve=True, max_concurrency=1)
    assert core.pool is not None
    first = await running_attempt(core, "long_sleep", [60])
    worker = first.worker
    assert worker is not None
    next_input = {"Render-Next-Input": "1"}
    async with raw_client(worker.socket_path) as http:
        # No work comes within the hold: 204, marked as the answer to the next-input request.
        answer = await http.post(
            "/callback",
            json={"complete": {"output": b64(["first"])}},
            headers={"Render-Attempt-Id": first.token, **next_input},
        )
        assert answer.status_code == 204
        assert answer.headers["render-next-input"] == "1"
        assert (await wait_end(core, first.run.record.id)).results == ["first"]

        # The next run goes to the same (only) process; this client asks for it as the worker
        # would, and its callback's answer hands out the run after it.
        found = await core.find_task("square")
        assert found is not None
        second = await core.start_run(found, [5])
        answer = await http.get("/input")
        assert answer.status_code == 200
        token = answer.json()["attempt_id"]
        pending = asyncio.ensure_future(
            http.post(
                "/callback",
                json={"complete": {"output": b64(["second"])}},
                headers={"Render-Attempt-Id": token, **next_input},
            )
        )
        assert (await wait_end(core, second.id)).results == ["second"]
        third = await core.start_run(found, [7])
        answer = await asyncio.wait_for(pending, 10)
        assert answer.status_code == 200
        assert answer.headers["render-next-input"] == "1"
        body = answer.json()
        assert body["task_name"] == "square"
        assert json.loads(base64.b64decode(body["input"])) == [7]
        third_attempt = core.scheduler.active[third.id].attempt
        assert third_attempt is not None and body["attempt_id"] == third_attempt.token

        # Without the header the callback is answered as the contract says: 200 and {}.
        answer = await http.post(
            "/callback",
            json={"complete": {"output": b64([49])}},
            headers={"Render-Attempt-Id": body["attempt_id"]},
        )
        assert answer.status_code == 200 and answer.json() == {}
        assert "render-next-input" not in answer.headers
    assert (await wait_end(core, third.id)).results == [49]
