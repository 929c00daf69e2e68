"""The fast path: reused serve-mode worker processes. These are process tests (the pool, its
processes' reuse and retirement, a timeout killing one process, output per attempt)."""

from __future__ import annotations

import asyncio
import collections
from pathlib import Path

from render_sdk.engine.records import RunStatus

from .conftest import MakeEngine, run_to_end

APPS = Path(__file__).resolve().parents[2] / "engine_workers"


async def _pids(core: object, n: int) -> list[int]:
    out = []
    for _ in range(n):
        rec = await run_to_end(core, "pid", [])  # type: ignore[arg-type]
        assert rec.status is RunStatus.COMPLETED
        out.append(rec.results[0])  # type: ignore[index]
    return out


async def test_processes_are_reused_then_retired_after_max_runs(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=1, worker_max_runs=2)
    pids = await _pids(core, 6)
    counts = collections.Counter(pids)
    assert max(counts.values()) == 2  # reused, but never for more than worker_max_runs
    assert len(counts) == 3
    assert core.pool is not None and core.pool.retired >= 2


async def test_processes_are_retired_when_memory_grows(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=1, worker_max_rss_mb=1)
    pids = await _pids(core, 3)
    assert len(set(pids)) == 3


async def test_pre_started_processes_serve_the_first_run(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=2)
    assert core.pool is not None
    prestarted = {w.process.pid for w in core.pool.idle if w.process is not None}
    assert len(prestarted) == 2
    pids = await _pids(core, 1)
    assert pids[0] in prestarted
    assert core.pool.started == 2


async def test_a_timeout_kills_only_its_own_process(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=2)
    slow = await core.find_task("long_sleep")
    assert slow is not None
    other = await core.start_run(slow, [2])
    timed_out = await run_to_end(core, "sleep", [30])
    assert timed_out.error == "timed out after 1s"
    async for rec in core.terminal_events([other.id]):
        assert rec.status is RunStatus.COMPLETED and rec.results == ["slept"]


async def test_output_is_attributed_to_each_attempt(make_engine: MakeEngine) -> None:
    core = await make_engine(serve=True, max_concurrency=1)
    first = await run_to_end(core, "chatty", [2])
    second = await run_to_end(core, "chatty", [3])
    for rec, n in ((first, 2), (second, 3)):
        logs, _ = await core.get_logs(rec.id, 100, None)
        lines = sorted(line.message for line in logs)
        assert lines == sorted([f"line {i}" for i in range(n)] + [f"err {i}" for i in range(n)])
        assert {line.stream for line in logs} == {"stdout", "stderr"}


async def test_real_sdk_app_on_the_fast_path(make_engine: MakeEngine) -> None:
    core = await make_engine(
        app_target="sample_app:app", cwd=APPS, serve_command=None, max_concurrency=2
    )
    rec = await run_to_end(core, "square", [12])
    assert rec.status is RunStatus.COMPLETED and rec.results == [144]
    logs, _ = await core.get_logs(rec.id, 100, None)
    assert [line.message for line in logs] == ["squaring 12"]
    fan = await run_to_end(core, "sum_squares", [10])
    assert fan.results == [sum(i * i for i in range(10))]
    failed = await run_to_end(core, "fail", ["nope"])
    assert failed.status is RunStatus.FAILED and failed.retries == 1
    assert "nope" in (failed.error or "")
    pids = {(await run_to_end(core, "whoami", [])).results[0] for _ in range(4)}  # type: ignore[index]
    assert core.pool is not None
    assert pids <= {w.process.pid for w in core.pool.workers if w.process is not None}


async def test_real_sdk_app_in_run_mode(make_engine: MakeEngine) -> None:
    import sys

    core = await make_engine(
        start_command=[sys.executable, "-m", "render_sdk.cli", "sample_app:app"], cwd=APPS
    )
    rec = await run_to_end(core, "sum_squares", [4])
    assert rec.results == [14]
    assert await asyncio.wait_for(core.find_task("square"), 5) is not None
