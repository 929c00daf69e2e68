"""The Celery 5 + Redis baseline: install, start, measure B1-B4, stop.

redis-server comes from Debian (``apt-get install -y redis-server``, skipped when it is already on
PATH) and ``celery[redis]`` from PyPI into the running interpreter's environment. Redis listens on
127.0.0.1 on a free port without persistence; the worker is prefork with concurrency 2.
"""

from __future__ import annotations

import gc
import importlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from bench._procs import (
    NotMeasured,
    bench_env,
    children,
    cpu_seconds,
    free_port,
    reaped_children_cpu_seconds,
    spawn,
    stop,
    wait_until,
)
from bench._results import Result
from bench._stats import latency_summary, timed

SYSTEM = "celery"


def _run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> str:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise NotMeasured(f"`{' '.join(command)}` failed: {exc}") from exc
    if done.returncode != 0:
        last = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        raise NotMeasured(f"`{' '.join(command)}` exited {done.returncode}: {last[0]}")
    return done.stdout


def ensure_redis_server() -> str:
    """Path of redis-server, installing Debian's package first when it is missing."""
    exe = shutil.which("redis-server")
    if exe is not None:
        return exe
    if shutil.which("apt-get") is None:
        raise NotMeasured("redis-server is not installed and apt-get is not available")
    prefix: list[str] = []
    if os.geteuid() != 0:
        if shutil.which("sudo") is None:
            raise NotMeasured("redis-server is not installed; installing it needs root or sudo")
        prefix = ["sudo", "-n"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    print(
        "  installing redis-server: apt-get update && apt-get install -y redis-server", flush=True
    )
    _run([*prefix, "apt-get", "update", "-q"], timeout=300, env=env)
    _run([*prefix, "apt-get", "install", "-y", "-q", "redis-server"], timeout=600, env=env)
    exe = shutil.which("redis-server") or (
        "/usr/bin/redis-server" if Path("/usr/bin/redis-server").exists() else None
    )
    if exe is None:
        raise NotMeasured("apt-get installed redis-server but it is not on PATH")
    return exe


def ensure_celery() -> None:
    """Import celery and redis, installing ``celery[redis]`` into this environment if needed."""
    try:
        importlib.import_module("celery")
        importlib.import_module("redis")
        return
    except ImportError:
        pass
    print("  installing celery[redis] into", sys.prefix, flush=True)
    uv = shutil.which("uv")
    if uv is not None:
        env = dict(os.environ, VIRTUAL_ENV=sys.prefix)
        _run([uv, "pip", "install", "--python", sys.executable, "celery[redis]"], 600, env)
    else:
        _run([sys.executable, "-m", "pip", "install", "-q", "celery[redis]"], 600)
    importlib.invalidate_caches()
    try:
        importlib.import_module("celery")
        importlib.import_module("redis")
    except ImportError as exc:
        raise NotMeasured(
            f"celery[redis] could not be imported after installing it: {exc}"
        ) from exc


class CeleryStack:
    """A redis-server and a Celery prefork worker, started for one benchmark invocation."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.redis: subprocess.Popen[bytes] | None = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.module: ModuleType | None = None

    def start(self) -> ModuleType:
        """Install what is missing, start Redis and the worker; return bench.celery_app."""
        redis_exe = ensure_redis_server()
        ensure_celery()
        port = free_port()
        redis_log = self.workdir / "redis.log"
        self.redis = spawn(
            [
                redis_exe,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--protected-mode",
                "yes",
            ],
            redis_log,
        )
        import redis

        client = redis.Redis(host="127.0.0.1", port=port, socket_timeout=1)
        wait_until(lambda: bool(client.ping()), self.redis, "redis-server", redis_log, 30)
        client.close()

        env = {
            "BENCH_CELERY_BROKER": f"redis://127.0.0.1:{port}/0",
            "BENCH_CELERY_BACKEND": f"redis://127.0.0.1:{port}/1",
        }
        os.environ.update(env)
        worker_log = self.workdir / "celery-worker.log"
        self.worker = spawn(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "bench.celery_app",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "--loglevel",
                "WARNING",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            worker_log,
            env=bench_env(env),
        )
        module = importlib.import_module("bench.celery_app")
        self.module = module

        def ready() -> bool:
            module.noop.delay().get(timeout=2)
            return True

        wait_until(ready, self.worker, "the celery worker", worker_log, 60)
        return module

    def cpu_seconds(self) -> tuple[float, float]:
        """CPU so far of (redis-server + the worker's main process, the prefork pool children)."""
        server = pool = 0.0
        if self.redis is not None:
            server += cpu_seconds(self.redis.pid) or 0.0
        if self.worker is not None:
            server += cpu_seconds(self.worker.pid) or 0.0
            pool += sum(cpu_seconds(pid) or 0.0 for pid in children(self.worker.pid))
            pool += reaped_children_cpu_seconds(self.worker.pid) or 0.0
        return server, pool

    def stop(self) -> None:
        """Stop the worker (warm shutdown), then Redis."""
        # Result handles left over from the benchmarks unsubscribe when collected: let them do
        # so while Redis is still up, not at interpreter exit.
        gc.collect()
        if self.worker is not None:
            stop(self.worker, signal.SIGTERM)
            self.worker = None
        if self.redis is not None:
            stop(self.redis, signal.SIGTERM)
            self.redis = None


@contextmanager
def celery_stack(workdir: Path) -> Iterator[ModuleType]:
    """Start Redis and a Celery worker for the ``with`` block, stop them afterwards."""
    stack = CeleryStack(workdir)
    try:
        yield stack.start()
    finally:
        stack.stop()


def _cpu_metrics(
    before: tuple[float, float], after: tuple[float, float], n: int
) -> dict[str, float]:
    return {
        "engine_cpu_ms_per_run": (after[0] - before[0]) * 1000 / n,
        "workers_cpu_ms_per_run": (after[1] - before[1]) * 1000 / n,
    }


def _get(async_result: Any, timeout: float = 60) -> Any:
    return async_result.get(timeout=timeout)


def b1(mod: ModuleType, n: int, warmup: int, stack: CeleryStack | None = None) -> Result:
    """Sequential ``noop.delay().get()``: round trip latency."""

    def noop() -> Any:
        return _get(mod.noop.delay())

    timed(noop, 0, warmup)
    before = stack.cpu_seconds() if stack else (0.0, 0.0)
    samples = timed(noop, n)
    metrics = latency_summary(samples)
    if stack is not None:
        metrics.update(_cpu_metrics(before, stack.cpu_seconds(), n))
    return Result(
        "B1",
        SYSTEM,
        metrics,
        note="sequential noop.delay().get()",
        samples_ms=[s * 1000 for s in samples],
    )


def b2(mod: ModuleType, n: int, stack: CeleryStack | None = None) -> Result:
    """``n`` ``noop.delay()`` sent back to back, then every result awaited (join_native)."""
    from celery.result import ResultSet  # type: ignore[import-untyped, unused-ignore]

    _get(mod.noop.delay())
    before = stack.cpu_seconds() if stack else (0.0, 0.0)
    t0 = time.perf_counter()
    pending = [mod.noop.delay() for _ in range(n)]
    sent = time.perf_counter()
    ResultSet(pending).join_native(timeout=300, propagate=True)
    elapsed = time.perf_counter() - t0
    metrics = {"n": n, "seconds": elapsed, "runs_per_s": n / elapsed, "send_seconds": sent - t0}
    if stack is not None:
        metrics.update(_cpu_metrics(before, stack.cpu_seconds(), n))
    return Result(
        "B2",
        SYSTEM,
        metrics,
        note=f"{n} x noop.delay() then ResultSet.join_native()",
    )


def b3(mod: ModuleType, n: int, warmup: int) -> Result:
    """A parent task that starts one child and blocks on it (``get(disable_sync_subtasks=False)``,
    the allow-join-result pattern); client-observed wall time of the parent."""
    samples = timed(lambda: _get(mod.parent_one.delay()), n, warmup)
    return Result(
        "B3",
        SYSTEM,
        latency_summary(samples),
        note="parent blocks on child.delay().get() (allow-join-result pattern)",
        samples_ms=[s * 1000 for s in samples],
    )


def b4(mod: ModuleType, repeats: int, fan: int) -> Result:
    """A parent task that starts a group of ``fan`` no-ops and blocks on the group's results."""
    parents = [mod.fan_out.delay(4)]
    _get(parents[0])
    samples: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        parents.append(mod.fan_out.delay(fan))
        count = _get(parents[-1], 300)
        samples.append(time.perf_counter() - t0)
        if count != fan:
            raise NotMeasured(f"fan_out returned {count}, expected {fan}")
    # The client learns of each parent's children with its result; collect them too, so their
    # handles are released while Redis is up.
    for parent in parents:
        for child in parent.children or []:
            child.get(timeout=60, propagate=False)
    return Result(
        "B4",
        SYSTEM,
        latency_summary(samples),
        note=f"parent blocks on group({fan} x noop).get() (allow-join-result)",
        samples_ms=[s * 1000 for s in samples],
    )


def b4_chord(mod: ModuleType, repeats: int, fan: int) -> Result:
    """Celery's non-blocking fan-in: ``chord(group(fan x noop), count)``, awaited by the client."""
    from celery import chord  # type: ignore[import-untyped, unused-ignore]

    samples: list[float] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        count = _get(chord(mod.noop.s() for _ in range(fan))(mod.count.s()), 300)
        samples.append(time.perf_counter() - t0)
        if count != fan:
            raise NotMeasured(f"chord returned {count}, expected {fan}")
    return Result(
        "B4chord",
        SYSTEM,
        latency_summary(samples),
        note=f"chord(group({fan} x noop), count.s()) awaited by the client",
        samples_ms=[s * 1000 for s in samples],
    )


def c1(mod: ModuleType, n: int) -> Result:
    """Client CPU per ``apply_async`` (Celery's client is blocking: sequential sends)."""
    from celery.result import ResultSet  # type: ignore[import-untyped, unused-ignore]

    ResultSet([mod.noop.delay() for _ in range(50)]).join_native(timeout=60)
    cpu0 = time.process_time()
    pending = [mod.noop.delay() for _ in range(n)]
    cpu = time.process_time() - cpu0

    ResultSet(pending).join_native(timeout=300)
    return Result(
        "C1",
        SYSTEM,
        {"n": n, "start_cpu_ms": cpu * 1000 / n},
        note="client CPU per noop.delay(), sequential (the Celery client is blocking)",
    )
