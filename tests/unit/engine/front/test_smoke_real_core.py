"""Smoke tests of the front with the real core and real worker processes."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest

from render_sdk.engine.embedded import LocalEngine

APPS = Path(__file__).resolve().parent / "apps"
pytestmark = pytest.mark.timeout(90)


def events(http: httpx.Client, *run_ids: str) -> list[dict[str, object]]:
    out = []
    with http.stream("GET", "/v1/task-runs/events", params={"taskRunIds": ",".join(run_ids)}) as s:
        assert s.status_code == 200
        for line in s.iter_lines():
            if line.startswith("data: "):
                out.append(json.loads(line[len("data: ") :]))
    return out


def test_local_engine_runs_tasks_on_a_real_worker() -> None:
    with (
        LocalEngine("smoke_app:app", cwd=APPS) as engine,
        httpx.Client(base_url=engine.base_url, timeout=30) as http,
    ):
        tasks = {item["task"]["name"] for item in http.get("/v1/tasks").json()}
        assert {"square", "sum_squares", "fail", "wait_forever"} <= tasks

        started = http.post("/v1/task-runs", json={"task": "smoke/square", "input": [7]})
        assert started.status_code == 202, started.text
        run_id = started.json()["id"]
        (event,) = events(http, run_id)
        assert event["id"] == run_id
        assert event["status"] == "completed"
        assert event["results"] == [49]
        details = http.get(f"/v1/task-runs/{run_id}").json()
        assert details["results"] == [49]
        assert details["completedAt"].endswith("Z")
        logs = http.get("/v1/logs", params={"taskRunId": run_id}).json()
        assert [item["log"]["message"] for item in logs] == ["squaring 7"]

        tree = http.post("/v1/task-runs", json={"task": "sum_squares", "input": {"n": 4}})
        root = tree.json()["id"]
        (event,) = events(http, root)
        assert event["results"] == [14]
        children = http.get("/v1/task-runs", params={"rootTaskRunId": root, "limit": 100})
        assert len(children.json()) == 5

        failing = http.post("/v1/task-runs", json={"task": "fail", "input": ["nope"]}).json()
        (event,) = events(http, failing["id"])
        assert event["status"] == "failed"
        assert "nope" in str(event["error"])

        waiting = http.post("/v1/task-runs", json={"task": "wait_forever"}).json()
        assert http.delete(f"/v1/task-runs/{waiting['id']}").status_code == 204
        (event,) = events(http, waiting["id"])
        assert event["status"] == "canceled"

        bad = http.post("/v1/task-runs", json={"task": "square", "input": {"b": 1}})
        assert bad.status_code == 400
        assert set(bad.json()) == {"id", "message"}


def test_local_engine_with_a_start_command() -> None:
    command = [sys.executable, "smoke_app.py"]
    with (
        LocalEngine(start_command=command, cwd=APPS) as engine,
        httpx.Client(base_url=engine.base_url, timeout=30) as http,
    ):
        run_id = http.post("/v1/task-runs", json={"task": "square", "input": [3]}).json()["id"]
        (event,) = events(http, run_id)
        assert event["results"] == [9]


async def test_async_local_engine_with_a_real_worker() -> None:
    async with (
        LocalEngine("smoke_app:app", cwd=APPS) as engine,
        httpx.AsyncClient(base_url=engine.base_url, timeout=30) as http,
    ):
        answer = await http.post("/v1/task-runs", json={"task": "square", "input": [5]})
        run_id = answer.json()["id"]
        async with http.stream(
            "GET", "/v1/task-runs/events", params={"taskRunIds": run_id}
        ) as stream:
            data = [line async for line in stream.aiter_lines() if line.startswith("data: ")]
        assert json.loads(data[0][len("data: ") :])["results"] == [25]
