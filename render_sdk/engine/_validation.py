"""Checks on what users and workers send: run input against a task's parameters, and the task
definitions a worker registers."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from render_sdk.engine._ids import task_id_for
from render_sdk.engine.records import (
    InvalidRequest,
    ParameterRecord,
    RetryOptions,
    TaskRecord,
)

_log = logging.getLogger("render_sdk.engine.tasks")


def validate_input(task: TaskRecord, value: Any) -> None:
    """Raise :class:`InvalidRequest` naming the problem when ``value`` does not fit ``task``.

    For a task ``square(x)``: ``[2]`` and ``{"x": 2}`` pass; ``[1, 2]``, ``{"y": 2}`` and ``[]``
    raise, naming the parameter.
    """
    params = task.parameters
    names = [p.name for p in params]
    if isinstance(value, list):
        if len(value) > len(params):
            raise InvalidRequest(
                f"task {task.name!r} takes {len(params)} argument(s) "
                f"({', '.join(names) or 'none'}) but {len(value)} were given"
            )
        missing = [p.name for p in params[len(value) :] if not p.has_default]
    elif isinstance(value, dict):
        unknown = [key for key in value if key not in names]
        if unknown:
            raise InvalidRequest(
                f"task {task.name!r} has no parameter named {unknown[0]!r} "
                f"(parameters: {', '.join(names) or 'none'})"
            )
        missing = [p.name for p in params if not p.has_default and p.name not in value]
    else:
        raise InvalidRequest(
            "input must be a JSON array (positional arguments) or a JSON object "
            f"(arguments by name), not {type(value).__name__}"
        )
    if missing:
        raise InvalidRequest(f"task {task.name!r} is missing a value for parameter {missing[0]!r}")


def _require(cond: bool, message: str) -> None:
    if not cond:
        raise InvalidRequest(message)


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def parse_task(raw: Any, created_at: datetime, min_timeout_seconds: float) -> TaskRecord:
    """Turn one registered task (the callback API's ``Task`` object) into a :class:`TaskRecord`.

    Raises :class:`InvalidRequest` naming the bad field.
    """
    _require(isinstance(raw, dict), "each registered task must be a JSON object")
    name = raw.get("name")
    _require(isinstance(name, str) and name != "", "a registered task has no 'name'")
    options = raw.get("options") or {}
    _require(isinstance(options, dict), f"task {name!r}: 'options' must be an object")
    retry = None
    raw_retry = options.get("retry")
    if raw_retry is not None:
        _require(isinstance(raw_retry, dict), f"task {name!r}: 'options.retry' must be an object")
        max_retries = raw_retry.get("max_retries", 0)
        wait = raw_retry.get("wait_duration_ms", 0)
        factor = raw_retry.get("factor", 1.5)
        _require(
            isinstance(max_retries, int) and max_retries >= 0,
            f"task {name!r}: retry.max_retries must be a non-negative integer",
        )
        _require(_number(wait) and wait >= 0, f"task {name!r}: retry.wait_duration_ms must be >= 0")
        _require(_number(factor) and factor > 0, f"task {name!r}: retry.factor must be > 0")
        retry = RetryOptions(max_retries, int(wait), float(factor))
    timeout = options.get("timeout_seconds")
    if timeout is not None:
        _require(
            _number(timeout) and timeout > 0,
            f"task {name!r}: timeout_seconds must be a positive number",
        )
        if timeout < min_timeout_seconds:
            _log.warning(
                "task %r: timeout_seconds=%s is below this engine's minimum of %ss; using %ss "
                "(Render allows 30..86400)",
                name,
                timeout,
                min_timeout_seconds,
                min_timeout_seconds,
            )
            timeout = min_timeout_seconds
        timeout = float(timeout)
    plan = options.get("plan")
    _require(plan is None or isinstance(plan, str), f"task {name!r}: 'plan' must be a string")
    params_raw = raw.get("parameters") or []
    _require(isinstance(params_raw, list), f"task {name!r}: 'parameters' must be a list")
    params: list[ParameterRecord] = []
    for p in params_raw:
        _require(
            isinstance(p, dict) and isinstance(p.get("name"), str),
            f"task {name!r}: each parameter needs a 'name'",
        )
        default = p.get("default_value")
        ptype = p.get("type")
        params.append(
            ParameterRecord(
                name=p["name"],
                has_default=bool(p.get("has_default", False)),
                type=ptype if isinstance(ptype, str) else None,
                default_value=default if isinstance(default, str) else None,
            )
        )
    return TaskRecord(
        id=task_id_for(name),
        name=name,
        created_at=created_at,
        retry=retry,
        timeout_seconds=timeout,
        plan=plan,
        parameters=tuple(params),
    )
