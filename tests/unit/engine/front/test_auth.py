"""With an API key, every route needs ``Authorization: Bearer <key>``."""

from __future__ import annotations

import pytest

from render_sdk.engine.auth import bearer_matches

from .conftest import Served
from .test_rest import check_error

ROUTES = [
    ("POST", "/v1/task-runs"),
    ("GET", "/v1/task-runs"),
    ("GET", "/v1/task-runs/trn-0001"),
    ("DELETE", "/v1/task-runs/trn-0001"),
    ("GET", "/v1/task-runs/events?taskRunIds=trn-0001"),
    ("GET", "/v1/tasks"),
    ("GET", "/v1/tasks/tsk-square"),
    ("GET", "/v1/logs?taskRunId=trn-0001"),
    ("GET", "/v1/nowhere"),
]
BAD_HEADERS = [
    {},
    {"Authorization": "Bearer wrong"},
    {"Authorization": "Bearer k-12"},
    {"Authorization": "Bearer k-1234"},
    {"Authorization": "Basic k-123"},
    {"Authorization": "k-123"},
    {"Authorization": "Bearer"},
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_needs_the_key(secured: Served, method: str, path: str) -> None:
    await secured.core.start_run(secured.core.tasks[0], [1])
    for headers in BAD_HEADERS:
        answer = await secured.http.request(method, path, headers=headers, json={"task": "square"})
        check_error(answer, 401, "unauthorized")
        assert "k-123" not in answer.text
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert len(secured.core.runs) == 1  # nothing was started


async def test_the_right_key_passes(secured: Served) -> None:
    headers = {"Authorization": "Bearer k-123"}
    answer = await secured.http.post(
        "/v1/task-runs", json={"task": "square", "input": [2]}, headers=headers
    )
    assert answer.status_code == 202
    run_id = answer.json()["id"]
    secured.core.finish(run_id)
    assert (await secured.http.get("/v1/tasks", headers=headers)).status_code == 200
    lowercase = {"Authorization": "bearer k-123"}
    assert (await secured.http.get(f"/v1/task-runs/{run_id}", headers=lowercase)).status_code == 200
    answer = await secured.http.get(
        "/v1/task-runs/events", params={"taskRunIds": run_id}, headers=headers
    )
    assert answer.status_code == 200
    assert "event: task.completed" in answer.text
    answer = await secured.http.get("/v1/logs", params={"taskRunId": run_id}, headers=headers)
    assert answer.status_code == 200


def test_bearer_matches() -> None:
    assert bearer_matches(b"Bearer abc", b"abc")
    assert bearer_matches(b"BEARER abc", b"abc")
    assert not bearer_matches(None, b"abc")
    assert not bearer_matches(b"Bearer abcd", b"abc")
    assert not bearer_matches(b"Token abc", b"abc")
