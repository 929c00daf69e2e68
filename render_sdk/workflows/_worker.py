"""The worker: what ``app.start()`` does in each ``RENDER_SDK_MODE``.

- ``register``: post every task to ``/register-tasks``.
- ``run``: one run: ``GET /input``, execute, post one ``/callback``.
- ``serve``: many attempts, one at a time, in this process (docs/protocol-extensions.md, 2).
"""

from __future__ import annotations

import io
import os
import sys
import traceback
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from render_sdk import _callback_protocol as protocol
from render_sdk._callback_protocol import END_OF_ATTEMPT, NEXT_INPUT_HEADER, OUTPUT_HEADER
from render_sdk._startup import input_query, mark_sdk_started
from render_sdk.workflows._codec import decode_input, encode_output
from render_sdk.workflows._context import AttemptFrame, current_frame
from render_sdk.workflows._errors import CallbackAPIError, WorkerConfigError
from render_sdk.workflows._pool import DaemonPool
from render_sdk.workflows._task import error_details
from render_sdk.workflows._transport import (
    DEFAULT_RETRY_SECONDS,
    CallbackClient,
    Response,
)

if TYPE_CHECKING:
    from render_sdk.workflows._app import Workflows

MODES = ("register", "run", "serve")
RETRY_ENV = "RENDER_SDK_SOCKET_RETRY_SECONDS"
ENGINE_PID_ENV = "RENDER_SDK_ENGINE_PID"


@dataclass(frozen=True)
class WorkerConfig:
    """The worker's settings, read from the environment."""

    mode: str
    socket_path: str
    retry_seconds: float = DEFAULT_RETRY_SECONDS

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> WorkerConfig:
        """Read RENDER_SDK_MODE, RENDER_SDK_SOCKET_PATH and RENDER_SDK_SOCKET_RETRY_SECONDS.

        >>> WorkerConfig.from_environ({"RENDER_SDK_MODE": "run", "RENDER_SDK_SOCKET_PATH": "/s"})
        WorkerConfig(mode='run', socket_path='/s', retry_seconds=180.0)
        """
        mode = environ.get("RENDER_SDK_MODE", "")
        if not mode:
            raise WorkerConfigError(
                "RENDER_SDK_MODE is not set; the platform starts workers with it set to "
                "'register' or 'run' (to run tasks locally use `render-workflows dev module:app`)"
            )
        if mode not in MODES:
            raise WorkerConfigError(
                f"RENDER_SDK_MODE={mode!r} is not a known mode; expected one of {', '.join(MODES)}"
            )
        socket_path = environ.get("RENDER_SDK_SOCKET_PATH", "")
        if not socket_path:
            raise WorkerConfigError(
                "RENDER_SDK_SOCKET_PATH is not set; it must name the platform's Unix socket"
            )
        raw = environ.get(RETRY_ENV)
        retry_seconds = DEFAULT_RETRY_SECONDS
        if raw:
            try:
                retry_seconds = float(raw)
            except ValueError:
                retry_seconds = -1.0
            if not 0 <= retry_seconds < float("inf"):
                raise WorkerConfigError(f"{RETRY_ENV}={raw!r} must be a number of seconds >= 0")
        return cls(mode, socket_path, retry_seconds)


_worker_ran = False


def worker_ran() -> bool:
    """Whether this process already ran the worker (e.g. a module calling ``app.start()`` at
    import time, without an ``if __name__ == "__main__":`` guard)."""
    return _worker_ran


def run_worker(app: Workflows, environ: Mapping[str, str] | None = None) -> int:
    """Run the worker for ``app`` as the environment says; return the exit status."""
    global _worker_ran
    _worker_ran = True
    mark_sdk_started()
    try:
        config = WorkerConfig.from_environ(os.environ if environ is None else environ)
    except WorkerConfigError as exc:
        _fail(str(exc))
        return 2
    if config.mode != "register":
        _line_buffer_output()
    client = CallbackClient(config.socket_path, config.retry_seconds, _engine_pid())
    try:
        if config.mode == "register":
            register(app, client)
        elif config.mode == "run":
            run_once(app, client, DaemonPool())
        else:
            serve(app, client, DaemonPool())
    except CallbackAPIError as exc:
        _fail(str(exc))
        return 1
    finally:
        client.close()
    return 0


def _engine_pid() -> int | None:
    """The local engine's process id, which it sets in ``RENDER_SDK_ENGINE_PID`` (not on Render)."""
    raw = os.environ.get(ENGINE_PID_ENV, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None


def register(app: Workflows, client: CallbackClient) -> None:
    """Post every task of ``app`` to ``/register-tasks``."""
    tasks = [task.to_wire() for task in app.tasks.values()]
    client.call("POST", protocol.REGISTER_TASKS, {"tasks": tasks})


def run_once(app: Workflows, client: CallbackClient, pool: DaemonPool) -> None:
    """Execute the one run the platform assigns, and post its callback."""
    body = client.call("GET", protocol.INPUT + input_query()).json()
    frame = AttemptFrame(client, pool)
    outcome = execute(app, body, frame)
    _flush_output()
    answer = client.call("POST", protocol.CALLBACK, outcome, accept=(200, 409))
    if answer.status == 409:
        # The platform already ended this attempt (a timeout, a cancel, or an earlier try of
        # this very callback whose answer was lost): there is nothing left to deliver.
        _fail(
            "the platform did not take this run's result (HTTP 409: "
            f"{answer.body[:300].decode('utf-8', 'replace')})",
            "notice",
        )


def serve(app: Workflows, client: CallbackClient, pool: DaemonPool) -> None:
    """Execute attempts one after another until the platform answers 410 (retired).

    Each callback asks for the next input in the same exchange (``Render-Next-Input``); when the
    answer does not carry one, the worker asks with ``GET /input``.
    """
    answer: Response | None = None
    while True:
        if answer is None:
            answer = client.call(
                "GET", protocol.INPUT + input_query(), timeout=None, accept=(200, 204, 410)
            )
        if answer.status == 410:
            return
        if answer.status == 204:
            answer = None
            continue
        body = answer.json()
        attempt_id = body.get("attempt_id") if isinstance(body, dict) else None
        attempt_id = str(attempt_id) if attempt_id is not None else None
        frame = AttemptFrame(client, pool, attempt_id=attempt_id)
        outcome = execute(app, body, frame)
        _flush_output()
        headers = {NEXT_INPUT_HEADER: "1"}
        if attempt_id is not None:
            if _output_drained():
                headers[OUTPUT_HEADER] = "drained"  # the engine has read all of it: no markers
            else:
                _mark_end_of_attempt(attempt_id)
        # 409: the engine moved on from this attempt (e.g. it timed out); nothing to deliver.
        answer = client.call(
            "POST",
            protocol.CALLBACK,
            outcome,
            attempt_id=attempt_id,
            timeout=None,
            accept=(200, 204, 409, 410),
            headers=headers,
        )
        if answer.status == 409 or NEXT_INPUT_HEADER.lower() not in answer.headers:
            answer = None  # no next input in this answer: ask for it


def execute(app: Workflows, body: Any, frame: AttemptFrame) -> dict[str, Any]:
    """Run the task named in ``body`` and return the callback payload (complete or error)."""
    token = current_frame.set(frame)
    try:
        if not isinstance(body, dict) or not isinstance(body.get("task_name"), str):
            raise ValueError(f"GET /input answered without a task_name: {body!r}")
        task = app.get_task(body["task_name"])
        raw_input = body.get("input") or ""
        if not isinstance(raw_input, str):
            raise ValueError(f"GET /input answered a non-string input: {raw_input!r}")
        args, kwargs = decode_input(raw_input)
        task.check_arguments(args, kwargs)
        if task.takes_context:
            from render_sdk.workflows._taskcontext import AttemptContext, TaskRunMetadata

            args = (AttemptContext(frame, TaskRunMetadata.from_input(body)), *args)
        if task.is_async:
            import asyncio  # Only for async tasks: a sync-only worker starts faster without it.

            result = asyncio.run(task.fn(*args, **kwargs))
        else:
            result = task.fn(*args, **kwargs)
        return {"complete": {"output": encode_output(task.name, result)}}
    except (Exception, SystemExit) as exc:
        details = (
            f"the task called sys.exit({exc.code!r})"
            if isinstance(exc, SystemExit)
            else error_details(exc)
        )
        return {"error": {"details": details, "stack_trace": _format(exc)}}
    finally:
        frame.finished.set()
        current_frame.reset(token)


def _format(exc: BaseException) -> str:
    return "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))


def _fail(message: str, kind: str = "error") -> None:
    print(f"render-workflows: {kind}: {message}", file=sys.stderr, flush=True)


def _mark_end_of_attempt(attempt_id: str) -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.write(f"{END_OF_ATTEMPT} {attempt_id}\n")
                stream.flush()
            except (OSError, ValueError):
                pass  # A stream the task closed or broke: nothing to attribute on it.


def _output_drained() -> bool:
    """True when stdout and stderr are pipes the platform has already read to the end, so
    everything this attempt wrote has reached it before the callback does."""
    try:
        import fcntl
        import stat
        import termios

        for fd in (1, 2):
            if not stat.S_ISFIFO(os.fstat(fd).st_mode):
                return False
            unread = fcntl.ioctl(fd, termios.FIONREAD, bytes(4))
            if int.from_bytes(unread, sys.byteorder):
                return False
    except (ImportError, OSError, ValueError):
        return False
    return True


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            try:
                stream.flush()
            except (OSError, ValueError):
                pass


def _line_buffer_output() -> None:
    # Task output reaches the platform line by line, even if the process is killed mid-run.
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper) and not stream.line_buffering:
            try:
                stream.reconfigure(line_buffering=True)
            except (OSError, ValueError):
                pass
