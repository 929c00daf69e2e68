"""Run an engine in its own process (killed with SIGKILL by the recovery test).

    python engine_script.py DB_PATH TASK JSON_INPUT

Prints the started run's id, then serves until killed.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

from render_sdk.engine.core import EngineCore
from render_sdk.engine.interface import EngineConfig

WORKER = Path(__file__).resolve().parents[2] / "engine_workers" / "plain_worker.py"


async def main(db_path: str, task_name: str, value: str) -> None:
    core = EngineCore(
        EngineConfig(db_path=db_path, start_command=[sys.executable, str(WORKER)], durable=True)
    )
    await core.start()
    task = await core.find_task(task_name)
    assert task is not None
    run = await core.start_run(task, json.loads(value))
    print(run.id, flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
