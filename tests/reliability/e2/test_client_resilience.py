"""Client resilience against a real engine that restarts, drops connections or is throttled.

The engine is a real ``render-workflows dev`` process; faults in between come from a tiny real
HTTP server (``_faulty_front.FaultyFront``) that relays to it and answers scripted 429/503s or
drops connections. Nothing here is mocked: the client meets real sockets.
"""

from __future__ import annotations

import asyncio
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from render_sdk import Render, RenderAsync
from render_sdk.client.errors import RateLimitError, ServerError
from render_sdk.engine._held import HEADERS_WITHIN
from tests.e2e._engine import EngineProcess, free_port
from tests.e2e._helpers import SUCCESS
from tests.e2e._helpers import status_of as status
from tests.reliability.e2._faulty_front import Fault, FaultyFront


@pytest.fixture(autouse=True)
def _no_local_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """The clients here are pointed with base_url=, so no environment variable may win."""
    for name in ("RENDER_LOCAL_DEV_URL", "RENDER_USE_LOCAL_DEV", "RENDER_API_KEY"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def shared_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EngineProcess]:
    tmp = tmp_path_factory.mktemp("resilience")
    proc = EngineProcess(tmp / "workflows.db", ["e2e_app:app"], tmp / "engine.log")
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture
def front(shared_engine: EngineProcess) -> Iterator[FaultyFront]:
    with FaultyFront(shared_engine.base_url) as proxy:
        yield proxy


def wait_running(render: Render, run_id: str) -> None:
    """Wait until the engine reports the run running (its worker has it)."""
    events = threading.Event()
    for attempt in range(400):
        if status(render.workflows.get_task_run(run_id)) == "running":
            return
        events.wait(0.025 * min(attempt + 1, 8))
    raise AssertionError(f"run {run_id} never started")


def runs_with_input(render: Render, marker: str) -> list[str]:
    """Ids of the runs of ``echo`` whose input is ``[marker]``."""
    from render_sdk.client.types import ListTaskRunsParams

    page = render.workflows.list_task_runs(ListTaskRunsParams(limit=100, task_slug="echo"))
    return [run.id for run in page if render.workflows.get_task_run(run.id).input == [marker]]


# --- engine restarted in the middle ------------------------------------------------------------

# Seconds the engine stays down before it is started again (its start-up comes on top).
OUTAGE = 3.0


@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
@pytest.mark.usefixtures("cpu_hogs")
def test_run_task_survives_an_engine_restart(own_engine: EngineProcess, how: str) -> None:
    """run_task (a root with two sleeping subtasks) and task_run_events wait across a restart."""
    from render_sdk.client.types import ListTaskRunsParams

    own_engine.start()
    with Render(base_url=own_engine.base_url) as render:
        run = render.workflows.start_task("sleep_for", [2.0])
        outcome: dict[str, Any] = {}

        def run_tree() -> None:
            try:
                outcome["tree"] = render.workflows.run_task("sleepy_tree", [2, 1.0])
            except BaseException as exc:
                outcome["tree error"] = exc

        def watch() -> None:
            try:
                outcome["events"] = list(render.workflows.task_run_events([run.id]))
            except BaseException as exc:
                outcome["events error"] = exc

        threads = [threading.Thread(target=run_tree), threading.Thread(target=watch)]
        for thread in threads:
            thread.start()
        # Kill only once run_task's start was answered and the whole tree is running.
        pause = threading.Event()
        for _ in range(800):
            page = render.workflows.list_task_runs(ListTaskRunsParams(limit=10))
            running = [r for r in page if status(r) == "running"]
            if len(running) >= 3:  # the tree at least (the lone sleeper most likely too)
                break
            pause.wait(0.025)
        else:
            raise AssertionError("the runs never all started")
        # run_task's start answer: its head (naming the run) goes out HEADERS_WITHIN after the
        # start; the body waits for the run. A kill before the head would lose the answer, as
        # for any start whose answer is lost.
        pause.wait(HEADERS_WITHIN * 2)
        if how == "SIGKILL":
            own_engine.kill()
        else:
            assert own_engine.stop(signal.SIGTERM) == 0
        pause.wait(OUTAGE)  # the engine stays down a while, then takes its own time to start
        own_engine.start()
        for thread in threads:
            thread.join(120)
            assert not thread.is_alive()
    assert "tree error" not in outcome and "events error" not in outcome, outcome
    assert status(outcome["tree"]) in SUCCESS and outcome["tree"].result == [1.0, 1.0]
    [first] = outcome["events"]
    assert first.id == run.id and status(first) in SUCCESS and first.result == 2.0


@pytest.mark.usefixtures("cpu_hogs")
async def test_async_run_task_and_events_survive_an_engine_restart(
    own_engine: EngineProcess,
) -> None:
    own_engine.start()
    async with RenderAsync(base_url=own_engine.base_url) as render:
        runs = [await render.workflows.start_task("sleep_for", [0.5 + i / 10]) for i in range(3)]
        events = render.workflows.task_run_events([run.id for run in runs])
        own_engine.kill()
        await asyncio.sleep(OUTAGE)
        own_engine.start()
        seen = [details async for details in events]
    assert sorted(d.id for d in seen) == sorted(r.id for r in runs)
    assert all(status(d) in SUCCESS for d in seen)
    assert sorted(d.result for d in seen) == [0.5, 0.6, 0.7]


# --- briefly unreachable / throttled -------------------------------------------------------------


def test_event_stream_dropped_and_refused_then_served(front: FaultyFront) -> None:
    events = "/v1/task-runs/events"
    front.fail("GET", events, Fault(None), Fault(503), Fault(None))
    with Render(base_url=front.base_url) as render:
        details = render.workflows.run_task("square", [12])
    assert status(details) in SUCCESS and details.result == 144
    assert [s.status for s in front.requests("GET", events)] == [None, 503, None, 200]


def test_stream_that_was_healthy_gets_more_patience(front: FaultyFront) -> None:
    """After a healthy stream drops, reconnection failures in a row are retried for the
    reconnect patience, not max_retries: a restarting server is waited for."""
    events = "/v1/task-runs/events"
    healthy = Fault(200, {"Content-Type": "text/event-stream"}, body=b"retry: 10\n\n: ping\n\n")
    front.fail("GET", events, healthy, *[Fault(None)] * 4)
    with Render(base_url=front.base_url, max_retries=2) as render:
        details = render.workflows.run_task("square", [9])
    assert details.result == 81
    assert [s.status for s in front.requests("GET", events)] == [200, *[None] * 4, 200]


def test_429_with_retry_after_then_503_are_retried(front: FaultyFront) -> None:
    with Render(base_url=front.base_url) as render:
        run = render.workflows.start_task("square", [5])
        path = f"/v1/task-runs/{run.id}"
        front.fail("GET", path, Fault(429, {"Retry-After": "1"}), Fault(503))
        details = render.workflows.get_task_run(run.id)
    assert details.id == run.id
    seen = front.requests("GET", path)
    assert [s.status for s in seen] == [429, 503, 200]
    assert seen[1].at - seen[0].at >= 1.0  # the client waited as long as Retry-After said


def test_429_beyond_max_retries_raises_rate_limit_error(front: FaultyFront) -> None:
    with Render(base_url=front.base_url, max_retries=1) as render:
        front.fail("GET", "/v1/tasks", *[Fault(429, {"Retry-After": "0"})] * 2)
        with pytest.raises(RateLimitError) as caught:
            render.workflows.list_tasks()
    assert caught.value.status_code == 429 and caught.value.retry_after == 0
    assert len(front.requests("GET", "/v1/tasks")) == 2


async def test_async_client_retries_429_and_503(front: FaultyFront) -> None:
    async with RenderAsync(base_url=front.base_url) as render:
        run = await render.workflows.start_task("square", [6])
        path = f"/v1/task-runs/{run.id}"
        front.fail("GET", path, Fault(503), Fault(429, {"Retry-After": "1"}))
        details = await render.workflows.get_task_run(run.id)
    assert details.id == run.id
    seen = front.requests("GET", path)
    assert [s.status for s in seen] == [503, 429, 200]
    assert seen[2].at - seen[1].at >= 1.0


# --- starts are never silently duplicated -----------------------------------------------------


@pytest.mark.parametrize("fault", [Fault(503, forward=True), Fault(None, forward=True)])
def test_failed_start_without_key_is_not_retried(front: FaultyFront, fault: Fault) -> None:
    """The engine created the run but the answer was lost: the client says so, once."""
    marker = f"no-key-{uuid.uuid4()}"
    front.fail("POST", "/v1/task-runs", fault)
    with Render(base_url=front.base_url) as render:
        with pytest.raises(ServerError) as caught:
            render.workflows.start_task("echo", [marker])
        assert len(front.requests("POST", "/v1/task-runs")) == 1
        assert len(runs_with_input(render, marker)) == 1
    assert caught.value.status_code == fault.status


def test_failed_start_with_key_is_retried_and_not_duplicated(front: FaultyFront) -> None:
    marker = f"with-key-{uuid.uuid4()}"
    front.fail("POST", "/v1/task-runs", Fault(503, forward=True), Fault(None, forward=True))
    with Render(base_url=front.base_url) as render:
        run = render.workflows.start_task("echo", [marker], idempotency_key=marker)
        assert runs_with_input(render, marker) == [run.id]
    assert [s.status for s in front.requests("POST", "/v1/task-runs")] == [503, None, 202]


# --- engine down ---------------------------------------------------------------------------------

# Far longer than a client pointed at nothing may take with max_retries=1 (one backoff of at most
# half a second, plus connection attempts): a bound that holds on any machine, and that reconnect
# patience (60 s here) or a loopback rule would break.
NOTHING_THERE_WITHIN = 15.0


@pytest.mark.usefixtures("cpu_hogs")
def test_engine_down_says_so_plainly() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    with Render(base_url=url, max_retries=1, reconnect_patience=60) as render:
        for call in (
            lambda: render.workflows.start_task("square", [1]),
            lambda: render.workflows.get_task_run("trn-x"),
            lambda: render.workflows.run_task("square", [1]),
            lambda: list(render.workflows.task_run_events(["trn-x"])),
        ):
            started = time.monotonic()
            with pytest.raises(ServerError) as caught:
                call()
            assert time.monotonic() - started < NOTHING_THERE_WITHIN
            message = str(caught.value)
            assert f"could not connect to the Render API at {url}/v1" in message, message
            assert "refused" in message.lower(), message


@pytest.mark.usefixtures("cpu_hogs")
async def test_engine_down_says_so_plainly_async() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    async with RenderAsync(base_url=url, max_retries=1, reconnect_patience=60) as render:

        async def events() -> None:
            async for _ in render.workflows.task_run_events(["trn-x"]):
                pass

        for call in (
            lambda: render.workflows.start_task("square", [1]),
            lambda: render.workflows.get_task_run("trn-x"),
            lambda: render.workflows.run_task("square", [1]),
            events,
        ):
            started = time.monotonic()
            with pytest.raises(ServerError) as caught:
                await call()
            assert time.monotonic() - started < NOTHING_THERE_WITHIN
            assert f"could not connect to the Render API at {url}/v1" in str(caught.value)
