"""A real ``module:app`` built with this SDK, run by the engine's tests on the fast path."""

from __future__ import annotations

import asyncio
import os

from render_sdk import Retry, Workflows

app = Workflows()


@app.task
def square(x: int) -> int:
    print(f"squaring {x}")
    return x * x


@app.task
async def sum_squares(n: int) -> int:
    return sum(await asyncio.gather(*(square(i) for i in range(n))))


@app.task
def whoami() -> int:
    return os.getpid()


@app.task(retry=Retry(max_retries=1, wait_duration_ms=10, backoff_scaling=1.0))
def fail(message: str) -> None:
    raise ValueError(message)


if __name__ == "__main__":
    app.start()
