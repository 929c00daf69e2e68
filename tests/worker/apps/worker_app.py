"""Tasks the worker tests run in real worker processes."""

from __future__ import annotations

import asyncio
import logging
import sys

from render_sdk import Retry, Workflows
from render_sdk.workflows import SubtaskError

app = Workflows(default_timeout=300)
log = logging.getLogger("worker_app")
logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(levelname)s %(message)s")
attempts_seen: list[str] = []


@app.task
def square(x: int) -> int:
    print(f"squaring {x}")
    log.info("square log %s", x)
    return x * x


@app.task(name="greet", retry=Retry(max_retries=3, wait_duration_ms=250, backoff_scaling=2))
async def greeting(name: str, punctuation: str = "!") -> str:
    return f"hello {name}{punctuation}"


@app.task(timeout_seconds=30, plan="pro")
def no_args() -> list[int]:
    return [5]


@app.task
def fail(message: str) -> None:
    raise ValueError(message)


@app.task
def unencodable() -> object:
    return {1, 2}


@app.task
async def sum_squares(n: int) -> int:
    results = await asyncio.gather(*(square(i) for i in range(n)))
    return sum(results)


@app.task
def sync_parent(x: int) -> int:
    return square(x) + 1


@app.task
async def catch_failure(x: int) -> str:
    try:
        await fail(f"bad {x}")
    except SubtaskError as exc:
        return f"caught: {exc.details} from {exc.task_run_id}"
    return "not raised"


@app.task
async def propagate_failure() -> int:
    return await square(-1)


@app.task
def remember(tag: str) -> list[str]:
    """Per-process state: shows serve mode runs attempts in one process."""
    attempts_seen.append(tag)
    return list(attempts_seen)


@app.task
def exits() -> None:
    sys.exit(3)


@app.task
async def gather_with_failure() -> list[int]:
    return await asyncio.gather(square(1), fail("first one failed"), square(2))


# --- the context style ----------------------------------------------------------------------
from render_sdk import TaskContext  # noqa: E402


@app.task
def ctx_meta(ctx: TaskContext) -> list[str | None]:
    meta = ctx.metadata
    return [meta.task_run_id, meta.root_task_run_id, meta.parent_task_run_id]


@app.task
async def ctx_fan_out(ctx: TaskContext, n: int) -> int:
    squares = await asyncio.gather(*(ctx.run(ctx_square, i) for i in range(n)))
    return sum(squares) + await ctx.run(ctx_square, a=10)


@app.task
def ctx_square(ctx: TaskContext, a: int) -> int:
    return a * a


@app.task
async def ctx_catch(ctx: TaskContext) -> str:
    try:
        await ctx.run(ctx_square, 2)
    except SubtaskError as exc:
        return f"{type(exc).__name__}: {exc.details}"
    return "no error"


@app.task
async def ctx_misuse(ctx: TaskContext, how: str) -> object:
    if how == "mixed":
        return await ctx.run(ctx_square, 1, a=2)  # type: ignore[call-arg]
    return await ctx.run(square, 2)  # type: ignore[arg-type]
