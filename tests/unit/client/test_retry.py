"""The one retry policy: what is retried, how long it waits, and no blind POST retries."""

from __future__ import annotations

import json

import httpx
import pytest

from render_sdk.client import Render, RenderAsync
from render_sdk.client import _constants as C
from render_sdk.client._retry import Retries, RetryPolicy, poll_delay
from render_sdk.client.errors import ClientError, RateLimitError, ServerError, TimeoutError

from .conftest import BASE, FakeAPI, details_payload, error_response, run_payload


def test_backoff_is_exponential_capped_and_jittered() -> None:
    policy = RetryPolicy(initial=1.0, maximum=4.0)
    for attempt, ceiling in [(0, 1.0), (1, 2.0), (2, 4.0), (3, 4.0), (50, 4.0)]:
        delays = {policy.backoff(attempt) for _ in range(50)}
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert len(delays) > 1  # jittered


def test_what_is_retryable() -> None:
    policy = RetryPolicy()
    assert policy.retryable(ServerError("unreachable"))  # no status: connection failure
    for status in (500, 502, 503, 504):
        assert policy.retryable(ServerError("x", status_code=status))
    assert not policy.retryable(ServerError("x", status_code=501))
    assert policy.retryable(RateLimitError("x", status_code=429))
    assert not policy.retryable(ClientError("x", status_code=404))
    assert not policy.retryable(TimeoutError("x"))


def test_retry_after_is_honoured_and_capped() -> None:
    policy = RetryPolicy(retry_after_max=10.0)
    assert policy.delay(0, RateLimitError("x", retry_after=3.0)) == 3.0
    assert policy.delay(0, RateLimitError("x", retry_after=3600.0)) == 10.0


def test_retries_run_out() -> None:
    policy = RetryPolicy(max_retries=2)
    error = ServerError("x", status_code=503)
    assert policy.delay(1, error) is not None
    assert policy.delay(2, error) is None


def test_poll_delay_grows_to_its_cap() -> None:
    assert poll_delay(0) <= C.POLL_INITIAL
    assert C.POLL_MAX / 2 <= poll_delay(40) <= C.POLL_MAX


def test_get_retries_5xx_then_succeeds(
    fake: FakeAPI, render: Render, instant_sleep: list[float]
) -> None:
    fake.on(
        "GET",
        "/task-runs/trn-1",
        error_response(503),
        error_response(502),
        httpx.Response(200, json=details_payload()),
    )
    assert render.workflows.get_task_run("trn-1").result == 9
    assert len(fake.requests) == 3
    assert len(instant_sleep) == 2


def test_rate_limit_waits_retry_after(
    fake: FakeAPI, render: Render, instant_sleep: list[float]
) -> None:
    fake.on(
        "GET",
        "/task-runs",
        error_response(429, headers={"Retry-After": "2"}),
        httpx.Response(200, json=[]),
    )
    assert render.workflows.list_task_runs() == []
    assert instant_sleep == [2.0]


def test_retry_after_is_capped(fake: FakeAPI, render: Render, instant_sleep: list[float]) -> None:
    fake.on(
        "GET",
        "/tasks",
        error_response(429, headers={"Retry-After": "100000"}),
        httpx.Response(200, json=[]),
    )
    render.workflows.list_tasks()
    assert instant_sleep == [C.RETRY_AFTER_MAX]


def test_gives_up_after_max_retries(fake: FakeAPI, instant_sleep: list[float]) -> None:
    fake.on("GET", "/task-runs/trn-1", error_response(500, "down"))
    with Render(base_url=BASE, max_retries=2, transport=httpx.MockTransport(fake)) as render:
        with pytest.raises(ServerError, match="down"):
            render.workflows.get_task_run("trn-1")
    assert len(fake.requests) == 3


def test_connection_errors_are_retried_for_delete(fake: FakeAPI, render: Render) -> None:
    fake.on("DELETE", "/task-runs/trn-1", httpx.ConnectError("refused"), httpx.Response(204))
    assert render.workflows.cancel_task_run("trn-1") is None
    assert len(fake.requests) == 2


def test_client_errors_are_not_retried(fake: FakeAPI, render: Render) -> None:
    fake.on("GET", "/task-runs/trn-1", error_response(404))
    with pytest.raises(ClientError):
        render.workflows.get_task_run("trn-1")
    assert len(fake.requests) == 1


@pytest.mark.parametrize(
    "failure", [error_response(503), httpx.ConnectError("refused"), httpx.ReadError("reset")]
)
def test_start_task_without_key_is_never_retried(
    fake: FakeAPI, render: Render, failure: object
) -> None:
    fake.on("POST", "/task-runs", failure, httpx.Response(202, json=run_payload()))  # type: ignore[arg-type]
    with pytest.raises(ServerError):
        render.workflows.start_task("wf/square", [3])
    assert len(fake.requests) == 1


def test_start_task_with_key_is_retried_with_the_same_key(fake: FakeAPI, render: Render) -> None:
    fake.on(
        "POST",
        "/task-runs",
        httpx.ReadError("reset"),
        error_response(503),
        httpx.Response(202, json=run_payload("trn-7")),
    )
    run = render.workflows.start_task("wf/square", [3], idempotency_key="key-1")
    assert run.id == "trn-7"
    assert [json.loads(r.content)["idempotencyKey"] for r in fake.requests] == ["key-1"] * 3


async def test_async_retries_the_same_way(
    fake: FakeAPI, render_async: RenderAsync, instant_sleep: list[float]
) -> None:
    fake.on(
        "GET",
        "/task-runs/trn-1",
        error_response(429, headers={"Retry-After": "1"}),
        httpx.Response(200, json=details_payload()),
    )
    details = await render_async.workflows.get_task_run("trn-1")
    assert details.id == "trn-1"
    assert instant_sleep == [1.0]
    fake.on("POST", "/task-runs", error_response(503), httpx.Response(202, json=run_payload()))
    with pytest.raises(ServerError):
        await render_async.workflows.start_task("wf/square")
    assert len(fake.calls("POST", "/task-runs")) == 1


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_before_the_server_is_reached_max_retries_governs_even_a_wait() -> None:
    """A client pointed at nothing gives up after max_retries, reconnect patience or not."""
    clock = FakeClock()
    retries = Retries(RetryPolicy(max_retries=1), reconnect=True, clock=clock)
    refused = ServerError("could not connect")
    assert retries.delay(refused) is not None
    assert retries.delay(refused) is None


def test_once_the_server_was_reached_a_wait_reconnects_for_its_patience() -> None:
    clock = FakeClock()
    policy = RetryPolicy(max_retries=1, reconnect_patience=5.0)
    retries = Retries(policy, reconnect=True, reached=True, clock=clock)
    down = ServerError("could not connect")
    delays = []
    while (delay := retries.delay(down)) is not None:
        assert 0 < delay <= C.RECONNECT_MAX
        delays.append(delay)
        clock.now += delay
    assert len(delays) > policy.max_retries  # patience, not the retry count
    assert 5.0 - C.RECONNECT_MAX <= clock.now <= 5.0
    message = str(retries.gave_up(down))
    assert "could not connect" in message and "reconnect_patience" in message


def test_a_connection_lost_midway_switches_to_patience() -> None:
    clock = FakeClock()
    retries = Retries(
        RetryPolicy(max_retries=0, reconnect_patience=3.0), reconnect=True, clock=clock
    )
    lost = ServerError("lost the connection")
    assert retries.delay(lost, reached=True) is not None
    clock.now += 1.0
    # the engine is restarting: refused connections are waited out too
    assert retries.delay(ServerError("could not connect")) is not None
    clock.now += 2.5
    assert retries.delay(ServerError("could not connect")) is None


def test_a_plain_request_never_uses_the_patience() -> None:
    retries = Retries(RetryPolicy(max_retries=0, reconnect_patience=60.0), clock=FakeClock())
    assert retries.delay(ServerError("lost"), reached=True) is None


def test_patience_is_measured_from_each_loss() -> None:
    clock = FakeClock()
    retries = Retries(
        RetryPolicy(reconnect_patience=2.0), reconnect=True, reached=True, clock=clock
    )
    assert retries.delay(ServerError("down")) is not None
    clock.now += 1.5
    retries.reached_server()  # the stream was healthy again
    clock.now += 1.5
    assert retries.delay(ServerError("down")) is not None
    assert "reconnect_patience" not in str(Retries(RetryPolicy()).gave_up(ServerError("x")))


def test_refusals_are_never_retried_and_disabled_retries_retry_nothing() -> None:
    retries = Retries(RetryPolicy(), reconnect=True, reached=True, clock=FakeClock())
    assert retries.delay(ClientError("no", status_code=404)) is None
    assert Retries(RetryPolicy(), enabled=False).delay(ServerError("down")) is None


@pytest.mark.parametrize("bad", [-1, "5", True, float("nan")])
def test_reconnect_patience_is_checked(bad: object) -> None:
    from render_sdk.client.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="reconnect_patience"):
        Render(base_url=BASE, reconnect_patience=bad)  # type: ignore[arg-type]
