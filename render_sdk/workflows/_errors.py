"""Exceptions of the task runtime.

    Exception
    ├── WorkflowsError                     root of this package's own errors
    │   ├── TaskDefinitionError(ValueError)    a task cannot be defined as written
    │   │   ├── TaskAlreadyRegistered          the name is taken in this app
    │   │   ├── InvalidTaskOptions             retry, timeout or plan out of range
    │   │   └── InvalidTaskSignature           parameters JSON input cannot fill
    │   ├── UnknownTask(LookupError)           no task of that name in the app
    │   ├── TaskArgumentsError(TypeError)      positional and keyword arguments mixed
    │   ├── NotATask(TypeError)                ctx.run() given something else than a task
    │   ├── ResultNotJSONError(TypeError)      a return value JSON cannot encode
    │   ├── SubtaskError                       a subtask failed after its last attempt
    │   ├── CallbackAPIError                   the platform refused or never answered a call
    │   └── WorkerConfigError                  RENDER_SDK_MODE / RENDER_SDK_SOCKET_PATH wrong

Each class's docstring is its default message.
"""

from __future__ import annotations


class WorkflowsError(Exception):
    """An error of the Render Workflows task runtime."""

    def __init__(self, message: str | None = None) -> None:
        if message is None:
            doc = type(self).__doc__ or type(self).__name__
            message = doc.strip().splitlines()[0]
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class TaskDefinitionError(WorkflowsError, ValueError):
    """The task cannot be defined as written."""


class TaskAlreadyRegistered(TaskDefinitionError):
    """A task with this name is already registered in this app."""


class InvalidTaskOptions(TaskDefinitionError):
    """The task's retry, timeout or plan option is invalid."""


class InvalidTaskSignature(TaskDefinitionError):
    """The task's parameters cannot be filled from JSON input."""


class UnknownTask(WorkflowsError, LookupError):
    """No task of this name is registered in this app."""


class TaskArgumentsError(WorkflowsError, TypeError):
    """Tasks take positional or keyword arguments, not both in one call."""


class NotATask(WorkflowsError, TypeError):
    """ctx.run() takes a context-style task registered with @app.task."""


class ResultNotJSONError(WorkflowsError, TypeError):
    """The task returned a value that cannot be encoded as JSON."""


class SubtaskError(WorkflowsError):
    """A subtask failed after its last attempt.

    ``task_name``, ``task_run_id`` and ``details`` (the subtask's error message) say which and why.

        try:
            await fetch(url)
        except SubtaskError as exc:
            print(exc.task_run_id, exc.details)
    """

    def __init__(
        self, task_name: str, task_run_id: str | None, details: str, message: str | None = None
    ) -> None:
        self.task_name = task_name
        self.task_run_id = task_run_id
        self.details = details
        run = f" ({task_run_id})" if task_run_id else ""
        super().__init__(message or f"subtask {task_name!r}{run} failed: {details}")


class CallbackAPIError(WorkflowsError):
    """The platform's callback API refused a request or did not answer in time."""

    def __init__(self, message: str | None = None, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class WorkerConfigError(WorkflowsError):
    """The worker's environment (RENDER_SDK_MODE, RENDER_SDK_SOCKET_PATH) is missing or invalid."""
