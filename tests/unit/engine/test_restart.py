"""Stop, restart and recovery as the store sees them, with fake workers (no process): what is
stored survives, runs left running or queued run again at the next start (an interrupted attempt
spends no retry), and a run whose task is gone fails. Each test runs on the in-memory store
(the same object reopened) and on an SQLite file (a new store object reading it, as a restarted
engine does). An engine killed with SIGKILL is a process test, in test_recovery.py."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from render_sdk.engine._ids import task_id_for
from render_sdk.engine.lifecycle import INTERRUPTED_ERROR
from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus
from render_sdk.engine.store import Store
from render_sdk.engine.store_memory import MemoryStore
from render_sdk.engine.store_sqlite import SQLiteStore

from .conftest import MakeFake, run_to_end, wait_end
from .fake_workers import Calls, Fail, task

Reopen = Callable[[], Store]


@pytest.fixture(params=["memory", "sqlite"])
def reopen(request: pytest.FixtureRequest, tmp_path: Path) -> Reopen:
    """The store a (re)started engine opens: the same one, or a new object on the same file."""
    if request.param == "memory":
        store = MemoryStore()
        return lambda: store
    path = str(tmp_path / "state" / "workflows.db")
    return lambda: SQLiteStore(path, durable=True)


async def square(value: Any, calls: Calls) -> Any:
    return value[0] ** 2


async def chatty(value: Any, calls: Calls) -> Any:
    for i in range(value[0]):
        calls.log("stdout", f"line {i}")
        calls.log("stderr", f"err {i}")
    return value[0]


async def test_runs_and_logs_survive_a_restart(make_fake: MakeFake, reopen: Reopen) -> None:
    functions = {"chatty": chatty, "square": square}
    first, _ = await make_fake(functions, store=reopen())
    rec = await run_to_end(first, "chatty", [3])
    logs, _ = await first.get_logs(rec.id, 100, None)
    assert len(logs) == 6
    await first.stop()
    second, _ = await make_fake(functions, store=reopen())
    again = await second.get_run(rec.id)
    assert again.status is RunStatus.COMPLETED
    assert again.results == [3]
    assert again.event_seq == rec.event_seq
    assert [a.status for a in again.attempts] == [RunStatus.COMPLETED]
    assert again == rec
    assert (await second.get_logs(rec.id, 100, None))[0] == logs
    newer = await run_to_end(second, "chatty", [1])
    assert newer.event_seq is not None and rec.event_seq is not None
    assert newer.event_seq > rec.event_seq
    newer_logs, _ = await second.get_logs(newer.id, 100, None)
    assert min(x.seq for x in newer_logs) > max(x.seq for x in logs)  # numbering goes on


def _record(run_id: str, status: RunStatus, value: list[int], now: datetime) -> RunRecord:
    return RunRecord(
        id=run_id,
        task_id=task_id_for("square"),
        task_name="square",
        status=status,
        input=value,
        parent_id="",
        root_id=run_id,
        created_at=now,
    )


async def test_interrupted_attempt_is_rerun_without_spending_a_retry(
    make_fake: MakeFake, reopen: Reopen
) -> None:
    store = reopen()
    await store.open()
    now = datetime.now(timezone.utc)
    running = _record("trn-was-running", RunStatus.RUNNING, [5], now)
    running.started_at = now
    running.attempts.append(AttemptRecord(1, RunStatus.RUNNING, now))
    await store.insert_run(running, None)
    await store.save_run(running)
    await store.insert_run(_record("trn-was-pending", RunStatus.PENDING, [6], now), None)
    await store.close()

    core, workers = await make_fake({"square": square}, store=reopen())
    done = await wait_end(core, "trn-was-running")
    assert done.status is RunStatus.COMPLETED
    assert done.results == [25]
    assert done.retries == 0
    assert [a.status for a in done.attempts] == [RunStatus.FAILED, RunStatus.COMPLETED]
    assert done.attempts[0].error == INTERRUPTED_ERROR
    pending = await wait_end(core, "trn-was-pending")
    assert pending.results == [36] and [a.number for a in pending.attempts] == [1]
    assert workers.attempts_started == 2
    assert await core.store.get_run(done.id) == done


async def test_stop_frees_running_runs_for_the_next_start_which_reruns_them(
    make_fake: MakeFake, reopen: Reopen
) -> None:
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(value: Any, calls: Calls) -> Any:
        started.set()
        await release.wait()
        return "done"

    core, workers = await make_fake({"slow": slow}, store=reopen())
    rec = await start(core, "slow")
    await started.wait()
    await core.stop()
    assert workers.ended == [(rec.id, 1, "Interrupted")]  # its worker was stopped
    store = reopen()
    await store.open()
    stored = await store.get_run(rec.id)
    # The node left: its attempt is recorded as interrupted and nobody holds the run.
    assert stored is not None and stored.status is RunStatus.PENDING and stored.owner is None
    assert [(a.status, a.error) for a in stored.attempts] == [(RunStatus.FAILED, INTERRUPTED_ERROR)]
    await store.close()

    release.set()
    again, _ = await make_fake({"slow": slow}, store=reopen())
    done = await wait_end(again, rec.id)
    assert done.status is RunStatus.COMPLETED and done.results == ["done"] and done.retries == 0
    assert [(a.status, a.error) for a in done.attempts] == [
        (RunStatus.FAILED, INTERRUPTED_ERROR),
        (RunStatus.COMPLETED, None),
    ]


async def test_a_retry_wait_survives_a_restart(make_fake: MakeFake, reopen: Reopen) -> None:
    """A run waiting for its retry is stored with the time it may start again (``not_before``);
    the next engine resumes it then, not at once, and the retry is counted once."""
    tries: list[int] = []

    async def flaky(value: Any, calls: Calls) -> Any:
        tries.append(1)
        if len(tries) == 1:
            raise Fail("first try fails")
        return "ok"

    spec = task("flaky", retries=1, wait_ms=700, factor=1.0)
    core, _ = await make_fake({"flaky": flaky}, [spec], store=reopen())
    waiting = asyncio.Event()  # told once the retry wait is written

    def note(state: RunRecord) -> None:
        if state.status is RunStatus.PENDING and state.retries == 1:
            waiting.set()

    core.watch_states(note)
    rec = await start(core, "flaky")
    await asyncio.wait_for(waiting.wait(), 60)
    stored = await core.store.get_run(rec.id)
    await core.stop()
    assert (
        stored is not None and stored.status is RunStatus.PENDING and stored.not_before is not None
    )
    failed_at = stored.attempts[0].completed_at
    assert failed_at is not None and stored.not_before >= failed_at

    again, _ = await make_fake({"flaky": flaky}, [spec], store=reopen())
    done = await wait_end(again, rec.id)
    assert done.status is RunStatus.COMPLETED and done.retries == 1
    assert [a.status for a in done.attempts] == [RunStatus.FAILED, RunStatus.COMPLETED]
    assert done.attempts[1].started_at >= stored.not_before  # not before its wait was over
    assert done.not_before is None and done.owner is None


async def test_a_recovered_run_whose_task_is_gone_fails(
    make_fake: MakeFake, reopen: Reopen
) -> None:
    gate = asyncio.Event()

    async def old(value: Any, calls: Calls) -> Any:
        await gate.wait()

    core, _ = await make_fake({"old": old}, store=reopen(), limit=1)
    first = await start(core, "old")
    queued = await start(core, "old")
    assert (await core.get_run(queued.id)).status is RunStatus.PENDING
    await core.stop()

    async def new(value: Any, calls: Calls) -> Any:
        return None

    again, workers = await make_fake({"new": new}, store=reopen())
    for run_id in (first.id, queued.id):
        done = await again.get_run(run_id)
        assert done.status is RunStatus.FAILED
        assert done.error == "task 'old' is no longer registered by the worker"
        assert all(a.status is not RunStatus.RUNNING for a in done.attempts)
        assert await again.store.get_run(run_id) == done
    assert workers.attempts_started == 0


async def start(core: Any, name: str) -> RunRecord:
    """Start ``name`` (without waiting for its end)."""
    found = await core.find_task(name)
    assert found is not None
    rec: RunRecord = await core.start_run(found, [])
    return rec
