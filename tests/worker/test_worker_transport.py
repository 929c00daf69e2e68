"""Transport failures: retries across a restart of the socket server, and giving up."""

from __future__ import annotations

from tests.worker._platform import RESTART, FakePlatform, unb64
from tests.worker.conftest import run_worker


def test_callback_survives_a_restart_of_the_socket_server(platform: FakePlatform) -> None:
    platform.restart_pause = 0.5
    platform.faults["/callback"] = [RESTART]
    platform.add_run("square", [9])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert platform.restarts == 1
    first, second = platform.calls("/callback")
    assert first.body == second.body
    assert unb64(second.body["complete"]["output"]) == [81]


def test_transient_statuses_are_retried(platform: FakePlatform) -> None:
    platform.faults["/input"] = [500, 429, 503]
    platform.faults["/callback"] = [502]
    platform.add_run("square", [2])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert len(platform.calls("/input")) == 4
    assert len(platform.calls("/callback")) == 2


def test_gives_up_after_the_retry_budget_with_a_one_line_error(platform: FakePlatform) -> None:
    platform.faults["/input"] = [503] * 1000
    platform.add_run("square", [2])

    done = run_worker(platform, "run", RENDER_SDK_SOCKET_RETRY_SECONDS="0.3")

    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    [line] = done.stderr.strip().splitlines()
    assert line.startswith("render-workflows: error: GET /input")
    assert "HTTP 503" in line and "gave up" in line
    assert platform.calls("/callback") == []


def test_client_errors_are_not_retried(platform: FakePlatform) -> None:
    platform.faults["/input"] = [400]

    done = run_worker(platform, "run")

    assert done.returncode == 1
    assert len(platform.calls("/input")) == 1
    assert "refused with HTTP 400" in done.stderr
