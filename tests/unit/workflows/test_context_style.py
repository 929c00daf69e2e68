"""The context style (Render SDK 1.x): defining tasks, ctx.run in process, metadata, misuse."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

import render_sdk
import render_sdk.workflows
from render_sdk import LocalTaskContext, TaskContext, TaskRunMetadata, Workflows
from render_sdk.workflows import (
    InvalidTaskSignature,
    NotATask,
    SubtaskError,
    Task,
    TaskArgumentsError,
    TaskDefinition,
)

app = Workflows()


@app.task
def square(ctx: TaskContext, a: int) -> int:
    return a * a


@app.task
async def sum_squares(ctx: TaskContext, n: int) -> int:
    return sum(await asyncio.gather(*(ctx.run(square, i) for i in range(n))))


@app.task
def plain_double(x: int) -> int:
    return 2 * x


@app.task
async def ids(ctx: TaskContext) -> dict[str, Any]:
    child = await ctx.run(child_ids)
    return {"self": ctx.metadata.task_run_id, "child": child}


@app.task
def child_ids(ctx: TaskContext) -> list[str | None]:
    meta = ctx.metadata
    return [meta.task_run_id, meta.root_task_run_id, meta.parent_task_run_id]


@app.task
def boom(ctx: TaskContext, message: str) -> None:
    raise RuntimeError(message)


@app.task
async def mixed_styles(ctx: TaskContext, x: int) -> int:
    # A context-style task may still call a 0.6.0-style task directly.
    return await ctx.run(square, x) + await plain_double(x)  # type: ignore[misc]


def test_public_names_are_where_render_has_them() -> None:
    assert render_sdk.TaskContext is render_sdk.workflows.TaskContext
    assert render_sdk.TaskRunMetadata is render_sdk.workflows.TaskRunMetadata
    assert render_sdk.LocalTaskContext is render_sdk.workflows.LocalTaskContext
    assert {"TaskContext", "TaskRunMetadata"} <= set(render_sdk.__all__)


def test_the_annotation_decides_the_style() -> None:
    assert isinstance(square, TaskDefinition)
    assert isinstance(plain_double, Task)
    local = Workflows()

    @local.task
    def by_string(ctx: "render_sdk.TaskContext", a: int) -> int:  # noqa: UP037
        return a

    @local.task
    def first_is_input(count: int, ctx: int = 0) -> int:
        return count

    assert isinstance(by_string, TaskDefinition)
    assert isinstance(first_is_input, Task)


def test_registration_leaves_the_context_out() -> None:
    assert square.to_wire()["parameters"] == [{"name": "a", "has_default": False, "type": "int"}]
    assert [p["name"] for p in plain_double.to_wire()["parameters"]] == ["x"]
    assert ids.to_wire()["parameters"] == []


def test_an_unannotated_ctx_is_refused_with_both_ways_out() -> None:
    local = Workflows()
    with pytest.raises(InvalidTaskSignature) as caught:

        @local.task
        def ambiguous(ctx, a: int) -> int:  # type: ignore[no-untyped-def]
            return a

    message = str(caught.value)
    assert "'ambiguous'" in message and "ctx: TaskContext" in message
    assert "annotate it with the input's type" in message
    assert "ambiguous" not in local.tasks


def test_a_keyword_only_context_is_refused() -> None:
    local = Workflows()
    with pytest.raises(InvalidTaskSignature, match="must come first and be positional"):

        @local.task
        def odd(*, ctx: TaskContext) -> None:
            return None


async def test_local_context_runs_subtasks_in_process() -> None:
    ctx = LocalTaskContext()
    assert await ctx.run(square, 3) == 9
    assert await ctx.run(square, a=4) == 16
    assert await ctx.run(sum_squares, 5) == 30
    assert await sum_squares(ctx, 4) == 14  # calling with a context is ctx.run
    assert await ctx.run(mixed_styles, 3) == 15


async def test_local_context_metadata_chain() -> None:
    ctx = LocalTaskContext(TaskRunMetadata(task_run_id="trn-root", root_task_run_id="trn-root"))
    assert ctx.metadata.parent_task_run_id is None
    result = await ctx.run(ids)
    own = result["self"]
    assert own.startswith("trn-local-")
    child_id, child_root, child_parent = result["child"]
    assert child_id.startswith("trn-local-") and child_id != own
    assert child_root == "trn-root"
    assert child_parent == own


async def test_a_failed_subtask_raises_subtask_error() -> None:
    with pytest.raises(SubtaskError) as caught:
        await LocalTaskContext().run(boom, "kaput")
    assert caught.value.task_name == "boom"
    assert caught.value.details == "RuntimeError: kaput"
    assert isinstance(caught.value.__cause__, RuntimeError)


async def test_mixing_positional_and_named_arguments_is_refused() -> None:
    with pytest.raises(TaskArgumentsError, match="both positional and keyword"):
        await LocalTaskContext().run(square, 3, a=4)  # type: ignore[call-arg]


async def test_wrong_arguments_name_the_task() -> None:
    with pytest.raises(TaskArgumentsError, match="parameters of task 'square'"):
        await LocalTaskContext().run(square, 1, 2)  # type: ignore[call-arg]


async def test_ctx_run_on_something_that_is_not_a_task() -> None:
    ctx = LocalTaskContext()
    with pytest.raises(NotATask, match=r"registered with @app.task, got .*len"):
        await ctx.run(len, [1])  # type: ignore[arg-type]
    with pytest.raises(NotATask, match="'plain_double' takes no context"):
        await ctx.run(plain_double, 2)  # type: ignore[arg-type]


def test_a_context_task_called_without_a_context() -> None:
    with pytest.raises(TaskArgumentsError) as caught:
        square(3)  # type: ignore[arg-type, call-arg]
    message = str(caught.value)
    assert "takes a TaskContext first" in message
    assert "ctx.run(square, ...)" in message and "LocalTaskContext()" in message


async def test_a_plain_task_called_with_a_context() -> None:
    with pytest.raises(TaskArgumentsError, match="'plain_double' takes no context"):
        plain_double(LocalTaskContext(), 3)  # type: ignore[call-arg]


def test_local_context_metadata_must_be_metadata() -> None:
    with pytest.raises(TypeError, match="takes a TaskRunMetadata"):
        LocalTaskContext({"task_run_id": "x"})  # type: ignore[arg-type]


def test_metadata_from_input() -> None:
    full = {"task_run_id": "trn-b", "root_task_run_id": "trn-a", "parent_task_run_id": "trn-a"}
    assert TaskRunMetadata.from_input(full) == TaskRunMetadata("trn-b", "trn-a", "trn-a")
    # A platform that predates the ids (or a root run's empty parent): None, never "".
    assert TaskRunMetadata.from_input({"task_name": "x", "input": ""}) == TaskRunMetadata()
    assert TaskRunMetadata.from_input({"task_run_id": "t", "parent_task_run_id": ""}) == (
        TaskRunMetadata("t", None, None)
    )
    assert TaskRunMetadata.from_input({"task_run_id": 5}) == TaskRunMetadata()


def test_a_user_context_satisfies_the_protocol() -> None:
    class Mine:
        @property
        def metadata(self) -> TaskRunMetadata:
            return TaskRunMetadata(task_run_id="mine")

        async def run(self, task: Any, /, *args: Any, **kwargs: Any) -> Any:
            return ("ran", task.name, args)

    assert isinstance(Mine(), TaskContext)
    assert asyncio.run(square(Mine(), 2)) == ("ran", "square", (2,))  # type: ignore[comparison-overlap]
