"""openapi.yaml is a valid OpenAPI document and describes the contract's REST API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from openapi_spec_validator import validate

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))
    return loaded


def test_spec_is_valid_openapi(spec: dict[str, Any]) -> None:
    validate(spec)


def _resolve(spec: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        parts = node["$ref"].removeprefix("#/").split("/")
        target: Any = spec
        for part in parts:
            target = target[part]
        node = target
    return node


@pytest.mark.parametrize(
    ("path", "method", "success"),
    [
        ("/task-runs", "post", "202"),
        ("/task-runs", "get", "200"),
        ("/task-runs/events", "get", "200"),
        ("/task-runs/{taskRunId}", "get", "200"),
        ("/task-runs/{taskRunId}", "delete", "204"),
        ("/tasks", "get", "200"),
        ("/tasks/{taskId}", "get", "200"),
        ("/logs", "get", "200"),
    ],
)
def test_operations_and_error_responses(
    spec: dict[str, Any], path: str, method: str, success: str
) -> None:
    operation = spec["paths"][path][method]
    responses = operation["responses"]
    assert success in responses
    for status in ("400", "401", "403", "429", "500", "503"):
        response = _resolve(spec, responses[status])
        schema = response["content"]["application/json"]["schema"]
        assert schema == {"$ref": ERROR_REF}, (path, method, status)
    assert "Retry-After" in _resolve(spec, responses["429"])["headers"]


def test_servers_end_in_v1(spec: dict[str, Any]) -> None:
    assert spec["servers"][0]["url"] == "https://api.render.com/v1"
    assert all(server["url"].endswith("/v1") for server in spec["servers"])


def test_task_run_status_values(spec: dict[str, Any]) -> None:
    values = spec["components"]["schemas"]["TaskRunStatus"]["enum"]
    assert values == [
        "pending",
        "running",
        "paused",
        "completed",
        "succeeded",
        "failed",
        "canceled",
    ]


def test_event_stream_ids_are_exploded(spec: dict[str, Any]) -> None:
    operation = spec["paths"]["/task-runs/events"]["get"]
    (ids,) = [p for p in operation["parameters"] if p.get("name") == "taskRunIds"]
    assert ids["style"] == "form" and ids["explode"] is True
    assert ids["schema"]["type"] == "array"
    assert "text/event-stream" in operation["responses"]["200"]["content"]


def test_idempotency_key_and_logs_extension(spec: dict[str, Any]) -> None:
    post = spec["paths"]["/task-runs"]["post"]
    names = {_resolve(spec, p)["name"] for p in post["parameters"]}
    assert "Idempotency-Key" in names
    logs = spec["paths"]["/logs"]["get"]
    assert "local-engine extension" in logs["description"].lower()
    assert "Render-Logs-Truncated" in logs["responses"]["200"]["headers"]
    entry = spec["components"]["schemas"]["LogEntry"]
    assert set(entry["required"]) == {"taskRunId", "attempt", "stream", "timestamp", "message"}


def test_error_schema(spec: dict[str, Any]) -> None:
    error = spec["components"]["schemas"]["Error"]
    assert set(error["required"]) == {"id", "message"}
    assert spec["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
