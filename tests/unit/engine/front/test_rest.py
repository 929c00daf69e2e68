"""Every REST route's shape and status codes, over real HTTP against a fake core."""

from __future__ import annotations

import httpx
import pytest

from render_sdk.engine.records import RunStatus

from .conftest import Served


def check_error(answer: httpx.Response, status: int, error_id: str, *words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body = answer.json()
    assert set(body) == {"id", "message"}
    assert body["id"] == error_id
    for word in words:
        assert word in body["message"], body["message"]


async def start(served: Served, task: str = "square", input: object = (3,)) -> dict[str, object]:
    answer = await served.http.post("/v1/task-runs", json={"task": task, "input": list(input)})
    assert answer.status_code == 202, answer.text
    body: dict[str, object] = answer.json()
    return body


async def test_start_run_answers_202_with_a_task_run(served: Served) -> None:
    answer = await served.http.post("/v1/task-runs", json={"task": "square", "input": [3]})
    assert answer.status_code == 202
    assert answer.json() == {
        "id": "trn-0001",
        "taskId": "tsk-square",
        "status": "pending",
        "parentTaskRunId": "",
        "rootTaskRunId": "trn-0001",
        "retries": 0,
        "attempts": [],
    }
    assert served.core.runs["trn-0001"].input == [3]


@pytest.mark.parametrize("slug", ["square", "my-workflow/square", "wf/square:v3", "tsk-square"])
async def test_start_run_accepts_every_slug_form(served: Served, slug: str) -> None:
    body = await start(served, slug)
    assert body["taskId"] == "tsk-square"
    assert served.core.find_calls == [slug]


async def test_start_run_with_named_and_absent_input(served: Served) -> None:
    answer = await served.http.post("/v1/task-runs", json={"task": "greet", "input": {"name": "x"}})
    assert answer.status_code == 202
    assert served.core.runs[answer.json()["id"]].input == {"name": "x"}
    answer = await served.http.post("/v1/task-runs", json={"task": "greet"})
    assert answer.status_code == 202
    assert served.core.runs[answer.json()["id"]].input == []


async def test_idempotency_key_returns_the_first_run(served: Served) -> None:
    headers = {"Idempotency-Key": "abc"}
    body = {"task": "square", "input": [2]}
    first = await served.http.post("/v1/task-runs", json=body, headers=headers)
    second = await served.http.post("/v1/task-runs", json=body, headers=headers)
    assert first.json()["id"] == second.json()["id"]
    assert len(served.core.runs) == 1
    answer = await served.http.post(
        "/v1/task-runs", json=body, headers={"Idempotency-Key": "k" * 256}
    )
    check_error(answer, 400, "invalid_request", "Idempotency-Key")


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"{not json", ["not valid JSON"]),
        (b"", ["empty"]),
        (b"[1, 2]", ["JSON object", "an array"]),
        (b'{"input": [1]}', ["'task' is required"]),
        (b'{"task": 5}', ["'task' must be a string", "a number"]),
        (b'{"task": ""}', ["'task' must not be empty"]),
        (b'{"task": "square", "input": "nine"}', ["'input'", "a string"]),
        (b'{"task": "square", "input": 3}', ["'input'", "a number"]),
        (b"\xff\xfe", ["not valid JSON"]),
        (b'{"task": "square", "input": [NaN]}', ["NaN is not a JSON value"]),
        (b'{"task": "square", "input": [-Infinity]}', ["-Infinity is not a JSON value"]),
        (b'{"task": "square", "input": ["\\ud800"]}', ["lone UTF-16 surrogate"]),
        (b'{"task": "square", "input": ["\xed\xa0\x80"]}', ["lone UTF-16 surrogate"]),
        (b'{"task": "square", "input": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", ["deeply"]),
    ],
)
async def test_start_run_rejects_bad_bodies(
    served: Served, content: bytes, words: list[str]
) -> None:
    answer = await served.http.post(
        "/v1/task-runs", content=content, headers={"content-type": "application/json"}
    )
    check_error(answer, 400, "invalid_request", *words)
    assert served.core.runs == {}


async def test_non_ascii_text_passes_through(served: Served) -> None:
    text = "h\u00e9llo \u2603 \U0001f600 \\ud800 is fine as text"
    answer = await served.http.post("/v1/task-runs", json={"task": "square", "input": [text]})
    assert answer.status_code == 202
    run_id = answer.json()["id"]
    assert (await served.http.get(f"/v1/task-runs/{run_id}")).json()["input"] == [text]


async def test_start_run_with_unknown_task_is_404(served: Served) -> None:
    answer = await served.http.post("/v1/task-runs", json={"task": "nope", "input": []})
    check_error(answer, 404, "not_found", "'nope'")


async def test_core_validation_errors_keep_their_message(served: Served) -> None:
    answer = await served.http.post("/v1/task-runs", json={"task": "square", "input": [1, 2]})
    check_error(answer, 400, "invalid_request", "takes 1 arguments, got 2")


async def test_body_over_the_limit_is_413(served: Served) -> None:
    big = {"task": "square", "input": ["x" * (1024 * 1024 + 10)]}
    check_error(await served.http.post("/v1/task-runs", json=big), 413, "payload_too_large")
    # Without a Content-Length (chunked), the limit holds as the body streams in.

    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(20):
            yield b"x" * 100_000

    answer = await served.http.post(
        "/v1/task-runs", content=chunks(), headers={"content-type": "application/json"}
    )
    check_error(answer, 413, "payload_too_large", "1048576 bytes")
    # The connection is still good for the next request.
    assert (await served.http.get("/v1/tasks")).status_code == 200


async def test_get_run_details(served: Served) -> None:
    run = await start(served)
    served.core.finish(str(run["id"]), results=[9])
    answer = await served.http.get(f"/v1/task-runs/{run['id']}")
    assert answer.status_code == 200
    assert answer.json() == {
        "id": run["id"],
        "taskId": "tsk-square",
        "status": "completed",
        "parentTaskRunId": "",
        "rootTaskRunId": run["id"],
        "retries": 0,
        "attempts": [
            {
                "attempt": 0,
                "taskRunId": run["id"],
                "status": "completed",
                "enqueuedAt": "2026-01-02T03:04:05.678901Z",
                "startedAt": "2026-01-02T03:04:05.678901Z",
                "completedAt": "2026-01-02T03:04:05.678901Z",
                "results": [9],
            }
        ],
        "startedAt": "2026-01-02T03:04:05.678901Z",
        "completedAt": "2026-01-02T03:04:05.678901Z",
        "results": [9],
        "input": [3],
    }


async def test_failed_run_details_carry_the_error(served: Served) -> None:
    run = await start(served)
    served.core.finish(str(run["id"]), RunStatus.FAILED, error="ZeroDivisionError: boom")
    body = (await served.http.get(f"/v1/task-runs/{run['id']}")).json()
    assert body["status"] == "failed"
    assert body["error"] == "ZeroDivisionError: boom"
    assert body["results"] == []
    assert body["attempts"][0]["error"] == "ZeroDivisionError: boom"
    assert "results" not in body["attempts"][0]


async def test_get_unknown_run_is_404(served: Served) -> None:
    check_error(await served.http.get("/v1/task-runs/trn-x"), 404, "not_found", "trn-x")


async def test_cancel_run(served: Served) -> None:
    run = await start(served)
    answer = await served.http.delete(f"/v1/task-runs/{run['id']}")
    assert answer.status_code == 204
    assert answer.content == b""
    assert served.core.runs[str(run["id"])].status is RunStatus.CANCELED
    again = await served.http.delete(f"/v1/task-runs/{run['id']}")
    check_error(again, 409, "conflict", "canceled")
    check_error(await served.http.delete("/v1/task-runs/trn-x"), 404, "not_found")


async def test_list_runs_newest_first_with_cursor(served: Served) -> None:
    ids = [(await start(served))["id"] for _ in range(5)]
    answer = await served.http.get("/v1/task-runs", params={"limit": 2})
    assert answer.status_code == 200
    page = answer.json()
    assert [item["taskRun"]["id"] for item in page] == ids[::-1][:2]
    assert set(page[0]) == {"taskRun", "cursor"}
    assert "results" not in page[0]["taskRun"]
    answer = await served.http.get("/v1/task-runs", params={"cursor": page[-1]["cursor"]})
    assert [item["taskRun"]["id"] for item in answer.json()] == ids[::-1][2:]


async def test_list_runs_default_limit_is_20(served: Served) -> None:
    for _ in range(21):
        await start(served)
    assert len((await served.http.get("/v1/task-runs")).json()) == 20


async def test_list_runs_filters(served: Served) -> None:
    square = await start(served)
    await start(served, "greet", ["a"])
    answer = await served.http.get("/v1/task-runs", params={"taskSlug": "wf/square"})
    assert [item["taskRun"]["id"] for item in answer.json()] == [square["id"]]
    answer = await served.http.get("/v1/task-runs", params={"taskSlug": "unknown"})
    assert answer.json() == []
    answer = await served.http.get("/v1/task-runs", params={"rootTaskRunId": square["id"]})
    assert [item["taskRun"]["id"] for item in answer.json()] == [square["id"]]
    answer = await served.http.get(
        "/v1/task-runs", params={"ownerId": "tea-1", "workflowId": "w", "workflowVersionId": "v"}
    )
    assert answer.status_code == 200


@pytest.mark.parametrize("limit", ["0", "101", "ten", "-1", "1.5"])
async def test_list_runs_bad_limit(served: Served, limit: str) -> None:
    answer = await served.http.get("/v1/task-runs", params={"limit": limit})
    check_error(answer, 400, "invalid_request", "limit")


async def test_list_runs_bad_cursor(served: Served) -> None:
    answer = await served.http.get("/v1/task-runs", params={"cursor": "forged"})
    check_error(answer, 400, "invalid_request", "cursor")


async def test_tasks(served: Served) -> None:
    answer = await served.http.get("/v1/tasks")
    assert answer.status_code == 200
    assert answer.json() == [
        {
            "task": {
                "id": "tsk-square",
                "name": "square",
                "createdAt": "2026-01-02T03:04:05.678901Z",
            },
            "cursor": "tsk-square",
        },
        {
            "task": {
                "id": "tsk-greet",
                "name": "greet",
                "createdAt": "2026-01-02T03:04:05.678901Z",
                "workflowId": "wfl-1",
                "workflowVersionId": "wfv-1",
            },
            "cursor": "tsk-greet",
        },
    ]
    page = (await served.http.get("/v1/tasks", params={"limit": 1})).json()
    assert [item["task"]["id"] for item in page] == ["tsk-square"]
    page = (await served.http.get("/v1/tasks", params={"cursor": "tsk-square"})).json()
    assert [item["task"]["id"] for item in page] == ["tsk-greet"]
    page = (await served.http.get("/v1/tasks", params={"taskSlug": "wf/greet"})).json()
    assert [item["task"]["id"] for item in page] == ["tsk-greet"]
    page = (await served.http.get("/v1/tasks", params={"workflowId": "wfl-1"})).json()
    assert [item["task"]["id"] for item in page] == ["tsk-greet"]
    check_error(await served.http.get("/v1/tasks", params={"cursor": "x"}), 400, "invalid_request")
    check_error(await served.http.get("/v1/tasks", params={"limit": 0}), 400, "invalid_request")


async def test_get_task(served: Served) -> None:
    answer = await served.http.get("/v1/tasks/tsk-greet")
    assert answer.status_code == 200
    assert answer.json()["name"] == "greet"
    check_error(await served.http.get("/v1/tasks/tsk-nope"), 404, "not_found", "tsk-nope")


async def test_logs(served: Served) -> None:
    run = await start(served)
    run_id = str(run["id"])
    first = served.core.add_log(run_id, "hello")
    served.core.add_log(run_id, "oops", stream="stderr")
    answer = await served.http.get("/v1/logs", params={"taskRunId": run_id})
    assert answer.status_code == 200
    assert "render-logs-truncated" not in answer.headers
    assert answer.json() == [
        {
            "log": {
                "taskRunId": run_id,
                "attempt": 1,
                "stream": "stdout",
                "timestamp": "2026-01-02T03:04:05.678901Z",
                "message": "hello",
            },
            "cursor": str(first.seq),
        },
        {
            "log": {
                "taskRunId": run_id,
                "attempt": 1,
                "stream": "stderr",
                "timestamp": "2026-01-02T03:04:05.678901Z",
                "message": "oops",
            },
            "cursor": str(first.seq + 1),
        },
    ]
    answer = await served.http.get("/v1/logs", params={"taskRunId": run_id, "cursor": first.seq})
    assert [item["log"]["message"] for item in answer.json()] == ["oops"]
    answer = await served.http.get("/v1/logs", params={"taskRunId": run_id, "limit": 1})
    assert [item["log"]["message"] for item in answer.json()] == ["hello"]
    served.core.truncated.add(run_id)
    answer = await served.http.get("/v1/logs", params={"taskRunId": run_id})
    assert answer.headers["render-logs-truncated"] == "true"


async def test_logs_errors(served: Served) -> None:
    check_error(await served.http.get("/v1/logs"), 400, "invalid_request", "taskRunId")
    check_error(await served.http.get("/v1/logs", params={"taskRunId": "trn-x"}), 404, "not_found")
    answer = await served.http.get("/v1/logs", params={"taskRunId": "trn-x", "cursor": "abc"})
    check_error(answer, 400, "invalid_request", "cursor")
    answer = await served.http.get("/v1/logs", params={"taskRunId": "trn-x", "limit": 101})
    check_error(answer, 400, "invalid_request", "limit")


async def test_unknown_route_and_method_have_error_bodies(served: Served) -> None:
    check_error(await served.http.get("/v1/nowhere"), 404, "not_found", "/v1/nowhere")
    check_error(await served.http.get("/nowhere"), 404, "not_found")
    answer = await served.http.put("/v1/task-runs")
    check_error(answer, 405, "method_not_allowed", "PUT")
    check_error(await served.http.patch("/v1/tasks/tsk-square"), 405, "method_not_allowed")
    assert "GET" in answer.headers["allow"]
    check_error(await served.http.get("/v1/task-runs/"), 404, "not_found")
    check_error(await served.http.post("/v1/task-runs/", json={}), 404, "not_found")


async def test_unexpected_exception_is_500_and_logged_and_engine_keeps_serving(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    served.core.explode = RuntimeError("disk on fire")
    with caplog.at_level("ERROR", logger="render_sdk.engine.api"):
        answer = await served.http.get("/v1/tasks")
    check_error(answer, 500, "internal_error")
    assert "disk on fire" not in answer.text
    assert any("disk on fire" in (r.exc_text or "") for r in caplog.records), caplog.records
    assert (await served.http.get("/v1/tasks")).status_code == 200


async def test_results_with_text_that_has_no_utf8_form_are_sent_escaped(served: Served) -> None:
    run = await start(served)
    served.core.finish(str(run["id"]), results=["a\ud800b"])
    answer = await served.http.get(f"/v1/task-runs/{run['id']}")
    assert answer.status_code == 200
    assert b'"a\\ud800b"' in answer.content
    assert answer.json()["results"] == ["a\ud800b"]


async def test_results_with_non_finite_floats_do_not_break_the_answer(served: Served) -> None:
    run = await start(served)
    served.core.finish(str(run["id"]), results=[float("nan"), float("inf")])
    answer = await served.http.get(f"/v1/task-runs/{run['id']}")
    assert answer.status_code == 200
    assert b'"results":[NaN,Infinity]' in answer.content
