"""Task data on the callback API: base64 of UTF-8 JSON (render_sdk/_callback_protocol.py), as
task arguments and results."""

from __future__ import annotations

from typing import Any

from render_sdk._callback_protocol import decode, encode
from render_sdk.workflows._errors import ResultNotJSONError, TaskArgumentsError

__all__ = ["decode", "decode_input", "decode_output", "encode", "encode_input", "encode_output"]
Args = tuple[tuple[Any, ...], dict[str, Any]]


def encode_input(task_name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """The ``input`` of a subtask call: a JSON array (positional) or object (keyword)."""
    value: Any = dict(kwargs) if kwargs else list(args)
    try:
        return encode(value)
    except (TypeError, ValueError) as exc:
        raise TaskArgumentsError(
            f"arguments of task {task_name!r} cannot be encoded as JSON: {exc}"
        ) from None


def decode_input(data: str) -> Args:
    """Positional and keyword arguments from a run's ``input`` (empty: no arguments).

    >>> decode_input(encode({"x": 3}))
    ((), {'x': 3})
    """
    try:
        value = decode(data)
    except ValueError as exc:
        raise ValueError(f"task input is not base64-encoded JSON: {exc}") from None
    if value is None and not data:
        return (), {}
    if isinstance(value, list):
        return tuple(value), {}
    if isinstance(value, dict):
        return (), value
    raise ValueError(
        f"task input must be a JSON array or object, got {type(value).__name__} {value!r}"
    )


def encode_output(task_name: str, result: Any) -> str:
    """The ``output`` of a completed run: the return value wrapped in a one-item array."""
    try:
        return encode([result])
    except (TypeError, ValueError) as exc:
        raise ResultNotJSONError(
            f"task {task_name!r} returned a value that cannot be encoded as JSON: {exc}"
        ) from None


def decode_output(data: str) -> Any:
    """A subtask's return value from its ``output``.

    This SDK always sends ``[R]``, so the single item is the value. Output of a worker that does
    not wrap (a list of any other length) is returned whole.
    """
    value = decode(data)
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value
