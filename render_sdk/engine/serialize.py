"""Turn the core's records into the REST API's camelCase JSON (openapi.yaml).

Optional fields are left out rather than sent as ``null``. Timestamps are RFC 3339 in UTC with a
``Z`` suffix and microsecond precision.

    >>> from datetime import datetime, timezone
    >>> timestamp(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    '2026-01-02T03:04:05.000000Z'
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from render_sdk.engine.records import AttemptRecord, LogRecord, RunRecord, TaskRecord

_ENCODER = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":"))
_LENIENT_ENCODER = json.JSONEncoder(ensure_ascii=True, allow_nan=True, separators=(",", ":"))


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON on one line (what the API and the SSE ``data:`` field send).

    The REST API refuses such values in requests, but a worker's output may hold them: text with
    no UTF-8 form (a lone surrogate, sent as ``\\ud800``) is then sent escaped, as it came, and a
    non-finite float as Python's ``NaN``/``Infinity`` tokens (which Python's ``json`` reads back;
    strict parsers do not), rather than failing the whole answer.

    >>> dumps({"a": [1, 2]})
    b'{"a":[1,2]}'
    """
    try:
        return _ENCODER.encode(value).encode("utf-8")
    except (UnicodeEncodeError, ValueError):
        return _LENIENT_ENCODER.encode(value).encode("ascii")


def timestamp(value: datetime) -> str:
    """RFC 3339 in UTC with ``Z``; a naive datetime is taken to be UTC already."""
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


STARTUP_FIELDS = {
    "sdk_import_started_at": "sdkImportStartedAt",
    "sdk_import_finished_at": "sdkImportFinishedAt",
    "sdk_started_at": "sdkStartedAt",
}


def _attempt(run: RunRecord, index: int, attempt: AttemptRecord, details: bool) -> dict[str, Any]:
    # enqueuedAt: when the attempt joined the queue: the run's creation for the first attempt,
    # the end of the previous attempt for a retry (its backoff wait is time spent queued).
    enqueued = run.created_at if index == 0 else run.attempts[index - 1].completed_at
    out: dict[str, Any] = {
        "attempt": attempt.number - 1,
        "taskRunId": run.id,
        "status": attempt.status.value,
        "startedAt": timestamp(attempt.started_at),
    }
    if enqueued is not None:
        out["enqueuedAt"] = timestamp(enqueued)
    if attempt.completed_at is not None:
        out["completedAt"] = timestamp(attempt.completed_at)
    if attempt.startup:
        for name, field in STARTUP_FIELDS.items():
            value = attempt.startup.get(name)
            if value is not None:
                out[field] = timestamp(value)
    if details:
        if attempt.error is not None:
            out["error"] = attempt.error
        if attempt.results is not None:
            out["results"] = attempt.results
    return out


def task_run(run: RunRecord, *, details: bool = False) -> dict[str, Any]:
    """A run as the contract's ``TaskRun``, or ``TaskRunDetails`` when ``details`` is true.

    Example: ``task_run(record, details=True)["results"]`` is the run's output array (``[]``
    until it completes).
    """
    out: dict[str, Any] = {
        "id": run.id,
        "taskId": run.task_id,
        "status": run.status.value,
        "parentTaskRunId": run.parent_id,
        "rootTaskRunId": run.root_id,
        "retries": run.retries,
        "attempts": [_attempt(run, i, a, details) for i, a in enumerate(run.attempts)],
    }
    if run.parent_attempt is not None:
        out["parentTaskAttempt"] = run.parent_attempt
    if run.started_at is not None:
        out["startedAt"] = timestamp(run.started_at)
    if run.completed_at is not None:
        out["completedAt"] = timestamp(run.completed_at)
    if details:
        out["results"] = run.results if run.results is not None else []
        out["input"] = run.input
        if run.error is not None:
            out["error"] = run.error
    return out


def task(record: TaskRecord) -> dict[str, Any]:
    """A registered task as the contract's ``Task``."""
    out: dict[str, Any] = {
        "id": record.id,
        "name": record.name,
        "createdAt": timestamp(record.created_at),
    }
    if record.workflow_id is not None:
        out["workflowId"] = record.workflow_id
    if record.workflow_version_id is not None:
        out["workflowVersionId"] = record.workflow_version_id
    return out


def log(record: LogRecord) -> dict[str, Any]:
    """One captured output line of a run."""
    return {
        "taskRunId": record.run_id,
        "attempt": record.attempt,
        "stream": record.stream,
        "timestamp": timestamp(record.timestamp),
        "message": record.message,
    }


def error(error_id: str, message: str) -> bytes:
    """The contract's error body ``{"id": ..., "message": ...}``, encoded."""
    return dumps({"id": error_id, "message": message})
