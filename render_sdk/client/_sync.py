"""The blocking workflows service (``Render().workflows``) and its event stream.

It runs no event loop, so it works in any thread, including one where an asyncio loop is running.
All decisions live in :mod:`render_sdk.client._base`; this module only does the I/O.

    with Render() as render:
        details = render.workflows.run_task("my-workflow/square", [3])
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence
from time import sleep
from types import TracebackType
from typing import TypeVar

import httpx
from render_api import Client
from render_api import models as api
from render_api.api.logs import list_logs
from render_api.api.task_runs import (
    cancel_task_run,
    list_task_runs,
)
from render_api.api.tasks import get_task, list_tasks
from render_api.types import UNSET, Unset

from render_sdk.client import _convert
from render_sdk.client._base import (
    EVENTS_PATH,
    EventTracker,
    WorkflowsCore,
    _opt,
    page_items,
    server_reached,
)
from render_sdk.client._retry import Retries, poll_delay
from render_sdk.client.errors import RenderError, ServerError
from render_sdk.client.types import (
    ListTaskRunsParams,
    LogPage,
    Task,
    TaskData,
    TaskList,
    TaskRun,
    TaskRunDetails,
    TaskRunList,
)

T = TypeVar("T")

__all__ = ["TaskRunEventStream", "Workflows"]


class Workflows:
    """Task runs through the blocking client: ``Render().workflows``.

    run = render.workflows.start_task("my-workflow/square", [3])
    details = render.workflows.get_task_run(run.id)
    """

    def __init__(self, api_client: Client, http: httpx.Client, core: WorkflowsCore) -> None:
        self._api = api_client
        self._http = http
        self._core = core

    def _send(self, operation: str, call: Callable[[], T], retries: Retries | None = None) -> T:
        """Run ``call`` under ``retries`` (by default, the client's policy for a request that is
        safe to repeat); return its answer or raise its error."""
        retries = retries or self._core.retries()
        while True:
            try:
                return call()
            except Exception as exc:
                error = self._core.translate(operation, exc)
                delay = retries.delay(error, reached=server_reached(exc))
            if delay is None:
                raise retries.gave_up(error)
            sleep(delay)

    def start_task(
        self,
        task_slug: str,
        input_data: TaskData | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> TaskRun:
        """Start a run of ``task_slug`` and return it at once (status ``pending``).

        ``input_data`` is a list or tuple (positional arguments), a dict (named) or None (none).
        With ``idempotency_key``, the request is retried on transient failures and repeating the
        key returns the run it first created.

            run = render.workflows.start_task("my-workflow/square", [3])
            print(run.id, run.status)
        """
        response = self._create("start_task", task_slug, input_data, idempotency_key)
        return self._core.start_result("start_task", response)

    def _create(
        self,
        operation: str,
        task_slug: str,
        input_data: TaskData | None,
        idempotency_key: str | None,
        prefer: str | Unset = UNSET,
    ) -> httpx.Response:
        """POST a new run (with ``prefer``, a ``Prefer`` header). Sent again only with an
        idempotency key, since a retry without one could start a second run; with a key, a
        start whose connection broke is sent again for up to the reconnect patience."""
        # The key travels in the body's idempotencyKey, as Render takes it (the local engine
        # also takes it as the Idempotency-Key header, which Render does not).
        body = _convert.run_task_body(task_slug, input_data, operation, idempotency_key)
        retries = self._core.retries(
            enabled=idempotency_key is not None, reconnect=idempotency_key is not None
        )
        return self._send(
            operation,
            lambda: self._http.request(**self._core.start_request(body, prefer)),
            retries,
        )

    def run_task(
        self,
        task_slug: str,
        input_data: TaskData | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> TaskRunDetails:
        """Start a run, wait until it finishes, and return its details.

        Raises :class:`~render_sdk.client.errors.TaskRunError` when the run failed or was
        canceled. Waits on the event stream (reconnecting if it drops) and polls only if the
        server cannot stream.

            details = render.workflows.run_task("my-workflow/square", [3])
            print(details.result)  # 9
        """
        key = self._core.run_task_key(idempotency_key)
        response = self._create("run_task", task_slug, input_data, key, self._core.run_wait)
        details = self._core.waited_details(response)
        if details is not None:  # the server held its answer until the run finished
            return self._core.finish("run_task", details)
        run = self._core.started_run("run_task", response)
        return self._wait(self._core.started_run_id("start_task", run, response), "run_task")

    def _wait(self, task_run_id: str, operation: str) -> TaskRunDetails:
        stream = TaskRunEventStream(self, [task_run_id], reached=True)
        try:
            for details in stream:
                return self._core.finish(operation, details)
        except RenderError as exc:
            if not self._core.stream_unavailable(exc):
                raise
        finally:
            stream.close()
        return self._core.finish(operation, self._poll_details(task_run_id))

    def _poll_details(self, task_run_id: str) -> TaskRunDetails:
        """Poll the run until it is terminal (when the server cannot stream events)."""
        attempt = 0
        while True:
            details = self.get_task_run(task_run_id)
            if details.status.is_terminal:
                return details
            sleep(poll_delay(attempt))
            attempt += 1

    def list_task_runs(self, params: ListTaskRunsParams | None = None) -> TaskRunList:
        """One page of runs, newest first, matching ``params``; ``.next_cursor`` pages on.

        page = render.workflows.list_task_runs(ListTaskRunsParams(limit=10))
        print([run.id for run in page], page.next_cursor)
        """
        kwargs = self._core.list_runs_kwargs(params)
        response = self._send(
            "list_task_runs", lambda: list_task_runs.sync_detailed(client=self._api, **kwargs)
        )
        items = page_items(response.parsed, "list_task_runs", api.TaskRunWithCursor)
        return self._core.run_page(items, params.limit if params else None)

    def get_task_run(self, task_run_id: str) -> TaskRunDetails:
        """The details of a run: status, attempts, results, input, error.

        details = render.workflows.get_task_run("trn-...")
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        response = self._send(
            "get_task_run", lambda: self._http.request("get", self._core.run_url(run_id))
        )
        return self._core.details_result("get_task_run", response)

    def cancel_task_run(self, task_run_id: str) -> None:
        """Cancel a pending or running run (and its subtasks). ClientError if it is unknown or
        already finished.

            render.workflows.cancel_task_run(run.id)
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        self._send(
            "cancel_task_run",
            lambda: cancel_task_run.sync_detailed(client=self._api, task_run_id=run_id),
        )

    def task_run_events(self, task_run_ids: Sequence[str]) -> TaskRunEventStream:
        """Iterate over the runs' final details, one per run, as each finishes.

        The iteration ends by itself once every run produced its event. The stream is also a
        context manager; its connection is closed at the end, on ``break`` and on ``close()``.

            for details in render.workflows.task_run_events([a.id, b.id]):
                print(details.id, details.status)
        """
        return TaskRunEventStream(self, _convert.check_ids(task_run_ids))

    def list_tasks(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        task_slug: str | None = None,
        workflow_id: str | None = None,
    ) -> TaskList:
        """One page of registered tasks; ``.next_cursor`` pages on.

        for task in render.workflows.list_tasks():
            print(task.name)
        """
        response = self._send(
            "list_tasks",
            lambda: list_tasks.sync_detailed(
                client=self._api,
                limit=_opt(limit),
                cursor=_opt(cursor),
                task_slug=_opt(task_slug),
                workflow_id=_opt(workflow_id),
            ),
        )
        items = page_items(response.parsed, "list_tasks", api.TaskWithCursor)
        return self._core.task_page(items, limit)

    def get_task(self, task_id: str) -> Task:
        """A registered task by id.

        task = render.workflows.get_task("tsk-...")
        """
        checked = _convert.check_id(task_id, "task_id")
        response = self._send(
            "get_task", lambda: get_task.sync_detailed(client=self._api, task_id=checked)
        )
        return _convert.task(self._core.parsed("get_task", response, api.Task))

    def get_logs(
        self, task_run_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> LogPage:
        """One page of what a run wrote to stdout/stderr (served by the local engine).

        for line in render.workflows.get_logs(run.id):
            print(line.stream, line.message)
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        response = self._send(
            "get_logs",
            lambda: list_logs.sync_detailed(
                client=self._api, task_run_id=run_id, limit=_opt(limit), cursor=_opt(cursor)
            ),
        )
        items = page_items(response.parsed, "get_logs", api.LogEntryWithCursor)
        return self._core.log_page(response, items, limit)


def _stream(
    workflows: Workflows, tracker: EventTracker, reached: bool
) -> Generator[TaskRunDetails, None, None]:
    """Yield the tracked runs' terminal details; reconnect when the stream drops.

    ``reached``: the server is known to be up (the runs were just started through it), so a
    failed connection is retried for the reconnect patience from the start.
    """
    core, http = workflows._core, workflows._http
    retries = core.retries(reconnect=True)
    if reached:
        retries.reached_server()
    while not tracker.done:
        error: RenderError | None = None
        try:
            request = http.build_request(
                "GET",
                EVENTS_PATH,
                params=tracker.request_params(),
                headers=tracker.request_headers(),
                timeout=core.stream_timeout,
            )
            response = http.send(request, stream=True)
        except Exception as exc:
            error = core.translate("task_run_events", exc)
            reached = server_reached(exc)
        else:
            reached = False  # an answer, but no usable stream: count it as a failed try
            try:
                if not core.is_event_stream(response):
                    try:
                        response.read()
                    except httpx.TransportError as exc:
                        error = core.translate("task_run_events", exc)
                    else:
                        error = core.stream_error(response)
                if error is None:
                    received = False
                    try:
                        for chunk in response.iter_text():
                            received = True
                            for details in tracker.feed(chunk):  # noqa: UP028 - twin of async
                                yield details
                            if tracker.done:
                                return
                    except httpx.TransportError:
                        pass  # the stream dropped: reconnect below
                    tracker.decoder.reset_event()
                    if not received:
                        error = ServerError(
                            "task_run_events: the event stream closed before sending anything",
                            operation="task_run_events",
                        )
            finally:
                response.close()
        if error is None:
            # A healthy stream dropped: reconnect after the server's retry time.
            retries.reached_server()
            sleep(tracker.reconnect_delay(core.policy))
            continue
        delay = retries.delay(error, reached=reached)
        if delay is None:
            raise retries.gave_up(error)
        sleep(delay)


class TaskRunEventStream:
    """An iterator of :class:`TaskRunDetails`, one per requested run as it reaches its end.

    It is a context manager and has :meth:`close`; the connection is closed when iteration
    ends, on ``break`` (when the stream is dropped), and on ``close()``.

        with render.workflows.task_run_events([run.id]) as events:
            for details in events:
                print(details.status)
    """

    def __init__(
        self, workflows: Workflows, task_run_ids: list[str], *, reached: bool = False
    ) -> None:
        self.task_run_ids = task_run_ids
        # The generator does not refer back to this object, so dropping the stream (a ``break``
        # out of ``for ... in render.workflows.task_run_events(...)``) closes the connection.
        self._events = _stream(workflows, EventTracker(task_run_ids), reached)

    def __iter__(self) -> TaskRunEventStream:
        return self

    def __next__(self) -> TaskRunDetails:
        return next(self._events)

    def close(self) -> None:
        """Close the connection; the iteration ends."""
        self._events.close()

    def __enter__(self) -> TaskRunEventStream:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
