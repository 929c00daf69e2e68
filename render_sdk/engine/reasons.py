"""Why a run or an attempt is where it is, in words: what the run inspector's pages, the
console of ``render-workflows dev`` and ``render-workflows runs`` show (docs/inspector.md).
The words come from the reason each move of the lifecycle records with the run and its attempts
(render_sdk/engine/lifecycle.py: a code and the one fact its label names), never from reading
error messages. Light to import: no web server, no engine.

    why = attempt_reason(attempt)
    why.kind    # "completed", "failed", "timed_out", "crashed", "interrupted", "canceled"
    why.label   # "crashed (exit status 3)"
    why.detail  # the error text, when there is more to it than the label
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from render_sdk.engine.records import AttemptRecord, ReasonCode, RunRecord, RunStatus

__all__ = [
    "Why",
    "attempt_reason",
    "console_line",
    "describe",
    "duration_ms",
    "format_ms",
    "run_reason",
    "run_summary",
    "startup_phases",
]


@dataclass(frozen=True)
class Why:
    kind: str
    label: str
    detail: str | None = None

    @property
    def after_failed(self) -> str:
        """The label to follow the word "failed": ``"ValueError: bad"``, ``"timed out after
        2s"``."""
        return self.label.removeprefix("failed: ")


def _last_line(error: str | None) -> str | None:
    """The line of an error that names it: the last of a traceback (``ValueError: bad``)."""
    lines = (error or "").strip().splitlines()
    return lines[-1][:200] if lines else None


def describe(
    status: str, code: ReasonCode | str | None, detail: str | None, error: str | None
) -> Why:
    """Why a run or attempt with ``status`` (a run status's value) is there, from its reason
    ``code`` and ``detail`` (None where none was kept: records from before reasons were kept,
    or Render's API, whose answers carry none) and its ``error``.

    >>> describe("failed", "crashed", "exit status 3", "worker process ended ...").label
    'crashed (exit status 3)'
    >>> describe("failed", None, None, "Traceback ...\\nValueError: bad").label
    'failed: ValueError: bad'
    """
    if status in ("running", "pending") and code in (None, ReasonCode.STARTED):
        return Why(status, status)
    if status == "completed":
        return Why("completed", "completed")
    try:
        reason = ReasonCode(code) if code is not None else None
    except ValueError:  # a code from a newer engine: say what the status and error say
        reason = None
    if reason is ReasonCode.TIMED_OUT:
        return Why("timed_out", f"timed out after {detail}" if detail else "timed out")
    if reason is ReasonCode.CRASHED:
        return Why("crashed", f"crashed ({detail})" if detail else "crashed", error)
    if reason is ReasonCode.INTERRUPTED:
        return Why("interrupted", "interrupted by an engine restart", error)
    if reason is ReasonCode.ANCESTOR_CANCELED:
        return Why("canceled", f"canceled: ancestor run {detail} was canceled")
    if reason is ReasonCode.NOT_STORED:
        return Why("canceled", "canceled: the engine could not store this run")
    if reason is ReasonCode.TASK_GONE:
        return Why("failed", f"failed: task {detail!r} is no longer registered by the worker")
    if reason is ReasonCode.CANCELED or status == "canceled":
        extra = error if reason is None and error and error != "canceled" else None
        return Why("canceled", "canceled", extra)
    name = _last_line(error)
    return Why("failed", f"failed: {name}" if name else "failed", error)


def attempt_reason(attempt: AttemptRecord) -> Why:
    """Why ``attempt`` ended (or that it still runs).

    >>> from datetime import datetime
    >>> a = AttemptRecord(1, RunStatus.FAILED, datetime(2026, 1, 1), error="timed out after 2s",
    ...                   reason=ReasonCode.TIMED_OUT, reason_detail="2s")
    >>> attempt_reason(a).label
    'timed out after 2s'
    """
    return describe(attempt.status.value, attempt.reason, attempt.reason_detail, attempt.error)


def run_reason(run: RunRecord) -> Why:
    """Why ``run`` is in its status: its own reason, else (a record from before reasons were
    kept) its last attempt's."""
    if run.reason is not None:
        return describe(run.status.value, run.reason, run.reason_detail, run.error)
    if run.attempts and run.status.terminal:
        return attempt_reason(run.attempts[-1])
    return describe(run.status.value, None, None, run.error)


def duration_ms(start: datetime | None, end: datetime | None) -> float | None:
    """Milliseconds from ``start`` to ``end``; None when either is missing."""
    if start is None or end is None:
        return None
    return (end - start).total_seconds() * 1000


def format_ms(ms: float | None) -> str:
    """``"1.4 ms"``, ``"2.35 s"``, ``"3 min 5 s"``; ``""`` for None.

    >>> format_ms(1.42), format_ms(2350), format_ms(185000)
    ('1.4 ms', '2.35 s', '3 min 5 s')
    """
    if ms is None:
        return ""
    if ms < 1000:
        return f"{ms:.1f} ms"
    if ms < 60_000:
        return f"{ms / 1000:.2f} s"
    minutes, seconds = divmod(int(ms / 1000), 60)
    if minutes < 60:
        return f"{minutes} min {seconds} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


def run_summary(run: RunRecord) -> str:
    """The run's state in words: ``"completed in 1.4 ms"``, ``"failed: timed out after 2s"``."""
    took = format_ms(duration_ms(run.started_at, run.completed_at))
    took = f" in {took}" if took and run.status.terminal else ""
    if run.status is RunStatus.PENDING and run.attempts:
        return f"pending: {_waiting(run)}"
    if run.status is RunStatus.FAILED:
        return f"failed{took}: {run_reason(run).after_failed}"
    if run.status is RunStatus.CANCELED:
        label = run_reason(run).label
        return f"canceled{took}" + label.removeprefix("canceled")
    status: str = run.status.value
    return status + took


def _waiting(run: RunRecord, retry_in: float | None = None) -> str:
    """Why a run that has had attempts is pending: ``"attempt 1 timed out after 2s; retry 1
    in 200 ms"``, ``"attempt 1 interrupted by an engine restart; resuming"``."""
    last = run.attempts[-1]
    why = attempt_reason(last)
    if why.kind == "interrupted":
        return f"attempt {last.number} {why.label}; resuming"
    text = f"attempt {last.number} {why.label}; retry {run.retries}"
    return text + (f" in {format_ms(retry_in * 1000)}" if retry_in is not None else " queued")


def console_line(rec: RunRecord, retry_in: float | None = None) -> str:
    """The console's line for a run's new state (``render-workflows dev``), in the pages' words.

    ``retry_in``: seconds until the retry of a run that went back to pending after a failed
    attempt.

        square trn-1 running (attempt 2)
        square trn-1 pending: attempt 1 timed out after 2s; retry 1 in 200 ms
        square trn-1 pending: attempt 1 interrupted by an engine restart; resuming
        square trn-1 failed in 2001.6 ms: crashed (exit status 3) (attempt 3)
    """
    parent = f" (subtask of {rec.parent_id})" if rec.parent_id else ""
    head = f"{rec.task_name} {rec.id}{parent} {rec.status.value}"
    if rec.status is RunStatus.RUNNING:
        return f"{head} (attempt {len(rec.attempts)})" if len(rec.attempts) > 1 else head
    if rec.status is RunStatus.PENDING:
        if not rec.attempts or rec.attempts[-1].status is RunStatus.RUNNING:
            return head
        return f"{head}: {_waiting(rec, retry_in)}"
    took = format_ms(duration_ms(rec.started_at, rec.completed_at))
    head += f" in {took}" if took else ""
    if rec.status is RunStatus.FAILED:
        attempts = f" (attempt {len(rec.attempts)})" if len(rec.attempts) > 1 else ""
        return f"{head}: {run_reason(rec).after_failed}{attempts}"
    if rec.status is RunStatus.CANCELED:
        label = run_reason(rec).label.removeprefix("canceled")
        return head + label
    return head


#: A worker's start-up timestamps, as kept with an attempt when the worker sends them (Render's
#: SDK 1.5 sends these three through the callback API), and the phase each one ends.
_STARTUP_MARKS = (
    ("sdk_import_started_at", "process start"),
    ("sdk_import_finished_at", "SDK import"),
    ("sdk_started_at", "app start"),
)


def startup_phases(attempt: AttemptRecord) -> list[tuple[str, str]]:
    """The attempt's cold-start breakdown, ``[(phase, "12.0 ms"), ...]``, from the start-up
    timestamps its worker reported; empty when it reported none."""
    phases: list[tuple[str, str]] = []
    previous = attempt.started_at
    for name, phase in _STARTUP_MARKS:
        mark = getattr(attempt, name, None)
        if not isinstance(mark, datetime):
            continue
        phases.append((phase, format_ms(duration_ms(previous, mark))))
        previous = mark
    return phases
