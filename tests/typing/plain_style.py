"""Checked by mypy (``nox -s types``), never run: the 0.6.0 style's call forms.

A ``# type: ignore[code]`` marks a call mypy must reject (``warn_unused_ignores`` is on).
"""

from __future__ import annotations

import asyncio

from render_sdk import Render, RenderAsync, Workflows
from render_sdk.workflows import Task

app = Workflows()


@app.task
def square(a: int) -> int:
    return a * a


@app.task(timeout_seconds=60)
async def cube(a: int) -> int:
    return a * a * a


@app.task
async def flow(n: int) -> int:
    total: int = sum(await asyncio.gather(*(cube(i) for i in range(n))))
    return total + await cube(2)


def sync_calls() -> None:
    value: int = square(3)
    square("three")  # type: ignore[arg-type]
    wrong: str = square(3)  # type: ignore[assignment]
    typed: Task[[int], int] = square
    del value, wrong, typed


def clients() -> None:
    render = Render()
    run = render.workflows.run_task("wf/square", [3])
    status: str = run.status
    del status
    RenderAsync()
