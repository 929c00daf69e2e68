"""Why runs and attempts are where they are, in the words the pages, ``render-workflows runs``
and the console share: made from the reasons the lifecycle records, never from error text."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from render_sdk.engine import lifecycle
from render_sdk.engine.lifecycle import (
    Canceled,
    Completed,
    Crashed,
    Errored,
    Outcome,
    RunEvent,
    TimedOut,
)
from render_sdk.engine.reasons import (
    attempt_reason,
    console_line,
    describe,
    format_ms,
    run_reason,
    run_summary,
)
from render_sdk.engine.records import AttemptRecord, ReasonCode, RetryOptions, RunRecord, RunStatus

T0 = datetime(2026, 1, 2, tzinfo=timezone.utc)
T1 = T0 + timedelta(seconds=2)
CRASH = "worker process ended without a callback (exit status 3); last lines of stderr:\nboom"


def fresh(parent: str = "") -> RunRecord:
    return RunRecord(
        id="trn-1",
        task_name="square",
        task_id="tsk-1",
        status=RunStatus.PENDING,
        input=[],
        parent_id=parent,
        root_id=parent or "trn-1",
        created_at=T0,
    )


def through(
    rec: RunRecord, outcomes: list[Outcome], retries: int = 0, cancel: str | None = None
) -> RunRecord:
    """Drive ``rec`` through one attempt per outcome, as the scheduler does."""
    retry = RetryOptions(retries, 200, 2.0) if retries else None
    for outcome in outcomes:
        lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
        why = lifecycle.ancestor_canceled(cancel) if cancel else None
        settled = lifecycle.settle(rec, outcome, T1, retry=retry, cancel_reason=why)
        if settled.event is RunEvent.RETRY:
            lifecycle.retry_wait(rec, settled.reason)
        else:
            lifecycle.finish(rec, settled.event, settled.reason, T1, 1, settled.results)
    return rec


def test_a_retry_after_a_timeout_says_so_with_its_wait() -> None:
    rec = through(fresh(), [TimedOut(2.0)], retries=2)
    assert (rec.reason, rec.reason_detail) == (ReasonCode.TIMED_OUT, "2s")
    assert console_line(rec, retry_in=0.2) == (
        "square trn-1 pending: attempt 1 timed out after 2s; retry 1 in 200.0 ms"
    )
    assert run_summary(rec) == "pending: attempt 1 timed out after 2s; retry 1 queued"
    lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
    assert console_line(rec) == "square trn-1 running (attempt 2)"


def test_a_crash_names_its_exit_status_and_keeps_the_error_as_detail() -> None:
    crash = Crashed(CRASH, exit="exit status 3")
    rec = through(fresh(), [crash, crash], retries=1)
    assert console_line(rec) == "square trn-1 failed in 2.00 s: crashed (exit status 3) (attempt 2)"
    why = attempt_reason(rec.attempts[0])
    assert (why.kind, why.label, why.detail) == ("crashed", "crashed (exit status 3)", CRASH)
    assert run_summary(rec) == "failed in 2.00 s: crashed (exit status 3)"
    never = through(fresh(), [Crashed("worker process could not start: ENOENT")])
    assert run_reason(never).label == "crashed (did not start)"


def test_a_task_error_shows_the_line_that_names_it() -> None:
    rec = through(fresh(), [Errored("Traceback (most recent call last):\n  ...\nValueError: bad")])
    assert console_line(rec) == "square trn-1 failed in 2.00 s: ValueError: bad"
    assert attempt_reason(rec.attempts[0]).kind == "failed"


@pytest.mark.parametrize(
    "details",
    [
        "timed out after 2s",
        "worker process ended without a callback (exit status 9)",
        "interrupted: the engine stopped while this attempt was running",
    ],
)
def test_an_error_message_that_reads_like_another_reason_is_just_a_task_error(
    details: str,
) -> None:
    """The reason is the lifecycle's, whatever the task's exception says."""
    rec = through(fresh(), [Errored(details)])
    why = attempt_reason(rec.attempts[0])
    assert (why.kind, why.label) == ("failed", f"failed: {details}")
    assert run_reason(rec).kind == "failed"


def test_an_interrupted_attempt_resumes() -> None:
    rec = fresh()
    lifecycle.start(rec, lifecycle.new_attempt(rec, T0), T0)
    assert lifecycle.interrupt(rec, T1)
    assert rec.reason is ReasonCode.INTERRUPTED
    assert console_line(rec) == (
        "square trn-1 pending: attempt 1 interrupted by an engine restart; resuming"
    )
    assert attempt_reason(rec.attempts[0]).label == "interrupted by an engine restart"


def test_cancels_say_by_whom() -> None:
    below = through(fresh(parent="trn-0"), [Canceled()], cancel="trn-0")
    assert console_line(below) == (
        "square trn-1 (subtask of trn-0) canceled in 2.00 s: ancestor run trn-0 was canceled"
    )
    assert attempt_reason(below.attempts[0]).label == "canceled: ancestor run trn-0 was canceled"
    mine = through(fresh(), [Canceled()])
    assert console_line(mine) == "square trn-1 canceled in 2.00 s"
    assert run_summary(mine) == "canceled in 2.00 s"


def test_a_run_whose_task_is_gone_says_which() -> None:
    rec = fresh()
    lifecycle.finish(rec, RunEvent.FAIL, lifecycle.task_gone("square"), T1, 1)
    assert run_summary(rec) == "failed: task 'square' is no longer registered by the worker"


def test_completed_and_running() -> None:
    rec = through(fresh(), [Completed([4])])
    assert console_line(rec) == "square trn-1 completed in 2.00 s"
    assert attempt_reason(rec.attempts[0]).label == "completed"
    assert console_line(fresh()) == "square trn-1 pending"


def test_records_from_before_reasons_were_kept_say_what_their_status_and_error_say() -> None:
    old = fresh()
    old.status = RunStatus.FAILED
    old.attempts = [AttemptRecord(1, RunStatus.FAILED, T0, T1, error=CRASH)]
    assert run_reason(old).label == "failed: boom"
    assert describe("canceled", None, None, "canceled: by hand").detail == "canceled: by hand"
    assert describe("failed", None, None, None).label == "failed"
    assert describe("failed", "from_a_newer_engine", "x", "oops").label == "failed: oops"


def test_format_ms() -> None:
    assert [format_ms(x) for x in (None, 0.04, 999.9, 1000, 59_999, 3_600_000)] == [
        "",
        "0.0 ms",
        "999.9 ms",
        "1.00 s",
        "60.00 s",
        "1 h 0 min",
    ]
