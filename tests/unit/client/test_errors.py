"""HTTP answers and transport failures become the documented exceptions."""

from __future__ import annotations

import builtins
from datetime import datetime, timezone
from typing import Any

import httpx
import pytest

from render_sdk.client import Render, RenderAsync
from render_sdk.client.errors import (
    ClientError,
    InputError,
    RateLimitError,
    RenderError,
    ServerError,
    TaskRunError,
    TimeoutError,
    error_from_response,
    parse_retry_after,
)

from .conftest import BASE, FakeAPI, details_payload, error_response


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ClientError),
        (401, ClientError),
        (403, ClientError),
        (404, ClientError),
        (409, ClientError),
        (413, ClientError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (504, ServerError),
    ],
)
def test_status_mapping(status: int, cls: type[RenderError]) -> None:
    error = error_from_response(
        "get_task_run", status, b'{"id": "some_id", "message": "went wrong"}', {}
    )
    assert type(error) is cls
    assert error.status_code == status
    assert error.operation == "get_task_run"
    assert error.server_message == "went wrong"
    assert error.error_id == "some_id"
    assert str(error) == f"get_task_run failed with HTTP {status}: went wrong (error id some_id)"


def test_non_json_error_body_keeps_the_text() -> None:
    error = error_from_response("list_tasks", 502, b"<html>Bad Gateway</html>", {})
    assert isinstance(error, ServerError)
    assert error.server_message == "<html>Bad Gateway</html>"
    assert error.error_id is None


def test_rate_limit_retry_after() -> None:
    error = error_from_response("get_task", 429, b"{}", {"retry-after": "7"})
    assert isinstance(error, RateLimitError) and error.retry_after == 7.0


def test_retry_after_http_date() -> None:
    now = datetime(2026, 1, 1, 0, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("Thu, 01 Jan 2026 00:00:05 GMT", now=now) == 5.0
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("-3") == 0.0


def test_timeout_error_is_also_the_builtin() -> None:
    assert issubclass(TimeoutError, builtins.TimeoutError)
    assert issubclass(TimeoutError, RenderError)
    assert issubclass(RateLimitError, ClientError)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, ClientError),
        (404, ClientError),
        (429, RateLimitError),
        (500, ServerError),
        (503, ServerError),
    ],
)
def test_client_raises_mapped_error(
    fake: FakeAPI, render: Render, status: int, cls: type[RenderError]
) -> None:
    fake.on("GET", "/task-runs/trn-x", error_response(status, "no such run", "not_found"))
    with pytest.raises(cls) as info:
        render.workflows.get_task_run("trn-x")
    assert info.value.status_code == status
    assert info.value.server_message == "no such run"
    assert info.value.error_id == "not_found"


def test_plain_text_500_from_a_crashed_server(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/trn-x", httpx.Response(500, text="Internal Server Error"))
    with pytest.raises(ServerError) as info:
        render.workflows.get_task_run("trn-x")
    assert info.value.status_code == 500
    assert info.value.server_message == "Internal Server Error"


def test_malformed_success_body_is_a_render_error(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/trn-x", httpx.Response(200, json={"unexpected": True}))
    with pytest.raises(RenderError, match="cannot read") as info:
        render.workflows.get_task_run("trn-x")
    assert not isinstance(info.value, (ClientError, ServerError))
    assert f"the API at {BASE}/v1 answered with a body" in str(info.value)


def test_engine_down_gives_plain_message() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("[Errno 111] Connection refused")

    with Render(base_url=BASE, transport=httpx.MockTransport(refuse)) as render:
        with pytest.raises(ServerError) as info:
            render.workflows.get_task_run("trn-1")
    assert str(info.value) == (
        "could not connect to the Render API at http://127.0.0.1:8120/v1: "
        "[Errno 111] Connection refused"
    )
    assert info.value.status_code is None


def test_real_refused_connection() -> None:
    """A real socket with nothing listening: the message names the URL."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Render(base_url=f"http://127.0.0.1:{port}", max_retries=0) as render:
        with pytest.raises(
            ServerError, match=f"could not connect to the Render API at http://127.0.0.1:{port}/v1"
        ):
            render.workflows.list_task_runs()


def test_read_timeout_becomes_timeout_error(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/trn-1", httpx.ReadTimeout("timed out"))
    with pytest.raises(TimeoutError, match="within the timeout"):
        render.workflows.get_task_run("trn-1")
    assert len(fake.requests) == 1  # read timeouts are not retried


async def test_async_client_maps_errors_the_same(fake: FakeAPI, render_async: RenderAsync) -> None:
    fake.on("DELETE", "/task-runs/trn-x", error_response(409, "already finished", "conflict"))
    with pytest.raises(ClientError) as info:
        await render_async.workflows.cancel_task_run("trn-x")
    assert info.value.status_code == 409 and info.value.error_id == "conflict"
    assert info.value.operation == "cancel_task_run"


def test_task_run_error_carries_run_details(fake: FakeAPI, render: Render) -> None:
    from render_api.models import TaskRunDetails as Model

    from render_sdk.client._base import WorkflowsCore
    from render_sdk.client._convert import task_run_details

    details = task_run_details(
        Model.from_dict(details_payload(status="failed", results=[], error="boom"))
    )
    with pytest.raises(TaskRunError) as info:
        WorkflowsCore.finish("run_task", details)
    assert info.value.task_run_id == "trn-1"
    assert info.value.error == "boom"
    assert info.value.details is details
    assert str(info.value) == "task run trn-1 failed: boom"


@pytest.mark.parametrize("bad", ["", None, 5])
def test_bad_ids_are_rejected_before_any_request(
    fake: FakeAPI, render: Render, bad: object
) -> None:
    with pytest.raises(ValueError, match="task_run_id"):
        render.workflows.get_task_run(bad)  # type: ignore[arg-type]
    assert fake.requests == []


@pytest.mark.parametrize("bad", [{1, 2}, "text", 3])
def test_bad_input_data(fake: FakeAPI, render: Render, bad: object) -> None:
    with pytest.raises(TypeError, match="input_data must be a list or tuple"):
        render.workflows.start_task("wf/square", bad)  # type: ignore[arg-type]
    assert fake.requests == []


# --- input that cannot be sent: the caller's error, raised before any request ---------------

_self_referencing: list[object] = []
_self_referencing.append(_self_referencing)


@pytest.mark.parametrize(
    ("input_data", "path", "what"),
    [
        ([{1, 2}], "input_data[0]", "a set ({1, 2})"),
        ([float("nan")], "input_data[0]", "the float nan"),
        ({"a": [1, float("inf")]}, "input_data['a'][1]", "the float inf"),
        (
            {"when": {"at": datetime(2026, 1, 2, tzinfo=timezone.utc)}},
            "input_data['when']['at']",
            "a datetime",
        ),
        ([b"raw"], "input_data[0]", "a bytes (b'raw')"),
        ([{(1, 2): "x"}], "input_data[0]", "a dict with a key of type tuple"),
        ([1, _self_referencing], "input_data[1][0]", "a container that contains itself"),
    ],
)
def test_input_json_cannot_carry_is_refused_before_sending(
    fake: FakeAPI, render: Render, input_data: Any, path: str, what: str
) -> None:
    for call in (render.workflows.start_task, render.workflows.run_task):
        with pytest.raises(InputError) as caught:
            call("wf/echo", input_data)
        assert caught.value.path == path
        assert f"{path} is {what}" in str(caught.value), str(caught.value)
        assert "Nothing was sent" in str(caught.value)
        assert caught.value.operation == call.__name__
        assert isinstance(caught.value, ValueError) and caught.value.status_code is None
    assert fake.requests == []


async def test_input_json_cannot_carry_is_refused_before_sending_async(
    fake: FakeAPI, render_async: RenderAsync
) -> None:
    with pytest.raises(InputError, match=r"input_data\[1\] is a set"):
        await render_async.workflows.start_task("wf/echo", [1, {2}])
    with pytest.raises(InputError, match=r"input_data\['x'\] is the float nan"):
        await render_async.workflows.run_task("wf/echo", {"x": float("nan")})
    assert fake.requests == []
