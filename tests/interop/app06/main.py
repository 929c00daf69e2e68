"""A workflow written for Render's published render_sdk 0.6.0, run unchanged by this engine."""

import asyncio

from render_sdk import Workflows

app = Workflows()


@app.task
def square(a: int) -> int:
    return a * a


@app.task
async def sum_squares(n: int) -> int:
    values = await asyncio.gather(*(square(i) for i in range(n)))
    return sum(values)


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


@app.task
async def sleepy(seconds: float) -> float:
    await asyncio.sleep(seconds)
    return seconds


if __name__ == "__main__":
    app.start()
