"""Contains all the data models used in inputs/outputs"""

from .error import Error
from .log_entry import LogEntry
from .log_entry_with_cursor import LogEntryWithCursor
from .log_stream import LogStream
from .run_task import RunTask
from .task import Task
from .task_attempt import TaskAttempt
from .task_attempt_details import TaskAttemptDetails
from .task_data_type_1 import TaskDataType1
from .task_run import TaskRun
from .task_run_details import TaskRunDetails
from .task_run_status import TaskRunStatus
from .task_run_with_cursor import TaskRunWithCursor
from .task_with_cursor import TaskWithCursor

__all__ = (
    "Error",
    "LogEntry",
    "LogEntryWithCursor",
    "LogStream",
    "RunTask",
    "Task",
    "TaskAttempt",
    "TaskAttemptDetails",
    "TaskDataType1",
    "TaskRun",
    "TaskRunDetails",
    "TaskRunStatus",
    "TaskRunWithCursor",
    "TaskWithCursor",
)
