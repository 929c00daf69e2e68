"""The meaning of each callback API request, the platform's side (docs/protocol-extensions.md).

:class:`CallbackAPI` answers requests arriving on any worker socket, given what that socket knows
(:class:`~render_sdk.engine._attempts.SocketContext`). Anything wrong in a request is answered with
a 4xx JSON ``{"error": ...}`` and logged; the engine keeps serving.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from render_sdk import _callback_protocol as protocol
from render_sdk.engine._attempts import ActiveRun, Attempt, SocketContext
from render_sdk.engine.callback_server import CallbackRequest, CallbackResponse, error_response
from render_sdk.engine.lifecycle import Completed, Errored
from render_sdk.engine.records import EngineError, JSONInput, RunRecord, RunStatus, TaskRecord

_log = logging.getLogger("render_sdk.engine.callbacks")
INPUT_HOLD_SECONDS = 25.0  # a serve worker's GET /input is held this long, then answered 204
MAX_WAIT_MS = 60_000
# Request headers arrive lower-cased.
ATTEMPT_HEADER = protocol.ATTEMPT_HEADER.lower()
NEXT_INPUT_HEADER = protocol.NEXT_INPUT_HEADER.lower()
OUTPUT_HEADER = protocol.OUTPUT_HEADER.lower()
LONG_POLL_HEADER = protocol.LONG_POLL_HEADER.lower()


class Reject(Exception):
    """A request the engine refuses; becomes ``status`` with ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _json_body(request: CallbackRequest) -> dict[str, Any]:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, UnicodeDecodeError) as exc:
        raise Reject(400, f"{request.path}: body is not valid JSON ({exc})") from None
    if not isinstance(body, dict):
        raise Reject(400, f"{request.path}: body must be a JSON object")
    return body


def _decode_payload(value: Any, field: str, path: str) -> Any:
    if not isinstance(value, str):
        raise Reject(400, f"{path}: {field!r} must be a string (base64 of UTF-8 JSON)")
    try:
        return protocol.decode(value)
    except ValueError as exc:
        raise Reject(400, f"{path}: {field!r} is not base64 of UTF-8 JSON ({exc})") from None


class CallbackHost(Protocol):
    """What the callback API needs from the engine (EngineCore implements it)."""

    async def find_task(self, ref: str) -> TaskRecord | None:
        """A registered task by name, path or id (None if unknown)."""

    async def start_subtask(
        self, parent: ActiveRun, task: TaskRecord, input: JSONInput, key: str | None
    ) -> RunRecord:
        """Start ``task`` as a subtask of ``parent`` (``key``: idempotency key per parent)."""

    async def lookup_run(self, run_id: str) -> ActiveRun | RunRecord | None:
        """The active run or the stored record, None if unknown."""

    def parse_tasks(self, raw: list[Any]) -> list[TaskRecord]:
        """The tasks a worker registers, as records (InvalidRequest if malformed)."""

    def wait_for(self, attempt: Attempt, subtask: ActiveRun | None) -> None:
        """``attempt`` now waits for ``subtask`` (holding no slot until it settles); None:
        it waits for nothing."""

    async def hold_for(self, attempt: Attempt, subtask: ActiveRun, seconds: float) -> None:
        """Hold ``attempt`` (holding no slot) until ``subtask`` settles or ``seconds`` pass."""

    async def hold_for_stored(self, attempt: Attempt, run_id: str, seconds: float) -> None:
        """Hold ``attempt`` (holding no slot) until ``run_id``, run by another node, is
        terminal or ``seconds`` pass (at once with a store of one node)."""


class CallbackAPI:
    """Answers callback API requests for one engine.

    api = CallbackAPI(engine_core)
    response = await api.handle(ctx, request)
    """

    def __init__(self, host: CallbackHost) -> None:
        self.host = host

    async def handle(self, ctx: SocketContext, request: CallbackRequest) -> CallbackResponse:
        """Answer ``request`` arriving on the socket described by ``ctx``."""
        route = (request.method, request.path)
        try:
            if route == ("GET", protocol.INPUT):
                return await self._input(ctx, request.query)
            if route == ("POST", protocol.CALLBACK):
                return await self._callback(ctx, request)
            if route == ("POST", protocol.RUN_SUBTASK):
                return await self._run_subtask(ctx, request)
            if route == ("POST", protocol.GET_SUBTASK_RESULT):
                return await self._subtask_result(ctx, request)
            if route == ("POST", protocol.REGISTER_TASKS):
                return self._register(ctx, request)
            if request.path in protocol.PATHS:
                raise Reject(405, f"method {request.method} is not allowed on {request.path}")
            raise Reject(404, f"unknown callback endpoint {request.method} {request.path}")
        except Reject as exc:
            _log.warning("callback API %s %s: %s", request.method, request.path, exc.message)
            return error_response(exc.status, exc.message)
        except EngineError as exc:
            _log.warning("callback API %s %s: %s", request.method, request.path, exc.message)
            return error_response(exc.status, exc.message)

    # --- helpers ------------------------------------------------------------------------------
    def _attempt(self, ctx: SocketContext, request: CallbackRequest) -> Attempt:
        if ctx.mode == "register":
            raise Reject(
                409,
                f"{request.path}: this worker was started in register mode, "
                "where only POST /register-tasks is served",
            )
        attempt = ctx.attempt
        if attempt is None or not ctx.delivered:
            raise Reject(
                409, f"{request.path}: wrong call order: no attempt was handed out (GET /input)"
            )
        if ctx.mode == "serve":
            sent = request.headers.get(ATTEMPT_HEADER)
            if sent != attempt.token:
                raise Reject(
                    409,
                    f"{request.path}: Render-Attempt-Id {sent!r} is not the attempt running "
                    "on this socket",
                )
        if attempt.outcome.done():
            run = attempt.run.record
            if attempt.run.canceling:
                raise Reject(409, f"{request.path}: run {run.id} was canceled")
            raise Reject(409, f"{request.path}: the attempt of run {run.id} has already ended")
        return attempt

    # --- endpoints ----------------------------------------------------------------------------
    async def _input(self, ctx: SocketContext, query: str = "") -> CallbackResponse:
        if ctx.mode == "register":
            raise Reject(409, "/input: this worker was started in register mode")
        if ctx.mode == "run":
            attempt = ctx.attempt
            if attempt is None or attempt.outcome.done():
                raise Reject(409, "/input: the attempt for this worker has already ended")
            ctx.delivered = True
            _note_startup(attempt, query)
            return CallbackResponse(200, self._input_body(attempt, with_id=False))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + INPUT_HOLD_SECONDS
        while True:
            if ctx.retiring:
                return CallbackResponse(410, {"error": "this worker process is retired: exit"})
            attempt = ctx.attempt
            if attempt is not None:
                if ctx.delivered:
                    raise Reject(
                        409, "/input: wrong call order: the current attempt has no callback yet"
                    )
                ctx.delivered = True
                _note_startup(attempt, query)
                return CallbackResponse(200, self._input_body(attempt, with_id=True))
            remaining = deadline - loop.time()
            if remaining <= 0:
                return CallbackResponse(204)
            ctx.wake.clear()
            if not await ctx.wake.wait(remaining):
                return CallbackResponse(204)

    def _input_body(self, attempt: Attempt, with_id: bool) -> dict[str, Any]:
        value = attempt.run.record.input
        record = attempt.run.record
        body: dict[str, Any] = {
            "task_name": record.task_name,
            "input": protocol.encode(value, allow_nan=True) if value else "",
            # The run's ids as Render 1.x sends them (a root run has no parent); they feed
            # TaskContext.metadata (docs/protocol-extensions.md, section 5).
            "task_run_id": record.id,
            "root_task_run_id": record.root_id or record.id,
        }
        if record.parent_id:
            body["parent_task_run_id"] = record.parent_id
        if with_id:
            body["attempt_id"] = attempt.token
        return body

    async def _callback(self, ctx: SocketContext, request: CallbackRequest) -> CallbackResponse:
        attempt = self._attempt(ctx, request)
        body = _json_body(request)
        if "complete" in body:
            complete = body["complete"]
            if not isinstance(complete, dict) or "output" not in complete:
                raise Reject(400, "/callback: 'complete' must be an object with 'output'")
            output = _decode_payload(complete["output"], "output", "/callback")
            if not isinstance(output, list):
                output = [output]  # the contract sends an array; accept a bare value too
            outcome: Completed | Errored = Completed(output)
        elif "error" in body:
            error = body["error"]
            if not isinstance(error, dict) or not isinstance(error.get("details"), str):
                raise Reject(400, "/callback: 'error' must be an object with a string 'details'")
            trace = error.get("stack_trace")
            outcome = Errored(error["details"], trace if isinstance(trace, str) else None)
        else:
            raise Reject(400, "/callback: body needs 'complete' or 'error'")
        # The worker saw its stdout and stderr read to the end: no end-of-attempt markers follow.
        attempt.output_drained = request.headers.get(OUTPUT_HEADER) == "drained"
        if not attempt.resolve(outcome):
            raise Reject(
                409, f"/callback: the attempt of run {attempt.run.record.id} has already ended"
            )
        # Answered once the process is free for its next attempt; the result is committed
        # right after (a crash in between runs the attempt again: at-least-once).
        await asyncio.shield(attempt.released)
        if ctx.mode == "serve" and request.headers.get(NEXT_INPUT_HEADER) == "1":
            answer = await self._input(ctx)
            answer.headers.append((NEXT_INPUT_HEADER, "1"))
            return answer
        return CallbackResponse(200, {})

    async def _run_subtask(self, ctx: SocketContext, request: CallbackRequest) -> CallbackResponse:
        attempt = self._attempt(ctx, request)
        self.host.wait_for(attempt, None)
        body = _json_body(request)
        name = body.get("task_name")
        if not isinstance(name, str) or not name:
            raise Reject(400, "/run-subtask: 'task_name' must be a non-empty string")
        value = _decode_payload(body.get("input", ""), "input", "/run-subtask")
        if value is None:
            value = []
        key = body.get("idempotency_key")
        if key is not None and not isinstance(key, str):
            raise Reject(400, "/run-subtask: 'idempotency_key' must be a string")
        # created_at (Render 1.x: the call's time, fixed across its retries) is accepted; the
        # idempotency key alone already makes a retried call return the same run here.
        if not isinstance(body.get("created_at", ""), str):
            raise Reject(400, "/run-subtask: 'created_at' must be an RFC 3339 string")
        task = await self.host.find_task(name)
        if task is None:
            raise Reject(404, f"/run-subtask: unknown task {name!r}")
        if attempt.run.canceling or attempt.outcome.done():
            raise Reject(409, f"/run-subtask: run {attempt.run.record.id} is no longer running")
        child = await self.host.start_subtask(attempt.run, task, value, key)
        return CallbackResponse(200, {"task_run_id": child.id})

    async def _subtask_result(
        self, ctx: SocketContext, request: CallbackRequest
    ) -> CallbackResponse:
        attempt = self._attempt(ctx, request)
        body = _json_body(request)
        run_id = body.get("task_run_id")
        if not isinstance(run_id, str):
            raise Reject(400, "/get-subtask-result: 'task_run_id' must be a string")
        long_poll = "wait_ms" in body
        wait_ms = body.get("wait_ms", 0)
        if not isinstance(wait_ms, int) or isinstance(wait_ms, bool) or wait_ms < 0:
            raise Reject(400, "/get-subtask-result: 'wait_ms' must be a non-negative integer")
        wait_ms = min(wait_ms, MAX_WAIT_MS)
        headers = [(LONG_POLL_HEADER, "1")] if long_poll else []
        found = await self.host.lookup_run(run_id)
        if found is None:
            raise Reject(404, f"/get-subtask-result: unknown subtask id {run_id!r}")
        parent_id = (found.record if isinstance(found, ActiveRun) else found).parent_id
        if parent_id != attempt.run.record.id:
            raise Reject(
                404, f"/get-subtask-result: {run_id!r} is not a subtask of {attempt.run.record.id}"
            )
        if isinstance(found, ActiveRun) and not found.settled.is_set() and wait_ms > 0:
            await self.host.hold_for(attempt, found, wait_ms / 1000)
        elif not isinstance(found, ActiveRun) and not found.status.terminal and wait_ms > 0:
            # Run by another node (a store that several nodes share): wait for its news.
            await self.host.hold_for_stored(attempt, run_id, wait_ms / 1000)
            found = await self.host.lookup_run(run_id) or found
        record = found.record if isinstance(found, ActiveRun) else found
        if isinstance(found, ActiveRun) and not found.settled.is_set():
            self.host.wait_for(attempt, found)
            return CallbackResponse(200, {"still_running": True}, headers)
        self.host.wait_for(attempt, None)
        return CallbackResponse(200, _result_body(record), headers)

    def _register(self, ctx: SocketContext, request: CallbackRequest) -> CallbackResponse:
        if ctx.mode != "register" or ctx.registered is None:
            raise Reject(409, "/register-tasks is only served to a worker in register mode")
        if ctx.registered.done():
            raise Reject(409, "/register-tasks: the tasks were already registered")
        body = _json_body(request)
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise Reject(400, "/register-tasks: 'tasks' must be a list")
        parsed = self.host.parse_tasks(tasks)
        ctx.registered.set_result(parsed)
        return CallbackResponse(200, {})


_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
STARTUP_PARAMS = ("sdk_import_started_at", "sdk_import_finished_at", "sdk_started_at")


def parse_startup(query: str) -> dict[str, datetime]:
    """The worker's start-up times in a ``GET /input`` query: integers of nanoseconds since the
    Unix epoch, as Render 1.x's worker sends them (docs/protocol-extensions.md, section 5).
    Values that are not such integers are left out (they are reports, never a reason to fail).

    >>> parse_startup("sdk_started_at=1767225600000000000&x=1")
    {'sdk_started_at': datetime.datetime(2026, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)}
    """
    if not query:
        return {}
    from urllib.parse import parse_qsl

    found: dict[str, datetime] = {}
    for name, raw in parse_qsl(query, keep_blank_values=False):
        if name not in STARTUP_PARAMS or not raw.isdigit() or len(raw) > 25:
            continue
        nanos = int(raw)
        try:
            found[name] = _EPOCH + timedelta(microseconds=nanos // 1000)
        except (OverflowError, OSError, ValueError):
            continue
    return found


def _note_startup(attempt: Attempt, query: str) -> None:
    startup = parse_startup(query)
    if not startup:
        return
    attempt.startup = startup
    recorded = attempt.run.record.attempts
    if recorded and recorded[-1].number == attempt.number:
        recorded[-1].startup = startup


def _result_body(record: RunRecord) -> dict[str, Any]:
    if not record.status.terminal:
        return {"still_running": True}
    if record.status is RunStatus.COMPLETED:
        return {
            "still_running": False,
            "complete": {"output": protocol.encode(record.results or [], allow_nan=True)},
        }
    if record.status is RunStatus.CANCELED:
        details = f"subtask {record.id} was canceled"
    else:
        details = record.error or f"subtask {record.id} failed"
    return {"still_running": False, "error": {"details": details}}
