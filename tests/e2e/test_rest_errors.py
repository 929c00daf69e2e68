"""Bad input on every REST operation: a 4xx with the Error body, and the engine keeps serving."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e._engine import EngineProcess


def check_error(answer: httpx.Response, status: int, *words: str) -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert set(body) >= {"id", "message"}
    assert isinstance(body["id"], str) and body["id"]
    for word in words:
        assert word in body["message"], body["message"]


@pytest.fixture
def api(engine: EngineProcess) -> httpx.Client:
    with httpx.Client(base_url=engine.base_url) as client:
        yield client


def test_start_with_bad_bodies(api: httpx.Client) -> None:
    url = "/v1/task-runs"
    check_error(
        api.post(url, content=b"{not json", headers={"content-type": "application/json"}), 400
    )
    check_error(api.post(url, json=[1, 2]), 400)
    check_error(api.post(url, json={"input": [1]}), 400, "task")
    check_error(api.post(url, json={"task": 5, "input": [1]}), 400, "task")
    check_error(api.post(url, json={"task": "square", "input": "nine"}), 400, "input")
    check_error(api.post(url, json={"task": "no_such_task", "input": []}), 404, "no_such_task")


def test_start_with_input_that_does_not_fit(api: httpx.Client) -> None:
    url = "/v1/task-runs"
    check_error(api.post(url, json={"task": "square", "input": [1, 2]}), 400)
    check_error(api.post(url, json={"task": "square", "input": []}), 400, "a")
    check_error(api.post(url, json={"task": "square", "input": {"b": 1}}), 400, "b")
    check_error(api.post(url, json={"task": "add", "input": {}}), 400, "a")


def test_body_over_the_limit(api: httpx.Client) -> None:
    big = {"task": "echo", "input": ["x" * (11 * 1024 * 1024)]}
    check_error(api.post("/v1/task-runs", json=big), 413)


def test_get_list_cancel_with_bad_values(api: httpx.Client) -> None:
    check_error(api.get("/v1/task-runs/trn-unknown"), 404)
    check_error(api.delete("/v1/task-runs/trn-unknown"), 404)
    check_error(api.get("/v1/task-runs", params={"limit": 0}), 400, "limit")
    check_error(api.get("/v1/task-runs", params={"limit": 101}), 400, "limit")
    check_error(api.get("/v1/task-runs", params={"limit": "ten"}), 400, "limit")
    check_error(api.get("/v1/task-runs", params={"cursor": "forged-cursor"}), 400, "cursor")
    check_error(api.get("/v1/tasks/tsk-unknown"), 404)
    check_error(api.get("/v1/nowhere"), 404)
    check_error(api.put("/v1/task-runs"), 405)


def test_events_with_bad_ids(api: httpx.Client) -> None:
    check_error(api.get("/v1/task-runs/events"), 400)
    check_error(api.get("/v1/task-runs/events", params={"taskRunIds": "trn-unknown"}), 404)
    many = ",".join(f"trn-{i}" for i in range(1001))
    check_error(api.get("/v1/task-runs/events", params={"taskRunIds": many}), 400)


def test_engine_still_serves_after_bad_input(api: httpx.Client) -> None:
    answer = api.post("/v1/task-runs", json={"task": "square", "input": [3]})
    assert answer.status_code == 202
    assert answer.json()["id"].startswith("trn-")
