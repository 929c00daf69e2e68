"""The objects the client returns: task runs, their attempts, tasks, log lines, and pages of them.

Field names are snake_case; timestamps are timezone-aware :class:`datetime` objects.

    run = render.workflows.start_task("my-workflow/square", [3])
    print(run.id, run.status, run.started_at)
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from datetime import datetime
from typing import Any

import attrs

__all__ = [
    "ListTaskRunsParams",
    "LogEntry",
    "LogPage",
    "Task",
    "TaskAttempt",
    "TaskData",
    "TaskList",
    "TaskRun",
    "TaskRunDetails",
    "TaskRunList",
    "TaskRunStatus",
]

TaskData = list[Any] | tuple[Any, ...] | dict[str, Any]
"""Task arguments: a list or tuple (positional) or a dict (named)."""


class TaskRunStatus(str, enum.Enum):
    """Status of a run or an attempt. ``completed`` and ``succeeded`` both mean success.

    >>> TaskRunStatus("completed").is_success
    True
    """

    PENDING = "pending"
    RUNNING = "running"
    PAUSED = "paused"  # Render's; not terminal. The local engine never produces it.
    COMPLETED = "completed"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    def __str__(self) -> str:
        return self.value

    @property
    def is_terminal(self) -> bool:
        """True once the run can no longer change: completed, succeeded, failed or canceled."""
        return self in _TERMINAL

    @property
    def is_success(self) -> bool:
        """True for ``completed`` (Render's value today) and ``succeeded`` (its successor)."""
        return self in _SUCCESS


_TERMINAL = frozenset(
    {
        TaskRunStatus.COMPLETED,
        TaskRunStatus.SUCCEEDED,
        TaskRunStatus.FAILED,
        TaskRunStatus.CANCELED,
    }
)
_SUCCESS = frozenset({TaskRunStatus.COMPLETED, TaskRunStatus.SUCCEEDED})


@attrs.frozen(kw_only=True, unsafe_hash=False)
class TaskAttempt:
    """One attempt of a run. ``error`` and ``results`` are filled in run details only.

    ``attempt`` is its number from 0, ``enqueued_at`` when it joined the queue. The
    ``sdk_*`` times are the worker's start-up as it reported it (the local engine shows them;
    None elsewhere, and for an attempt whose process was already running).

        for attempt in details.attempts:
            print(attempt.attempt, attempt.status, attempt.started_at, attempt.error)
    """

    status: TaskRunStatus
    started_at: datetime
    completed_at: datetime | None = None
    error: str | None = None
    results: list[Any] | None = None
    attempt: int | None = None
    task_run_id: str | None = None
    enqueued_at: datetime | None = None
    sdk_import_started_at: datetime | None = None
    sdk_import_finished_at: datetime | None = None
    sdk_started_at: datetime | None = None


@attrs.frozen(kw_only=True, unsafe_hash=False)
class TaskRun:
    """The summary of a run, as ``start_task`` (blocking client) and ``list_task_runs`` give it.

    run = render.workflows.start_task("wf/square", [3])
    print(run.id, run.status)  # trn-... pending
    """

    id: str
    task_id: str
    status: TaskRunStatus
    parent_task_run_id: str = ""
    root_task_run_id: str = ""
    retries: int = 0
    attempts: list[TaskAttempt] = attrs.field(factory=list)
    started_at: datetime | None = None
    completed_at: datetime | None = None
    # The attempt (from 0) of the parent run that started this subtask; None for a root run.
    parent_task_attempt: int | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the run finished (successfully or not)."""
        return self.status.is_terminal


@attrs.frozen(kw_only=True, unsafe_hash=False)
class TaskRunDetails(TaskRun):
    """The full state of a run: a :class:`TaskRun` plus its results, input and error.

    ``results`` is the task's output array; ``result`` is its return value (``results[0]``).

        details = render.workflows.run_task("wf/square", [3])
        print(details.result)  # 9
    """

    results: list[Any] = attrs.field(factory=list)
    input: Any = None
    error: str | None = None

    @property
    def result(self) -> Any:
        """The task's return value: ``results[0]``, or None when there are no results."""
        return self.results[0] if self.results else None


@attrs.frozen(kw_only=True)
class Task:
    """A registered task.

    for task in render.workflows.list_tasks():
        print(task.id, task.name)
    """

    id: str
    name: str
    created_at: datetime
    workflow_id: str | None = None
    workflow_version_id: str | None = None


@attrs.frozen(kw_only=True)
class LogEntry:
    """One line a run wrote to stdout or stderr (served by the local engine).

    for line in render.workflows.get_logs(run.id):
        print(line.attempt, line.stream, line.message)
    """

    task_run_id: str
    attempt: int
    stream: str
    timestamp: datetime
    message: str


@attrs.frozen(kw_only=True)
class ListTaskRunsParams:
    """Filters and paging of ``list_task_runs``. Every field is optional.

    ``limit`` is the page size (1..100, the server's default is 20); ``cursor`` is the
    ``next_cursor`` of the previous page.

        params = ListTaskRunsParams(task_slug="wf/square", limit=50)
        page = render.workflows.list_task_runs(params)
    """

    limit: int | None = None
    cursor: str | None = None
    owner_id: str | None = None
    task_slug: str | None = None
    root_task_run_id: str | None = None
    workflow_id: str | None = None
    workflow_version_id: str | None = None


class TaskRunList(list[TaskRun]):
    """One page of runs, newest first. A list, plus ``next_cursor``.

    ``next_cursor`` is the cursor to pass for the following page, or None when this page is the
    last one (it held fewer runs than the limit).

        page = render.workflows.list_task_runs(ListTaskRunsParams(limit=10))
        while page.next_cursor:
            page = render.workflows.list_task_runs(
                ListTaskRunsParams(limit=10, cursor=page.next_cursor))
    """

    next_cursor: str | None

    def __init__(self, items: Iterable[TaskRun] = (), next_cursor: str | None = None) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor


class TaskList(list[Task]):
    """One page of tasks. A list, plus ``next_cursor`` (None on the last page).

    tasks = render.workflows.list_tasks()
    """

    next_cursor: str | None

    def __init__(self, items: Iterable[Task] = (), next_cursor: str | None = None) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor


class LogPage(list[LogEntry]):
    """One page of a run's log lines, oldest first. A list, plus ``next_cursor`` and ``truncated``.

    ``truncated`` is True when the engine stopped capturing the run's output at its limit.

        logs = render.workflows.get_logs(run.id)
        print("".join(line.message for line in logs))
    """

    next_cursor: str | None
    truncated: bool

    def __init__(
        self,
        items: Iterable[LogEntry] = (),
        next_cursor: str | None = None,
        truncated: bool = False,
    ) -> None:
        super().__init__(items)
        self.next_cursor = next_cursor
        self.truncated = truncated
