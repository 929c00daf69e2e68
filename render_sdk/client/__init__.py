"""The REST client of Render Workflows: start, await, list, inspect, cancel and stream task runs.

:class:`Render` blocks; :class:`RenderAsync` is its async twin with the same methods on
``.workflows``. Both talk to ``https://api.render.com/v1`` with an API key, or to a local engine
(``RENDER_USE_LOCAL_DEV=1`` or ``RENDER_LOCAL_DEV_URL``) without one.

    from render_sdk.client import Render, ListTaskRunsParams
    with Render() as render:
        page = render.workflows.list_task_runs(ListTaskRunsParams(limit=5))
"""

from __future__ import annotations

from render_sdk.client._async import AsyncTaskRunEventStream, AsyncWorkflows, AwaitableTaskRun
from render_sdk.client._client import Render, RenderAsync
from render_sdk.client._sync import TaskRunEventStream, Workflows
from render_sdk.client.errors import (
    ClientError,
    ConfigurationError,
    InputError,
    RateLimitError,
    RenderError,
    ServerError,
    TaskRunError,
    TimeoutError,
)
from render_sdk.client.types import (
    ListTaskRunsParams,
    LogEntry,
    LogPage,
    Task,
    TaskAttempt,
    TaskData,
    TaskList,
    TaskRun,
    TaskRunDetails,
    TaskRunList,
    TaskRunStatus,
)

__all__ = [
    "AsyncTaskRunEventStream",
    "AsyncWorkflows",
    "AwaitableTaskRun",
    "ClientError",
    "ConfigurationError",
    "InputError",
    "ListTaskRunsParams",
    "LogEntry",
    "LogPage",
    "RateLimitError",
    "Render",
    "RenderAsync",
    "RenderError",
    "ServerError",
    "Task",
    "TaskAttempt",
    "TaskData",
    "TaskList",
    "TaskRun",
    "TaskRunDetails",
    "TaskRunError",
    "TaskRunEventStream",
    "TaskRunList",
    "TaskRunStatus",
    "TimeoutError",
    "Workflows",
]

for _name in __all__:
    _obj = globals()[_name]
    if getattr(_obj, "__module__", "").startswith("render_sdk.client._"):
        _obj.__module__ = __name__
del _name, _obj
