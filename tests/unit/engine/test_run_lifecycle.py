"""The run and attempt state machine (render_sdk.engine.lifecycle), without processes or storage."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from render_sdk.engine import lifecycle
from render_sdk.engine.lifecycle import (
    ATTEMPT_TRANSITIONS,
    INTERRUPTED_ERROR,
    RUN_TRANSITIONS,
    AttemptEvent,
    Canceled,
    Completed,
    Crashed,
    Errored,
    IllegalTransition,
    Interrupted,
    Outcome,
    ReasonCode,
    RunEvent,
    TimedOut,
)
from render_sdk.engine.records import RetryOptions, RunRecord, RunStatus

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
EXPECTED_RUN_MOVES = {
    (RunStatus.PENDING, RunEvent.START): RunStatus.RUNNING,
    (RunStatus.PENDING, RunEvent.CANCEL): RunStatus.CANCELED,
    (RunStatus.PENDING, RunEvent.FAIL): RunStatus.FAILED,
    (RunStatus.RUNNING, RunEvent.SUCCEED): RunStatus.COMPLETED,
    (RunStatus.RUNNING, RunEvent.RETRY): RunStatus.PENDING,
    (RunStatus.RUNNING, RunEvent.FAIL): RunStatus.FAILED,
    (RunStatus.RUNNING, RunEvent.CANCEL): RunStatus.CANCELED,
    (RunStatus.RUNNING, RunEvent.INTERRUPT): RunStatus.PENDING,
}


def new_run() -> RunRecord:
    return RunRecord(
        id="trn-1",
        task_id="tsk-1",
        task_name="square",
        status=RunStatus.PENDING,
        input=[2],
        parent_id="",
        root_id="trn-1",
        created_at=T0,
    )


def started_run() -> RunRecord:
    rec = new_run()
    lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
    return rec


@pytest.mark.parametrize(("status", "event"), list(itertools.product(RunStatus, RunEvent)), ids=str)
def test_every_run_move_is_in_the_table_or_raises(status: RunStatus, event: RunEvent) -> None:
    expected = EXPECTED_RUN_MOVES.get((status, event))
    if expected is None:
        with pytest.raises(IllegalTransition, match=f"a {status.value} run cannot {event.value}"):
            lifecycle.next_run_status(status, event)
    else:
        assert lifecycle.next_run_status(status, event) is expected
    assert dict(RUN_TRANSITIONS) == EXPECTED_RUN_MOVES


@pytest.mark.parametrize(
    ("status", "event"), list(itertools.product(RunStatus, AttemptEvent)), ids=str
)
def test_every_attempt_move_is_in_the_table_or_raises(
    status: RunStatus, event: AttemptEvent
) -> None:
    if status is RunStatus.RUNNING:
        target = {"succeed": "completed", "fail": "failed", "cancel": "canceled"}[event.value]
        assert lifecycle.next_attempt_status(status, event).value == target
    else:
        with pytest.raises(IllegalTransition):
            lifecycle.next_attempt_status(status, event)
    assert all(source is RunStatus.RUNNING for source, _ in ATTEMPT_TRANSITIONS)


def test_terminal_states_have_no_way_out() -> None:
    for (source, _), target in RUN_TRANSITIONS.items():
        assert not source.terminal
        assert target is not None


def test_start_shows_the_attempt_and_keeps_the_first_start_time() -> None:
    rec = new_run()
    first = lifecycle.new_attempt(rec, T0)
    move = lifecycle.start(rec, first, T0)
    assert (move.source, move.target, move.reason.code) == (
        RunStatus.PENDING,
        RunStatus.RUNNING,
        ReasonCode.STARTED,
    )
    assert rec.attempts == [first] and first.number == 1 and rec.started_at == T0
    lifecycle.settle(rec, Crashed("gone"), T0, retry=RetryOptions(1, 10, 1.0))
    lifecycle.retry_wait(rec, lifecycle.reason_of(Crashed("gone")))
    later = T0 + timedelta(seconds=5)
    second = lifecycle.new_attempt(rec, later)
    lifecycle.start(rec, second, later)
    assert [a.number for a in rec.attempts] == [1, 2]
    assert rec.started_at == T0 and rec.retries == 1


def test_started_copy_leaves_the_record_alone() -> None:
    rec = new_run()
    attempt = lifecycle.new_attempt(rec, T0)
    copy = lifecycle.started_copy(rec, attempt, T0)
    assert copy.status is RunStatus.RUNNING and len(copy.attempts) == 1
    assert rec.status is RunStatus.PENDING and rec.attempts == [] and rec.started_at is None


def test_start_of_a_running_run_raises() -> None:
    rec = started_run()
    with pytest.raises(IllegalTransition, match="a running run cannot start"):
        lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)


@pytest.mark.parametrize(
    ("outcome", "code", "message"),
    [
        (Errored("boom"), ReasonCode.TASK_ERROR, "boom"),
        (Crashed("worker exited with code 3"), ReasonCode.CRASHED, "worker exited with code 3"),
        (TimedOut(1.5), ReasonCode.TIMED_OUT, "timed out after 1.5s"),
        (Interrupted(), ReasonCode.INTERRUPTED, INTERRUPTED_ERROR),
    ],
)
def test_a_failed_attempt_without_retries_fails_the_run(
    outcome: Outcome, code: ReasonCode, message: str
) -> None:
    rec = started_run()
    settled = lifecycle.settle(rec, outcome, T0, retry=None)
    assert settled.event is RunEvent.FAIL and settled.reason.code is code
    assert rec.attempts[0].status is RunStatus.FAILED and rec.attempts[0].error == message
    move = lifecycle.finish(rec, settled.event, settled.reason, T0, 7)
    assert (move.source, move.target) == (RunStatus.RUNNING, RunStatus.FAILED)
    assert rec.error == message and rec.event_seq == 7 and rec.results is None


def test_a_memory_error_names_the_plan() -> None:
    rec = started_run()
    settled = lifecycle.settle(rec, Errored("MemoryError: "), T0, retry=None, plan="starter")
    assert "starter" in settled.reason.message


def test_success_completes_attempt_and_run() -> None:
    rec = started_run()
    settled = lifecycle.settle(rec, Completed([4]), T0, retry=RetryOptions(3, 10, 2.0))
    assert settled.event is RunEvent.SUCCEED and settled.results == [4]
    lifecycle.finish(rec, settled.event, settled.reason, T0, 1, settled.results)
    assert rec.status is RunStatus.COMPLETED and rec.results == [4] and rec.error is None
    assert rec.attempts[0].status is RunStatus.COMPLETED and rec.attempts[0].results == [4]


def test_retries_wait_longer_each_time_then_fail() -> None:
    rec = started_run()
    policy = RetryOptions(max_retries=2, wait_duration_ms=100, factor=3.0)
    waits = []
    for _ in range(2):
        settled = lifecycle.settle(rec, Errored("again"), T0, retry=policy)
        assert settled.event is RunEvent.RETRY
        waits.append(settled.retry_after)
        lifecycle.retry_wait(rec, settled.reason)
        assert rec.status is RunStatus.PENDING
        lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
    assert waits == [pytest.approx(0.1), pytest.approx(0.3)]
    settled = lifecycle.settle(rec, Errored("again"), T0, retry=policy)
    assert settled.event is RunEvent.FAIL and rec.retries == 2


def test_no_retry_while_the_engine_stops() -> None:
    rec = started_run()
    settled = lifecycle.settle(
        rec, Crashed("x"), T0, retry=RetryOptions(5, 10, 1.0), may_retry=False
    )
    assert settled.event is RunEvent.FAIL


@pytest.mark.parametrize("outcome", [Canceled(), Errored("killed"), Crashed("killed")])
def test_a_canceled_run_ends_canceled_whatever_its_attempt_said(outcome: Outcome) -> None:
    rec = started_run()
    reason = lifecycle.ancestor_canceled("trn-0")
    settled = lifecycle.settle(
        rec, outcome, T0, retry=RetryOptions(5, 10, 1.0), cancel_reason=reason
    )
    assert settled.event is RunEvent.CANCEL and settled.reason is reason
    assert rec.attempts[0].status is RunStatus.CANCELED and rec.attempts[0].error == "canceled"
    lifecycle.finish(rec, settled.event, settled.reason, T0, 3)
    assert rec.error == "canceled: ancestor run trn-0 was canceled"


def test_finish_refuses_a_non_terminal_event_and_a_second_end() -> None:
    rec = started_run()
    with pytest.raises(IllegalTransition, match="does not end"):
        lifecycle.finish(rec, RunEvent.RETRY, lifecycle.INTERRUPTED, T0, 1)
    with pytest.raises(IllegalTransition, match="cannot end while its attempt is running"):
        lifecycle.finish(rec, RunEvent.CANCEL, lifecycle.CANCELED_BY_REQUEST, T0, 1)
    lifecycle.settle(rec, Canceled(), T0, retry=None)
    lifecycle.finish(rec, RunEvent.CANCEL, lifecycle.CANCELED_BY_REQUEST, T0, 1)
    with pytest.raises(IllegalTransition, match="a canceled run cannot succeed"):
        lifecycle.finish(rec, RunEvent.SUCCEED, lifecycle.SUCCEEDED, T0, 2)
    with pytest.raises(IllegalTransition, match="a canceled attempt cannot fail"):
        lifecycle.end_attempt(rec.attempts[0], Crashed("x"), lifecycle.INTERRUPTED, T0)


def test_interrupt_requeues_a_running_run() -> None:
    rec = started_run()
    assert lifecycle.interrupt(rec, T0)
    assert rec.status is RunStatus.PENDING
    assert rec.attempts[0].status is RunStatus.FAILED
    assert rec.attempts[0].error == INTERRUPTED_ERROR
    assert not lifecycle.interrupt(rec, T0)  # nothing left to interrupt
    assert not lifecycle.interrupt(new_run(), T0)


OUTCOMES = st.one_of(
    st.builds(Completed, st.lists(st.integers(), max_size=2)),
    st.builds(Errored, st.text(max_size=5)),
    st.builds(Crashed, st.text(max_size=5)),
    st.builds(TimedOut, st.floats(0.1, 10)),
    st.just(Canceled()),
    st.just(Interrupted()),
)
STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("start"), st.none()),
        st.tuples(st.just("outcome"), OUTCOMES),
        st.tuples(st.just("cancel"), st.none()),
        st.tuples(st.just("restart"), st.none()),
    ),
    max_size=30,
)


@settings(max_examples=300, deadline=None)
@given(steps=STEPS, max_retries=st.integers(0, 3))
def test_any_sequence_of_events_keeps_the_invariants(
    steps: list[tuple[str, Outcome | None]], max_retries: int
) -> None:
    """Drive a run the way the scheduler does, with events in any order: every move is either
    in the table or refused, and a run's record always tells one consistent story."""
    policy = RetryOptions(max_retries, 10, 2.0)
    rec = new_run()
    seq = 0
    for kind, outcome in steps:
        before = rec.status
        try:
            if kind == "start":
                lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
            elif kind == "cancel":
                seq += 1
                if rec.status is RunStatus.RUNNING:
                    lifecycle.settle(rec, Canceled(), T0, retry=policy)
                lifecycle.finish(rec, RunEvent.CANCEL, lifecycle.CANCELED_BY_REQUEST, T0, seq)
            elif kind == "restart":
                lifecycle.interrupt(rec, T0)
            else:
                assert outcome is not None
                if rec.status is not RunStatus.RUNNING:
                    raise IllegalTransition("no attempt is running")
                settled = lifecycle.settle(rec, outcome, T0, retry=policy)
                if settled.event is RunEvent.RETRY:
                    lifecycle.retry_wait(rec, settled.reason)
                else:
                    seq += 1
                    lifecycle.finish(rec, settled.event, settled.reason, T0, seq, settled.results)
        except IllegalTransition:
            assert rec.status is before  # a refused move changes nothing about the run
            if kind == "start":
                assert before is not RunStatus.PENDING
            continue
        # One attempt at most runs, and only while the run runs.
        running = [a for a in rec.attempts if a.status is RunStatus.RUNNING]
        assert len(running) == (1 if rec.status is RunStatus.RUNNING else 0)
        assert [a.number for a in rec.attempts] == list(range(1, len(rec.attempts) + 1))
        assert rec.retries <= max_retries
        if rec.status.terminal:
            assert rec.event_seq is not None and rec.completed_at is not None
            assert (rec.status is RunStatus.COMPLETED) == (rec.error is None)
        if rec.attempts:
            assert rec.started_at is not None
        if before.terminal:
            assert rec.status is before, f"a {before.value} run moved to {rec.status.value}"
