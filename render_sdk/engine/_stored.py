"""Records as the SQL stores keep them (store_sqlite.py, store_postgres.py): a run as a row of
:data:`RUN_COLUMNS`, an attempt as a JSON item of its run's ``attempts`` column, a task's options
as a JSON spec, a reason as its code. A run's timestamps are kept as each store's database does
(the ``stamp``/``unstamp`` arguments: ISO 8601 text in SQLite, ``timestamptz`` in PostgreSQL);
those inside JSON as ISO 8601 text."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Any

from render_sdk.engine.records import (
    AttemptRecord,
    ParameterRecord,
    ReasonCode,
    RetryOptions,
    RunRecord,
    RunStatus,
    TaskRecord,
)

RUN_COLUMNS = (
    "id, task_id, task_name, status, input, parent_id, root_id, created_at, retries, "
    "started_at, completed_at, results, error, event_seq, attempts, reason, reason_detail, "
    "parent_attempt, owner, not_before"
)
RUN_NCOLS = 20
Stamp = Callable[[datetime | None], Any]  # a timestamp as the database keeps it
Unstamp = Callable[[Any], "datetime | None"]


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def run_row(run: RunRecord, stamp: Stamp) -> tuple[Any, ...]:
    """Every column of ``run``, in the order of :data:`RUN_COLUMNS`."""
    return (
        run.id,
        run.task_id,
        run.task_name,
        run.status.value,
        _compact(run.input),
        run.parent_id,
        run.root_id,
        stamp(run.created_at),
        *state_values(run, stamp),
        run.parent_attempt,
        run.owner,
        stamp(run.not_before),
    )


def state_values(run: RunRecord, stamp: Stamp) -> tuple[Any, ...]:
    """The columns that change as a run proceeds: retries, started_at, completed_at, results,
    error, event_seq, attempts, reason, reason_detail (:data:`RUN_COLUMNS` from retries on)."""
    return (
        run.retries,
        stamp(run.started_at),
        stamp(run.completed_at),
        None if run.results is None else _compact(run.results),
        run.error,
        run.event_seq,
        _compact([attempt_item(a) for a in run.attempts]),
        None if run.reason is None else run.reason.value,
        run.reason_detail,
    )


def run_from_row(row: Any, unstamp: Unstamp) -> RunRecord:
    """The run of a row of :data:`RUN_COLUMNS`."""
    created = unstamp(row[7])
    assert created is not None
    return RunRecord(
        id=row[0],
        task_id=row[1],
        task_name=row[2],
        status=RunStatus(row[3]),
        input=json.loads(row[4]),
        parent_id=row[5],
        root_id=row[6],
        created_at=created,
        retries=row[8],
        started_at=unstamp(row[9]),
        completed_at=unstamp(row[10]),
        results=None if row[11] is None else json.loads(row[11]),
        error=row[12],
        event_seq=row[13],
        attempts=[attempt_from_item(item) for item in json.loads(row[14])],
        reason=reason_from_code(row[15]),
        reason_detail=row[16],
        parent_attempt=row[17],
        owner=row[18],
        not_before=unstamp(row[19]),
    )


def attempt_item(a: AttemptRecord) -> list[Any]:
    """``[number, status, started_at, completed_at, error, results]``, then the start-up times
    (an object, or null) and ``reason``, ``reason_detail`` when there are any."""
    item: list[Any] = [
        a.number,
        a.status.value,
        iso(a.started_at),
        iso(a.completed_at),
        a.error,
        a.results,
    ]
    if a.startup or a.reason is not None:
        item.append({name: iso(value) for name, value in a.startup.items()} if a.startup else None)
    if a.reason is not None:
        item += [a.reason.value, a.reason_detail]
    return item


def reason_from_code(code: str | None) -> ReasonCode | None:
    """A stored reason code (None for one this version does not know: a newer engine's)."""
    try:
        return None if code is None else ReasonCode(code)
    except ValueError:
        return None


def attempt_from_item(item: list[Any]) -> AttemptRecord:
    started = from_iso(item[2])
    assert started is not None
    return AttemptRecord(
        number=item[0],
        status=RunStatus(item[1]),
        started_at=started,
        completed_at=from_iso(item[3]),
        error=item[4],
        results=item[5],
        startup={k: v for k, v in ((k, from_iso(t)) for k, t in item[6].items()) if v is not None}
        if len(item) > 6 and isinstance(item[6], dict)
        else None,
        reason=reason_from_code(item[7]) if len(item) > 8 else None,
        reason_detail=item[8] if len(item) > 8 else None,
    )


def task_spec(task: TaskRecord) -> str:
    return json.dumps(
        {
            "retry": None
            if task.retry is None
            else [task.retry.max_retries, task.retry.wait_duration_ms, task.retry.factor],
            "timeout_seconds": task.timeout_seconds,
            "plan": task.plan,
            "parameters": [
                [p.name, p.has_default, p.type, p.default_value] for p in task.parameters
            ],
            "workflow_id": task.workflow_id,
            "workflow_version_id": task.workflow_version_id,
        }
    )


def task_from_row(row: tuple[Any, ...]) -> TaskRecord:
    spec = json.loads(row[3])
    retry = spec["retry"]
    created = from_iso(row[2])
    assert created is not None
    return TaskRecord(
        id=row[0],
        name=row[1],
        created_at=created,
        retry=None if retry is None else RetryOptions(retry[0], retry[1], retry[2]),
        timeout_seconds=spec["timeout_seconds"],
        plan=spec["plan"],
        parameters=tuple(ParameterRecord(*p) for p in spec["parameters"]),
        workflow_id=spec["workflow_id"],
        workflow_version_id=spec["workflow_version_id"],
    )
