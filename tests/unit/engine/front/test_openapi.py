"""The engine's answers, success and error alike, match openapi.yaml's schemas."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from openapi_schema_validator import OAS30Validator
from starlette.routing import Route

from render_sdk.engine.api import create_app
from render_sdk.engine.records import RunStatus

from .conftest import Served
from .fake_core import FakeCore

SPEC_PATH = Path(__file__).resolve().parents[4] / "openapi.yaml"


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    if not SPEC_PATH.exists():
        pytest.fail(f"{SPEC_PATH} is missing")
    loaded: dict[str, Any] = yaml.safe_load(SPEC_PATH.read_text())
    return loaded


def operation(spec: dict[str, Any], method: str, url: str) -> dict[str, Any]:
    """The spec's operation for a concrete request path (``/v1/task-runs/trn-1``)."""
    path = url.split("?", 1)[0].removeprefix("/v1")
    for template, item in spec["paths"].items():
        pattern = "^" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"
        if re.match(pattern, path) and method.lower() in item:
            # A literal path beats a templated one (/task-runs/events vs /task-runs/{id}).
            if "{" in template and path.rsplit("/", 1)[-1] in {
                t.rsplit("/", 1)[-1] for t in spec["paths"] if "{" not in t
            }:
                continue
            op: dict[str, Any] = item[method.lower()]
            return op
    raise AssertionError(f"openapi.yaml has no operation {method} {path}")


def check(spec: dict[str, Any], answer: httpx.Response) -> None:
    """Validate the answer's status and JSON body against the spec."""
    request = answer.request
    op = operation(spec, request.method, request.url.raw_path.decode())
    status = str(answer.status_code)
    assert status in op["responses"], (
        f"{request.method} {request.url.path} answered {status}, which openapi.yaml does not list"
    )
    response = op["responses"][status]
    if "$ref" in response:
        response = spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    content = response.get("content")
    if content is None:
        assert answer.content == b"", answer.content
        return
    media, body = next(iter(content.items()))
    assert answer.headers["content-type"].startswith(media)
    if media != "application/json":
        return
    schema = {**body["schema"], "components": spec["components"]}
    OAS30Validator(schema, format_checker=OAS30Validator.FORMAT_CHECKER).validate(answer.json())


def test_every_route_is_in_the_spec(spec: dict[str, Any]) -> None:
    app = create_app(FakeCore(), api_key=None)
    served = set()
    for route in app.routes:
        if not route.path.startswith("/v1/"):  # type: ignore[attr-defined]
            continue  # the inspector's pages (docs/inspector.md), not the REST API
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":
                served.add((method.lower(), route.path.removeprefix("/v1")))
    documented = {
        (method, re.sub(r"\{[^}]+\}", "{}", path))
        for path, item in spec["paths"].items()
        for method in item
        if method in {"get", "post", "put", "delete", "patch"}
    }
    assert {(m, re.sub(r"\{[^}]+\}", "{}", p)) for m, p in served} == documented


async def test_answers_match_the_spec(served: Served, spec: dict[str, Any]) -> None:
    http = served.http
    answers = [
        await http.post("/v1/task-runs", json={"task": "square", "input": [2]}),
        await http.post("/v1/task-runs", json={"task": "greet", "input": {"name": "x"}}),
        await http.post("/v1/task-runs", json={"task": "square", "input": "no"}),
        await http.post("/v1/task-runs", json={"task": "nope"}),
        await http.post(
            "/v1/task-runs",
            content=b"x" * (1024 * 1024 + 1),
            headers={"content-type": "application/json"},
        ),
        await http.post("/v1/task-runs", content=b"{}", headers={"content-type": "text/plain"}),
    ]
    first, second = answers[0].json()["id"], answers[1].json()["id"]
    served.core.finish(first, results=[4])
    served.core.finish(second, RunStatus.FAILED, error="boom")
    served.core.add_log(first, "hello")
    served.core.truncated.add(first)
    third = (await http.post("/v1/task-runs", json={"task": "square", "input": [1]})).json()["id"]
    served.core.begin(third)
    answers += [
        await http.get("/v1/task-runs"),
        await http.get("/v1/task-runs", params={"limit": 1, "taskSlug": "square"}),
        await http.get("/v1/task-runs", params={"limit": 0}),
        await http.get(f"/v1/task-runs/{first}"),
        await http.get(f"/v1/task-runs/{second}"),
        await http.get(f"/v1/task-runs/{third}"),
        await http.get("/v1/task-runs/trn-nope"),
        await http.delete(f"/v1/task-runs/{third}"),
        await http.delete(f"/v1/task-runs/{third}"),
        await http.delete("/v1/task-runs/trn-nope"),
        await http.get("/v1/task-runs/events", params={"taskRunIds": first}),
        await http.get("/v1/task-runs/events"),
        await http.get("/v1/task-runs/events", params={"taskRunIds": "trn-nope"}),
        await http.get("/v1/tasks"),
        await http.get("/v1/tasks", params={"limit": 200}),
        await http.get("/v1/tasks/tsk-greet"),
        await http.get("/v1/tasks/tsk-nope"),
        await http.get("/v1/logs", params={"taskRunId": first}),
        await http.get("/v1/logs"),
        await http.get("/v1/logs", params={"taskRunId": "trn-nope"}),
    ]
    statuses = {(a.request.method, a.status_code) for a in answers}
    assert {("POST", 202), ("POST", 400), ("POST", 404), ("POST", 413), ("POST", 415)} <= statuses
    assert {("DELETE", 204), ("DELETE", 409), ("DELETE", 404)} <= statuses
    for answer in answers:
        check(spec, answer)
    assert answers[-3].headers["render-logs-truncated"] == "true"


async def test_unauthorized_answers_match_the_spec(secured: Served, spec: dict[str, Any]) -> None:
    for method, url in [
        ("POST", "/v1/task-runs"),
        ("GET", "/v1/task-runs"),
        ("GET", "/v1/task-runs/events?taskRunIds=trn-1"),
        ("GET", "/v1/tasks/tsk-square"),
        ("GET", "/v1/logs?taskRunId=trn-1"),
    ]:
        answer = await secured.http.request(method, url)
        assert answer.status_code == 401
        check(spec, answer)
