"""Every client operation of the seed, blocking and async, against the real engine."""

from __future__ import annotations

import asyncio

import pytest

from render_sdk import Render, RenderAsync
from render_sdk.client import ListTaskRunsParams
from render_sdk.client.errors import ClientError, TaskRunError
from tests.e2e._engine import EngineProcess
from tests.e2e._helpers import SUCCESS, status_of


def test_run_task_returns_the_result(local_env: EngineProcess) -> None:
    with Render() as render:
        details = render.workflows.run_task("e2e/square", [12])
    assert status_of(details) in SUCCESS
    assert details.results == [144]
    assert details.result == 144
    assert details.input == [12]
    assert details.parent_task_run_id == ""
    assert details.root_task_run_id == details.id
    assert len(details.attempts) == 1


@pytest.mark.parametrize("slug", ["add", "anything/add", "wf/add:3"])
def test_task_slug_forms_and_named_input(local_env: EngineProcess, slug: str) -> None:
    with Render() as render:
        details = render.workflows.run_task(slug, {"a": 5})
    assert details.result == 15


def test_task_id_is_accepted_as_slug(local_env: EngineProcess) -> None:
    with Render() as render:
        first = render.workflows.run_task("square", [2])
        again = render.workflows.run_task(first.task_id, [3])
    assert again.result == 9
    assert again.task_id == first.task_id


def test_start_then_get_then_events(local_env: EngineProcess) -> None:
    with Render() as render:
        run = render.workflows.start_task("square", [4])
        assert run.id.startswith("trn-")
        assert status_of(run) in {"pending", "running", "completed"}
        events = list(render.workflows.task_run_events([run.id]))
        assert [e.id for e in events] == [run.id]
        assert events[0].result == 16
        fetched = render.workflows.get_task_run(run.id)
    assert fetched.result == 16
    assert fetched.completed_at is not None
    assert fetched.started_at is not None
    assert fetched.completed_at >= fetched.started_at


def test_failed_run_raises_task_run_error(local_env: EngineProcess) -> None:
    with Render() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("fail", ["boom in the task"])
    assert "boom in the task" in str(caught.value)
    assert caught.value.task_run_id.startswith("trn-")


def test_list_task_runs_pages_with_next_cursor(local_env: EngineProcess) -> None:
    with Render() as render:
        started = [render.workflows.run_task("echo", [i]).id for i in range(7)]
        seen: list[str] = []
        cursor = None
        while True:
            page = render.workflows.list_task_runs(
                ListTaskRunsParams(limit=3, cursor=cursor, task_slug="echo")
            )
            assert len(page) <= 3
            seen.extend(r.id for r in page)
            cursor = page.next_cursor
            if cursor is None:
                break
    assert len(seen) == len(set(seen)), "a run appeared on two pages"
    newest_first = [s for s in seen if s in started]
    assert newest_first == list(reversed(started))


def test_cancel_running_and_errors(local_env: EngineProcess) -> None:
    with Render() as render:
        run = render.workflows.start_task("sleep_for", [30])
        render.workflows.cancel_task_run(run.id)
        (event,) = list(render.workflows.task_run_events([run.id]))
        assert status_of(event) == "canceled"
        with pytest.raises(ClientError) as not_running:
            render.workflows.cancel_task_run(run.id)
        assert not_running.value.status_code == 409
        with pytest.raises(ClientError) as unknown:
            render.workflows.cancel_task_run("trn-doesnotexist")
        assert unknown.value.status_code == 404


def test_run_task_of_a_canceled_run_raises(local_env: EngineProcess) -> None:
    async def scenario() -> None:
        async with RenderAsync() as render:
            awaitable = await render.workflows.start_task("sleep_for", [30])
            await render.workflows.cancel_task_run(awaitable.id)
            with pytest.raises(TaskRunError):
                await awaitable

    asyncio.run(scenario())


async def test_async_client_every_operation(local_env: EngineProcess) -> None:
    async with RenderAsync() as render:
        awaitable = await render.workflows.start_task("square", [6])
        assert awaitable.id.startswith("trn-")
        details = await awaitable
        assert details.result == 36

        details = await render.workflows.run_task("add", [1, 2])
        assert details.result == 3

        fetched = await render.workflows.get_task_run(details.id)
        assert fetched.results == [3]

        page = await render.workflows.list_task_runs(ListTaskRunsParams(limit=2))
        assert 1 <= len(page) <= 2

        runs = [await render.workflows.start_task("square", [i]) for i in range(4)]
        seen = {}
        async for event in render.workflows.task_run_events([r.id for r in runs]):
            seen[event.id] = event.result
        assert seen == {r.id: i * i for i, r in enumerate(runs)}

        sleeper = await render.workflows.start_task("sleep_for", [30])
        await render.workflows.cancel_task_run(sleeper.id)
        after = await render.workflows.get_task_run(sleeper.id)
        assert status_of(after) == "canceled"


def test_sync_client_inside_a_running_event_loop(local_env: EngineProcess) -> None:
    async def handler() -> int:
        # A blocking client called from async code (as a sync framework handler would).
        with Render() as render:
            return int(render.workflows.run_task("square", [9]).result)

    assert asyncio.run(handler()) == 81


def test_results_are_always_wrapped(local_env: EngineProcess) -> None:
    with Render() as render:
        as_list = render.workflows.run_task("echo", [[5]])
        as_int = render.workflows.run_task("echo", [5])
        as_none = render.workflows.run_task("noop", [])
    assert as_list.results == [[5]]
    assert as_int.results == [5]
    assert as_none.results == [None]


def test_a_failed_runs_message_starts_with_the_exception_class(local_env: EngineProcess) -> None:
    with Render() as render, pytest.raises(TaskRunError) as caught:
        render.workflows.run_task("fail", ["boom: x"])
    assert caught.value.error == "ValueError: boom: x"
    assert caught.value.details.error == "ValueError: boom: x"


def test_input_json_cannot_carry_starts_no_run(local_env: EngineProcess) -> None:
    """A set or NaN in the input is the caller's error: raised before sending, no run made."""
    from render_sdk.client.errors import InputError

    with Render() as render:
        before = render.workflows.list_task_runs(ListTaskRunsParams(limit=100))
        for bad in ([{1, 2}], [float("nan")]):
            with pytest.raises(InputError, match=r"input_data\[0\] is .*Nothing was sent"):
                render.workflows.start_task("echo", bad)
        after = render.workflows.list_task_runs(ListTaskRunsParams(limit=100))
    assert [run.id for run in after] == [run.id for run in before]
