"""Property-based fuzzing of every operation of openapi.yaml against a real engine (schemathesis).

Each operation gets schema-valid (positive) and schema-invalid (negative) requests from a fixed
seed. Every answer must be no 5xx and conform to the spec (status, content type, headers, body
schema); valid requests must be accepted and invalid ones refused; a request without the key, or
with a wrong one, must get 401. The default run sends ``FUZZ_EXAMPLES`` requests per operation and
mode; ``-m soak`` sends ``SOAK_EXAMPLES``.

Cursors and ``Last-Event-ID`` are opaque tokens the server hands out: the spec cannot say which
strings are valid, so for a request carrying one the server did not issue, ``400`` naming that
parameter is the right answer (checked here instead of "valid data is accepted"). Likewise for a
start request naming a registered task whose input does not fit the task's parameters.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.config import SchemathesisConfig

from tests.e2e._engine import EngineProcess

SPEC = Path(__file__).resolve().parents[3] / "openapi.yaml"
SEED = 20261125
FUZZ_EXAMPLES = 25
SOAK_EXAMPLES = 400
# Unknown query parameters are ignored (as by Render's API), so requests that differ from valid
# ones only by an extra parameter are not "invalid". The key is sent by the test itself.
CONFIG = SchemathesisConfig.from_dict(
    {"generation": {"allow-extra-parameters": False, "with-security-parameters": False}}
)
SCHEMA = schemathesis.openapi.from_path(SPEC, config=CONFIG)
OPERATIONS = [result.ok() for result in SCHEMA.get_all_operations()]
# Registered tasks that finish quickly whatever their input (the fuzzed input runs for real).
SAFE_TASKS = ["echo", "square", "add", "noop", "fail"]
# The HTTP server (uvicorn) refuses a request line longer than about 64 KiB by itself.
MAX_REQUEST_LINE = 60_000
OPAQUE = {"cursor": "query", "Last-Event-ID": "header"}

# Requests and statuses seen, per operation: written to FUZZ_STATS for the docs' figures.
STATS: dict[str, Counter[int]] = {}


@pytest.fixture(scope="module")
def real_ids(secured_engine: EngineProcess, api_key: str) -> dict[str, list[str]]:
    """Runs (finished, failed, running) and tasks that exist, for requests aimed at real objects."""
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=secured_engine.base_url + "/v1", headers=headers) as api:
        runs = [
            api.post("/task-runs", json={"task": "square", "input": [4]}).json()["id"],
            api.post("/task-runs", json={"task": "fail", "input": ["no"]}).json()["id"],
            api.post("/task-runs", json={"task": "chatty", "input": [3]}).json()["id"],
            api.post("/task-runs", json={"task": "sleep_for", "input": [600]}).json()["id"],
        ]
        tasks = [item["task"]["id"] for item in api.get("/tasks").json()]
    return {"runs": runs, "tasks": tasks}


def _rightly_refused(case: schemathesis.Case, response: Any) -> bool:
    """A 400 for valid-looking data the spec cannot judge, naming what is wrong.

    That is an opaque token (cursor, Last-Event-ID) the server did not issue; ``taskRunIds``
    values that hold only commas and spaces (no id once comma-joined values are split); or, for a
    start request naming a registered task, input that does not fit the task's parameters.
    """
    if response.status_code != 400:
        return False
    message = str(response.json().get("message", ""))
    for name, location in OPAQUE.items():
        container = case.query if location == "query" else case.headers
        if container and name in container and name in message:
            return True
    ids = (case.query or {}).get("taskRunIds")
    if isinstance(ids, list) and "taskRunIds" in message:  # e.g. ?taskRunIds=, (comma-joined)
        if not any(part.strip() for item in ids for part in str(item).split(",")):
            return True
    body = case.body
    if isinstance(body, dict) and body.get("task") in SAFE_TASKS:
        return message.startswith(f"task {body['task']!r} ")
    return False


def _with_task(pair: tuple[schemathesis.Case, str]) -> schemathesis.Case:
    """A generated start request naming a task that exists, with the generated input."""
    case, task = pair
    if isinstance(case.body, dict):
        case.body["task"] = task
        if task == "echo":  # one argument of any JSON value: accepted, and run for real
            case.body["input"] = [case.body.get("input")]
    return case


def _strategy(operation: Any, mode: GenerationMode, ids: dict[str, list[str]]) -> Any:
    """Generated cases, a third of them aimed at objects that exist (positive mode only)."""
    strategies = [operation.as_strategy(generation_mode=mode)]
    if mode is GenerationMode.POSITIVE:
        path = operation.path
        if "{taskRunId}" in path:
            strategies += [
                operation.as_strategy(path_parameters={"taskRunId": run}) for run in ids["runs"]
            ]
        elif "{taskId}" in path:
            strategies += [
                operation.as_strategy(path_parameters={"taskId": task}) for task in ids["tasks"]
            ]
        elif path == "/task-runs" and operation.method.upper() == "POST":
            strategies += [
                st.tuples(operation.as_strategy(), st.sampled_from(SAFE_TASKS)).map(_with_task)
            ]
        elif path == "/logs":
            strategies += [
                operation.as_strategy(query={"taskRunId": run}) for run in ids["runs"][:3]
            ]
    return st.one_of(*strategies)


def _fuzz(
    operation: Any,
    mode: GenerationMode,
    engine: EngineProcess,
    api_key: str,
    ids: dict[str, list[str]],
    examples: int,
) -> None:
    base_url = engine.base_url + "/v1"
    auth = {"Authorization": f"Bearer {api_key}"}
    seen = STATS.setdefault(f"{operation.label} ({mode.value})", Counter())

    @seed(SEED)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        # No shrinking: a failing request is reported as generated (shrinking huge URLs against a
        # live server can take many minutes).
        phases=[Phase.explicit, Phase.reuse, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=_strategy(operation, mode, ids))
    def run(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, headers=auth, timeout=30)
        seen[response.status_code] += 1
        assert response.status_code < 500, response.text
        plain = response.headers.get("content-type", [""])[0].startswith("text/plain")
        if plain and len(response.request.url) > MAX_REQUEST_LINE:
            # Refused by the HTTP server before the API sees it: a plain-text 400, not the
            # contract's JSON body (a documented limit of the engine).
            assert response.status_code == 400, response.status_code
            assert response.text == "Invalid HTTP request received."
            return
        excluded = [positive_data_acceptance] if _rightly_refused(case, response) else []
        case.validate_response(response, headers=auth, excluded_checks=excluded)

    try:
        run()
    except Unsatisfiable:
        # Any string is a valid id in these paths, so no schema-invalid request exists for them;
        # any other operation that cannot be fuzzed negatively fails here.
        assert mode is GenerationMode.NEGATIVE, operation.label
        assert operation.label in NO_INVALID_REQUEST, operation.label


NO_INVALID_REQUEST = {
    "GET /task-runs/{taskRunId}",
    "DELETE /task-runs/{taskRunId}",
    "GET /tasks/{taskId}",
}


@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_fuzz_operation(
    operation: Any,
    mode: GenerationMode,
    secured_engine: EngineProcess,
    api_key: str,
    real_ids: dict[str, list[str]],
) -> None:
    _fuzz(operation, mode, secured_engine, api_key, real_ids, FUZZ_EXAMPLES)


@pytest.mark.soak
@pytest.mark.parametrize("mode", list(GenerationMode), ids=lambda mode: mode.value)
@pytest.mark.parametrize("operation", OPERATIONS, ids=lambda op: op.label)
def test_fuzz_operation_soak(
    operation: Any,
    mode: GenerationMode,
    secured_engine: EngineProcess,
    api_key: str,
    real_ids: dict[str, list[str]],
) -> None:
    _fuzz(operation, mode, secured_engine, api_key, real_ids, SOAK_EXAMPLES)


def test_engine_logged_no_traceback(secured_engine: EngineProcess) -> None:
    """After all the fuzzing (this module's last test), nothing failed inside the engine.

    Task output is prefixed with the time, task name and run id; an engine traceback is not.
    """
    output = secured_engine.output()
    assert not re.search(r"^Traceback", output, re.MULTILINE), output[-4000:]
    assert "failed to handle the request" not in output


@pytest.fixture(scope="module", autouse=True)
def _write_stats() -> Iterator[None]:
    """With ``FUZZ_STATS=path``, write the statuses seen per operation there (docs' figures)."""
    yield
    target = os.environ.get("FUZZ_STATS")
    if target and STATS:
        stats = {label: dict(sorted(seen.items())) for label, seen in sorted(STATS.items())}
        Path(target).write_text(json.dumps(stats, indent=1) + "\n")
