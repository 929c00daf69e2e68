"""The async workflows service (``RenderAsync().workflows``), its event stream and
:class:`AwaitableTaskRun`.

The twin of :mod:`render_sdk.client._sync`; all decisions live in :mod:`render_sdk.client._base`,
this module only does the I/O.

    async with RenderAsync() as render:
        details = await render.workflows.run_task("my-workflow/square", [3])
"""

from __future__ import annotations

from asyncio import sleep
from collections.abc import AsyncGenerator, Awaitable, Callable, Generator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import attrs
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
from render_sdk.client._waiter import RunWaiter
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

__all__ = ["AsyncTaskRunEventStream", "AsyncWorkflows", "AwaitableTaskRun"]


class AsyncWorkflows:
    """Task runs through the async client: ``RenderAsync().workflows``.

    run = await render.workflows.start_task("my-workflow/square", [3])
    details = await render.workflows.get_task_run(run.id)
    """

    def __init__(self, api_client: Client, http: httpx.AsyncClient, core: WorkflowsCore) -> None:
        self._api = api_client
        self._http = http
        self._core = core
        self._waiter = RunWaiter(
            lambda ids: _stream(self, EventTracker(ids), reached=True), self._poll_details
        )

    async def _send(
        self,
        operation: str,
        call: Callable[[], Awaitable[T]],
        retries: Retries | None = None,
    ) -> T:
        """Run ``call`` under ``retries`` (by default, the client's policy for a request that is
        safe to repeat); return its answer or raise its error."""
        retries = retries or self._core.retries()
        while True:
            try:
                return await call()
            except Exception as exc:
                error = self._core.translate(operation, exc)
                delay = retries.delay(error, reached=server_reached(exc))
            if delay is None:
                raise retries.gave_up(error)
            await sleep(delay)

    async def start_task(
        self,
        task_slug: str,
        input_data: TaskData | None = None,
        *,
        idempotency_key: str | None = None,
    ) -> AwaitableTaskRun:
        """Start a run of ``task_slug``; return it at once as an :class:`AwaitableTaskRun`.

        Its fields (``id``, ``status``...) are the run as it started; ``await`` it to wait for
        the run to finish.

        ``input_data`` is a list or tuple (positional arguments), a dict (named) or None (none).
        With ``idempotency_key``, the request is retried on transient failures and repeating the
        key returns the run it first created.

            run = await render.workflows.start_task("my-workflow/square", [3])
            print(run.id, run.status)
            details = await run
        """
        response = await self._create("start_task", task_slug, input_data, idempotency_key)
        return self._core.start_result("start_task", response, AwaitableTaskRun, workflows=self)

    async def _create(
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
        return await self._send(
            operation,
            lambda: self._http.request(**self._core.start_request(body, prefer)),
            retries,
        )

    async def run_task(
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

            details = await render.workflows.run_task("my-workflow/square", [3])
            print(details.result)  # 9
        """
        key = self._core.run_task_key(idempotency_key)
        response = await self._create("run_task", task_slug, input_data, key, self._core.run_wait)
        details = self._core.waited_details(response)
        if details is not None:  # the server held its answer until the run finished
            return self._core.finish("run_task", details)
        run = self._core.started_run("run_task", response)
        return await self._wait(self._core.started_run_id("start_task", run, response), "run_task")

    async def _wait(self, task_run_id: str, operation: str) -> TaskRunDetails:
        # Runs awaited in the same loop iteration share one event stream (see _waiter).
        return self._core.finish(operation, await self._waiter.wait(task_run_id))

    async def _poll_details(self, task_run_id: str) -> TaskRunDetails:
        """Poll the run until it is terminal (when the server cannot stream events)."""
        attempt = 0
        while True:
            details = await self.get_task_run(task_run_id)
            if details.status.is_terminal:
                return details
            await sleep(poll_delay(attempt))
            attempt += 1

    async def list_task_runs(self, params: ListTaskRunsParams | None = None) -> TaskRunList:
        """One page of runs, newest first, matching ``params``; ``.next_cursor`` pages on.

        page = await render.workflows.list_task_runs(ListTaskRunsParams(limit=10))
        print([run.id for run in page], page.next_cursor)
        """
        kwargs = self._core.list_runs_kwargs(params)
        response = await self._send(
            "list_task_runs", lambda: list_task_runs.asyncio_detailed(client=self._api, **kwargs)
        )
        items = page_items(response.parsed, "list_task_runs", api.TaskRunWithCursor)
        return self._core.run_page(items, params.limit if params else None)

    async def get_task_run(self, task_run_id: str) -> TaskRunDetails:
        """The details of a run: status, attempts, results, input, error.

        details = await render.workflows.get_task_run("trn-...")
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        response = await self._send(
            "get_task_run", lambda: self._http.request("get", self._core.run_url(run_id))
        )
        return self._core.details_result("get_task_run", response)

    async def cancel_task_run(self, task_run_id: str) -> None:
        """Cancel a pending or running run (and its subtasks). ClientError if it is unknown or
        already finished.

            await render.workflows.cancel_task_run(run.id)
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        await self._send(
            "cancel_task_run",
            lambda: cancel_task_run.asyncio_detailed(client=self._api, task_run_id=run_id),
        )

    def task_run_events(self, task_run_ids: Sequence[str]) -> AsyncTaskRunEventStream:
        """Iterate over the runs' final details, one per run, as each finishes.

        The iteration ends by itself once every run produced its event. The stream is also a
        context manager; its connection is closed at the end, on ``break`` and on ``aclose()``.

            async for details in render.workflows.task_run_events([a.id, b.id]):
                print(details.id, details.status)
        """
        return AsyncTaskRunEventStream(self, _convert.check_ids(task_run_ids))

    async def list_tasks(
        self,
        *,
        limit: int | None = None,
        cursor: str | None = None,
        task_slug: str | None = None,
        workflow_id: str | None = None,
    ) -> TaskList:
        """One page of registered tasks; ``.next_cursor`` pages on.

        for task in await render.workflows.list_tasks():
            print(task.name)
        """
        response = await self._send(
            "list_tasks",
            lambda: list_tasks.asyncio_detailed(
                client=self._api,
                limit=_opt(limit),
                cursor=_opt(cursor),
                task_slug=_opt(task_slug),
                workflow_id=_opt(workflow_id),
            ),
        )
        items = page_items(response.parsed, "list_tasks", api.TaskWithCursor)
        return self._core.task_page(items, limit)

    async def get_task(self, task_id: str) -> Task:
        """A registered task by id.

        task = await render.workflows.get_task("tsk-...")
        """
        checked = _convert.check_id(task_id, "task_id")
        response = await self._send(
            "get_task", lambda: get_task.asyncio_detailed(client=self._api, task_id=checked)
        )
        return _convert.task(self._core.parsed("get_task", response, api.Task))

    async def get_logs(
        self, task_run_id: str, *, limit: int | None = None, cursor: str | None = None
    ) -> LogPage:
        """One page of what a run wrote to stdout/stderr (served by the local engine).

        for line in await render.workflows.get_logs(run.id):
            print(line.stream, line.message)
        """
        run_id = _convert.check_id(task_run_id, "task_run_id")
        response = await self._send(
            "get_logs",
            lambda: list_logs.asyncio_detailed(
                client=self._api, task_run_id=run_id, limit=_opt(limit), cursor=_opt(cursor)
            ),
        )
        items = page_items(response.parsed, "get_logs", api.LogEntryWithCursor)
        return self._core.log_page(response, items, limit)


async def _stream(
    workflows: AsyncWorkflows, tracker: EventTracker, reached: bool
) -> AsyncGenerator[TaskRunDetails, None]:
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
            response = await http.send(request, stream=True)
        except Exception as exc:
            error = core.translate("task_run_events", exc)
            reached = server_reached(exc)
        else:
            reached = False  # an answer, but no usable stream: count it as a failed try
            try:
                if not core.is_event_stream(response):
                    try:
                        await response.aread()
                    except httpx.TransportError as exc:
                        error = core.translate("task_run_events", exc)
                    else:
                        error = core.stream_error(response)
                if error is None:
                    received = False
                    try:
                        async for chunk in response.aiter_text():
                            received = True
                            for details in tracker.feed(chunk):
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
                await response.aclose()
        if error is None:
            # A healthy stream dropped: reconnect after the server's retry time.
            retries.reached_server()
            await sleep(tracker.reconnect_delay(core.policy))
            continue
        delay = retries.delay(error, reached=reached)
        if delay is None:
            raise retries.gave_up(error)
        await sleep(delay)


class AsyncTaskRunEventStream:
    """An async iterator of :class:`TaskRunDetails`, one per requested run as it reaches its end.

    It is an async context manager and has :meth:`aclose`; the connection is closed when the
    iteration ends, on ``break`` (once the stream is dropped, by the event loop's async
    generator finalizer) and on ``aclose()``. ``await``-ing it gives the stream itself.

        async with render.workflows.task_run_events([run.id]) as events:
            async for details in events:
                print(details.status)
    """

    def __init__(self, workflows: AsyncWorkflows, task_run_ids: list[str]) -> None:
        self.task_run_ids = task_run_ids
        # The generator does not refer back to this object, so dropping the stream (a ``break``
        # out of ``async for ... in render.workflows.task_run_events(...)``) lets the event loop
        # close the generator and with it the connection.
        self._events = _stream(workflows, EventTracker(task_run_ids), reached=False)

    def __aiter__(self) -> AsyncTaskRunEventStream:
        return self

    async def __anext__(self) -> TaskRunDetails:
        return await self._events.__anext__()

    def __await__(self) -> Generator[Any, None, AsyncTaskRunEventStream]:
        return self._itself().__await__()

    async def _itself(self) -> AsyncTaskRunEventStream:
        return self

    async def aclose(self) -> None:
        """Close the connection; the iteration ends."""
        await self._events.aclose()

    async def __aenter__(self) -> AsyncTaskRunEventStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


@attrs.frozen(kw_only=True, eq=False)
class AwaitableTaskRun(TaskRun):
    """A run just started by the async ``start_task``: a :class:`TaskRun` you can ``await``.

    ``await run`` waits for the run to finish and returns its :class:`TaskRunDetails`, or
    raises :class:`~render_sdk.client.errors.TaskRunError` if it failed or was canceled. Each
    ``await`` waits anew, so ``asyncio.gather(*runs)`` works.

        run = await render.workflows.start_task("my-workflow/square", [3])
        details = await run
    """

    _workflows: AsyncWorkflows = attrs.field(alias="workflows", repr=False)

    # A handle on one start of a run: equal only to itself, and hashable (asyncio.gather hashes).
    __eq__ = object.__eq__
    __hash__ = object.__hash__  # type: ignore[assignment]

    def __await__(self) -> Generator[Any, None, TaskRunDetails]:
        return self._workflows._wait(self.id, "start_task").__await__()
