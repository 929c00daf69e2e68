"""The workflow the benchmarks run: no-op tasks, a parent of one child, a fan-out.

render-workflows dev bench.app:app
"""

from __future__ import annotations

import asyncio

from render_sdk import Workflows

app = Workflows()


@app.task
def noop() -> None:
    """Do nothing: the run's cost is all engine, wire and worker overhead."""
    return None


@app.task
async def parent_one() -> None:
    """Start one no-op subtask and wait for its result."""
    await noop()


@app.task
async def fan_out(n: int) -> int:
    """Start ``n`` no-op subtasks at once, wait for all of them, return how many finished."""
    results = await asyncio.gather(*(noop() for _ in range(n)))
    return len(results)


if __name__ == "__main__":
    app.start()
