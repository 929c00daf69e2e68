"""Subtasks through the callback API: ``/run-subtask``, then wait on ``/get-subtask-result``.

Waiting uses this project's long-poll extension (docs/protocol-extensions.md, section 1): the
request always carries ``wait_ms``; an answer marked ``Render-Long-Poll: 1`` is asked again at
once, any other ``still_running`` answer is polled adaptively (5 ms, doubling up to 1 s).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from render_sdk import _callback_protocol as protocol
from render_sdk.workflows._codec import decode_output
from render_sdk.workflows._context import AttemptFrame
from render_sdk.workflows._errors import CallbackAPIError, SubtaskError

LONG_POLL_MS = 25_000
FIRST_POLL_DELAY = 0.005
MAX_POLL_DELAY = 1.0
_LONG_POLL_SOCKET_TIMEOUT = LONG_POLL_MS / 1000 + 30
_LONG_POLL = protocol.LONG_POLL_HEADER.lower()  # answers' headers are lower-cased


def rfc3339_now() -> str:
    """The current UTC time as RFC 3339 with milliseconds, e.g. ``2026-01-02T03:04:05.678Z``."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def start_subtask(frame: AttemptFrame, task_name: str, encoded_input: str) -> str:
    """Start a subtask and return its run id.

    The idempotency key is made once per call, so transport retries of this call reuse it.
    """
    payload = {
        "task_name": task_name,
        "input": encoded_input,
        "idempotency_key": str(uuid.uuid4()),
        "created_at": rfc3339_now(),
    }
    body = frame.client.call(
        "POST", protocol.RUN_SUBTASK, payload, attempt_id=frame.attempt_id, abort=frame.finished
    ).json()
    run_id = body.get("task_run_id") if isinstance(body, dict) else None
    if not isinstance(run_id, str) or not run_id:
        raise CallbackAPIError(f"/run-subtask answered without a task_run_id: {body!r}")
    return run_id


def wait_subtask(frame: AttemptFrame, task_name: str, run_id: str) -> Any:
    """Wait until the subtask ends; return its value or raise SubtaskError."""
    delay = FIRST_POLL_DELAY
    while True:
        if frame.finished.is_set():
            raise CallbackAPIError(f"stopped waiting for subtask {run_id}: the attempt is over")
        response = frame.client.call(
            "POST",
            protocol.GET_SUBTASK_RESULT,
            {"task_run_id": run_id, "wait_ms": LONG_POLL_MS},
            attempt_id=frame.attempt_id,
            timeout=_LONG_POLL_SOCKET_TIMEOUT,
            abort=frame.finished,
        )
        body = response.json()
        if not isinstance(body, dict):
            raise CallbackAPIError(f"/get-subtask-result answered {body!r}")
        if body.get("still_running"):
            if response.headers.get(_LONG_POLL) == "1":
                delay = FIRST_POLL_DELAY
                continue
            frame.finished.wait(delay)
            delay = min(delay * 2, MAX_POLL_DELAY)
            continue
        complete = body.get("complete")
        if isinstance(complete, dict):
            return decode_output(complete.get("output") or "")
        error = body.get("error")
        if isinstance(error, dict):
            details = error.get("details")
            raise SubtaskError(task_name, run_id, str(details) if details else "unknown error")
        raise CallbackAPIError(f"/get-subtask-result answered neither complete nor error: {body!r}")


def call_subtask(frame: AttemptFrame, task_name: str, encoded_input: str) -> Any:
    """Start a subtask and wait for its value (blocking)."""
    return wait_subtask(frame, task_name, start_subtask(frame, task_name, encoded_input))
