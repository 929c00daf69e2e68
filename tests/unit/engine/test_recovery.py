"""Durability and recovery: what is on disk survives, unfinished runs run again."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path

from render_sdk.engine._ids import task_id_for
from render_sdk.engine.lifecycle import INTERRUPTED_ERROR
from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus
from render_sdk.engine.store_sqlite import SQLiteStore

from .conftest import REPO, MakeEngine, run_to_end, wait_end


async def test_runs_and_logs_survive_a_restart(make_engine: MakeEngine, tmp_path: Path) -> None:
    db = str(tmp_path / "state" / "workflows.db")
    first = await make_engine(db_path=db)
    rec = await run_to_end(first, "chatty", [3])
    logs, _ = await first.get_logs(rec.id, 100, None)
    await first.stop()
    second = await make_engine(db_path=db)
    again = await second.get_run(rec.id)
    assert again.status is RunStatus.COMPLETED
    assert again.results == [3]
    assert again.event_seq == rec.event_seq
    assert [a.status for a in again.attempts] == [RunStatus.COMPLETED]
    assert (await second.get_logs(rec.id, 100, None))[0] == logs
    newer = await run_to_end(second, "square", [2])
    assert newer.event_seq is not None and rec.event_seq is not None
    assert newer.event_seq > rec.event_seq


async def test_interrupted_attempt_is_rerun_without_spending_a_retry(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    db = str(tmp_path / "workflows.db")
    store = SQLiteStore(db, durable=True)
    await store.open()
    now = datetime.now(timezone.utc)

    def record(run_id: str, status: RunStatus, value: list[int]) -> RunRecord:
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

    running = record("trn-was-running", RunStatus.RUNNING, [5])
    running.started_at = now
    running.attempts.append(AttemptRecord(1, RunStatus.RUNNING, now))
    await store.insert_run(running, None)
    await store.save_run(running)
    await store.insert_run(record("trn-was-pending", RunStatus.PENDING, [6]), None)
    await store.close()

    core = await make_engine(db_path=db)
    done = await wait_end(core, "trn-was-running")
    assert done.status is RunStatus.COMPLETED
    assert done.results == [25]
    assert done.retries == 0
    assert [a.status for a in done.attempts] == [RunStatus.FAILED, RunStatus.COMPLETED]
    assert done.attempts[0].error == INTERRUPTED_ERROR
    assert (await wait_end(core, "trn-was-pending")).results == [36]


async def test_engine_killed_with_sigkill(make_engine: MakeEngine, tmp_path: Path) -> None:
    db = str(tmp_path / "workflows.db")
    marker = tmp_path / "marker"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(Path(__file__).with_name("engine_script.py")),
        db,
        "sleep_once",
        json.dumps([str(marker)]),
        stdout=asyncio.subprocess.PIPE,
        env=env,
        start_new_session=True,
    )
    assert proc.stdout is not None
    run_id = (await proc.stdout.readline()).decode().strip()
    assert run_id.startswith("trn-")
    for _ in range(1000):  # until the attempt is really executing in the worker
        if marker.exists() and marker.read_text():
            break
        await asyncio.sleep(0.01)
    os.killpg(proc.pid, signal.SIGKILL)
    await proc.wait()
    # The worker runs in its own process group; it would only notice the engine is gone at
    # its callback. Stop it here so the test leaves nothing behind.
    os.killpg(int(marker.read_text()), signal.SIGKILL)

    core = await make_engine(db_path=db)
    rec = await wait_end(core, run_id)
    assert rec.status is RunStatus.COMPLETED
    assert rec.results == ["second time"]
    assert rec.retries == 0
    assert rec.attempts[0].error == INTERRUPTED_ERROR


async def test_stop_leaves_running_attempts_for_the_next_start(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    db = str(tmp_path / "workflows.db")
    first = await make_engine(db_path=db, serve=True)
    task = await first.find_task("sleep_once")
    assert task is not None
    run = await first.start_run(task, [str(tmp_path / "m")])
    for _ in range(1000):
        if (tmp_path / "m").exists():
            break
        await asyncio.sleep(0.01)
    await first.stop()
    second = await make_engine(db_path=db, serve=True)
    rec = await wait_end(second, run.id)
    assert rec.results == ["second time"]
    assert rec.retries == 0


async def test_a_queued_run_whose_task_is_gone_fails_at_restart(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    db = str(tmp_path / "workflows.db")
    extra = tmp_path / "extra-tasks"
    extra.write_text("ghost\n")
    env = {"EXTRA_TASKS_FILE": str(extra)}
    first = await make_engine(db_path=db, env=env, max_concurrency=1)
    blocker = await first.find_task("long_sleep")
    ghost = await first.find_task("ghost")
    assert blocker is not None and ghost is not None
    await first.start_run(blocker, [60])
    queued = await first.start_run(ghost, [])
    assert (await first.get_run(queued.id)).status is RunStatus.PENDING
    await first.stop()
    extra.unlink()
    second = await make_engine(db_path=db, env=env)
    rec = await wait_end(second, queued.id)
    assert rec.status is RunStatus.FAILED
    assert rec.error == "task 'ghost' is no longer registered by the worker"
