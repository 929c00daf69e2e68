"""Every client operation, and every error status the engine produces, replayed from cassettes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from render_sdk import Render, RenderAsync
from render_sdk.client import ListTaskRunsParams
from render_sdk.client.errors import ClientError, TaskRunError
from tests.cassettes.conftest import API_KEY


def recorded(token: str | None = None) -> Render:
    """A blocking client on httpx's own transport, which vcrpy records and replays (a local
    engine's clients use it only when given it: docs/client.md, "Transports")."""
    return Render(token=token, transport=httpx.HTTPTransport())


def status(run: Any) -> str:
    return str(getattr(run.status, "value", run.status))


def test_start_task(local: str, cassette: Any) -> None:
    with recorded() as render:
        run = render.workflows.start_task("square", [3])
    assert run.id.startswith("trn-")
    assert status(run) in {"pending", "running", "completed"}
    assert run.root_task_run_id == run.id


def test_run_task(local: str, cassette: Any) -> None:
    with recorded() as render:
        details = render.workflows.run_task("e2e/square", [4])
    assert details.results == [16]
    assert details.result == 16
    assert status(details) == "completed"


async def test_run_task_async(local: str, cassette: Any) -> None:
    async with RenderAsync(transport=httpx.AsyncHTTPTransport()) as render:
        awaitable = await render.workflows.start_task("add", {"a": 1, "b": 2})
        details = await awaitable
    assert details.result == 3


def test_run_task_failure(local: str, cassette: Any) -> None:
    with recorded() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("fail", ["recorded failure"])
    assert "recorded failure" in str(caught.value)


def test_get_task_run(local: str, cassette: Any) -> None:
    with recorded() as render:
        done = render.workflows.run_task("square", [5])
        details = render.workflows.get_task_run(done.id)
    assert details.id == done.id
    assert details.input == [5]
    assert details.results == [25]
    assert len(details.attempts) == 1


def test_list_task_runs_two_pages(local: str, cassette: Any) -> None:
    with recorded() as render:
        for i in range(3):
            render.workflows.run_task("echo", [i])
        first = render.workflows.list_task_runs(ListTaskRunsParams(limit=2, task_slug="echo"))
        second = render.workflows.list_task_runs(
            ListTaskRunsParams(limit=2, task_slug="echo", cursor=first.next_cursor)
        )
    assert len(first) == 2
    assert first.next_cursor is not None
    assert len(second) >= 1
    assert not {r.id for r in first} & {r.id for r in second}


def test_cancel_task_run(local: str, cassette: Any) -> None:
    with recorded() as render:
        run = render.workflows.start_task("sleep_for", [30])
        assert render.workflows.cancel_task_run(run.id) is None
        (event,) = list(render.workflows.task_run_events([run.id]))
    assert status(event) == "canceled"


def test_task_run_events(local: str, cassette: Any) -> None:
    with recorded() as render:
        runs = [render.workflows.start_task("square", [i]) for i in range(3)]
        events = {e.id: e.result for e in render.workflows.task_run_events([r.id for r in runs])}
    assert events == {r.id: i * i for i, r in enumerate(runs)}


def test_list_and_get_tasks(local: str, cassette: Any) -> None:
    with recorded() as render:
        tasks = render.workflows.list_tasks()
        names = {t.name for t in tasks}
        square = next(t for t in tasks if t.name == "square")
        fetched = render.workflows.get_task(square.id)
    assert {"square", "add", "fan_out"} <= names
    assert fetched.id == square.id and fetched.name == "square"


def test_get_logs(local: str, cassette: Any) -> None:
    with recorded() as render:
        details = render.workflows.run_task("chatty", [2])
        logs = render.workflows.get_logs(details.id)
    messages = [entry.message.rstrip("\n") for entry in logs]
    assert "line 0" in messages and "line 1" in messages


@pytest.mark.parametrize(
    ("case", "expected"),
    [("bad_input", 400), ("unknown_run", 404), ("unknown_task", 404), ("not_running", 409)],
)
def test_client_errors(local: str, cassette: Any, case: str, expected: int) -> None:
    with recorded() as render, pytest.raises(ClientError) as caught:
        if case == "bad_input":
            render.workflows.start_task("square", [1, 2, 3])
        elif case == "unknown_run":
            render.workflows.get_task_run("trn-doesnotexist")
        elif case == "unknown_task":
            render.workflows.start_task("no_such_task", [])
        else:
            done = render.workflows.run_task("square", [2])
            render.workflows.cancel_task_run(done.id)
    assert caught.value.status_code == expected
    assert caught.value.message


def test_body_too_large(local: str, cassette: Any) -> None:
    with recorded() as render, pytest.raises(ClientError) as caught:
        render.workflows.start_task("echo", ["x" * (2 * 1024 * 1024)])
    assert caught.value.status_code == 413


def test_wrong_api_key(keyed_engine_url: str, cassette: Any, monkeypatch: Any) -> None:
    monkeypatch.setenv("RENDER_LOCAL_DEV_URL", keyed_engine_url)
    with recorded(token="not-" + API_KEY) as render, pytest.raises(ClientError) as caught:
        render.workflows.list_task_runs()
    assert caught.value.status_code == 401
