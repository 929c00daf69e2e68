"""Tasks that fail the hard way, for the worker-fault tests.

Served as ``faults_app:app`` (fast path, reused processes) or started as ``python faults_app.py``
(one process per run). Every faulty task allows one retry, so each run makes two attempts.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import time

from render_sdk import Retry, Workflows

app = Workflows()

ONE_RETRY = Retry(max_retries=1, wait_duration_ms=0, backoff_scaling=1.0)
HOG_CAP_BYTES = 3 * 1024 * 1024 * 1024  # the hog stops here (a safety net if no limit applies)


@app.task
def square(a: int) -> int:
    """A well-behaved task run next to the faulty ones."""
    time.sleep(0.01)
    return a * a


@app.task(retry=ONE_RETRY)
def exit_3() -> None:
    print("exiting with status 3", file=sys.stderr, flush=True)
    os._exit(3)


@app.task(retry=ONE_RETRY)
def sigkill_self() -> None:
    print("killing myself", file=sys.stderr, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)


@app.task(retry=ONE_RETRY)
def segfault() -> None:
    print("reading address 0", file=sys.stderr, flush=True)
    ctypes.string_at(0)


@app.task(retry=ONE_RETRY, timeout_seconds=1)
def spin_forever() -> None:
    while True:
        pass


@app.task(retry=ONE_RETRY, plan="starter")
def hog_memory() -> str:
    """Touch memory 16 MiB at a time until something stops it."""
    chunks: list[bytes] = []
    total = 0
    while total < HOG_CAP_BYTES:
        chunks.append(b"\x01" * (16 * 1024 * 1024))
        total += 16 * 1024 * 1024
    return f"allocated {total} bytes: no memory limit applied"


@app.task(plan="starter")
def modest_memory() -> int:
    """Uses 200 MiB: fits the starter plan's limit."""
    block = b"\x02" * (200 * 1024 * 1024)
    return len(block)


@app.task(plan="starter")
def starter_after_hog() -> int:
    return 7


@app.task
def flood_stdout(lines: int) -> int:
    """Write ``lines`` lines of 100 bytes to stdout, and one long line without a newline."""
    line = "x" * 99 + "\n"
    out = sys.stdout
    for _ in range(lines):
        out.write(line)
    out.write("y" * (8 * 1024 * 1024))
    out.write("\n")
    out.flush()
    return lines


if __name__ == "__main__":
    app.start()
