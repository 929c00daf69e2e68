"""Render 1.x's additions on both wires, through the real core and real worker processes:
the run ids on GET /input, start-up times kept with the attempt, parentTaskAttempt, and the
REST attempt fields. These are process tests: a raw HTTP client speaks on a real worker's
Unix socket."""

from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timezone
from pathlib import Path

from render_sdk.engine import serialize
from render_sdk.engine.callbacks import parse_startup
from render_sdk.engine.reasons import startup_phases
from render_sdk.engine.records import RunStatus

from .conftest import MakeEngine, wait_end
from .test_callback_api import b64, raw_client, running_attempt

NS = 1_767_225_600_123_456_789  # 2026-01-01T00:00:00.123456789Z


async def test_input_carries_the_run_ids_and_keeps_the_start_up_times(
    make_engine: MakeEngine, tmp_path: Path
) -> None:
    core = await make_engine(db_path=str(tmp_path / "runs.db"))
    attempt = await running_attempt(core, "long_sleep", [60])
    parent = attempt.run.record
    assert attempt.worker is not None
    query = (
        f"?sdk_import_started_at={NS}&sdk_import_finished_at={NS + 1000}"
        f"&sdk_started_at={NS + 2000}&sdk_started_at=junk&other=1"
    )
    async with raw_client(attempt.worker.socket_path) as http:
        body = (await http.get("/input" + query)).json()
        assert body["task_run_id"] == parent.id
        assert body["root_task_run_id"] == parent.id
        assert "parent_task_run_id" not in body  # a root run has no parent
        start = {"task_name": "long_sleep", "input": b64([60]), "created_at": 5}
        answer = await http.post("/run-subtask", json=start)
        assert answer.status_code == 400 and "'created_at'" in answer.json()["error"]
        start = {"task_name": "long_sleep", "input": b64([60]), "created_at": "2026-01-01T00:00Z"}
        child_id = (await http.post("/run-subtask", json=start)).json()["task_run_id"]
        answer = await http.post("/callback", json={"complete": {"output": b64([1])}})
        assert answer.status_code == 200
    done = await wait_end(core, parent.id)
    child = await core.get_run(child_id)
    assert child.parent_attempt == 0
    await core.cancel_run(child_id)

    [first] = done.attempts
    assert first.startup == {
        "sdk_import_started_at": datetime(2026, 1, 1, 0, 0, 0, 123456, tzinfo=timezone.utc),
        "sdk_import_finished_at": datetime(2026, 1, 1, 0, 0, 0, 123457, tzinfo=timezone.utc),
        "sdk_started_at": datetime(2026, 1, 1, 0, 0, 0, 123458, tzinfo=timezone.utc),
    }
    assert first.sdk_started_at == first.startup["sdk_started_at"]
    assert startup_phases(first)[1][0] == "SDK import"  # the inspector's breakdown reads them
    shown = serialize.task_run(done, details=True)["attempts"][0]
    assert shown["attempt"] == 0 and shown["taskRunId"] == parent.id
    assert shown["enqueuedAt"] == serialize.timestamp(done.created_at)
    assert shown["sdkImportStartedAt"] == "2026-01-01T00:00:00.123456Z"
    assert shown["sdkStartedAt"] == "2026-01-01T00:00:00.123458Z"
    assert serialize.task_run(child)["parentTaskAttempt"] == 0
    assert "parentTaskAttempt" not in serialize.task_run(done)

    # Both are kept on disk: read back by a fresh engine on the same database.
    await core.stop()
    again = await make_engine(db_path=str(tmp_path / "runs.db"))
    stored = await again.get_run(parent.id)
    assert stored.attempts[0].startup == first.startup
    assert (await again.get_run(child_id)).parent_attempt == 0


async def test_a_subtask_input_names_its_parent(make_engine: MakeEngine) -> None:
    # Started as a 0.6.0 worker starts subtasks: no idempotency_key, no created_at.
    core = await make_engine()
    attempt = await running_attempt(core, "long_sleep", [60])
    assert attempt.worker is not None
    async with raw_client(attempt.worker.socket_path) as http:
        start = {"task_name": "long_sleep", "input": b64([60])}
        child_id = (await http.post("/run-subtask", json=start)).json()["task_run_id"]
    for _ in range(2000):
        active = core.scheduler.active.get(child_id)
        child_attempt = active.attempt if active else None
        if child_attempt is not None and child_attempt.worker is not None:
            if child_attempt.worker.ctx.delivered:
                break
        await asyncio.sleep(0.005)
    assert child_attempt is not None and child_attempt.worker is not None
    async with raw_client(child_attempt.worker.socket_path) as http:
        body = (await http.get("/input")).json()
    root = attempt.run.record.id
    assert body["task_run_id"] == child_id
    assert body["root_task_run_id"] == root
    assert body["parent_task_run_id"] == root
    await core.cancel_run(root)
    assert (await core.get_run(child_id)).status is RunStatus.CANCELED


def test_start_up_times_that_are_not_nanosecond_integers_are_left_out() -> None:
    assert parse_startup("") == {}
    assert parse_startup("sdk_started_at=-5&sdk_import_started_at=1e9") == {}
    assert parse_startup("sdk_started_at=" + "9" * 30) == {}
    assert parse_startup("sdk_started_at=0") == {
        "sdk_started_at": datetime(1970, 1, 1, tzinfo=timezone.utc)
    }


def test_a_database_from_before_parent_attempt_gets_the_column(tmp_path: Path) -> None:
    from render_sdk.engine.store_sqlite import SQLiteStore

    path = tmp_path / "old.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE runs (pos INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, "
            "task_id TEXT NOT NULL, task_name TEXT NOT NULL, status TEXT NOT NULL, input TEXT "
            "NOT NULL, parent_id TEXT NOT NULL, root_id TEXT NOT NULL, created_at TEXT NOT NULL, "
            "retries INTEGER NOT NULL DEFAULT 0, started_at TEXT, completed_at TEXT, results "
            "TEXT, error TEXT, event_seq INTEGER, attempts TEXT NOT NULL DEFAULT '[]', "
            "logs_truncated INTEGER NOT NULL DEFAULT 0)"
        )
    store = SQLiteStore(str(path))
    conn = store._connect()
    columns = {row[1] for row in conn.execute("PRAGMA table_info(runs)")}
    conn.close()
    assert "parent_attempt" in columns
