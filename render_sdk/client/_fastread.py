"""The fast path of reading a run: decoded JSON straight into this package's types.

The generated models read a run into attrs objects first (every timestamp through dateutil's
``isoparse``) and :mod:`render_sdk.client._convert` copies those into the public types; for a
finished no-op run that is about a tenth of the client's CPU per ``run_task``. The functions
here give the very same objects in one pass, with ``datetime.fromisoformat`` for timestamps in
the form servers send (UTC, ``Z``, at most microseconds). Whatever they do not expect (a missing
or unknown field value, another timestamp form) is read by the generated model instead, which
gives the same result or raises its own error: the generated models stay the authority on the
shapes, and a test holds the two readings equal.

    details = run_details(json.loads(response.content))
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, TypeVar

from dateutil import tz  # type: ignore[import-untyped]
from dateutil.parser import isoparse  # type: ignore[import-untyped]
from render_api import models as api

from render_sdk.client import _convert
from render_sdk.client.types import TaskAttempt, TaskRun, TaskRunDetails

R = TypeVar("R", bound=TaskRun)

_STATUS = _convert._STATUS
_ABSENT = object()
# What the local engine and Render send: 2026-12-02T10:58:07.767415Z
_UTC_TIME = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,6}))?Z", re.ASCII)


def timestamp(value: Any) -> datetime:
    """An RFC 3339 timestamp as ``isoparse`` reads it (UTC as ``dateutil.tz.UTC``)."""
    if type(value) is str:
        match = _UTC_TIME.fullmatch(value)
        if match is not None:
            seconds, fraction = match.groups()
            try:
                return datetime.fromisoformat(seconds).replace(
                    microsecond=int(fraction.ljust(6, "0")) if fraction else 0, tzinfo=tz.UTC
                )
            except ValueError:
                pass  # e.g. hour 24, which isoparse reads as the next midnight
    parsed: datetime = isoparse(value)
    return parsed


def _time_field(fields: dict[str, Any], key: str) -> datetime | None:
    value = fields.get(key, _ABSENT)
    return None if value is _ABSENT else timestamp(value)


def _attempt(item: Any, details: bool) -> TaskAttempt:
    if type(item) is not dict:
        raise TypeError("an attempt is not an object")
    get = item.get
    return TaskAttempt(
        status=_STATUS[item["status"]],
        started_at=timestamp(item["startedAt"]),
        completed_at=_time_field(item, "completedAt"),
        error=get("error") if details else None,
        results=get("results") if details else None,
        attempt=get("attempt"),
        task_run_id=get("taskRunId"),
        enqueued_at=_time_field(item, "enqueuedAt"),
        sdk_import_started_at=_time_field(item, "sdkImportStartedAt"),
        sdk_import_finished_at=_time_field(item, "sdkImportFinishedAt"),
        sdk_started_at=_time_field(item, "sdkStartedAt"),
    )


def _run_fields(payload: Any, details: bool) -> dict[str, Any]:
    if type(payload) is not dict:
        raise TypeError("a run is not an object")
    attempts = payload["attempts"]
    if type(attempts) is not list:
        raise TypeError("attempts is not a list")
    return {
        "id": payload["id"],
        "task_id": payload["taskId"],
        "status": _STATUS[payload["status"]],
        "parent_task_run_id": payload["parentTaskRunId"],
        "root_task_run_id": payload["rootTaskRunId"],
        "retries": payload["retries"],
        "attempts": [_attempt(item, details) for item in attempts],
        "started_at": _time_field(payload, "startedAt"),
        "completed_at": _time_field(payload, "completedAt"),
        "parent_task_attempt": payload.get("parentTaskAttempt"),
    }


def _details(payload: Any) -> TaskRunDetails:
    fields = _run_fields(payload, details=True)
    raw_input = payload["input"]
    if type(raw_input) is dict:
        raw_input = dict(raw_input)  # named arguments, copied as the generated model does
    elif type(raw_input) is not list:
        raise TypeError("input is neither a list nor an object")
    return TaskRunDetails(
        **fields, results=payload["results"], input=raw_input, error=payload.get("error")
    )


def run_details(payload: Any) -> TaskRunDetails:
    """The :class:`TaskRunDetails` a decoded TaskRunDetails JSON object stands for; equal to
    ``_convert.task_run_details(api.TaskRunDetails.from_dict(payload))``, errors included."""
    try:
        return _details(payload)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _convert.task_run_details(api.TaskRunDetails.from_dict(payload))


def run(
    payload: Any,
    cls: type[R] = TaskRun,  # type: ignore[assignment]
    **extra: Any,
) -> R:
    """The :class:`TaskRun` (or subclass ``cls``, given ``extra`` fields) a decoded TaskRun JSON
    object stands for; equal to ``_convert.task_run(api.TaskRun.from_dict(payload), cls,
    **extra)``, errors included."""
    try:
        fields = _run_fields(payload, details=False)
    except (ValueError, KeyError, TypeError, AttributeError):
        return _convert.task_run(api.TaskRun.from_dict(payload), cls, **extra)
    return cls(**extra, **fields)
