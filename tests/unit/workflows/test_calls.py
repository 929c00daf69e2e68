"""Calling tasks from plain Python, and tasks calling tasks in this process."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from render_sdk import Workflows
from render_sdk.workflows import ResultNotJSONError, SubtaskError, TaskArgumentsError

app = Workflows()


@app.task
def square(x: int) -> int:
    return x * x


@app.task
async def cube(x: int) -> int:
    return x * x * x


@app.task
async def add_squares(a: int, b: int) -> int:
    first, second = await asyncio.gather(square(a), square(b))
    return first + second


@app.task
def sync_caller(x: int) -> int:
    # A sync task gets the subtask's value, also from an async task.
    return square(x) + cube(x)  # type: ignore[operator]


@app.task
def boom(message: str) -> None:
    raise RuntimeError(message)


@app.task
async def guarded() -> str:
    try:
        await boom("inner failure")
    except SubtaskError as exc:
        return f"{exc.task_name}: {exc.details}"
    return "no error"


@app.task
def tuple_maker() -> tuple[int, int]:
    return (1, 2)


@app.task
async def sees_json() -> object:
    return await tuple_maker()


@app.task
def returns_set() -> object:
    return {1}


@app.task
async def calls_returns_set() -> object:
    return await returns_set()


@app.task
async def via_thread(x: int) -> int:
    return await asyncio.to_thread(square, x)


def test_sync_task_called_directly_is_its_function() -> None:
    assert square(4) == 16
    assert square(x=5) == 25


def test_async_task_called_directly_returns_a_coroutine() -> None:
    coro = cube(2)
    assert inspect.iscoroutine(coro)
    assert asyncio.run(coro) == 8


async def test_direct_calls_inside_an_async_test() -> None:
    assert square(3) == 9
    assert await cube(3) == 27


def test_async_task_awaiting_sync_tasks_fans_out_in_process() -> None:
    assert asyncio.run(add_squares(2, 3)) == 13


def test_sync_task_calling_tasks_gets_values() -> None:
    assert sync_caller(2) == 12


def test_subtask_failure_is_a_catchable_subtask_error() -> None:
    assert asyncio.run(guarded()) == "boom: RuntimeError: inner failure"


def test_subtask_results_pass_through_json() -> None:
    assert asyncio.run(sees_json()) == [1, 2]


def test_subtask_result_json_cannot_encode_fails_the_call() -> None:
    with pytest.raises(SubtaskError, match="cannot be encoded as JSON") as info:
        asyncio.run(calls_returns_set())
    assert isinstance(info.value.__cause__, ResultNotJSONError)


def test_threads_with_a_copied_context_still_make_subtask_calls() -> None:
    assert asyncio.run(via_thread(6)) == 36


def test_mixing_positional_and_keyword_arguments_is_refused() -> None:
    app2 = Workflows()

    @app2.task
    def two(a: int, b: int) -> int:
        return a + b

    with pytest.raises(TaskArgumentsError, match="both positional and keyword arguments"):
        two(1, b=2)
    with pytest.raises(TypeError, match="arguments do not match the parameters of task 'two'"):
        two(1)
    assert two(1, 2) == two(a=1, b=2) == 3


def test_subtask_arguments_must_be_json() -> None:
    @Workflows().task
    async def parent() -> int:
        return await square(object())  # type: ignore[arg-type]

    with pytest.raises(TaskArgumentsError, match="arguments of task 'square' cannot be encoded"):
        asyncio.run(parent())


def test_subtask_error_carries_its_details() -> None:
    exc = SubtaskError("fetch", "trn-1", "timed out")
    assert str(exc) == "subtask 'fetch' (trn-1) failed: timed out"
    assert (exc.task_name, exc.task_run_id, exc.details) == ("fetch", "trn-1", "timed out")
