"""Every state a run and its attempts can be in, and every way they move, in one place.

A run's status is one of :class:`~render_sdk.engine.records.RunStatus`: ``pending`` (queued,
or waiting for a retry), ``running`` (an attempt is on a worker; it may be waiting for a subtask,
then it holds no concurrency slot), and the terminal ``completed``, ``failed`` and ``canceled``
(docs/engine.md, "Run states"). A run moves only through :data:`RUN_TRANSITIONS`, an attempt only
through :data:`ATTEMPT_TRANSITIONS`; anything else raises :class:`IllegalTransition`.

Each move carries a :class:`Reason`: a stable code, the sentence that becomes the run's or
attempt's ``error``, and the one fact its label names (``detail``). The code and the detail are
kept with the run and its attempts (``RunRecord.reason``, ``AttemptRecord.reason``), so the
console, the pages and ``render-workflows runs`` say why from them (engine/reasons.py).

The functions here do no I/O and read no clock (the caller passes ``now``): the scheduler does
the timing and the writes around them.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from render_sdk.engine._limits import explain_memory_error
from render_sdk.engine.records import (
    AttemptRecord,
    ReasonCode,
    RetryOptions,
    RunRecord,
    RunStatus,
)

__all__ = ["ReasonCode"]  # defined with the records that keep it; moves use it from here

PENDING, RUNNING = RunStatus.PENDING, RunStatus.RUNNING
COMPLETED, FAILED, CANCELED = RunStatus.COMPLETED, RunStatus.FAILED, RunStatus.CANCELED


# --- how an attempt ended -------------------------------------------------------------------
@dataclass(frozen=True)
class Completed:
    """The worker reported success; ``results`` is the output array."""

    results: list[Any]


@dataclass(frozen=True)
class Errored:
    """The worker reported that the task raised."""

    details: str
    stack_trace: str | None = None


@dataclass(frozen=True)
class Crashed:
    """The process ended (or could not start) without a callback; ``exit`` says how it
    ended (``"exit status 3"``, ``"signal SIGKILL"``), None when it never started."""

    message: str
    exit: str | None = None


@dataclass(frozen=True)
class TimedOut:
    """The attempt ran past the task's ``timeout_seconds`` and was stopped."""

    seconds: float


@dataclass(frozen=True)
class Canceled:
    """The run (or an ancestor) was canceled."""


@dataclass(frozen=True)
class Interrupted:
    """The engine is stopping; the attempt stays ``running`` on disk and runs again at start."""


Outcome = Completed | Errored | Crashed | TimedOut | Canceled | Interrupted


# --- why something moved ----------------------------------------------------------------------
@dataclass(frozen=True)
class Reason:
    """``code``: why; ``message``: the sentence that becomes the ``error``; ``detail``: the
    fact a label names (an exit status, a timeout, an ancestor's id, a task's name)."""

    code: ReasonCode
    message: str
    detail: str | None = None


INTERRUPTED_ERROR = (
    "interrupted: the engine stopped while this attempt was running; "
    "the run was queued again (this does not count as a retry)"
)
STARTED = Reason(ReasonCode.STARTED, "started")
SUCCEEDED = Reason(ReasonCode.SUCCEEDED, "completed")
CANCELED_BY_REQUEST = Reason(ReasonCode.CANCELED, "canceled")
INTERRUPTED = Reason(ReasonCode.INTERRUPTED, INTERRUPTED_ERROR)
NOT_STORED = Reason(ReasonCode.NOT_STORED, "canceled: the engine could not store this run")


def ancestor_canceled(ancestor_id: str) -> Reason:
    return Reason(
        ReasonCode.ANCESTOR_CANCELED,
        f"canceled: ancestor run {ancestor_id} was canceled",
        ancestor_id,
    )


def task_gone(task_name: str) -> Reason:
    return Reason(
        ReasonCode.TASK_GONE,
        f"task {task_name!r} is no longer registered by the worker",
        task_name,
    )


def reason_of(outcome: Outcome, plan: str | None = None) -> Reason:
    """Why an attempt with this outcome ended (a task's MemoryError names its plan's limit)."""
    if isinstance(outcome, Completed):
        return SUCCEEDED
    if isinstance(outcome, Errored):
        return Reason(ReasonCode.TASK_ERROR, explain_memory_error(outcome.details, plan))
    if isinstance(outcome, Crashed):
        return Reason(ReasonCode.CRASHED, outcome.message, outcome.exit or "did not start")
    if isinstance(outcome, TimedOut):
        after = f"{outcome.seconds:g}s"
        return Reason(ReasonCode.TIMED_OUT, f"timed out after {after}", after)
    if isinstance(outcome, Canceled):
        return CANCELED_BY_REQUEST
    return INTERRUPTED


# --- the transition tables ----------------------------------------------------------------------
class RunEvent(str, enum.Enum):
    START = "start"  # an attempt began
    SUCCEED = "succeed"  # its attempt completed
    RETRY = "retry"  # its attempt failed and a retry is left: wait, then queue again
    FAIL = "fail"  # its attempt failed with no retry left (or its task is gone)
    CANCEL = "cancel"
    INTERRUPT = "interrupt"  # the engine stopped while it ran: queued again at the next start


RUN_TRANSITIONS: Mapping[tuple[RunStatus, RunEvent], RunStatus] = {
    (PENDING, RunEvent.START): RUNNING,
    (PENDING, RunEvent.CANCEL): CANCELED,
    (PENDING, RunEvent.FAIL): FAILED,  # recovered at start with its task gone
    (RUNNING, RunEvent.SUCCEED): COMPLETED,
    (RUNNING, RunEvent.RETRY): PENDING,
    (RUNNING, RunEvent.FAIL): FAILED,
    (RUNNING, RunEvent.CANCEL): CANCELED,
    (RUNNING, RunEvent.INTERRUPT): PENDING,
}


class AttemptEvent(str, enum.Enum):
    SUCCEED = "succeed"
    FAIL = "fail"  # raised, crashed, timed out or interrupted
    CANCEL = "cancel"


# An attempt is created running: it exists from the moment it is handed to a worker.
ATTEMPT_TRANSITIONS: Mapping[tuple[RunStatus, AttemptEvent], RunStatus] = {
    (RUNNING, AttemptEvent.SUCCEED): COMPLETED,
    (RUNNING, AttemptEvent.FAIL): FAILED,
    (RUNNING, AttemptEvent.CANCEL): CANCELED,
}


class IllegalTransition(RuntimeError):
    """A move the tables do not allow (a bug in the engine, never a user's error)."""


def next_run_status(status: RunStatus, event: RunEvent) -> RunStatus:
    """The status a run in ``status`` moves to on ``event``; IllegalTransition if none."""
    try:
        return RUN_TRANSITIONS[status, event]
    except KeyError:
        raise IllegalTransition(f"a {status.value} run cannot {event.value}") from None


def next_attempt_status(status: RunStatus, event: AttemptEvent) -> RunStatus:
    """The status an attempt in ``status`` moves to on ``event``; IllegalTransition if none."""
    try:
        return ATTEMPT_TRANSITIONS[status, event]
    except KeyError:
        raise IllegalTransition(f"a {status.value} attempt cannot {event.value}") from None


@dataclass(frozen=True)
class Transition:
    """One move of a run, as the console and the API describe it."""

    run_id: str
    source: RunStatus
    target: RunStatus
    event: RunEvent
    reason: Reason


# --- moves of a run -----------------------------------------------------------------------------
def new_attempt(rec: RunRecord, now: datetime) -> AttemptRecord:
    """The record of the run's next attempt, running since ``now`` (not yet shown in ``rec``)."""
    return AttemptRecord(number=len(rec.attempts) + 1, status=RUNNING, started_at=now)


def start(rec: RunRecord, attempt: AttemptRecord, now: datetime) -> Transition:
    """Show ``attempt`` (from :func:`new_attempt`) as the running attempt of ``rec``."""
    target = next_run_status(rec.status, RunEvent.START)
    if not rec.attempts or rec.attempts[-1] is not attempt:
        rec.attempts.append(attempt)
    source, rec.status = rec.status, target
    if rec.started_at is None:
        rec.started_at = now
    rec.not_before = None
    _because(rec, STARTED)
    return Transition(rec.id, source, target, RunEvent.START, STARTED)


def _because(record: RunRecord | AttemptRecord, reason: Reason) -> None:
    record.reason = reason.code
    record.reason_detail = reason.detail


def started_copy(rec: RunRecord, attempt: AttemptRecord, now: datetime) -> RunRecord:
    """A copy of ``rec`` with ``attempt`` started, ``rec`` itself unchanged (to write it first)."""
    clone = rec.copy()
    start(clone, attempt.copy(), now)
    return clone


def end_attempt(attempt: AttemptRecord, outcome: Outcome, reason: Reason, now: datetime) -> None:
    """Record how ``attempt`` ended."""
    if isinstance(outcome, Completed):
        event = AttemptEvent.SUCCEED
    elif isinstance(outcome, Canceled):
        event = AttemptEvent.CANCEL
    else:
        event = AttemptEvent.FAIL
    attempt.status = next_attempt_status(attempt.status, event)
    attempt.completed_at = now
    if isinstance(outcome, Completed):
        attempt.results = outcome.results
    else:
        attempt.error = "canceled" if event is AttemptEvent.CANCEL else reason.message
    _because(attempt, reason)


def retry_delay(wait_duration_ms: int, factor: float, retries_so_far: int) -> float:
    """Seconds to wait before the next retry: the first waits ``wait_duration_ms``, each later
    one ``factor`` times the previous.

    >>> retry_delay(100, 2.0, 0), retry_delay(100, 2.0, 2)
    (0.1, 0.4)
    """
    return wait_duration_ms * (factor**retries_so_far) / 1000.0


@dataclass(frozen=True)
class Settlement:
    """What follows an attempt's end: the run's event and why, its results, and for a retry
    the wait before it is queued again."""

    event: RunEvent
    reason: Reason
    results: list[Any] | None = None
    retry_after: float | None = None


def settle(
    rec: RunRecord,
    outcome: Outcome,
    now: datetime,
    *,
    retry: RetryOptions | None,
    plan: str | None = None,
    cancel_reason: Reason | None = None,
    may_retry: bool = True,
) -> Settlement:
    """End the run's current attempt with ``outcome`` and decide what the run does next.

    ``cancel_reason`` is set when the run is being canceled (whatever the attempt reported, the
    run ends canceled unless it completed). A failed attempt is retried while ``retry`` allows
    and ``may_retry`` (False while the engine stops); the run itself is moved by :func:`retry_wait`
    or :func:`finish`.
    """
    current = rec.attempts[-1]
    if isinstance(outcome, Completed):
        end_attempt(current, outcome, SUCCEEDED, now)
        return Settlement(RunEvent.SUCCEED, SUCCEEDED, results=outcome.results)
    if isinstance(outcome, Canceled) or cancel_reason is not None:
        why = cancel_reason or CANCELED_BY_REQUEST
        end_attempt(current, Canceled(), why, now)
        return Settlement(RunEvent.CANCEL, why)
    reason = reason_of(outcome, plan)
    end_attempt(current, outcome, reason, now)
    if retry is not None and may_retry and rec.retries < retry.max_retries:
        delay = retry_delay(retry.wait_duration_ms, retry.factor, rec.retries)
        return Settlement(RunEvent.RETRY, reason, retry_after=delay)
    return Settlement(RunEvent.FAIL, reason)


def retry_wait(rec: RunRecord, reason: Reason, not_before: datetime | None = None) -> Transition:
    """Put a run whose attempt failed back to pending, counting the retry; it may start again
    from ``not_before`` (kept with the run, so the wait survives a restart)."""
    target = next_run_status(rec.status, RunEvent.RETRY)
    source, rec.status = rec.status, target
    rec.retries += 1
    rec.not_before = not_before
    _because(rec, reason)
    return Transition(rec.id, source, target, RunEvent.RETRY, reason)


def finish(
    rec: RunRecord,
    event: RunEvent,
    reason: Reason,
    now: datetime,
    event_seq: int | None,
    results: list[Any] | None = None,
) -> Transition:
    """Make the run terminal; ``event_seq`` is its terminal event's sequence number (None:
    the store gives it one as it writes the end, see store.SharedStore)."""
    target = next_run_status(rec.status, event)
    if not target.terminal:
        raise IllegalTransition(f"{event.value} does not end a {rec.status.value} run")
    if rec.attempts and rec.attempts[-1].status is RUNNING:
        raise IllegalTransition(f"run {rec.id} cannot end while its attempt is running")
    source, rec.status = rec.status, target
    rec.completed_at = now
    rec.owner = rec.not_before = None  # nobody holds a terminal run
    rec.results = results if target is COMPLETED else None
    rec.error = None if target is COMPLETED else reason.message
    rec.event_seq = event_seq
    _because(rec, reason)
    return Transition(rec.id, source, target, event, reason)


def interrupt(rec: RunRecord, now: datetime) -> bool:
    """A run found unfinished at start: its running attempts fail as interrupted, and a running
    run is pending again. False if nothing changed."""
    changed = False
    for attempt in rec.attempts:
        if attempt.status is RUNNING:
            end_attempt(attempt, Interrupted(), INTERRUPTED, now)
            changed = True
    if rec.status is RUNNING:
        rec.status = next_run_status(RUNNING, RunEvent.INTERRUPT)
        _because(rec, INTERRUPTED)
        changed = True
    return changed


def release(rec: RunRecord, now: datetime) -> bool:
    """The node holding ``rec`` is gone (it stopped, or its lease lapsed): its running attempt
    is interrupted as by :func:`interrupt` (no retry spent) and no node holds the run any more,
    so any node may claim it. False if nothing changed."""
    changed = interrupt(rec, now) or rec.owner is not None
    rec.owner = None
    return changed
