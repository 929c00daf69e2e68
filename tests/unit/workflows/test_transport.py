"""The stdlib socket transport and the daemon pool, in this process, against the double."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from render_sdk.workflows._errors import CallbackAPIError
from render_sdk.workflows._pool import DaemonPool
from render_sdk.workflows._transport import CallbackClient
from tests.worker._platform import FakePlatform


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.close()


def test_keep_alive_per_thread_and_reconnect_after_the_server_drops_it(
    platform: FakePlatform,
) -> None:
    client = CallbackClient(platform.socket_path, retry_seconds=5)
    for _ in range(3):
        client.call("POST", "/register-tasks", {"tasks": []})
    assert platform.connections == 1

    platform.drop_connections()
    client.call("POST", "/register-tasks", {"tasks": []})
    assert platform.connections == 2

    other = threading.Thread(target=client.call, args=("POST", "/register-tasks", {"tasks": []}))
    other.start()
    other.join()
    assert platform.connections == 3
    assert len(platform.calls("/register-tasks")) == 5
    client.close()


def test_retry_after_is_honoured_and_the_answer_returned(platform: FakePlatform) -> None:
    platform.faults["/register-tasks"] = [429, 503]
    client = CallbackClient(platform.socket_path, retry_seconds=10)

    answer = client.call("POST", "/register-tasks", {"tasks": []})

    assert answer.status == 200 and answer.json() == {}
    assert len(platform.calls("/register-tasks")) == 3
    client.close()


def test_an_aborted_attempt_stops_retrying(platform: FakePlatform) -> None:
    platform.faults["/run-subtask"] = [503] * 100
    abort = threading.Event()
    abort.set()
    client = CallbackClient(platform.socket_path, retry_seconds=60)

    with pytest.raises(CallbackAPIError, match="abandoned: the attempt is over"):
        client.call("POST", "/run-subtask", {}, abort=abort)
    assert len(platform.calls("/run-subtask")) == 1
    client.close()


def test_non_json_answers_are_reported(platform: FakePlatform) -> None:
    client = CallbackClient(platform.socket_path, retry_seconds=1)
    answer = client.call("GET", "/nowhere", accept=(404,))
    assert answer.json() == {"message": "no route /nowhere"}
    bad = type(answer)(200, {}, b"<html>")
    with pytest.raises(CallbackAPIError, match="body that is not JSON"):
        bad.json()
    client.close()


def test_daemon_pool_runs_many_blocking_calls_at_once() -> None:
    pool = DaemonPool(max_threads=120)
    gate = threading.Barrier(101)
    futures = [pool.submit(gate.wait, 30) for _ in range(100)]
    gate.wait(30)  # passes only when 100 pool threads are blocked in it at the same time
    assert sorted(f.result(30) for f in futures) == list(range(100))
    failing = pool.submit(int, "x")
    with pytest.raises(ValueError):
        failing.result(30)
