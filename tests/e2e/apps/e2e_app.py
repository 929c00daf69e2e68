"""Tasks the end-to-end tests run through the real engine and real worker processes."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from pathlib import Path

from render_sdk import Retry, Workflows

app = Workflows()


@app.task
def noop() -> None:
    return None


@app.task
def square(a: int) -> int:
    return a * a


@app.task
def add(a: int, b: int = 10) -> int:
    return a + b


@app.task
def echo(value: object) -> object:
    return value


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def fail(message: str) -> None:
    raise ValueError(message)


def _bump(counter: str) -> int:
    """Count calls in a file, so attempts in separate processes can be told apart."""
    path = Path(counter)
    n = int(path.read_text()) + 1 if path.exists() else 1
    path.write_text(str(n))
    return n


@app.task(retry=Retry(max_retries=3, wait_duration_ms=200, backoff_scaling=2.0))
def fail_then_succeed(counter: str, failures: int) -> int:
    """Fail the first ``failures`` attempts, then return the attempt number."""
    n = _bump(counter)
    if n <= failures:
        raise RuntimeError(f"attempt {n} fails on purpose")
    return n


@app.task(retry=Retry(max_retries=2, wait_duration_ms=50, backoff_scaling=1.0))
def always_fail(counter: str) -> None:
    n = _bump(counter)
    raise RuntimeError(f"attempt {n} failed")


@app.task(timeout_seconds=1, retry=Retry(max_retries=1, wait_duration_ms=0))
def too_slow(seconds: float) -> str:
    time.sleep(seconds)
    return "finished"


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def sleep_for(seconds: float) -> float:
    time.sleep(seconds)
    return seconds


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
def wait_for_file(path: str) -> str:
    """Runs until ``path`` exists (a gate the test opens), at most two minutes."""
    deadline = time.monotonic() + 120
    while not os.path.exists(path):
        if time.monotonic() > deadline:
            raise TimeoutError(f"{path} never appeared")
        time.sleep(0.01)
    return path


@app.task(retry=Retry(max_retries=0, wait_duration_ms=0))
async def sleepy_tree(children: int, seconds: float) -> list[float]:
    """A root whose subtasks sleep: cancel targets."""
    return list(await asyncio.gather(*(sleep_for(seconds) for _ in range(children))))


@app.task(retry=Retry(max_retries=1, wait_duration_ms=0))
def crash(how: str) -> None:
    sys.stderr.write("about to crash\n")
    sys.stderr.flush()
    if how == "exit":
        os._exit(3)
    if how == "kill":
        os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError(f"unknown crash kind {how}")


@app.task
async def parent_of_one(a: int) -> int:
    return int(await square(a)) + 1


@app.task
async def fan_out(n: int) -> int:
    results = await asyncio.gather(*(square(i) for i in range(n)))
    return sum(results)


@app.task
async def parent_of_failing_child(counter: str) -> str:
    try:
        await always_fail(counter)
    except Exception as exc:  # the child's final error reaches the parent
        return f"child failed: {exc}"
    return "child succeeded"


@app.task
def chatty(lines: int) -> int:
    for i in range(lines):
        print(f"line {i}")
    print("to stderr", file=sys.stderr)
    return lines
