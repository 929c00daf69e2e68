from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from dateutil.parser import isoparse

from ..models.task_run_status import TaskRunStatus, check_task_run_status
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_attempt import TaskAttempt


T = TypeVar("T", bound="TaskRun")


@_attrs_define
class TaskRun:
    id: str
    """ `trn-...` """
    task_id: str
    """ `tsk-...` """
    status: TaskRunStatus
    """ `completed` is what Render serves for success today and `succeeded` its announced
    replacement; clients treat both as success. Terminal: completed, succeeded, failed,
    canceled.
    `paused` is a Render status that the local engine never produces; clients accept it.
     """
    parent_task_run_id: str
    """ The parent run's id; an empty string for a root run. """
    root_task_run_id: str
    """ The root run's id; its own id for a root run. """
    retries: int
    """ How many retries the run has used. """
    attempts: list[TaskAttempt]
    parent_task_attempt: int | Unset = UNSET
    """ The attempt (from 0) of the parent run that started this subtask; absent for a root
    run.
     """
    started_at: datetime.datetime | Unset = UNSET
    completed_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        task_id = self.task_id

        status: str = self.status

        parent_task_run_id = self.parent_task_run_id

        root_task_run_id = self.root_task_run_id

        retries = self.retries

        attempts = []
        for attempts_item_data in self.attempts:
            attempts_item = attempts_item_data.to_dict()
            attempts.append(attempts_item)

        parent_task_attempt = self.parent_task_attempt

        started_at: str | Unset = UNSET
        if not isinstance(self.started_at, Unset):
            started_at = self.started_at.isoformat()

        completed_at: str | Unset = UNSET
        if not isinstance(self.completed_at, Unset):
            completed_at = self.completed_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
                "taskId": task_id,
                "status": status,
                "parentTaskRunId": parent_task_run_id,
                "rootTaskRunId": root_task_run_id,
                "retries": retries,
                "attempts": attempts,
            }
        )
        if parent_task_attempt is not UNSET:
            field_dict["parentTaskAttempt"] = parent_task_attempt
        if started_at is not UNSET:
            field_dict["startedAt"] = started_at
        if completed_at is not UNSET:
            field_dict["completedAt"] = completed_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_attempt import TaskAttempt

        d = dict(src_dict)
        id = d.pop("id")

        task_id = d.pop("taskId")

        status = check_task_run_status(d.pop("status"))

        parent_task_run_id = d.pop("parentTaskRunId")

        root_task_run_id = d.pop("rootTaskRunId")

        retries = d.pop("retries")

        attempts = []
        _attempts = d.pop("attempts")
        for attempts_item_data in _attempts:
            attempts_item = TaskAttempt.from_dict(attempts_item_data)

            attempts.append(attempts_item)

        parent_task_attempt = d.pop("parentTaskAttempt", UNSET)

        _started_at = d.pop("startedAt", UNSET)
        started_at: datetime.datetime | Unset
        if isinstance(_started_at, Unset):
            started_at = UNSET
        else:
            started_at = isoparse(_started_at)

        _completed_at = d.pop("completedAt", UNSET)
        completed_at: datetime.datetime | Unset
        if isinstance(_completed_at, Unset):
            completed_at = UNSET
        else:
            completed_at = isoparse(_completed_at)

        task_run = cls(
            id=id,
            task_id=task_id,
            status=status,
            parent_task_run_id=parent_task_run_id,
            root_task_run_id=root_task_run_id,
            retries=retries,
            attempts=attempts,
            parent_task_attempt=parent_task_attempt,
            started_at=started_at,
            completed_at=completed_at,
        )

        task_run.additional_properties = d
        return task_run

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
