"""Run records: copies are independent of the record they were taken from."""

from __future__ import annotations

from datetime import datetime, timezone

from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)


def test_a_copy_does_not_follow_later_changes() -> None:
    rec = RunRecord(
        id="trn-1",
        task_id="tsk-1",
        task_name="square",
        status=RunStatus.RUNNING,
        input=[3],
        parent_id="",
        root_id="trn-1",
        created_at=NOW,
        attempts=[AttemptRecord(number=1, status=RunStatus.RUNNING, started_at=NOW)],
    )
    copy = rec.copy()
    assert copy == rec and copy is not rec
    rec.status = RunStatus.COMPLETED
    rec.attempts[0].status = RunStatus.COMPLETED
    rec.attempts.append(AttemptRecord(number=2, status=RunStatus.RUNNING, started_at=NOW))
    assert copy.status is RunStatus.RUNNING
    assert [a.status for a in copy.attempts] == [RunStatus.RUNNING]
