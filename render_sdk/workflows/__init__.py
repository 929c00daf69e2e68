"""Define Render Workflows tasks and run the worker that executes them.

    from render_sdk import Workflows, Retry

    app = Workflows()

    @app.task(retry=Retry(max_retries=2, wait_duration_ms=500))
    def square(x: int) -> int:
        return x * x

    if __name__ == "__main__":
        app.start()

Importing this package stays light (standard library only): every worker pays for it at each
cold start. See docs/tasks.md.
"""

from __future__ import annotations

from render_sdk.workflows._app import Workflows
from render_sdk.workflows._errors import (
    CallbackAPIError,
    InvalidTaskOptions,
    InvalidTaskSignature,
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
from render_sdk.workflows._task import Task

__all__ = [
    "PLANS",
    "CallbackAPIError",
    "InvalidTaskOptions",
    "InvalidTaskSignature",
    "ResultNotJSONError",
    "Retry",
    "SubtaskError",
    "Task",
    "TaskAlreadyRegistered",
    "TaskArgumentsError",
    "TaskDefinitionError",
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
