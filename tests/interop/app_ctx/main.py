"""A workflow in the context style of Render's SDK 1.x, written only against what Render's
published 1.5.0 offers, so the same file runs under its worker and under this SDK's worker."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from render_sdk import Retry, TaskContext, Workflows

app = Workflows(default_timeout=300)


@app.task
def square(ctx: TaskContext, a: int) -> int:
    return a * a


@app.task
async def sum_squares(ctx: TaskContext, n: int) -> int:
    values = await asyncio.gather(*(ctx.run(square, i) for i in range(n)))
    return sum(values)


@app.task
async def named_input(ctx: TaskContext, a: int) -> int:
    return await ctx.run(square, a=a) + 1


def _ids(ctx: TaskContext) -> dict[str, Any]:
    meta = ctx.metadata
    return {
        "task_run_id": meta.task_run_id,
        "root_task_run_id": meta.root_task_run_id,
        "parent_task_run_id": meta.parent_task_run_id,
    }


@app.task
def child_ids(ctx: TaskContext) -> dict[str, Any]:
    return _ids(ctx)


@app.task
async def ids(ctx: TaskContext) -> dict[str, Any]:
    return {"self": _ids(ctx), "child": await ctx.run(child_ids)}


@app.task(retry=Retry(max_retries=2, wait_duration_ms=100, backoff_scaling=1.0))
def flaky(ctx: TaskContext, counter: str, failures: int) -> int:
    """Fails ``failures`` times, then returns the number of the attempt that succeeded."""
    path = Path(counter)
    seen = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(seen))
    if seen <= failures:
        raise RuntimeError(f"attempt {seen} failed")
    return seen


@app.task(retry=Retry(max_retries=1, wait_duration_ms=50, backoff_scaling=1.0))
def always_fails(ctx: TaskContext, message: str) -> None:
    raise ValueError(message)


@app.task
async def catches(ctx: TaskContext, message: str) -> dict[str, str]:
    try:
        await ctx.run(always_fails, message)
    except Exception as exc:  # TaskRunError under Render's SDK, SubtaskError under this one
        return {"type": type(exc).__name__, "message": str(exc)}
    return {"type": "none", "message": ""}


@app.task
async def retried_child(ctx: TaskContext, counter: str) -> int:
    return await ctx.run(flaky, counter, 1)


@app.task
async def sleepy(ctx: TaskContext, seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds
