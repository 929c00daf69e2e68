"""The fields Render's 1.x API added, parsed by both clients; idempotency keys in the body;
ClientError.code."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import httpx
import pytest

from render_sdk.client import Render, RenderAsync, TaskRunStatus
from render_sdk.client.errors import ClientError, RateLimitError

from .conftest import FakeAPI, details_payload, run_payload

ATTEMPT = {
    "attempt": 1,
    "taskRunId": "trn-1",
    "status": "completed",
    "enqueuedAt": "2026-01-02T03:04:04Z",
    "startedAt": "2026-01-02T03:04:05Z",
    "completedAt": "2026-01-02T03:04:06Z",
    "sdkImportStartedAt": "2026-01-02T03:04:05.100Z",
    "sdkImportFinishedAt": "2026-01-02T03:04:05.200Z",
    "sdkStartedAt": "2026-01-02T03:04:05.300Z",
    "results": [9],
}


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(timezone.utc)


def test_attempt_fields_and_parent_attempt_are_parsed(fake: FakeAPI, render: Render) -> None:
    payload = details_payload(parentTaskAttempt=2)
    payload["attempts"] = [ATTEMPT]
    fake.on("GET", "/task-runs/trn-1", httpx.Response(200, json=payload))
    details = render.workflows.get_task_run("trn-1")
    assert details.parent_task_attempt == 2
    [attempt] = details.attempts
    assert attempt.attempt == 1 and attempt.task_run_id == "trn-1"
    assert attempt.enqueued_at == _at("2026-01-02T03:04:04Z")
    assert attempt.sdk_import_started_at == _at("2026-01-02T03:04:05.100Z")
    assert attempt.sdk_import_finished_at == _at("2026-01-02T03:04:05.200Z")
    assert attempt.sdk_started_at == _at("2026-01-02T03:04:05.300Z")
    assert attempt.results == [9]


async def test_a_paused_run_is_accepted_and_not_terminal(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    fake.on("GET", "/task-runs", httpx.Response(200, json=[
        {"taskRun": run_payload("trn-2", "paused"), "cursor": "c"}
    ]))  # fmt: skip
    [run] = await render_async.workflows.list_task_runs()
    assert run.status is TaskRunStatus.PAUSED
    assert not run.is_terminal and not run.status.is_success


def test_older_servers_without_the_new_fields_still_parse(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/trn-1", httpx.Response(200, json=details_payload()))
    details = render.workflows.get_task_run("trn-1")
    assert details.parent_task_attempt is None
    assert details.attempts[0].attempt is None and details.attempts[0].sdk_started_at is None


def test_the_idempotency_key_travels_in_the_body(fake: FakeAPI, render: Render) -> None:
    fake.on("POST", "/task-runs", httpx.Response(202, json=run_payload()))
    render.workflows.start_task("wf/square", [3], idempotency_key="order-1")
    sent = fake.requests[0]
    assert json.loads(sent.content) == {
        "task": "wf/square",
        "input": [3],
        "idempotencyKey": "order-1",
    }
    assert "idempotency-key" not in sent.headers


@pytest.mark.parametrize("key", ["", "   ", 5])
def test_a_bad_idempotency_key_is_refused_before_sending(
    fake: FakeAPI, render: Render, key: object
) -> None:
    with pytest.raises(ValueError, match="idempotency_key must be a non-empty string"):
        render.workflows.start_task("wf/square", [3], idempotency_key=key)  # type: ignore[arg-type]
    assert fake.requests == []


def test_client_error_code(fake: FakeAPI, render: Render) -> None:
    body = {"id": "bad", "message": "no such snapshot", "code": "snapshot_not_found"}
    fake.on("GET", "/task-runs/trn-x", httpx.Response(404, json=body))
    with pytest.raises(ClientError) as caught:
        render.workflows.get_task_run("trn-x")
    assert caught.value.code == "snapshot_not_found"
    fake.on("GET", "/task-runs/trn-y", httpx.Response(409, json={"id": "c", "message": "m"}))
    with pytest.raises(ClientError) as caught:
        render.workflows.get_task_run("trn-y")
    assert caught.value.code is None
    assert RateLimitError("x", code="slow_down").code == "slow_down"
