"""Checked by mypy (``nox -s types``), never run: the context style's call forms.

A ``# type: ignore[code]`` marks a call mypy must reject; with ``warn_unused_ignores`` an
ignore that is not needed fails the check, so each one is an assertion.
"""

from __future__ import annotations

import asyncio

from render_sdk import LocalTaskContext, TaskContext, TaskRunMetadata, Workflows
from render_sdk.workflows import Retry, TaskDefinition

app = Workflows()


@app.task
def square(ctx: TaskContext, a: int) -> int:
    return a * a


@app.task(retry=Retry(max_retries=1, wait_duration_ms=10))
async def greet(ctx: TaskContext, name: str, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


@app.task
async def flow(ctx: TaskContext, n: int) -> list[int]:
    one: int = await ctx.run(square, 3)
    named: int = await ctx.run(square, a=3)
    text: str = await ctx.run(greet, "ada")
    text = await ctx.run(greet, name="ada", punctuation="?")
    many: list[int] = list(await asyncio.gather(*(ctx.run(square, i) for i in range(n))))
    meta: TaskRunMetadata = ctx.metadata
    run_id: str | None = meta.task_run_id
    del run_id, text
    return [one, named, *many]


async def wrong_calls(ctx: TaskContext) -> None:
    await ctx.run(square, "three")  # type: ignore[arg-type]
    await ctx.run(square)  # type: ignore[call-arg]
    await ctx.run(square, 1, 2)  # type: ignore[call-arg]
    await ctx.run(square, b=3)  # type: ignore[call-arg]
    wrong: str = await ctx.run(square, 3)  # type: ignore[arg-type]
    await ctx.run(greet, 1)  # type: ignore[arg-type]
    await ctx.run(len, [1])  # type: ignore[arg-type]
    del wrong


def definitions_are_typed() -> None:
    sq: TaskDefinition[[int], int] = square
    gr: TaskDefinition[[str, str], str] = greet
    bad: TaskDefinition[[str], int] = square  # type: ignore[assignment]
    del sq, gr, bad


async def unit_test_style() -> None:
    ctx = LocalTaskContext(TaskRunMetadata(task_run_id="trn-test"))
    value: int = await square(ctx, 4)
    listed: list[int] = await flow(ctx, 2)
    await square(ctx, "four")  # type: ignore[arg-type]
    del value, listed
