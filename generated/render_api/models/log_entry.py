from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field
from dateutil.parser import isoparse

from ..models.log_stream import LogStream, check_log_stream

T = TypeVar("T", bound="LogEntry")


@_attrs_define
class LogEntry:
    """One line a run wrote (local-engine extension)."""

    task_run_id: str
    attempt: int
    """ The 1-based attempt that wrote the line. """
    stream: LogStream
    timestamp: datetime.datetime
    message: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task_run_id = self.task_run_id

        attempt = self.attempt

        stream: str = self.stream

        timestamp = self.timestamp.isoformat()

        message = self.message

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "taskRunId": task_run_id,
                "attempt": attempt,
                "stream": stream,
                "timestamp": timestamp,
                "message": message,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        task_run_id = d.pop("taskRunId")

        attempt = d.pop("attempt")

        stream = check_log_stream(d.pop("stream"))

        timestamp = isoparse(d.pop("timestamp"))

        message = d.pop("message")

        log_entry = cls(
            task_run_id=task_run_id,
            attempt=attempt,
            stream=stream,
            timestamp=timestamp,
            message=message,
        )

        log_entry.additional_properties = d
        return log_entry

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
