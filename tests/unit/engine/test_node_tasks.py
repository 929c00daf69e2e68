"""What a node says of its tasks (render_sdk/engine/nodes.py): a digest of each task's
definition, the fingerprint of them all, and how two nodes' tasks differ, for people. Real nodes
that differ are in tests/nodes/test_mixed_tasks.py."""

from __future__ import annotations

import dataclasses
import doctest
import importlib
from datetime import datetime, timezone

import pytest

from render_sdk.engine.nodes import differences, task_digests
from render_sdk.engine.records import ParameterRecord, RetryOptions, TaskRecord
from render_sdk.engine.store import fingerprint

T0 = datetime(2026, 1, 1, tzinfo=timezone.utc)
SQUARE = TaskRecord(
    id="tsk-square",
    name="square",
    created_at=T0,
    retry=RetryOptions(3, 500, 1.5),
    timeout_seconds=60.0,
    parameters=(ParameterRecord("x", False, "int", None),),
)


@pytest.mark.parametrize("name", ["render_sdk.engine.nodes", "render_sdk.engine.store"])
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name))
    assert result.failed == 0 and result.attempted > 0


def test_a_task_registered_again_the_same_way_has_the_same_digest() -> None:
    again = dataclasses.replace(SQUARE, created_at=datetime.now(timezone.utc))
    assert task_digests([SQUARE]) == task_digests([again])
    assert fingerprint(task_digests([SQUARE])) == fingerprint(task_digests([again]))


@pytest.mark.parametrize(
    "changed",
    [
        {"retry": RetryOptions(4, 500, 1.5)},
        {"retry": None},
        {"timeout_seconds": 61.0},
        {"plan": "pro"},
        {"parameters": (ParameterRecord("x", True, "int", "2"),)},
        {"parameters": (ParameterRecord("y", False, "int", None),)},
    ],
)
def test_any_change_of_a_definition_changes_its_digest(changed: dict[str, object]) -> None:
    other = dataclasses.replace(SQUARE, **changed)
    assert task_digests([SQUARE])["square"] != task_digests([other])["square"]


def test_the_differences_name_a_few_tasks_of_each_kind() -> None:
    mine = {f"t{i}": "1" for i in range(6)}
    theirs = {"t0": "2", "t1": "2", "t2": "2", "t3": "2", "u": "1"}
    assert differences(mine, theirs) == (
        "only here: t4, t5; only there: u; defined differently: t0, t1, t2 and 1 more"
    )
    assert differences(mine, dict(mine)) == ""
