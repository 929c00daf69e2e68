"""A tiny workflow for the front's smoke tests against the real core."""

from __future__ import annotations

import asyncio

from render_sdk import Workflows

app = Workflows()


@app.task
def square(a: int) -> int:
    print(f"squaring {a}")
    return a * a


@app.task
async def sum_squares(n: int) -> int:
    return sum(await asyncio.gather(*(square(i) for i in range(n))))


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


@app.task
async def wait_forever() -> None:
    await asyncio.Event().wait()


if __name__ == "__main__":
    app.start()
