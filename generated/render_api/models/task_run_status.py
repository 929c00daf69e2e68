from typing import Literal, cast

TaskRunStatus = Literal[
    "canceled", "completed", "failed", "paused", "pending", "running", "succeeded"
]

TASK_RUN_STATUS_VALUES: set[TaskRunStatus] = {
    "canceled",
    "completed",
    "failed",
    "paused",
    "pending",
    "running",
    "succeeded",
}


def check_task_run_status(value: str) -> TaskRunStatus:
    if value in TASK_RUN_STATUS_VALUES:
        return cast(TaskRunStatus, value)
    raise TypeError(f"Unexpected value {value!r}. Expected one of {TASK_RUN_STATUS_VALUES!r}")
