"""Why runs and attempts ended is kept with them in the store: after an engine restart the
console, the pages and ``render-workflows runs`` say what they said before (engine/reasons.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from render_sdk.engine.lifecycle import Crashed
from render_sdk.engine.reasons import attempt_reason, console_line, run_reason
from render_sdk.engine.records import ReasonCode, RunRecord, RunStatus
from render_sdk.engine.store_sqlite import SQLiteStore

from .conftest import wait_end
from .fake_workers import Calls, fake_engine, task

DEADLINE = 60.0


async def start(core: Any, name: str) -> RunRecord:
    found = await core.find_task(name)
    assert found is not None
    rec: RunRecord = await core.start_run(found, [])
    return rec


async def test_reasons_survive_a_restart_of_the_engine(tmp_path: Path) -> None:
    db = str(tmp_path / "engine.db")
    hanging = asyncio.Event()
    release = asyncio.Event()

    async def slow(value: Any, calls: Calls) -> Any:
        await asyncio.Event().wait()

    async def crash(value: Any, calls: Calls) -> Any:
        calls.attempt.resolve(Crashed("worker process ended (exit status 3)", "exit status 3"))
        await asyncio.Event().wait()

    async def hang(value: Any, calls: Calls) -> Any:
        hanging.set()
        await release.wait()
        return "done"

    functions = {"slow": slow, "crash": crash, "hang": hang}
    tasks = [task("slow", retries=1, timeout=0.05), task("crash"), task("hang")]
    core, _ = await fake_engine(functions, tasks, store=SQLiteStore(db, durable=False))
    timed_out = await asyncio.wait_for(wait_end(core, (await start(core, "slow")).id), DEADLINE)
    crashed = await asyncio.wait_for(wait_end(core, (await start(core, "crash")).id), DEADLINE)
    cut = await start(core, "hang")
    await asyncio.wait_for(hanging.wait(), DEADLINE)
    before = {rec.id: console_line(rec) for rec in (timed_out, crashed)}
    assert before[timed_out.id].startswith(f"slow {timed_out.id} failed in ")
    assert ": timed out after 0.05s (attempt 2)" in before[timed_out.id]
    assert ": crashed (exit status 3)" in before[crashed.id]
    await core.stop()  # the hanging attempt is cut short: interrupted, run again at the start

    release.set()
    again, _ = await fake_engine(functions, tasks, store=SQLiteStore(db, durable=False))
    for rec in (timed_out, crashed):
        stored = await again.get_run(rec.id)
        assert stored == rec
        assert console_line(stored) == before[rec.id]
    stored = await again.get_run(timed_out.id)
    assert [(a.reason, a.reason_detail) for a in stored.attempts] == [
        (ReasonCode.TIMED_OUT, "0.05s"),
        (ReasonCode.TIMED_OUT, "0.05s"),
    ]
    assert (stored.reason, stored.reason_detail) == (ReasonCode.TIMED_OUT, "0.05s")
    resumed = await asyncio.wait_for(wait_end(again, cut.id), DEADLINE)
    assert resumed.status is RunStatus.COMPLETED and resumed.reason is ReasonCode.SUCCEEDED
    first = attempt_reason(resumed.attempts[0])
    assert (first.kind, first.label) == ("interrupted", "interrupted by an engine restart")
    assert run_reason(await again.get_run(crashed.id)).label == "crashed (exit status 3)"
    await again.stop()
