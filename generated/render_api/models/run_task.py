from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.task_data_type_1 import TaskDataType1


T = TypeVar("T", bound="RunTask")


@_attrs_define
class RunTask:
    task: str
    """ `workflow-slug/task-name`, optionally with `:version` appended. """
    input_: list[Any] | TaskDataType1 | Unset = UNSET
    """ Task arguments, positional (an array) or named (an object). """
    idempotency_key: str | Unset = UNSET
    """ Makes the start safe to repeat: the same key with the same task and input answers
    the run the first request started (see `POST /task-runs`).
     """
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        task = self.task

        input_: dict[str, Any] | list[Any] | Unset
        if isinstance(self.input_, Unset):
            input_ = UNSET
        elif isinstance(self.input_, list):
            input_ = self.input_

        else:
            input_ = self.input_.to_dict()

        idempotency_key = self.idempotency_key

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "task": task,
            }
        )
        if input_ is not UNSET:
            field_dict["input"] = input_
        if idempotency_key is not UNSET:
            field_dict["idempotencyKey"] = idempotency_key

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.task_data_type_1 import TaskDataType1

        d = dict(src_dict)
        task = d.pop("task")

        def _parse_input_(data: object) -> list[Any] | TaskDataType1 | Unset:
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, list):
                    raise TypeError()
                componentsschemas_task_data_type_0 = cast(list[Any], data)

                return componentsschemas_task_data_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            if not isinstance(data, dict):
                raise TypeError()
            componentsschemas_task_data_type_1 = TaskDataType1.from_dict(data)

            return componentsschemas_task_data_type_1

        input_ = _parse_input_(d.pop("input", UNSET))

        idempotency_key = d.pop("idempotencyKey", UNSET)

        run_task = cls(
            task=task,
            input_=input_,
            idempotency_key=idempotency_key,
        )

        run_task.additional_properties = d
        return run_task

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
