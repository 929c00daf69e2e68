from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from dateutil.parser import isoparse

from ..models.task_run_status import TaskRunStatus, check_task_run_status
from ..types import UNSET, Unset

T = TypeVar("T", bound="TaskAttemptDetails")


@_attrs_define
class TaskAttemptDetails:
    status: TaskRunStatus
    """ `completed` is what Render serves for success today and `succeeded` its announced
    replacement; clients treat both as success. Terminal: completed, succeeded, failed,
    canceled.
    `paused` is a Render status that the local engine never produces; clients accept it.
     """
    started_at: datetime.datetime
    attempt: int | Unset = UNSET
    """ The attempt's number, from 0 for the first. """
    task_run_id: str | Unset = UNSET
    """ The run this attempt belongs to. """
    enqueued_at: datetime.datetime | Unset = UNSET
    """ When the attempt joined the queue: the run's creation for the first attempt, the end
    of the previous attempt for a retry.
     """
    completed_at: datetime.datetime | Unset = UNSET
    sdk_import_started_at: datetime.datetime | Unset = UNSET
    """ Local-engine addition: when the worker process began importing the SDK, as the
    worker reported it (absent when it did not, or when the process was already running).
     """
    sdk_import_finished_at: datetime.datetime | Unset = UNSET
    """ Local-engine addition, as reported by the worker: SDK import done. """
    sdk_started_at: datetime.datetime | Unset = UNSET
    """ Local-engine addition, as reported by the worker: its runner started. """
    error: str | Unset = UNSET
    results: list[Any] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        status: str = self.status

        started_at = self.started_at.isoformat()

        attempt = self.attempt

        task_run_id = self.task_run_id

        enqueued_at: str | Unset = UNSET
        if not isinstance(self.enqueued_at, Unset):
            enqueued_at = self.enqueued_at.isoformat()

        completed_at: str | Unset = UNSET
        if not isinstance(self.completed_at, Unset):
            completed_at = self.completed_at.isoformat()

        sdk_import_started_at: str | Unset = UNSET
        if not isinstance(self.sdk_import_started_at, Unset):
            sdk_import_started_at = self.sdk_import_started_at.isoformat()

        sdk_import_finished_at: str | Unset = UNSET
        if not isinstance(self.sdk_import_finished_at, Unset):
            sdk_import_finished_at = self.sdk_import_finished_at.isoformat()

        sdk_started_at: str | Unset = UNSET
        if not isinstance(self.sdk_started_at, Unset):
            sdk_started_at = self.sdk_started_at.isoformat()

        error = self.error

        results: list[Any] | Unset = UNSET
        if not isinstance(self.results, Unset):
            results = self.results

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "status": status,
                "startedAt": started_at,
            }
        )
        if attempt is not UNSET:
            field_dict["attempt"] = attempt
        if task_run_id is not UNSET:
            field_dict["taskRunId"] = task_run_id
        if enqueued_at is not UNSET:
            field_dict["enqueuedAt"] = enqueued_at
        if completed_at is not UNSET:
            field_dict["completedAt"] = completed_at
        if sdk_import_started_at is not UNSET:
            field_dict["sdkImportStartedAt"] = sdk_import_started_at
        if sdk_import_finished_at is not UNSET:
            field_dict["sdkImportFinishedAt"] = sdk_import_finished_at
        if sdk_started_at is not UNSET:
            field_dict["sdkStartedAt"] = sdk_started_at
        if error is not UNSET:
            field_dict["error"] = error
        if results is not UNSET:
            field_dict["results"] = results

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        status = check_task_run_status(d.pop("status"))

        started_at = isoparse(d.pop("startedAt"))

        attempt = d.pop("attempt", UNSET)

        task_run_id = d.pop("taskRunId", UNSET)

        _enqueued_at = d.pop("enqueuedAt", UNSET)
        enqueued_at: datetime.datetime | Unset
        if isinstance(_enqueued_at, Unset):
            enqueued_at = UNSET
        else:
            enqueued_at = isoparse(_enqueued_at)

        _completed_at = d.pop("completedAt", UNSET)
        completed_at: datetime.datetime | Unset
        if isinstance(_completed_at, Unset):
            completed_at = UNSET
        else:
            completed_at = isoparse(_completed_at)

        _sdk_import_started_at = d.pop("sdkImportStartedAt", UNSET)
        sdk_import_started_at: datetime.datetime | Unset
        if isinstance(_sdk_import_started_at, Unset):
            sdk_import_started_at = UNSET
        else:
            sdk_import_started_at = isoparse(_sdk_import_started_at)

        _sdk_import_finished_at = d.pop("sdkImportFinishedAt", UNSET)
        sdk_import_finished_at: datetime.datetime | Unset
        if isinstance(_sdk_import_finished_at, Unset):
            sdk_import_finished_at = UNSET
        else:
            sdk_import_finished_at = isoparse(_sdk_import_finished_at)

        _sdk_started_at = d.pop("sdkStartedAt", UNSET)
        sdk_started_at: datetime.datetime | Unset
        if isinstance(_sdk_started_at, Unset):
            sdk_started_at = UNSET
        else:
            sdk_started_at = isoparse(_sdk_started_at)

        error = d.pop("error", UNSET)

        results = cast(list[Any], d.pop("results", UNSET))

        task_attempt_details = cls(
            status=status,
            started_at=started_at,
            attempt=attempt,
            task_run_id=task_run_id,
            enqueued_at=enqueued_at,
            completed_at=completed_at,
            sdk_import_started_at=sdk_import_started_at,
            sdk_import_finished_at=sdk_import_finished_at,
            sdk_started_at=sdk_started_at,
            error=error,
            results=results,
        )

        task_attempt_details.additional_properties = d
        return task_attempt_details

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
