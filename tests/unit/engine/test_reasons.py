"""Why attempts ended, in the words the pages, ``render-workflows runs`` and the console share."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from render_sdk.engine.reasons import console_line, format_ms, reason_of
from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus
from render_sdk.engine.scheduler import INTERRUPTED_ERROR

T0 = datetime(2026, 1, 2, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("status", "error", "kind", "label"),
    [
        ("completed", None, "completed", "completed"),
        ("running", None, "running", "running"),
        ("canceled", "canceled", "canceled", "canceled"),
        ("failed", "timed out after 2s", "timed_out", "timed out after 2s"),
        (
            "failed",
            "worker process ended without a callback (exit status 3); last lines of stderr:\nx",
            "crashed",
            "crashed (exit status 3)",
        ),
        ("failed", INTERRUPTED_ERROR, "interrupted", "interrupted by an engine restart"),
        ("failed", "ValueError: bad\n", "failed", "failed: ValueError: bad"),
        ("failed", None, "failed", "failed"),
    ],
)
def test_reason_of(status: str, error: str | None, kind: str, label: str) -> None:
    reason = reason_of(status, error)
    assert (reason.kind, reason.label) == (kind, label)


def run(status: RunStatus, *attempts: tuple[RunStatus, str | None], **fields: object) -> RunRecord:
    rec = RunRecord(
        id="trn-1",
        task_name="square",
        task_id="tsk-1",
        status=status,
        input=[],
        parent_id="",
        root_id="trn-1",
        created_at=T0,
        started_at=T0,
        attempts=[
            AttemptRecord(i + 1, s, T0, T0 + timedelta(seconds=1), error=e)
            for i, (s, e) in enumerate(attempts)
        ],
    )
    for name, value in fields.items():
        setattr(rec, name, value)
    return rec


def test_console_lines_say_why() -> None:
    failed = RunStatus.FAILED
    assert console_line(run(RunStatus.PENDING)) == "square trn-1 pending"
    assert console_line(run(RunStatus.RUNNING, (RunStatus.RUNNING, None))) == "square trn-1 running"
    retried = run(RunStatus.PENDING, (failed, "timed out after 2s"), retries=1)
    assert console_line(retried, retry_in=0.2) == (
        "square trn-1 pending: attempt 1 timed out after 2s; retry 1 in 200.0 ms"
    )
    second = run(RunStatus.RUNNING, (failed, "x"), (RunStatus.RUNNING, None))
    assert console_line(second) == "square trn-1 running (attempt 2)"
    resumed = run(RunStatus.PENDING, (failed, INTERRUPTED_ERROR))
    assert console_line(resumed) == (
        "square trn-1 pending: attempt 1 interrupted by an engine restart; resuming"
    )
    crash = "worker process ended without a callback (exit status 3)"
    ended = run(failed, (failed, "x"), (failed, crash), completed_at=T0 + timedelta(seconds=2))
    assert (
        console_line(ended) == "square trn-1 failed in 2.00 s: crashed (exit status 3) (attempt 2)"
    )
    raised = run(failed, (failed, "Traceback\nValueError: bad"), completed_at=T0)
    assert console_line(raised) == "square trn-1 failed in 0.0 ms: ValueError: bad"
    canceled = run(
        RunStatus.CANCELED,
        (RunStatus.CANCELED, "canceled"),
        error="canceled: ancestor run trn-0 was canceled",
        parent_id="trn-0",
        completed_at=T0,
    )
    assert console_line(canceled) == (
        "square trn-1 (subtask of trn-0) canceled in 0.0 ms: ancestor run trn-0 was canceled"
    )


def test_format_ms() -> None:
    assert [format_ms(x) for x in (None, 0.04, 999.9, 1000, 59_999, 3_600_000)] == [
        "",
        "0.0 ms",
        "999.9 ms",
        "1.00 s",
        "60.00 s",
        "1 h 0 min",
    ]
