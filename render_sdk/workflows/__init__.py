"""Define Render Workflows tasks and run the worker that executes them.

    from render_sdk import Retry, TaskContext, Workflows

    app = Workflows()

    @app.task(retry=Retry(max_retries=2, wait_duration_ms=500))
    def square(ctx: TaskContext, x: int) -> int:
        return x * x

    @app.task
    async def sum_squares(ctx: TaskContext, n: int) -> int:
        return sum([await ctx.run(square, i) for i in range(n)])

    if __name__ == "__main__":
        app.start()

Importing this package stays light (standard library only): every worker pays for it at each
cold start. See docs/tasks.md.
"""

from __future__ import annotations

from render_sdk import _startup
from render_sdk.workflows._app import TaskDecorator, Workflows
from render_sdk.workflows._errors import (
    CallbackAPIError,
    InvalidTaskOptions,
    InvalidTaskSignature,
    NotATask,
    ResultNotJSONError,
    SubtaskError,
    TaskAlreadyRegistered,
    TaskArgumentsError,
    TaskDefinitionError,
    UnknownTask,
    WorkerConfigError,
    WorkflowsError,
)
from render_sdk.workflows._options import PLANS, Retry
from render_sdk.workflows._task import Task, TaskDefinition
from render_sdk.workflows._taskcontext import LocalTaskContext, TaskContext, TaskRunMetadata

__all__ = [
    "PLANS",
    "CallbackAPIError",
    "InvalidTaskOptions",
    "InvalidTaskSignature",
    "LocalTaskContext",
    "NotATask",
    "ResultNotJSONError",
    "Retry",
    "SubtaskError",
    "Task",
    "TaskAlreadyRegistered",
    "TaskArgumentsError",
    "TaskContext",
    "TaskDecorator",
    "TaskDefinition",
    "TaskDefinitionError",
    "TaskRunMetadata",
    "UnknownTask",
    "WorkerConfigError",
    "Workflows",
    "WorkflowsError",
]

for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__"):
        try:
            _obj.__module__ = __name__
        except (AttributeError, TypeError):
            pass
del _name, _obj

_startup.mark_import_finished()
