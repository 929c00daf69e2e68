"""The DBOS baseline: DBOS Transact's queue on the same PostgreSQL, measured on B1-B4's shapes.

``dbos`` comes from PyPI into the running interpreter's environment (installed on demand). Its
worker is one process (bench/dbos_app.py) running at most 8 workflows of the queue at once, the
local engine's default slots here; the client is :class:`dbos.DBOSClient` in the benchmark's
process, enqueueing and waiting for results. Both poll every 10 ms (DBOS's default is 1 s).

Polling that often costs the idle worker a good part of a core (:meth:`DBOSStack.idle_cpu`), which
would land in every other system's measurements: the runner stops the worker (SIGSTOP) while the
other systems' slices run and lets it go on (SIGCONT) for its own (:meth:`DBOSStack.pause`).
"""

from __future__ import annotations

import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench._procs import NotMeasured, bench_env, cpu_seconds, spawn, stop, wait_until
from bench._results import Result
from bench._stats import latency_summary, timed

SYSTEM = "dbos"
POLL_SECONDS = 0.01
QUEUE = "bench"


def ensure_dbos() -> None:
    """Import dbos, installing it into this environment if needed."""
    try:
        importlib.import_module("dbos")
        return
    except ImportError:
        pass
    print("  installing dbos into", sys.prefix, flush=True)
    uv = shutil.which("uv")
    if uv is not None:
        command = [uv, "pip", "install", "--python", sys.executable, "dbos"]
        env = dict(os.environ, VIRTUAL_ENV=sys.prefix)
    else:
        command, env = [sys.executable, "-m", "pip", "install", "-q", "dbos"], dict(os.environ)
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=env, check=False
    )
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NotMeasured(f"installing dbos failed: {last[0]}")
    importlib.invalidate_caches()
    try:
        importlib.import_module("dbos")
    except ImportError as exc:
        raise NotMeasured(f"dbos could not be imported after installing it: {exc}") from exc


class DBOSStack:
    """A DBOS worker process on a database of its own, and a client."""

    def __init__(self, workdir: Path, url: str) -> None:
        self.workdir = workdir
        self.url = url
        self.worker: subprocess.Popen[bytes] | None = None
        self.client: Any = None

    def start(self) -> None:
        ensure_dbos()
        log = self.workdir / "dbos-worker.log"
        env = {"BENCH_DBOS_URL": self.url, "BENCH_DBOS_POLL": str(POLL_SECONDS)}
        self.worker = spawn([sys.executable, "-m", "bench.dbos_app"], log, env=bench_env(env))
        from dbos import DBOSClient

        def ready() -> bool:
            if self.client is None:
                self.client = DBOSClient(system_database_url=self.url)
            return self.noop() is None

        wait_until(ready, self.worker, "the DBOS worker", log, 90)

    def _enqueue(self, workflow: str, *args: Any) -> Any:
        return self.client.enqueue({"queue_name": QUEUE, "workflow_name": workflow}, *args)

    def noop(self) -> Any:
        return self._enqueue("noop").get_result(polling_interval_sec=POLL_SECONDS)

    def pause(self, paused: bool) -> None:
        """Stop the worker process (it polls even when idle), or let it go on."""
        if self.worker is not None and self.worker.poll() is None:
            os.kill(self.worker.pid, signal.SIGSTOP if paused else signal.SIGCONT)

    def idle_cpu(self, seconds: float = 2.0) -> float | None:
        """The share of one core the idle worker uses, over ``seconds``."""
        if self.worker is None:
            return None
        before = cpu_seconds(self.worker.pid)
        time.sleep(seconds)
        after = cpu_seconds(self.worker.pid)
        return None if before is None or after is None else (after - before) / seconds

    def stop(self) -> None:
        self.pause(False)  # a stopped process does not act on SIGTERM
        if self.client is not None:
            self.client.destroy()
            self.client = None
        if self.worker is not None:
            stop(self.worker, signal.SIGTERM)
            self.worker = None


def b1(stack: DBOSStack, n: int, warmup: int) -> Result:
    """Sequential enqueue + get_result of the no-op workflow."""
    samples = timed(stack.noop, n, warmup)
    return Result(
        "B1",
        SYSTEM,
        latency_summary(samples),
        note="sequential DBOSClient.enqueue(noop).get_result()",
        samples_ms=[s * 1000 for s in samples],
    )


def b2(stack: DBOSStack, n: int) -> Result:
    """``n`` no-op workflows enqueued back to back, then every result awaited."""
    stack.noop()
    t0 = time.perf_counter()
    handles = [stack._enqueue("noop") for _ in range(n)]
    sent = time.perf_counter()
    for handle in handles:
        handle.get_result(polling_interval_sec=POLL_SECONDS)
    elapsed = time.perf_counter() - t0
    return Result(
        "B2",
        SYSTEM,
        {"n": n, "seconds": elapsed, "runs_per_s": n / elapsed, "send_seconds": sent - t0},
        note=f"{n} x DBOSClient.enqueue(noop), then each get_result()",
    )


def b3(stack: DBOSStack, n: int, warmup: int) -> Result:
    """A parent workflow that enqueues one child and waits for it."""

    def parent() -> Any:
        return stack._enqueue("parent_one").get_result(polling_interval_sec=POLL_SECONDS)

    samples = timed(parent, n, warmup)
    return Result(
        "B3",
        SYSTEM,
        latency_summary(samples),
        note="parent workflow enqueues one child and waits for its result",
        samples_ms=[s * 1000 for s in samples],
    )


def b4(stack: DBOSStack, repeats: int, fan: int) -> Result:
    """A parent workflow that enqueues ``fan`` no-ops and waits for all of them."""
    stack._enqueue("fan_out", 4).get_result(polling_interval_sec=POLL_SECONDS)
    samples: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = stack._enqueue("fan_out", fan).get_result(polling_interval_sec=POLL_SECONDS)
        samples.append(time.perf_counter() - t0)
        if count != fan:
            raise NotMeasured(f"fan_out returned {count}, expected {fan}")
    return Result(
        "B4",
        SYSTEM,
        latency_summary(samples),
        note=f"parent workflow enqueues {fan} no-ops and waits for each",
        samples_ms=[s * 1000 for s in samples],
    )
