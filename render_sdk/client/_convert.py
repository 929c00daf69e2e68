"""The boundary with the generated low-level client: its models in, this package's types out.

details = task_run_details(api_models.TaskRunDetails.from_dict(payload))
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from render_api import models as api
from render_api.types import UNSET, Unset

from render_sdk.client.errors import InputError
from render_sdk.client.types import (
    LogEntry,
    Task,
    TaskAttempt,
    TaskData,
    TaskRun,
    TaskRunDetails,
    TaskRunStatus,
)

R = TypeVar("R", bound=TaskRun)

_STATUS = {status.value: status for status in TaskRunStatus}


def _opt(value: Any) -> Any:
    return None if isinstance(value, Unset) else value


def _opt_time(value: datetime | Unset) -> datetime | None:
    return None if isinstance(value, Unset) else value


def _attempt(item: api.TaskAttempt | api.TaskAttemptDetails) -> TaskAttempt:
    error = results = None
    if isinstance(item, api.TaskAttemptDetails):
        error, results = _opt(item.error), _opt(item.results)
    return TaskAttempt(
        status=_STATUS[item.status],
        started_at=item.started_at,
        completed_at=_opt_time(item.completed_at),
        error=error,
        results=results,
        attempt=_opt(item.attempt),
        task_run_id=_opt(item.task_run_id),
        enqueued_at=_opt_time(item.enqueued_at),
        sdk_import_started_at=_opt_time(item.sdk_import_started_at),
        sdk_import_finished_at=_opt_time(item.sdk_import_finished_at),
        sdk_started_at=_opt_time(item.sdk_started_at),
    )


def task_run(
    model: api.TaskRun | api.TaskRunDetails,
    cls: type[R] = TaskRun,  # type: ignore[assignment]
    **extra: Any,
) -> R:
    """A :class:`TaskRun` (or subclass ``cls``, given ``extra`` fields) from the generated model."""
    return cls(
        **extra,
        id=model.id,
        task_id=model.task_id,
        status=_STATUS[model.status],
        parent_task_run_id=model.parent_task_run_id,
        root_task_run_id=model.root_task_run_id,
        retries=model.retries,
        attempts=[_attempt(a) for a in model.attempts],
        started_at=_opt_time(model.started_at),
        completed_at=_opt_time(model.completed_at),
        parent_task_attempt=_opt(model.parent_task_attempt),
    )


def task_run_details(model: api.TaskRunDetails) -> TaskRunDetails:
    """A :class:`TaskRunDetails` from the generated model."""
    raw_input = model.input_
    input_value: Any = raw_input if isinstance(raw_input, list) else raw_input.to_dict()
    return task_run(
        model, TaskRunDetails, results=model.results, input=input_value, error=_opt(model.error)
    )


def task(model: api.Task) -> Task:
    """A :class:`Task` from the generated model."""
    return Task(
        id=model.id,
        name=model.name,
        created_at=model.created_at,
        workflow_id=_opt(model.workflow_id),
        workflow_version_id=_opt(model.workflow_version_id),
    )


def log_entry(model: api.LogEntry) -> LogEntry:
    """A :class:`LogEntry` from the generated model."""
    return LogEntry(
        task_run_id=model.task_run_id,
        attempt=model.attempt,
        stream=model.stream,
        timestamp=model.timestamp,
        message=model.message,
    )


_JSON_KINDS = "dicts, lists, strings, numbers, booleans and None"


def _unencodable(
    value: Any, path: str, parents: tuple[int, ...] = ()
) -> tuple[str, str, Any] | None:
    """Where in ``value`` the first thing JSON cannot carry sits, what it is, and the thing."""
    if value is None or isinstance(value, (str, bool, int)):
        return None
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, f"the float {value!r}", value)
    if isinstance(value, (list, tuple, dict)):
        if id(value) in parents:
            return path, "a container that contains itself", "..."
        inside = (*parents, id(value))
        items = value.items() if isinstance(value, dict) else enumerate(value)
        for key, item in items:
            if isinstance(value, dict) and not isinstance(key, (str, int, float, bool, type(None))):
                return path, f"a dict with a key of type {type(key).__name__}", key
            found = _unencodable(item, f"{path}[{key!r}]", inside)
            if found:
                return found
        return None
    return path, f"a {type(value).__name__}", value


def check_input(input_data: Any, operation: str) -> None:
    """Raise :class:`InputError` if ``input_data`` cannot be sent as JSON, naming where the
    first bad value sits and what it is.

    >>> check_input([1, {"a": [2.5, None]}], "start_task")
    """
    try:
        json.dumps(input_data, allow_nan=False)
        return
    except (TypeError, ValueError, RecursionError):
        found = _unencodable(input_data, "input_data")
    path, what, bad = found or ("input_data", "a value JSON cannot carry", input_data)
    shown = bad if bad == "..." else repr(bad)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    raise InputError(
        f"{operation}: {path} is {what} ({shown}), which JSON cannot carry; a run's input may "
        f"hold only {_JSON_KINDS}. Nothing was sent.",
        path=path,
        operation=operation,
    )


def run_task_body(
    task_slug: str,
    input_data: TaskData | None,
    operation: str = "start_task",
    idempotency_key: str | None = None,
) -> api.RunTask:
    """The generated ``RunTask`` body for a slug, its arguments and an idempotency key.

    A list or tuple is positional, a dict named, None means no arguments (``[]``). Raises
    :class:`InputError` when the input cannot be sent as JSON.
    """
    if not isinstance(task_slug, str) or not task_slug:
        raise ValueError(
            f"task_slug must be a non-empty string like 'my-workflow/my-task', got {task_slug!r}"
        )
    key: str | Unset = UNSET
    if idempotency_key is not None:
        if not isinstance(idempotency_key, str) or not idempotency_key.strip():
            raise ValueError(f"idempotency_key must be a non-empty string, got {idempotency_key!r}")
        key = idempotency_key
    if input_data is None:
        return api.RunTask(task=task_slug, input_=[], idempotency_key=key)
    if isinstance(input_data, (list, tuple, dict)):
        check_input(input_data, operation)
    if isinstance(input_data, list):
        return api.RunTask(task=task_slug, input_=input_data, idempotency_key=key)
    if isinstance(input_data, tuple):
        return api.RunTask(task=task_slug, input_=list(input_data), idempotency_key=key)
    if isinstance(input_data, dict):
        named = api.TaskDataType1.from_dict(input_data)
        return api.RunTask(task=task_slug, input_=named, idempotency_key=key)
    raise TypeError(
        "input_data must be a list or tuple (positional arguments), a dict (named arguments) "
        f"or None, got {type(input_data).__name__}"
    )


def check_id(value: str, name: str) -> str:
    """A run or task id argument, validated: a non-empty string."""
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name} must be a non-empty string, got {value!r}")
    return value


def check_ids(task_run_ids: Sequence[str]) -> list[str]:
    """The run ids of an event stream request, validated: a non-empty sequence of strings."""
    if isinstance(task_run_ids, str):
        return [task_run_ids]
    ids = list(task_run_ids)
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ValueError(f"task_run_ids must be a non-empty list of run ids, got {task_run_ids!r}")
    return ids
