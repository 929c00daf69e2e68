"""The process test of recovery: an engine process killed with SIGKILL while its worker process
runs an attempt; the next engine runs it again without spending a retry. Restart and recovery
as the store sees them are tested without processes in test_restart.py."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

from render_sdk.engine.lifecycle import INTERRUPTED_ERROR
from render_sdk.engine.records import RunStatus

from .conftest import REPO, MakeEngine, wait_end


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
