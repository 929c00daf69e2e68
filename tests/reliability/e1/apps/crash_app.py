"""Tasks for the engine-crash test: subtasks, a first attempt that fails, results to check.

``leaf`` fails its first attempt when ``value`` is a multiple of 3 (a marker file remembers that
it did), so retries happen under load; every result is a pure function of the input, so a run
executed again after a crash must still return the same value.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from render_sdk import Retry, Workflows

app = Workflows()


@app.task(retry=Retry(max_retries=2, wait_duration_ms=100, backoff_scaling=2.0))
def leaf(marker_dir: str, key: str, value: int) -> int:
    time.sleep(0.02 + (value % 5) * 0.04)
    if value % 3 == 0:
        marker = Path(marker_dir) / f"{key}-{value}"
        if not marker.exists():
            marker.touch()
            raise RuntimeError(f"the first attempt of {key}/{value} fails on purpose")
    return value * value


@app.task(retry=Retry(max_retries=2, wait_duration_ms=100, backoff_scaling=2.0))
async def tree(marker_dir: str, key: str, n: int) -> int:
    calls = (leaf(marker_dir, key, i) for i in range(n))
    values: list[int] = await asyncio.gather(*calls)  # type: ignore[call-overload]
    return sum(values) + n


def expected(task: str, args: list[object]) -> int:
    """The result a run of ``task`` with ``args`` must return."""
    if task == "leaf":
        value = int(str(args[2]))
        return value * value
    n = int(str(args[2]))
    return sum(i * i for i in range(n)) + n


if __name__ == "__main__":
    app.start()
