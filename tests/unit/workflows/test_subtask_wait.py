"""The wait for a subtask's result: long-poll when offered, adaptive polling otherwise."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from render_sdk.workflows._context import AttemptFrame
from render_sdk.workflows._errors import CallbackAPIError
from render_sdk.workflows._pool import DaemonPool
from render_sdk.workflows._subtasks import call_subtask
from render_sdk.workflows._transport import CallbackClient
from tests.worker._platform import FakePlatform, Outcome, b64


class RecordingEvent(threading.Event):
    """An attempt's ``finished`` event that records each poll delay instead of waiting it."""

    def __init__(self) -> None:
        super().__init__()
        self.delays: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        assert timeout is not None
        self.delays.append(timeout)
        return self.is_set()


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.close()


def _frame(platform: FakePlatform) -> tuple[AttemptFrame, RecordingEvent]:
    event = RecordingEvent()
    client = CallbackClient(platform.socket_path, retry_seconds=5)
    return AttemptFrame(client, DaemonPool(), attempt_id="att", finished=event), event


def test_plain_polling_starts_at_5ms_and_doubles_up_to_1s(platform: FakePlatform) -> None:
    platform.long_poll = False
    platform.subtask = lambda name, value: Outcome(value="done", polls_before=11)
    frame, event = _frame(platform)

    assert call_subtask(frame, "slow", b64([1])) == "done"

    assert event.delays == [0.005, 0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.0, 1.0, 1.0]
    assert len(platform.calls("/get-subtask-result")) == 12
    frame.client.close()


def test_long_poll_answers_are_asked_again_without_waiting(platform: FakePlatform) -> None:
    platform.subtask = lambda name, value: Outcome(value="done", polls_before=3)
    frame, event = _frame(platform)

    assert call_subtask(frame, "slow", b64([1])) == "done"

    assert event.delays == []
    polls = platform.calls("/get-subtask-result")
    assert len(polls) == 4
    assert all(p.body["wait_ms"] == 25_000 for p in polls)
    assert all(p.header("Render-Attempt-Id") == "att" for p in polls)
    frame.client.close()


def test_a_finished_attempt_stops_waiting(platform: FakePlatform) -> None:
    platform.long_poll = False
    platform.subtask = lambda name, value: Outcome(value="done", polls_before=100)
    frame, event = _frame(platform)
    event.set()

    with pytest.raises(CallbackAPIError, match="the attempt is over"):
        call_subtask(frame, "slow", b64([1]))
    assert len(platform.calls("/get-subtask-result")) == 0
    frame.client.close()
