"""This project's local engine under benchmark: start it, measure B1-B5 through the client.

Three variants of the same engine:

- ``fast``: ``render-workflows dev bench.app:app`` (reused, pre-imported worker processes);
- ``nofsync``: the same with ``--no-fsync`` (commits without fsync), to show what durability costs;
- ``process``: ``render-workflows dev -- python -m render_sdk.cli bench.app:app`` (one fresh
  worker process per attempt, the path of any start command).

The client is this SDK's ``RenderAsync``, pointed at the engine by its ``base_url``.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from bench._postgres import per_run_counters, server_counters
from bench._procs import (
    NotMeasured,
    bench_env,
    children,
    cpu_seconds,
    free_port,
    reaped_children_cpu_seconds,
    rss_mb,
    spawn,
    stop,
    system_cpu_seconds,
    wait_until,
)
from bench._results import Result
from bench._stats import latency_summary

APP = "bench.app:app"
EVENT_CHUNK = 100  # run ids per task_run_events stream (keeps each URL short)


def engine_command(variant: str, port: int, db: Path | str) -> list[str]:
    """The ``render-workflows dev`` command line of a variant: ``fast``, ``nofsync`` (the fast
    path with ``--no-fsync``: crash-safe, not power-loss-safe), ``process`` or ``postgres`` (the
    fast path on PostgreSQL: ``db`` is the database URL)."""
    base = [sys.executable, "-m", "render_sdk.cli", "dev", "--quiet", "--port", str(port)]
    base += ["--db", str(db)]
    if variant in ("fast", "postgres"):
        return [*base, APP]
    if variant == "nofsync":
        return [*base, "--no-fsync", APP]
    if variant == "process":
        return [*base, "--", sys.executable, "-m", "render_sdk.cli", APP]
    raise ValueError(
        f"unknown engine variant {variant!r}: expected 'fast', 'nofsync', 'process' or 'postgres'"
    )


@dataclass
class Engine:
    """A running engine process and where to reach it."""

    variant: str
    proc: subprocess.Popen[bytes]
    base_url: str
    db: Path | str
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def rss_mb(self) -> float | None:
        return rss_mb(self.pid)

    def cpu_seconds(self) -> float:
        return cpu_seconds(self.pid) or 0.0

    def system_cpu_seconds(self) -> float:
        """The kernel-mode part of :meth:`cpu_seconds` (syscalls: sockets, fsync)."""
        return system_cpu_seconds(self.pid) or 0.0

    def workers_cpu_seconds(self) -> float:
        """CPU of the worker processes: those alive now plus those already reaped."""
        live = sum(cpu_seconds(pid) or 0.0 for pid in children(self.pid))
        return live + (reaped_children_cpu_seconds(self.pid) or 0.0)


def start_engine(variant: str, workdir: Path, db: Path | str | None = None) -> Engine:
    """Start an engine variant on a free loopback port and wait until it answers; ``db`` is a
    file (default: one in ``workdir``) or, for ``postgres``, the database URL."""
    port = free_port()
    if db is None:
        if variant == "postgres":
            raise ValueError("the postgres variant needs its database URL")
        db = workdir / f"{variant}.db"
    log = workdir / f"engine-{variant}-{port}.log"
    proc = spawn(engine_command(variant, port, db), log, env=bench_env())
    base_url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        return httpx.get(f"{base_url}/v1/tasks", timeout=2.0).status_code == 200

    try:
        wait_until(ready, proc, f"the engine ({variant})", log, 90)
    except NotMeasured:
        stop(proc)
        raise
    return Engine(variant, proc, base_url, db, log)


def stop_engine(engine: Engine) -> None:
    """SIGINT (graceful stop), SIGKILL after 20 s."""
    stop(engine.proc)


@asynccontextmanager
async def client(engine: Engine) -> AsyncIterator[Any]:
    """A ``RenderAsync`` pointed at ``engine`` (by ``base_url``: the runner clears
    ``RENDER_LOCAL_DEV_URL``, which would take precedence)."""
    from render_sdk import RenderAsync

    async with RenderAsync(base_url=engine.base_url) as render:
        yield render


async def wait_terminal(render: Any, run_ids: Sequence[str], timeout: float) -> int:
    """Wait until every run is terminal, listening on ``task_run_events`` streams of
    ``EVENT_CHUNK`` ids each; return how many failed or were canceled."""
    failed = 0

    async def listen(ids: list[str]) -> None:
        nonlocal failed
        left = set(ids)
        async for details in render.workflows.task_run_events(ids):
            if details.id in left:
                left.discard(details.id)
                if str(getattr(details.status, "value", details.status)) not in (
                    "completed",
                    "succeeded",
                ):
                    failed += 1
            if not left:
                break

    chunks = [list(run_ids[i : i + EVENT_CHUNK]) for i in range(0, len(run_ids), EVENT_CHUNK)]
    await asyncio.wait_for(asyncio.gather(*(listen(c) for c in chunks)), timeout)
    return failed


async def b1(engine: Engine, n: int, warmup: int) -> Result:
    """Sequential ``run_task`` of the no-op task; client-observed latency."""
    async with client(engine) as render:
        for _ in range(warmup):
            await render.workflows.run_task("noop", [])
        samples: list[float] = []
        cpu0, wcpu0 = engine.cpu_seconds(), engine.workers_cpu_seconds()
        sys0 = engine.system_cpu_seconds()
        executing: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            details = await render.workflows.run_task("noop", [])
            samples.append(time.perf_counter() - t0)
            if details.started_at is not None and details.completed_at is not None:
                executing.append((details.completed_at - details.started_at).total_seconds())
        cpu, wcpu = engine.cpu_seconds() - cpu0, engine.workers_cpu_seconds() - wcpu0
        sys_cpu = engine.system_cpu_seconds() - sys0
    metrics = latency_summary(samples)
    if executing:
        # The engine's own timestamps: from handing the attempt to a worker to its callback.
        metrics["started_to_completed_p50_ms"] = latency_summary(executing)["p50_ms"]
    metrics["engine_cpu_ms_per_run"] = cpu * 1000 / n
    metrics["engine_sys_cpu_ms_per_run"] = sys_cpu * 1000 / n
    metrics["workers_cpu_ms_per_run"] = wcpu * 1000 / n
    return Result(
        "B1",
        engine.variant,
        metrics,
        note="sequential run_task('noop')",
        samples_ms=[s * 1000 for s in samples],
    )


def _b1_blocking(engine: Engine, n: int, warmup: int) -> list[float]:
    from render_sdk import Render

    with Render(base_url=engine.base_url) as render:
        for _ in range(warmup):
            render.workflows.run_task("noop", [])
        samples: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            render.workflows.run_task("noop", [])
            samples.append(time.perf_counter() - t0)
    return samples


async def b1_blocking(engine: Engine, n: int, warmup: int) -> Result:
    """B1 through the blocking client (``Render``, as a Flask or Django view would call it),
    in a thread of its own while this event loop idles."""
    samples = await asyncio.to_thread(_b1_blocking, engine, n, warmup)
    return Result(
        "B1",
        "blocking",
        latency_summary(samples),
        note="sequential run_task('noop') through Render (blocking)",
        samples_ms=[s * 1000 for s in samples],
    )


async def b1_rest(engine: Engine, n: int, warmup: int) -> Result:
    """Sequential ``get_task_run`` of a finished run: one plain REST round trip through the same
    client and server stack, without a run behind it (the HTTP floor under B1)."""
    async with client(engine) as render:
        run = await render.workflows.run_task("noop", [])
        for _ in range(warmup):
            await render.workflows.get_task_run(run.id)
        samples: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            await render.workflows.get_task_run(run.id)
            samples.append(time.perf_counter() - t0)
    return Result(
        "B1rest",
        engine.variant,
        latency_summary(samples),
        note="sequential get_task_run of a finished run (REST round trip only)",
        samples_ms=[s * 1000 for s in samples],
    )


async def b2(engine: Engine, n: int, timeout: float) -> Result:
    """``n`` ``start_task`` at once (asyncio.gather), then every run awaited through SSE;
    runs/s from the first start to the last completion event."""
    pg_url = engine.db if isinstance(engine.db, str) and "://" in engine.db else None
    async with client(engine) as render:
        await render.workflows.run_task("noop", [])
        server0 = await server_counters(pg_url) if pg_url else None
        cpu0, wcpu0 = engine.cpu_seconds(), engine.workers_cpu_seconds()
        sys0 = engine.system_cpu_seconds()
        t0 = time.perf_counter()
        runs = await asyncio.gather(*(render.workflows.start_task("noop", []) for _ in range(n)))
        started = time.perf_counter()
        failed = await wait_terminal(render, [r.id for r in runs], timeout)
        elapsed = time.perf_counter() - t0
        cpu, wcpu = engine.cpu_seconds() - cpu0, engine.workers_cpu_seconds() - wcpu0
        sys_cpu = engine.system_cpu_seconds() - sys0
    if failed:
        raise NotMeasured(f"{failed} of {n} runs did not complete")
    server = await per_run_counters(pg_url, server0, n) if pg_url and server0 else {}
    metrics = {
        "n": float(n),
        "seconds": elapsed,
        "runs_per_s": n / elapsed,
        "start_seconds": started - t0,
        "engine_cpu_ms_per_run": cpu * 1000 / n,
        "engine_sys_cpu_ms_per_run": sys_cpu * 1000 / n,
        "engine_rss_mb": engine.rss_mb() or 0.0,
    }
    metrics["workers_cpu_ms_per_run"] = wcpu * 1000 / n
    metrics.update(server)
    return Result(
        "B2",
        engine.variant,
        metrics,
        note=f"{n} x start_task at once (gather), completion via task_run_events",
    )


async def b2_nodes(engines: Sequence[Engine], system: str, n: int, timeout: float) -> Result:
    """B2 across several engine nodes on one database: ``n`` starts split evenly between the
    nodes (one client each, all at once), each node's runs awaited on that node's events."""
    from render_sdk import RenderAsync

    async def one_node(engine: Engine, count: int) -> int:
        async with RenderAsync(base_url=engine.base_url) as render:
            runs = await asyncio.gather(
                *(render.workflows.start_task("noop", []) for _ in range(count))
            )
            return await wait_terminal(render, [r.id for r in runs], timeout)

    await asyncio.gather(*(one_node(engine, 1) for engine in engines))  # every node warm
    shares = [n // len(engines) + (i < n % len(engines)) for i in range(len(engines))]
    pg_url = str(engines[0].db)
    server0 = await server_counters(pg_url)
    cpu0 = [engine.cpu_seconds() + engine.workers_cpu_seconds() for engine in engines]
    t0 = time.perf_counter()
    failed = sum(await asyncio.gather(*map(one_node, engines, shares)))
    elapsed = time.perf_counter() - t0
    cpu = [
        e.cpu_seconds() + e.workers_cpu_seconds() - c for e, c in zip(engines, cpu0, strict=True)
    ]
    if failed:
        raise NotMeasured(f"{failed} of {n} runs did not complete")
    metrics = {"n": float(n), "seconds": elapsed, "runs_per_s": n / elapsed}
    for index, seconds in enumerate(cpu):
        metrics[f"node{index + 1}_cpu_ms_per_run"] = seconds * 1000 / n
    metrics.update(await per_run_counters(pg_url, server0, n))
    return Result(
        "B2",
        system,
        metrics,
        note=f"{n} x start_task split over {len(engines)} nodes, each awaited on its node's events",
    )


async def b3(engine: Engine, n: int, warmup: int) -> Result:
    """``run_task`` of a parent that awaits one no-op child; client-observed wall time."""
    async with client(engine) as render:
        for _ in range(warmup):
            await render.workflows.run_task("parent_one", [])
        samples: list[float] = []
        for _ in range(n):
            t0 = time.perf_counter()
            await render.workflows.run_task("parent_one", [])
            samples.append(time.perf_counter() - t0)
    return Result(
        "B3",
        engine.variant,
        latency_summary(samples),
        note="run_task('parent_one'): the parent awaits one subtask",
        samples_ms=[s * 1000 for s in samples],
    )


async def b4(engine: Engine, repeats: int, fan: int) -> Result:
    """``run_task`` of a parent that gathers ``fan`` no-op subtasks; wall time per parent."""
    async with client(engine) as render:
        await render.workflows.run_task("fan_out", [2])
        samples: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            details = await render.workflows.run_task("fan_out", [fan])
            samples.append(time.perf_counter() - t0)
            if details.result != fan:
                raise NotMeasured(f"fan_out returned {details.result!r}, expected {fan}")
    return Result(
        "B4",
        engine.variant,
        latency_summary(samples),
        note=f"run_task('fan_out', [{fan}]): asyncio.gather of {fan} subtasks",
        samples_ms=[s * 1000 for s in samples],
    )


async def b5(engine: Engine, stored: int, repeats: int, page: int = 100) -> Result:
    """``list_task_runs`` over ``stored`` runs: the first page, and a page about 90 % of the way
    down the cursor chain (reached by walking it); engine RSS afterwards."""
    from render_sdk.client import ListTaskRunsParams

    async with client(engine) as render:
        first: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            items = await render.workflows.list_task_runs(ListTaskRunsParams(limit=page))
            first.append(time.perf_counter() - t0)
        walk: list[float] = []
        deep_cursor: str | None = None
        cursor = items.next_cursor
        target = int(stored * 0.9) // page
        t_walk = time.perf_counter()
        for index in range(1, target + 1):
            if cursor is None:
                break
            if index == target:
                deep_cursor = cursor
            t0 = time.perf_counter()
            items = await render.workflows.list_task_runs(
                ListTaskRunsParams(limit=page, cursor=cursor)
            )
            walk.append(time.perf_counter() - t0)
            cursor = items.next_cursor
        walk_seconds = time.perf_counter() - t_walk
        if deep_cursor is None:
            raise NotMeasured(f"the cursor chain ended after {len(walk)} pages of {page}")
        deep: list[float] = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await render.workflows.list_task_runs(
                ListTaskRunsParams(limit=page, cursor=deep_cursor)
            )
            deep.append(time.perf_counter() - t0)
    filtered = await _filtered_pages(engine, repeats)
    walk_summary = latency_summary(walk)
    return Result(
        "B5",
        engine.variant,
        {
            "stored_runs": float(stored),
            "page_size": float(page),
            "first_page_ms": latency_summary(first)["p50_ms"],
            "deep_page_ms": latency_summary(deep)["p50_ms"],
            "deep_page_index": float(target),
            "walk_pages": float(len(walk)),
            "walk_seconds": walk_seconds,
            "walk_page_p50_ms": walk_summary["p50_ms"],
            "walk_page_p99_ms": walk_summary["p99_ms"],
            **filtered,
            "engine_rss_mb": engine.rss_mb() or 0.0,
        },
        note=f"{stored:,} runs in the store (1 in 100 failed); pages of {page}, p50 of "
        f"{repeats} requests; deep page = page {target} of the chain; inspector pages of 50 "
        "failed root runs: the first and the 10th",
    )


async def _filtered_pages(engine: Engine, repeats: int) -> dict[str, float]:
    """The run inspector's ``/?status=failed&roots=1`` (50 runs a page): the first page, and
    the 10th (reached by its cursors); p50 of ``repeats`` requests each."""
    import re

    url = f"{engine.base_url}/?status=failed&roots=1"
    out: dict[str, float] = {}
    async with httpx.AsyncClient(timeout=30.0) as http:
        for name, pages in (("filtered_page_ms", 1), ("filtered_deep_page_ms", 10)):
            target = url
            for _ in range(pages - 1):
                answer = await http.get(target)
                found = re.search(r'href="(/\?[^"]*cursor=[^"]+)" rel="next"', answer.text)
                if found is None:
                    raise NotMeasured("the failed runs' page offers no next page")
                target = engine.base_url + found.group(1).replace("&amp;", "&")
            samples: list[float] = []
            for _ in range(repeats):
                t0 = time.perf_counter()
                answer = await http.get(target)
                samples.append(time.perf_counter() - t0)
                if answer.status_code != 200 or answer.text.count('class="st-failed"') != 50:
                    raise NotMeasured(f"the failed runs' page answered {answer.status_code}")
            out[name] = latency_summary(samples)["p50_ms"]
    return out
