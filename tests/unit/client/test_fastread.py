"""The fast path of the hot calls (start a run, read a run) is the generated client's reading:
the same requests, the same objects from the same answers, the same errors."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from dateutil.parser import isoparse
from hypothesis import given
from hypothesis import strategies as st
from render_api import Client
from render_api import models as api
from render_api.api.task_runs import create_task_run, get_task_run
from render_api.models.task_run_status import TASK_RUN_STATUS_VALUES
from render_api.types import UNSET

from render_sdk.client import Render, _convert, _fastread
from render_sdk.client.errors import RenderError

from .conftest import BASE, FakeAPI, details_payload, run_payload

ENGINE_DETAILS = {
    "id": "trn-b3f2643bd80d1ab5ccc6",
    "taskId": "tsk-f4d960247b7ae9c19f3d",
    "status": "completed",
    "parentTaskRunId": "",
    "rootTaskRunId": "trn-b3f2643bd80d1ab5ccc6",
    "retries": 0,
    "attempts": [
        {
            "attempt": 0,
            "taskRunId": "trn-b3f2643bd80d1ab5ccc6",
            "status": "completed",
            "startedAt": "2026-12-02T10:58:07.767415Z",
            "enqueuedAt": "2026-12-02T10:58:07.767415Z",
            "completedAt": "2026-12-02T10:58:07.771691Z",
            "sdkImportStartedAt": "2026-12-02T10:58:03.243517Z",
            "sdkImportFinishedAt": "2026-12-02T10:58:03.500703Z",
            "sdkStartedAt": "2026-12-02T10:58:03.945396Z",
            "results": [None],
        }
    ],
    "startedAt": "2026-12-02T10:58:07.767415Z",
    "completedAt": "2026-12-02T10:58:07.771743Z",
    "results": [None],
    "input": [],
}


def outcome(read: Callable[[], Any]) -> tuple[Any, ...]:
    """What ``read`` gives: its result's repr (timestamps with their tzinfo), or its error."""
    try:
        return ("result", repr(read()))
    except Exception as exc:
        return ("error", type(exc), str(exc))


def generated_details(payload: Any) -> Any:
    return _convert.task_run_details(api.TaskRunDetails.from_dict(payload))


def generated_run(payload: Any) -> Any:
    return _convert.task_run(api.TaskRun.from_dict(payload))


def test_the_statuses_are_the_generated_models_statuses() -> None:
    assert set(_convert._STATUS) == TASK_RUN_STATUS_VALUES


# --- timestamps ------------------------------------------------------------------------------
TIMESTAMPS = st.one_of(
    st.datetimes().map(lambda t: t.isoformat()),
    st.builds(
        lambda t, digits, zone: t.strftime("%Y-%m-%dT%H:%M:%S") + digits + zone,
        st.datetimes(),
        st.one_of(st.just(""), st.from_regex(r"\.[0-9]{1,9}", fullmatch=True)),
        st.sampled_from(["Z", "z", "+00:00", "-05:30", "", " Z"]),
    ),
    st.from_regex(
        r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,7})?Z",
        fullmatch=True,
    ),
    st.text(max_size=30),
)


@given(TIMESTAMPS)
def test_timestamps_read_as_isoparse_reads_them(value: str) -> None:
    assert outcome(lambda: _fastread.timestamp(value)) == outcome(lambda: isoparse(value))


@pytest.mark.parametrize(
    "value",
    [
        "2026-12-02T10:58:07.767415Z",
        "2026-12-02T10:58:07Z",
        "2026-12-02T10:58:07.5Z",
        "2026-12-02T10:58:07.1234567Z",
        "2026-12-02T24:00:00Z",
        "2026-02-30T10:58:07Z",
        "2026-12-02T10:58:07+02:00",
        "2026-12-02",
        None,
        17,
    ],
)
def test_timestamp_examples(value: Any) -> None:
    assert outcome(lambda: _fastread.timestamp(value)) == outcome(lambda: isoparse(value))


# --- runs ------------------------------------------------------------------------------------
JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=8),
    st.sampled_from(["completed", "running", "paused", "2026-12-02T10:58:07Z", "Z"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
)


def mutated(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, change in changes.items():
        if change == "drop":
            out.pop(key, None)
        else:
            out[key] = change[1]
    return out


CHANGES = st.dictionaries(
    st.sampled_from([*ENGINE_DETAILS, "parentTaskAttempt", "error", "extra"]),
    st.one_of(st.just("drop"), st.tuples(st.just("set"), JUNK)),
    max_size=3,
)
ATTEMPT_CHANGES = st.dictionaries(
    st.sampled_from([*ENGINE_DETAILS["attempts"][0], "error"]),  # type: ignore[index]
    st.one_of(st.just("drop"), st.tuples(st.just("set"), JUNK)),
    max_size=3,
)


@st.composite
def payloads(draw: st.DrawFn) -> Any:
    attempt = mutated(ENGINE_DETAILS["attempts"][0], draw(ATTEMPT_CHANGES))  # type: ignore[index]
    payload = mutated(ENGINE_DETAILS, draw(CHANGES))
    if "attempts" in payload and isinstance(payload["attempts"], list):
        payload["attempts"] = draw(st.sampled_from([[], [attempt], [attempt, attempt], ["x"]]))
    return draw(st.sampled_from([payload, payload, payload, [payload], "text", None]))


@given(payloads())
def test_run_details_read_as_the_generated_model_reads_them(payload: Any) -> None:
    assert outcome(lambda: _fastread.run_details(payload)) == outcome(
        lambda: generated_details(payload)
    )


@given(payloads())
def test_runs_read_as_the_generated_model_reads_them(payload: Any) -> None:
    assert outcome(lambda: _fastread.run(payload)) == outcome(lambda: generated_run(payload))


@pytest.mark.parametrize(
    "payload",
    [
        ENGINE_DETAILS,
        details_payload(input={"x": 1}, error="boom", parentTaskAttempt=2),
        details_payload(status="failed", completedAt="2026-01-02T03:04:06+01:00"),
        run_payload(),
        details_payload(
            status="failed",
            attempts=[{"status": "failed", "startedAt": "2026-01-02T03:04:05Z", "error": "boom"}],
        ),
        {**ENGINE_DETAILS, "status": "unknown"},
        {**ENGINE_DETAILS, "startedAt": None},
        {**ENGINE_DETAILS, "input": "3"},
    ],
)
def test_run_examples(payload: dict[str, Any]) -> None:
    assert outcome(lambda: _fastread.run_details(payload)) == outcome(
        lambda: generated_details(payload)
    )
    assert outcome(lambda: _fastread.run(payload)) == outcome(lambda: generated_run(payload))


def test_named_input_is_a_copy_as_through_the_generated_model() -> None:
    payload = details_payload(input={"x": 1})
    details = _fastread.run_details(payload)
    assert details.input == {"x": 1} and details.input is not payload["input"]


# --- requests --------------------------------------------------------------------------------
BASES = [BASE, "http://localhost:9/a%20b/prefix/", "https://api.example.com"]


def sent(base: str, send: Callable[[httpx.Client], Any]) -> tuple[Any, ...]:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(202, json=ENGINE_DETAILS)

    with Render("key", base_url=base, transport=httpx.MockTransport(answer)) as render:
        http = render._http
        send(http)
    (request,) = seen
    return request.method, str(request.url), request.headers.raw, request.read()


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("prefer", [UNSET, "wait=15"])
@pytest.mark.parametrize("input_data", [[3], {"n": "ü"}, None])
def test_a_start_is_the_generated_endpoints_request(
    base: str, prefer: Any, input_data: Any
) -> None:
    core = Render("key", base_url=base).workflows._core
    body = _convert.run_task_body("wf/square", input_data, "run_task", "key-1")
    assert sent(base, lambda http: http.request(**core.start_request(body, prefer))) == sent(
        base,
        lambda http: create_task_run.sync_detailed(
            client=Client(base_url="unused").set_httpx_client(http), body=body, prefer=prefer
        ),
    )


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("run_id", ["trn-1", "a/b c?d#e%", "ü"])
def test_a_run_read_is_the_generated_endpoints_request(base: str, run_id: str) -> None:
    core = Render("key", base_url=base).workflows._core
    assert sent(base, lambda http: http.request("get", core.run_url(run_id))) == sent(
        base,
        lambda http: get_task_run.sync_detailed(
            client=Client(base_url="unused").set_httpx_client(http), task_run_id=run_id
        ),
    )


# --- answers ---------------------------------------------------------------------------------
ANSWERS = [
    httpx.Response(202, json=run_payload()),
    httpx.Response(202, json=ENGINE_DETAILS),
    httpx.Response(200, json=ENGINE_DETAILS),
    httpx.Response(201, json=run_payload(), headers={"location": "/v1/task-runs/trn-1"}),
    httpx.Response(204),
    httpx.Response(202, json={"id": "trn-1"}),
    httpx.Response(202, text="not json"),
    httpx.Response(202, json={**ENGINE_DETAILS, "startedAt": "yesterday"}),
]


@pytest.fixture
def render(fake: FakeAPI) -> Iterator[Render]:
    with Render(base_url=BASE, transport=httpx.MockTransport(fake)) as client:
        yield client


def old_read(render: Render, operation: str, call: Callable[[], Any], kind: type) -> Any:
    """How the client read the generated endpoint's answer before the fast path."""
    core = render.workflows._core
    try:
        response = call()
    except Exception as exc:
        error = core.translate(operation, exc)
    else:
        return core.parsed(operation, response, kind)
    raise error


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_start_answer_reads_as_through_the_generated_endpoint(
    fake: FakeAPI, render: Render, answer: httpx.Response
) -> None:
    fake.on("POST", "/task-runs", answer)
    body = _convert.run_task_body("wf/square", [3])
    api_client = Client(base_url=render.base_url).set_httpx_client(render._http)

    def old() -> Any:
        model = old_read(
            render,
            "start_task",
            lambda: create_task_run.sync_detailed(client=api_client, body=body),
            api.TaskRun,
        )
        return _convert.task_run(model)

    assert outcome(lambda: render.workflows.start_task("wf/square", [3])) == outcome(old)


@pytest.mark.parametrize("answer", ANSWERS)
def test_a_run_answer_reads_as_through_the_generated_endpoint(
    fake: FakeAPI, render: Render, answer: httpx.Response
) -> None:
    fake.on("GET", "/task-runs/trn-1", answer)
    api_client = Client(base_url=render.base_url).set_httpx_client(render._http)

    def old() -> Any:
        model = old_read(
            render,
            "get_task_run",
            lambda: get_task_run.sync_detailed(client=api_client, task_run_id="trn-1"),
            api.TaskRunDetails,
        )
        return _convert.task_run_details(model)

    assert outcome(lambda: render.workflows.get_task_run("trn-1")) == outcome(old)


def test_a_start_answer_of_another_success_status_is_unexpected(
    fake: FakeAPI, render: Render
) -> None:
    fake.on("POST", "/task-runs", httpx.Response(200, json=run_payload()))
    with pytest.raises(RenderError, match="unexpected answer HTTP 200") as info:
        render.workflows.start_task("wf/square", [3])
    assert info.value.status_code == 200


def test_run_task_finds_the_run_of_a_start_answered_without_a_body(
    fake: FakeAPI, render: Render
) -> None:
    fake.on("POST", "/task-runs", httpx.Response(201, headers={"location": "/v1/task-runs/trn-1"}))
    fake.on("GET", "/task-runs/events", httpx.Response(404, json={"id": "x", "message": "no"}))
    fake.on("GET", "/task-runs/trn-1", httpx.Response(200, json=details_payload()))
    assert render.workflows.run_task("wf/square", [3]).result == 9
    assert json.loads(fake.requests[0].content)["task"] == "wf/square"
