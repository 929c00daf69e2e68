"""Why an attempt ended, as data: what the run inspector's pages and ``render-workflows runs``
show (docs/inspector.md). Light to import: no web server, no engine.

    reason = attempt_reason(attempt)
    reason.kind    # "completed", "failed", "timed_out", "crashed", "interrupted", "canceled"
    reason.label   # "crashed (exit status 3)"
    reason.detail  # the error text, when there is one
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus

__all__ = [
    "Reason",
    "attempt_reason",
    "console_line",
    "duration_ms",
    "format_ms",
    "reason_of",
    "run_summary",
    "startup_phases",
]

_CRASH = re.compile(r"^worker process ended without a callback \(([^)]*)\)")
_TIMEOUT = re.compile(r"^timed out after (\S+)")


@dataclass(frozen=True)
class Reason:
    kind: str
    label: str
    detail: str | None = None

    @property
    def after_failed(self) -> str:
        """The label to follow the word "failed": ``"ValueError: bad"``, ``"timed out after
        2s"``."""
        return self.label.removeprefix("failed: ")


def attempt_reason(attempt: AttemptRecord) -> Reason:
    """Why ``attempt`` ended (or that it still runs), from its status and error.

    >>> from datetime import datetime
    >>> a = AttemptRecord(1, RunStatus.FAILED, datetime(2026, 1, 1), error="timed out after 2s")
    >>> attempt_reason(a).label
    'timed out after 2s'
    """
    return reason_of(attempt.status.value, attempt.error)


def reason_of(status: str, error: str | None) -> Reason:
    """Why an attempt with ``status`` (a run status's value) and ``error`` ended.

    The REST API's attempts carry the same two fields, so a client says the same as the pages.

    >>> reason_of("failed", "worker process ended without a callback (signal SIGKILL)").label
    'crashed (signal SIGKILL)'
    """
    if status in ("running", "pending"):
        return Reason(status, status)
    if status == "completed":
        return Reason("completed", "completed")
    if status == "canceled":
        return Reason("canceled", "canceled", error if error and error != "canceled" else None)
    if error is None:
        return Reason("failed", "failed")
    timeout = _TIMEOUT.match(error)
    if timeout:
        return Reason("timed_out", f"timed out after {timeout.group(1)}")
    crash = _CRASH.match(error)
    if crash:
        return Reason("crashed", f"crashed ({crash.group(1)})", error)
    if error.startswith("interrupted:"):
        return Reason("interrupted", "interrupted by an engine restart", error)
    first = error.strip().splitlines()[-1] if error.strip() else "failed"
    return Reason("failed", f"failed: {first[:200]}", error)


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
    status = run.status.value
    took = format_ms(duration_ms(run.started_at, run.completed_at))
    if run.status is RunStatus.FAILED and run.attempts:
        why = attempt_reason(run.attempts[-1]).after_failed
        return f"failed{f' in {took}' if took else ''}: {why}"
    if run.status is RunStatus.PENDING and run.attempts:
        return f"pending: retry {run.retries} queued after attempt {len(run.attempts)} failed"
    return status + (f" in {took}" if took and run.status.terminal else "")


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
    last = rec.attempts[-1] if rec.attempts else None
    if rec.status is RunStatus.RUNNING:
        return f"{head} (attempt {len(rec.attempts)})" if len(rec.attempts) > 1 else head
    if rec.status is RunStatus.PENDING:
        if last is None or last.status is RunStatus.RUNNING:
            return head
        why = attempt_reason(last)
        if why.kind == "interrupted":
            return f"{head}: attempt {last.number} {why.label}; resuming"
        text = f"{head}: attempt {last.number} {why.label}"
        if retry_in is not None:
            text += f"; retry {rec.retries} in {format_ms(retry_in * 1000)}"
        return text
    took = format_ms(duration_ms(rec.started_at, rec.completed_at))
    head += f" in {took}" if took else ""
    if rec.status is RunStatus.FAILED and last is not None:
        label = attempt_reason(last).after_failed
        attempts = f" (attempt {len(rec.attempts)})" if len(rec.attempts) > 1 else ""
        return f"{head}: {label}{attempts}"
    if rec.status is RunStatus.CANCELED and rec.error and rec.error != "canceled":
        return f"{head}: {rec.error.removeprefix('canceled: ')}"
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
