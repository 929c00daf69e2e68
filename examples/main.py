"""An example workflow: run it locally with ``render-workflows dev main:app`` from this folder.

On Render, the same file runs unchanged with the start command ``render-workflows main:app``.
``square`` and ``sum_squares`` are in the context style of Render's SDK 1.x (a ``TaskContext``
first, subtasks through ``ctx.run``); the other tasks are in the 0.6.0 style. One app holds both.
"""

from __future__ import annotations

import asyncio
import random

from render_sdk import Retry, TaskContext, Workflows

app = Workflows(default_retry=Retry(max_retries=2, wait_duration_ms=200))


@app.task
def square(ctx: TaskContext, a: int) -> int:
    """Return a squared."""
    return a * a


@app.task
async def sum_squares(ctx: TaskContext, n: int) -> int:
    """Square 0..n-1 in parallel subtasks and add the results up."""
    squares = await asyncio.gather(*(ctx.run(square, i) for i in range(n)))
    return sum(squares)


@app.task(retry=Retry(max_retries=3, wait_duration_ms=100, backoff_scaling=2.0))
def flaky(success_rate: float = 0.5) -> str:
    """Fail at random, to show retries; succeeds on some attempt with the given probability."""
    if random.random() > success_rate:
        raise RuntimeError("the coin came up tails")
    return "heads"


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def divide(a: float, b: float) -> float:
    """Divide a by b; b=0 fails the run with ZeroDivisionError."""
    return a / b


@app.task(timeout_seconds=60, plan="starter")
async def greet(name: str, punctuation: str = "!") -> str:
    """Say hello, printing a log line on the way."""
    print(f"greeting {name}")
    return f"Hello, {name}{punctuation}"


if __name__ == "__main__":
    app.start()
