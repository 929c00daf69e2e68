"""The local engine's REST API (openapi.yaml) as a Starlette application.

    from render_sdk.engine.api import create_app
    app = create_app(core, api_key=None)   # serve with uvicorn

Every 4xx and 5xx answer, Starlette's own 404/405 included, has the contract's body
``{"id": "<error id>", "message": "<what went wrong>"}``. Errors raised by the core
(:class:`~render_sdk.engine.records.EngineError`) keep their status, id and message; anything
unexpected is logged with its traceback and answered ``500`` while the engine keeps serving.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable, Collection
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from render_sdk.engine import serialize
from render_sdk.engine._held import HEADERS_WITHIN, RunWatch, held_answer
from render_sdk.engine.auth import BearerAuth
from render_sdk.engine.browser_guard import BrowserGuard, loopback_hosts
from render_sdk.engine.interface import EngineCoreAPI, RunFilter
from render_sdk.engine.records import Conflict, EngineError, InvalidRequest, NotFound
from render_sdk.engine.sse import EventStream

logger = logging.getLogger("render_sdk.engine.api")

MIB = 1024 * 1024
MAX_EVENT_RUN_IDS = 1000
MAX_IDEMPOTENCY_KEY = 255
MAX_PREFER_WAIT = 60  # seconds a POST /v1/task-runs may hold its answer for the run's outcome
_JSON = "application/json"
_HTTP_ERROR_IDS = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "too_many_requests",
    503: "unavailable",
}

_LOOPBACK = loopback_hosts()

Endpoint = Callable[[Request], Awaitable[Response]]


class UnsupportedMediaType(EngineError):
    """The request body is not declared as JSON."""

    status = 415
    error_id = "unsupported_media_type"


class PayloadTooLarge(EngineError):
    """The request body is larger than the engine accepts."""

    status = 413
    error_id = "payload_too_large"


def json_response(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A compact JSON response."""
    return Response(serialize.dumps(value), status_code=status, headers=headers, media_type=_JSON)


def error_response(status: int, error_id: str, message: str) -> Response:
    """The contract's error body with ``status``.

    >>> error_response(404, "not_found", "task 'x' not found").status_code
    404
    """
    return Response(serialize.error(error_id, message), status_code=status, media_type=_JSON)


def _guarded(endpoint: Endpoint) -> Endpoint:
    """Turn EngineErrors into their error bodies and anything else into a logged 500."""

    @functools.wraps(endpoint)
    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except EngineError as exc:
            return error_response(exc.status, exc.error_id, exc.message)
        except ClientDisconnect:
            # The client left while sending its body: nobody reads this answer, nothing to log.
            return error_response(400, "invalid_request", "the client disconnected")
        except Exception:
            logger.exception("%s %s failed", request.method, request.url.path)
            return error_response(
                500, "internal_error", "the engine failed to handle the request (see its log)"
            )

    return run


def _route(path: str, **by_method: Endpoint) -> Route:
    """One route per path, so a 405's ``Allow`` header lists every method the path serves."""
    guarded = {method: _guarded(endpoint) for method, endpoint in by_method.items()}
    if len(guarded) == 1:
        ((method, only),) = guarded.items()
        return Route(path, only, methods=[method])
    if "GET" in guarded:
        guarded["HEAD"] = guarded["GET"]

    async def dispatch(request: Request) -> Response:
        return await guarded[request.method](request)

    return Route(path, dispatch, methods=list(by_method))


# --- request parsing ----------------------------------------------------------------------


def _one_value(request: Request, name: str) -> str | None:
    """The query parameter's value; a parameter given more than once is ambiguous (400)."""
    values = request.query_params.getlist(name)
    if len(values) > 1:
        raise InvalidRequest(f"{name} may be given once, got {len(values)} values")
    return values[0] if values else None


def _int_param(request: Request, name: str, default: int, low: int, high: int) -> int:
    raw = _one_value(request, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        message = f"{name} must be an integer from {low} to {high}, got {raw!r}"
        raise InvalidRequest(message) from None
    if not low <= value <= high:
        raise InvalidRequest(f"{name} must be from {low} to {high}, got {value}")
    return value


def _str_param(request: Request, name: str) -> str | None:
    value = _one_value(request, name)
    return value if value else None


async def _read_body(request: Request, limit: int) -> bytes:
    """The body, or PayloadTooLarge once it passes ``limit`` bytes.

    An oversized body of moderate size is read to its end (and dropped) before answering, so the
    client, still sending, reliably receives the 413 instead of a reset connection.
    """
    declared = request.headers.get("content-length")
    too_large = PayloadTooLarge(f"the request body is larger than the limit of {limit} bytes")
    drain = max(64 * MIB, 8 * limit)
    if declared is not None and declared.isdigit() and int(declared) > drain:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > drain:
            raise too_large
        if size <= limit:
            chunks.append(chunk)
    if size > limit:
        raise too_large
    return b"".join(chunks)


def _require_json(request: Request) -> None:
    """Refuse a body that is not declared ``application/json`` (or ``application/*+json``).

    Browsers send ``text/plain`` and form bodies across sites without asking first; a JSON route
    that took them could be driven by any web page (docs/inspector.md).
    """
    declared = request.headers.get("content-type")
    media = (declared or "").split(";", 1)[0].strip().lower()
    if media == _JSON or (media.startswith("application/") and media.endswith("+json")):
        return
    got = f"got {declared!r}" if declared else "no Content-Type was sent"
    raise UnsupportedMediaType(
        f"the request body must be JSON: send 'Content-Type: application/json' ({got})"
    )


def _parse_start_body(body: bytes) -> tuple[str, Any, str | None]:
    if not body.strip():
        raise InvalidRequest('the request body is empty: send {"task": "<slug>", "input": [...]}')
    try:
        payload = json.loads(body, parse_constant=_reject_constant)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequest(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise InvalidRequest("the request body is nested too deeply") from None
    if (b"\\u" in body or b"\xed" in body) and _has_lone_surrogate(payload):
        raise InvalidRequest(
            "the request body is not valid JSON text: it holds a lone UTF-16 surrogate "
            "(\\ud800 to \\udfff)"
        )
    if not isinstance(payload, dict):
        raise InvalidRequest(f"the request body must be a JSON object, not {_json_type(payload)}")
    task = payload.get("task")
    if task is None:
        raise InvalidRequest(
            "'task' is required: the task's name, 'workflow/name' (optionally ':version') or id"
        )
    if not isinstance(task, str):
        raise InvalidRequest(f"'task' must be a string, not {_json_type(task)}")
    if not task.strip():
        raise InvalidRequest("'task' must not be empty")
    task_input = payload.get("input")
    if task_input is None:
        task_input = []
    elif not isinstance(task_input, (list, dict)):
        raise InvalidRequest(
            "'input' must be a JSON array (positional arguments) or a JSON object (named "
            f"arguments), not {_json_type(task_input)}"
        )
    key = payload.get("idempotencyKey")
    if key is not None:
        if not isinstance(key, str):
            raise InvalidRequest(f"'idempotencyKey' must be a string, not {_json_type(key)}")
        key = _check_idempotency_key(key, "'idempotencyKey'")
    return task, task_input, key


def _check_idempotency_key(key: str, where: str) -> str:
    if not key.strip():
        raise InvalidRequest(f"{where} must not be empty")
    if len(key) > MAX_IDEMPOTENCY_KEY:
        raise InvalidRequest(
            f"{where} is {len(key)} characters long; an idempotency key has at most "
            f"{MAX_IDEMPOTENCY_KEY}"
        )
    return key


def prefer_wait(header: str | None) -> int | None:
    """Seconds asked by a ``Prefer`` header's ``wait`` preference (RFC 7240), at most
    :data:`MAX_PREFER_WAIT`; None without one. Other preferences and malformed values are
    ignored, as the RFC asks.

        prefer_wait("respond-async, wait=10")  # 10
    """
    if not header:
        return None
    for preference in header.split(","):
        name, _, value = preference.split(";", 1)[0].partition("=")
        if name.strip().lower() != "wait":
            continue
        value = value.strip().strip('"')
        if value.isascii() and value.isdigit():
            return min(int(value), MAX_PREFER_WAIT)
    return None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _has_lone_surrogate(payload: Any) -> bool:
    """Whether a parsed body holds text that has no UTF-8 form (and so could not be sent on)."""
    try:
        json.dumps(payload, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def _run_ids_param(request: Request) -> list[str]:
    ids: list[str] = []
    seen: set[str] = set()
    for raw in request.query_params.getlist("taskRunIds"):
        for part in raw.split(","):
            run_id = part.strip()
            if run_id and run_id not in seen:
                seen.add(run_id)
                ids.append(run_id)
    if not ids:
        raise InvalidRequest(
            "taskRunIds is required: one or more run ids, repeated (?taskRunIds=a&taskRunIds=b) "
            "or comma-joined (?taskRunIds=a,b)"
        )
    if len(ids) > MAX_EVENT_RUN_IDS:
        raise InvalidRequest(
            f"at most {MAX_EVENT_RUN_IDS} taskRunIds per stream, got {len(ids)}: "
            "open several streams"
        )
    return ids


def _last_event_id(request: Request) -> int | None:
    raw = request.headers.get("last-event-id")
    if raw is None or not raw.strip():
        return None
    try:
        return int(raw.strip())
    except ValueError:
        raise InvalidRequest(
            f"Last-Event-ID must be an event id sent by this engine (an integer), got {raw!r}"
        ) from None


# --- the application ------------------------------------------------------------------------


class _Api:
    """The endpoints, bound to one core and its settings."""

    def __init__(
        self,
        core: EngineCoreAPI,
        *,
        max_body_bytes: int,
        sse_retry_ms: int,
        sse_ping_interval: float,
        closing: asyncio.Event,
    ) -> None:
        self.core = core
        self.max_body_bytes = max_body_bytes
        self.sse_retry_ms = sse_retry_ms
        self.sse_ping_interval = sse_ping_interval
        self.closing = closing
        # Called by close(): the starts waiting for their run, the pages' change streams.
        self.wakes: set[Callable[[], None]] = set()

    def close(self) -> None:
        """End every event stream and answer every start that waits for its run."""
        self.closing.set()
        for wake in list(self.wakes):
            wake()

    async def start_run(self, request: Request) -> Response:
        _require_json(request)
        body = await _read_body(request, self.max_body_bytes)
        slug, task_input, key = _parse_start_body(body)
        header = request.headers.get("idempotency-key")
        if header is not None and key is None:  # an alias; the body's idempotencyKey wins
            key = _check_idempotency_key(header.strip(), "the Idempotency-Key header")
        task = await self.core.find_task(slug)
        if task is None:
            raise NotFound(f"task {slug!r} not found: no registered task has that name or id")
        wait = prefer_wait(request.headers.get("prefer"))
        run = await self.core.start_run(task, task_input, key)
        if key is not None and (run.task_id != task.id or run.input != task_input):
            raise Conflict(
                f"idempotency key {key!r} was already used to start run {run.id} "
                f"(task {run.task_name!r}) with a different task or input; a repeated start "
                "must send the same task and input, or a new key"
            )
        if wait is None:
            return json_response(serialize.task_run(run), status=202)
        headers = {"Preference-Applied": f"wait={wait}", "Location": f"/v1/task-runs/{run.id}"}
        watch = RunWatch(self.core, run.id, self.wakes, self.closing.is_set())
        try:
            ended = await watch.until(min(HEADERS_WITHIN, wait))
        except BaseException:
            watch.close()
            raise
        if not ended and wait > HEADERS_WITHIN:  # the head now, the details later
            return held_answer(self.core, watch, wait - HEADERS_WITHIN, headers)
        watch.close()
        run = await self.core.get_run(run.id)
        return json_response(serialize.task_run(run, details=True), status=202, headers=headers)

    async def list_runs(self, request: Request) -> Response:
        limit = _int_param(request, "limit", 20, 1, 100)
        cursor = _str_param(request, "cursor")
        task_id: str | None = None
        slug = _str_param(request, "taskSlug")
        if slug is not None:
            task = await self.core.find_task(slug)
            if task is None:
                return json_response([])
            task_id = task.id
        run_filter = RunFilter(
            task_id=task_id,
            root_run_id=_str_param(request, "rootTaskRunId"),
            owner_id=_str_param(request, "ownerId"),
            workflow_id=_str_param(request, "workflowId"),
            workflow_version_id=_str_param(request, "workflowVersionId"),
        )
        items = await self.core.list_runs(run_filter, limit, cursor)
        return json_response(
            [{"taskRun": serialize.task_run(run), "cursor": c} for run, c in items]
        )

    async def get_run(self, request: Request) -> Response:
        run = await self.core.get_run(request.path_params["run_id"])
        return json_response(serialize.task_run(run, details=True))

    async def cancel_run(self, request: Request) -> Response:
        await self.core.cancel_run(request.path_params["run_id"])
        return Response(status_code=204)

    async def events(self, request: Request) -> Response | EventStream:
        run_ids = _run_ids_param(request)
        after_seq = _last_event_id(request)
        unknown = await self.core.unknown_runs(run_ids)
        if unknown:
            raise NotFound("unknown task run ids: " + ", ".join(unknown[:20]))
        if request.method == "HEAD":
            return Response(status_code=200, media_type=EventStream.media_type)
        return EventStream(
            self.core.terminal_events(run_ids, after_seq),
            retry_ms=self.sse_retry_ms,
            ping_interval=self.sse_ping_interval,
            closing=self.closing,
        )

    async def list_tasks(self, request: Request) -> Response:
        limit = _int_param(request, "limit", 20, 1, 100)
        cursor = _str_param(request, "cursor")
        tasks = self.core.list_tasks()
        slug = _str_param(request, "taskSlug")
        if slug is not None:
            found = await self.core.find_task(slug)
            tasks = [t for t in tasks if found is not None and t.id == found.id]
        workflow_id = _str_param(request, "workflowId")
        if workflow_id is not None:
            tasks = [t for t in tasks if t.workflow_id == workflow_id]
        if cursor is not None:
            ids = [t.id for t in self.core.list_tasks()]
            if cursor not in ids:
                raise InvalidRequest(f"cursor {cursor!r} is not a cursor of this task listing")
            position = {task_id: i for i, task_id in enumerate(ids)}[cursor]
            tasks = [t for t in tasks if ids.index(t.id) > position]
        return json_response([{"task": serialize.task(t), "cursor": t.id} for t in tasks[:limit]])

    async def get_task(self, request: Request) -> Response:
        ref = request.path_params["task_id"]
        task = await self.core.find_task(ref)
        if task is None:
            raise NotFound(f"task {ref!r} not found")
        return json_response(serialize.task(task))

    async def logs(self, request: Request) -> Response:
        run_id = _str_param(request, "taskRunId")
        if run_id is None:
            raise InvalidRequest("taskRunId is required: the id of the run whose logs to list")
        limit = _int_param(request, "limit", 20, 1, 100)
        raw_cursor = _str_param(request, "cursor")
        cursor: int | None = None
        if raw_cursor is not None:
            # A log cursor is a line's sequence number: ASCII digits within SQLite's integers.
            if not (raw_cursor.isascii() and raw_cursor.isdigit()) or len(raw_cursor) > 18:
                raise InvalidRequest(
                    f"cursor must be the cursor of a log line of this listing, got {raw_cursor!r}"
                )
            cursor = int(raw_cursor)
        lines, truncated = await self.core.get_logs(run_id, limit, cursor)
        headers = {"Render-Logs-Truncated": "true"} if truncated else None
        return json_response(
            [{"log": serialize.log(line), "cursor": str(line.seq)} for line in lines],
            headers=headers,
        )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    if exc.status_code == 404:
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif exc.status_code == 405:
        message = f"method {request.method} is not allowed on {request.url.path}"
    else:
        message = str(exc.detail)
    error_id = _HTTP_ERROR_IDS.get(exc.status_code, "error")
    response = error_response(exc.status_code, error_id, message)
    if exc.headers:
        response.headers.update(exc.headers)
    return response


async def _unexpected(request: Request, exc: Exception) -> Response:
    return error_response(500, "internal_error", "the engine failed to handle the request")


def create_app(
    core: EngineCoreAPI,
    *,
    api_key: str | None,
    max_body_bytes: int = MIB,
    sse_retry_ms: int = 2000,
    sse_ping_interval: float = 15.0,
    allowed_hosts: Collection[str] | None = _LOOPBACK,
    pages: bool = True,
) -> Starlette:
    """The REST API of ``core`` as an ASGI application.

    ``api_key`` set: every request needs ``Authorization: Bearer <api_key>`` (else ``401``).
    Request bodies over ``max_body_bytes`` get ``413``. Event streams send ``retry:
    <sse_retry_ms>`` first and a ``: ping`` comment after ``sse_ping_interval`` idle seconds.
    Call :func:`close_streams` before shutting the server down so open event streams end.
    Requests whose ``Host`` is neither this machine's name nor in ``allowed_hosts`` (None: any
    host) and state changes sent by pages of other origins get ``403``
    (:mod:`~render_sdk.engine.browser_guard`). ``pages``: also serve the run inspector's pages
    (``/``, ``/runs/{id}``, ``/tasks``; docs/inspector.md).

        app = create_app(core, api_key=None)
        uvicorn.run(app)
    """
    if max_body_bytes < 1:
        raise ValueError("max_body_bytes must be positive")
    if sse_ping_interval <= 0:
        raise ValueError("sse_ping_interval must be positive")
    closing = asyncio.Event()
    api = _Api(
        core,
        max_body_bytes=max_body_bytes,
        sse_retry_ms=sse_retry_ms,
        sse_ping_interval=sse_ping_interval,
        closing=closing,
    )
    routes: list[BaseRoute] = [
        _route("/v1/task-runs", POST=api.start_run, GET=api.list_runs),
        _route("/v1/task-runs/events", GET=api.events),  # type: ignore[arg-type]
        _route("/v1/task-runs/{run_id}", GET=api.get_run, DELETE=api.cancel_run),
        _route("/v1/tasks", GET=api.list_tasks),
        _route("/v1/tasks/{task_id}", GET=api.get_task),
        _route("/v1/logs", GET=api.logs),
    ]
    if pages:
        from render_sdk.engine.inspector import inspector_routes

        routes += inspector_routes(
            core, closing=closing, wakes=api.wakes, api_key=api_key, guard=_guarded
        )
    middleware = [Middleware(BrowserGuard, allowed_hosts=allowed_hosts)]
    if api_key:
        middleware.append(Middleware(BearerAuth, api_key=api_key))
    app = Starlette(
        routes=routes,
        middleware=middleware,
        exception_handlers={HTTPException: _http_error, Exception: _unexpected},
    )
    # A path with a trailing slash is an unknown endpoint (404 with the error body), not a
    # redirect: Render's API does not redirect either.
    app.router.redirect_slashes = False
    app.state.close = api.close
    return app


def close_streams(app: ASGIApp) -> None:
    """End every open event stream of an app made by :func:`create_app`, and answer every start
    waiting for its run's outcome (call in its loop).

    Example: ``close_streams(app)`` just before ``server.should_exit = True``.
    """
    close = getattr(getattr(app, "state", None), "close", None)
    if callable(close):
        close()
