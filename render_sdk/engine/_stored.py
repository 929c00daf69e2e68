"""Records as the SQL stores keep them (store_sqlite.py, store_postgres.py): an attempt as a JSON
item of its run's ``attempts`` column, a task's options as a JSON spec, a reason as its code,
timestamps as ISO 8601 text."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from render_sdk.engine.records import (
    AttemptRecord,
    ParameterRecord,
    ReasonCode,
    RetryOptions,
    RunStatus,
    TaskRecord,
)


def iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def from_iso(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


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
