"""Logic shared by the blocking and the async workflows services; the twins only do I/O.

Everything here is free of I/O: building requests, turning answers and exceptions into results
or errors, tracking which runs an event stream still waits for, and paging.

    core = WorkflowsCore(settings, RetryPolicy(), timeout=30.0)
"""

from __future__ import annotations

import json
import uuid
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from render_api import models as api
from render_api.types import UNSET, Response, Unset

from render_sdk.client import _constants as C
from render_sdk.client import _convert, _fastread
from render_sdk.client._config import Settings
from render_sdk.client._retry import Retries, RetryPolicy
from render_sdk.client._sse import ServerSentEvent, SSEDecoder
from render_sdk.client.errors import (
    RenderError,
    ServerError,
    TaskRunError,
    TimeoutError,
    error_from_response,
)
from render_sdk.client.types import (
    ListTaskRunsParams,
    LogPage,
    TaskList,
    TaskRun,
    TaskRunDetails,
    TaskRunList,
)

T = TypeVar("T")
R = TypeVar("R", bound=TaskRun)

TERMINAL_EVENTS = frozenset({"task.completed", "task.succeeded", "task.failed", "task.canceled"})
EVENTS_PATH = "/task-runs/events"


class ErrorAnswer(Exception):
    """An HTTP error answer (status 400 or more), raised by the clients' response hook before
    the generated layer parses it, so that any error body (an API error, a proxy's HTML page)
    becomes the error its status stands for (:func:`error_from_response`)."""

    def __init__(self, response: httpx.Response) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status_code = response.status_code
        self.content = response.content
        self.headers = response.headers


def raise_error_answers(response: httpx.Response) -> None:
    """httpx response hook of the blocking client: raise :class:`ErrorAnswer` for HTTP >= 400."""
    if response.status_code >= 400:
        response.read()
        raise ErrorAnswer(response)


async def araise_error_answers(response: httpx.Response) -> None:
    """httpx response hook of the async client: raise :class:`ErrorAnswer` for HTTP >= 400."""
    if response.status_code >= 400:
        await response.aread()
        raise ErrorAnswer(response)


def connection_lost(exc: BaseException) -> bool:
    """True when ``exc`` broke a connection that had been made."""
    return isinstance(exc, httpx.TransportError) and not isinstance(
        exc, (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
    )


def server_reached(exc: BaseException) -> bool:
    """True when the request that raised ``exc`` reached the server: it answered (with an
    error), or a connection to it was made and then broke."""
    return isinstance(exc, ErrorAnswer) or connection_lost(exc)


class NotAnEventStream(RenderError):
    """The events endpoint answered, but not with ``text/event-stream``."""


def _opt(value: T | None) -> T | Unset:
    return UNSET if value is None else value


class EventTracker:
    """Which requested runs have not produced their terminal event yet, plus the SSE decoder.

    tracker = EventTracker(["trn-1", "trn-2"])
    details = tracker.accept(event)  # TaskRunDetails for a requested run's terminal event
    """

    __slots__ = ("decoder", "pending")

    def __init__(self, ids: list[str]) -> None:
        self.pending: dict[str, None] = dict.fromkeys(ids)
        self.decoder = SSEDecoder()

    @property
    def done(self) -> bool:
        """True once every requested run produced its event."""
        return not self.pending

    def feed(self, chunk: str) -> list[TaskRunDetails]:
        """The terminal details of requested runs completed by ``chunk``."""
        out = []
        for event in self.decoder.feed(chunk):
            details = self.accept(event)
            if details is not None:
                out.append(details)
        return out

    def accept(self, event: ServerSentEvent) -> TaskRunDetails | None:
        """The run's details if ``event`` is the first terminal event of a requested run."""
        if event.event not in TERMINAL_EVENTS:
            return None
        try:
            details = _fastread.run_details(json.loads(event.data))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise RenderError(
                f"task_run_events: cannot read the data of event {event.id!r}: {exc}",
                operation="task_run_events",
            ) from exc
        if details.id not in self.pending or not details.status.is_terminal:
            return None
        del self.pending[details.id]
        return details

    def reconnect_delay(self, policy: RetryPolicy) -> float:
        """Seconds before reconnecting after a healthy stream dropped: the server's ``retry``."""
        if self.decoder.retry_ms is not None:
            return min(self.decoder.retry_ms / 1000, policy.maximum)
        return policy.initial

    def request_headers(self) -> dict[str, str]:
        """Headers of the (re)connection request."""
        headers = {"Accept": "text/event-stream", "Cache-Control": "no-cache"}
        if self.decoder.last_event_id:
            headers["Last-Event-ID"] = self.decoder.last_event_id
        return headers

    def request_params(self) -> httpx.QueryParams:
        """Query of the (re)connection request: the runs still awaited, repeated parameters."""
        return httpx.QueryParams({"taskRunIds": list(self.pending)})


class WorkflowsCore:
    """The I/O-free half of a workflows service: settings, policy and answer handling."""

    def __init__(self, settings: Settings, policy: RetryPolicy, timeout: float) -> None:
        self.settings = settings
        self.policy = policy
        self.timeout = timeout
        self.stream_timeout = httpx.Timeout(timeout, read=max(timeout, C.STREAM_READ_TIMEOUT))
        wait = min(C.RUN_TASK_WAIT, int(timeout / 2))
        self.run_wait: str | Unset = f"wait={wait}" if wait >= 1 else UNSET
        # The clients' httpx base URL (it ends with a slash). The hot calls pass absolute URLs
        # joined to it as httpx joins a relative one, which spares httpx parsing two URLs.
        base = httpx.URL(settings.api_url)
        self._base_url = (
            base if base.raw_path.endswith(b"/") else base.copy_with(raw_path=base.raw_path + b"/")
        )
        self._runs_url = self._api_url("task-runs")

    def _api_url(self, path: str) -> httpx.URL:
        return self._base_url.copy_with(raw_path=self._base_url.raw_path + path.encode("ascii"))

    # --- errors ----------------------------------------------------------------------------
    def retries(self, *, enabled: bool = True, reconnect: bool = False) -> Retries:
        """The retry state of one operation under this client's policy."""
        return Retries(self.policy, enabled=enabled, reconnect=reconnect)

    def unreachable(self, operation: str, exc: BaseException) -> ServerError:
        """The error for a request that got no HTTP answer."""
        reason = str(exc) or type(exc).__name__
        if connection_lost(exc):
            text = f"lost the connection to the Render API at {self.settings.api_url}"
        else:
            text = f"could not connect to the Render API at {self.settings.api_url}"
        return ServerError(f"{text}: {reason}", operation=operation)

    def translate(self, operation: str, exc: Exception) -> RenderError:
        """The client error for an exception raised while sending or parsing a request.

        Exceptions that are none of httpx's and no parse failure are re-raised unchanged.
        """
        if isinstance(exc, RenderError):
            return exc
        if isinstance(exc, ErrorAnswer):
            return error_from_response(operation, exc.status_code, exc.content, exc.headers)
        if isinstance(exc, (httpx.ConnectTimeout, httpx.PoolTimeout)):
            return self.unreachable(operation, exc)
        if isinstance(exc, httpx.TimeoutException):
            return TimeoutError(
                f"{operation}: no answer from {self.settings.api_url} within the timeout "
                f"({self.timeout:g} s)",
                operation=operation,
            )
        if isinstance(exc, httpx.TransportError):
            return self.unreachable(operation, exc)
        if isinstance(exc, (ValueError, KeyError, TypeError, AttributeError)):
            # Raised by the generated layer while parsing a success answer (errors are raised
            # earlier, as ErrorAnswer); the input was checked before anything was sent.
            return RenderError(
                f"{operation}: the API at {self.settings.api_url} answered with a body this "
                f"client cannot read: {exc}",
                operation=operation,
            )
        raise exc

    def unexpected(self, operation: str, status_code: int) -> RenderError:
        """The error for a success answer whose status the operation does not expect."""
        return RenderError(
            f"{operation}: unexpected answer HTTP {int(status_code)} from {self.settings.api_url}",
            operation=operation,
            status_code=int(status_code),
        )

    def parsed(self, operation: str, response: Response[Any], kind: type[T]) -> T:
        """The answer's parsed model, which must be a ``kind``."""
        value = response.parsed
        if isinstance(value, kind):
            return value
        raise self.unexpected(operation, response.status_code)

    def run_task_key(self, idempotency_key: str | None) -> str | None:
        """The idempotency key of ``run_task``'s start: the caller's, else, against the local
        engine (which honours keys), one of its own, so that a start whose answer was lost (the
        engine restarted while it held the answer) can be sent again without starting a second
        run. Elsewhere a start without a key is sent once."""
        if idempotency_key is not None or not self.settings.local:
            return idempotency_key
        return f"run-task-{uuid.uuid4().hex}"

    def started_run(
        self,
        operation: str,
        response: httpx.Response,
        cls: type[R] = TaskRun,  # type: ignore[assignment]
        **extra: Any,
    ) -> R | None:
        """The run a start answered with, as the generated ``create_task_run`` reads it: a
        ``cls`` for a 202, None for another success status; a body it cannot read is an error."""
        if response.status_code != 202:
            return None
        try:
            return _fastread.run(response.json(), cls, **extra)
        except Exception as exc:
            error = self.translate(operation, exc)
        raise error

    def start_result(
        self,
        operation: str,
        response: httpx.Response,
        cls: type[R] = TaskRun,  # type: ignore[assignment]
        **extra: Any,
    ) -> R:
        """The run of a start's answer (:meth:`started_run`), which must be one."""
        run = self.started_run(operation, response, cls, **extra)
        if run is None:
            raise self.unexpected(operation, response.status_code)
        return run

    def details_result(self, operation: str, response: httpx.Response) -> TaskRunDetails:
        """The run details of a ``get_task_run`` answer, as the generated ``get_task_run``
        reads them: a 200 carries them; another success status is unexpected."""
        if response.status_code != 200:
            raise self.unexpected(operation, response.status_code)
        try:
            return _fastread.run_details(response.json())
        except Exception as exc:
            error = self.translate(operation, exc)
        raise error

    def started_run_id(self, operation: str, run: TaskRun | None, response: httpx.Response) -> str:
        """The id of the run a start answer names: its run, else its body, else its
        ``Location``."""
        if run is not None:
            return run.id
        try:
            run_id = json.loads(response.content)["id"]
            if isinstance(run_id, str) and run_id:
                return run_id
        except (ValueError, KeyError, TypeError):
            pass
        location: str = response.headers.get("location", "")
        named = location.rstrip("/").rsplit("/", 1)[-1]
        if named.startswith("trn-"):
            return named
        raise RenderError(
            f"{operation}: the answer from {self.settings.api_url} names no task run",
            operation=operation,
            status_code=int(response.status_code),
        )

    @staticmethod
    def waited_details(response: httpx.Response) -> TaskRunDetails | None:
        """The finished run of a start the server held until the run's outcome (answered with
        ``Preference-Applied: wait``); None when it did not wait or the run is still going."""
        if "preference-applied" not in response.headers:
            return None
        try:
            details = _fastread.run_details(json.loads(response.content))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None  # not details after all: the run is awaited on events instead
        return details if details.status.is_terminal else None

    @staticmethod
    def is_event_stream(response: httpx.Response) -> bool:
        """True when an answer of the events endpoint is a 200 ``text/event-stream``."""
        return response.status_code == 200 and response.headers.get("content-type", "").startswith(
            "text/event-stream"
        )

    def stream_error(self, response: httpx.Response) -> RenderError | None:
        """The error of an event stream answer (its body already read), or None if it streams."""
        if response.status_code >= 400:
            return error_from_response(
                "task_run_events", response.status_code, response.content, response.headers
            )
        content_type = response.headers.get("content-type", "")
        if response.status_code != 200 or not content_type.startswith("text/event-stream"):
            return NotAnEventStream(
                f"task_run_events: {self.settings.api_url} answered HTTP {response.status_code} "
                f"with content type {content_type or 'none'!r} instead of an event stream",
                operation="task_run_events",
                status_code=response.status_code,
            )
        return None

    @staticmethod
    def stream_unavailable(error: RenderError) -> bool:
        """True when ``error`` means the server does not stream events, so waiting must poll."""
        return isinstance(error, NotAnEventStream) or (
            error.status_code in C.STREAM_UNAVAILABLE_STATUSES
            and error.operation == "task_run_events"
        )

    @staticmethod
    def finish(operation: str, details: TaskRunDetails) -> TaskRunDetails:
        """``details`` of a successful run, or :class:`TaskRunError` for a failed/canceled one."""
        if details.status.is_success:
            return details
        raise TaskRunError(details, operation=operation)

    # --- request arguments -----------------------------------------------------------------
    def start_request(self, body: api.RunTask, prefer: str | Unset) -> dict[str, Any]:
        """httpx ``request`` arguments of a start (with ``prefer``, a ``Prefer`` header): the
        request the generated ``create_task_run`` makes, its URL already joined to the API's."""
        headers = {} if isinstance(prefer, Unset) else {"Prefer": prefer}
        headers["Content-Type"] = "application/json"
        return {"method": "post", "url": self._runs_url, "json": body.to_dict(), "headers": headers}

    def run_url(self, task_run_id: str) -> httpx.URL:
        """The URL of a run: the generated ``get_task_run``'s path, joined to the API's URL."""
        return self._api_url(f"task-runs/{quote(task_run_id, safe='')}")

    @staticmethod
    def list_runs_kwargs(params: ListTaskRunsParams | None) -> dict[str, Any]:
        """Keyword arguments of the generated ``list_task_runs`` call."""
        p = params or ListTaskRunsParams()
        return {
            "limit": _opt(p.limit),
            "cursor": _opt(p.cursor),
            "owner_id": _opt(p.owner_id),
            "task_slug": _opt(p.task_slug),
            "root_task_run_id": _opt(p.root_task_run_id),
            "workflow_id": _opt(p.workflow_id),
            "workflow_version_id": _opt(p.workflow_version_id),
        }

    @staticmethod
    def _next_cursor(cursors: list[str], limit: int | None) -> str | None:
        page_size = limit if limit is not None else 20
        if not cursors or len(cursors) < page_size:
            return None
        return cursors[-1]

    def run_page(self, items: list[api.TaskRunWithCursor], limit: int | None) -> TaskRunList:
        """A :class:`TaskRunList` from the generated page."""
        return TaskRunList(
            [_convert.task_run(item.task_run) for item in items],
            self._next_cursor([item.cursor for item in items], limit),
        )

    def task_page(self, items: list[api.TaskWithCursor], limit: int | None) -> TaskList:
        """A :class:`TaskList` from the generated page."""
        return TaskList(
            [_convert.task(item.task) for item in items],
            self._next_cursor([item.cursor for item in items], limit),
        )

    def log_page(
        self, response: Response[Any], items: list[api.LogEntryWithCursor], limit: int | None
    ) -> LogPage:
        """A :class:`LogPage` from the generated page and its ``Render-Logs-Truncated`` header."""
        truncated = response.headers.get("render-logs-truncated", "").lower() == "true"
        return LogPage(
            [_convert.log_entry(item.log) for item in items],
            self._next_cursor([item.cursor for item in items], limit),
            truncated,
        )


def page_items(value: object, operation: str, kind: type[T]) -> list[T]:
    """The items of a parsed list answer, checked to be ``kind``."""
    if isinstance(value, list) and all(isinstance(item, kind) for item in value):
        return value
    raise RenderError(f"{operation}: the answer is not a list of {kind.__name__}")
