"""The workflow the inspector's browser tests run on a real engine."""

from __future__ import annotations

import asyncio

from render_sdk import Workflows

app = Workflows()


@app.task
def square(a: int) -> int:
    print(f"squaring {a}")
    return a * a


@app.task
async def fan_out(n: int) -> int:
    return sum(await asyncio.gather(*(square(i) for i in range(n))))


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


@app.task
def echo(text: str) -> str:
    print(text)
    return text


@app.task
async def wait_forever() -> None:
    await asyncio.Event().wait()


@app.task
async def wait_tree(n: int) -> None:
    await asyncio.gather(*(wait_forever() for _ in range(n)))


if __name__ == "__main__":
    app.start()
