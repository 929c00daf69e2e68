"""Subtasks through /run-subtask and /get-subtask-result, long-poll and plain polling."""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from tests.worker._platform import RESTART, FakePlatform, Outcome, unb64
from tests.worker.conftest import run_worker


def _result(platform: FakePlatform) -> Any:
    [callback] = platform.calls("/callback")
    assert "complete" in callback.body, callback.body
    return unb64(callback.body["complete"]["output"])[0]


def _square(name: str, value: Any) -> Outcome:
    assert name == "square"
    return Outcome(value=value[0] ** 2)


def test_fan_out_of_fifty_subtasks_with_long_poll(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(value=value[0] ** 2, delay=0.2)
    platform.add_run("sum_squares", [50])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == sum(i * i for i in range(50))
    starts = platform.calls("/run-subtask")
    assert sorted(unb64(c.body["input"])[0] for c in starts) == list(range(50))
    for call in starts:
        assert call.body["task_name"] == "square"
        uuid.UUID(call.body["idempotency_key"])
        assert re.fullmatch(
            r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)", call.body["created_at"]
        )
        datetime.fromisoformat(call.body["created_at"].replace("Z", "+00:00"))
    assert len({c.body["idempotency_key"] for c in starts}) == 50
    polls = platform.calls("/get-subtask-result")
    # Each subtask is answered by one held request: the long-poll path never polls again.
    assert len(polls) == 50
    assert all(p.body["wait_ms"] > 0 for p in polls)


def test_plain_polling_when_the_platform_ignores_wait_ms(platform: FakePlatform) -> None:
    platform.long_poll = False
    platform.subtask = lambda name, value: Outcome(value=value[0] ** 2, polls_before=4)
    platform.add_run("sync_parent", [5])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == 26
    polls = platform.calls("/get-subtask-result")
    assert len(polls) == 5
    assert {p.body["task_run_id"] for p in polls} == {"trn-0001"}


def test_long_poll_answer_still_running_is_asked_again(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(value=1, polls_before=2)
    platform.add_run("sync_parent", [1])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == 2
    assert len(platform.calls("/get-subtask-result")) == 3


def test_subtask_failure_after_retries_is_catchable(platform: FakePlatform) -> None:
    platform.long_poll = False
    platform.subtask = lambda name, value: Outcome(error=f"{name} said {value[0]}", polls_before=3)
    platform.add_run("catch_failure", [4])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == "caught: fail said bad 4 from trn-0001"


def test_uncaught_subtask_failure_fails_the_parent(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(error="negative")
    platform.add_run("propagate_failure", [])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    [callback] = platform.calls("/callback")
    details = callback.body["error"]["details"]
    assert details == "SubtaskError: subtask 'square' (trn-0001) failed: negative"
    assert "SubtaskError" in callback.body["error"]["stack_trace"]


def test_run_subtask_retry_reuses_the_idempotency_key(platform: FakePlatform) -> None:
    platform.subtask = _square
    platform.faults["/run-subtask"] = [503, "drop"]
    platform.add_run("sync_parent", [3])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == 10
    starts = platform.calls("/run-subtask")
    assert len(starts) == 3
    assert len({c.body["idempotency_key"] for c in starts}) == 1
    assert len({c.body["created_at"] for c in starts}) == 1


def test_a_hundred_subtask_waits_are_in_flight_at_once(platform: FakePlatform) -> None:
    # No subtask ends until 100 long-polls are held together: the run can only finish if the
    # worker keeps all of them in flight at the same time.
    platform.gate_at = 100
    platform.subtask = lambda name, value: Outcome(value=value[0], gated=True)
    platform.add_run("sum_squares", [100])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert _result(platform) == sum(range(100))
    assert platform.max_held == 100
    assert len(platform.calls("/get-subtask-result")) == 100


def test_a_restart_while_waiting_for_a_subtask_does_not_lose_the_run(
    platform: FakePlatform,
) -> None:
    platform.subtask = _square
    platform.faults["/get-subtask-result"] = [RESTART]
    platform.add_run("sync_parent", [4])

    done = run_worker(platform, "run")

    assert done.returncode == 0, done.stderr
    assert platform.restarts == 1
    assert _result(platform) == 17
    assert len(platform.calls("/run-subtask")) == 1
    assert len(platform.calls("/get-subtask-result")) == 2


def test_worker_exits_after_a_failed_gather_with_waits_still_held(platform: FakePlatform) -> None:
    # The squares never end; the failure is answered only once all three long-polls are held,
    # so the squares' are still held when the failure ends the run, however slow the machine.
    platform.gate_at = 3
    platform.subtask = lambda name, value: (
        Outcome(error=value[0], gated=True) if name == "fail" else Outcome(delay=3600)
    )
    platform.add_run("gather_with_failure", [])

    done = run_worker(platform, "run", timeout=20)

    assert done.returncode == 0, done.stderr
    [callback] = platform.calls("/callback")
    assert re.fullmatch(
        r"SubtaskError: subtask 'fail' \(trn-\d{4}\) failed: first one failed",
        callback.body["error"]["details"],
    )
    assert platform.held >= 1  # still held (the double does not notice the worker is gone)
