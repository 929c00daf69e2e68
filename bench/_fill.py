"""Fill an engine database with many finished runs, fast, for the scale benchmark (B5).

It writes through the engine's own store (``SQLiteStore.insert_run`` / ``save_run``, group
committed) before the engine starts, so no run executes and the rows look exactly like the ones
the engine writes itself: no-op runs, one attempt each, completed except every
``failed_every``-th, which failed (what a filtered page of the run inspector looks for).
"""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

from bench._procs import NotMeasured


async def _fill(db_path: str, count: int, task_name: str, batch: int, failed_every: int) -> None:
    from render_sdk.engine._ids import new_run_id, task_id_for
    from render_sdk.engine.records import AttemptRecord, RunRecord, RunStatus
    from render_sdk.engine.store_sqlite import SQLiteStore

    store = SQLiteStore(db_path, durable=False)
    counters = await store.open()
    task_id = task_id_for(task_name)
    base = datetime.now(timezone.utc) - timedelta(seconds=count)
    seq = counters.event_seq
    try:
        for start in range(0, count, batch):
            pending = []
            for i in range(start, min(start + batch, count)):
                at = base + timedelta(seconds=i)
                done = at + timedelta(milliseconds=2)
                run_id = new_run_id()
                seq += 1
                failed = failed_every > 0 and i % failed_every == failed_every - 1
                status = RunStatus.FAILED if failed else RunStatus.COMPLETED
                error = "ValueError: no" if failed else None
                run = RunRecord(
                    id=run_id,
                    task_id=task_id,
                    task_name=task_name,
                    status=status,
                    input=[],
                    parent_id="",
                    root_id=run_id,
                    created_at=at,
                    started_at=at,
                    completed_at=done,
                    results=None if failed else [None],
                    error=error,
                    event_seq=seq,
                    attempts=[
                        AttemptRecord(
                            1, status, at, done, error=error, results=None if failed else [None]
                        )
                    ],
                )
                pending.append(store.insert_run(run, None))
                pending.append(store.save_run(run))
            await asyncio.gather(*pending)
        await store.save_run(run)  # a last write: everything queued before it is committed
    finally:
        await store.close()


def fill_runs(
    db_path: str,
    count: int,
    task_name: str = "noop",
    timeout: float = 600,
    failed_every: int = 0,
) -> float:
    """Write ``count`` runs of ``task_name`` into the database (completed; every
    ``failed_every``-th failed), in a child process (bounded by ``timeout``); return the seconds
    taken. NotMeasured when it cannot."""
    import subprocess
    import sys

    from bench._procs import ROOT, bench_env

    t0 = time.perf_counter()
    command = [
        sys.executable,
        "-m",
        "bench._fill",
        db_path,
        str(count),
        task_name,
        str(failed_every),
    ]
    try:
        done = subprocess.run(
            command,
            cwd=ROOT,
            env=bench_env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise NotMeasured(f"filling the store did not finish within {timeout:.0f} s") from exc
    if done.returncode != 0:
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise NotMeasured(f"filling the store through its own module failed: {last}")
    return time.perf_counter() - t0


def main(argv: list[str]) -> int:
    """``python -m bench._fill DB COUNT [TASK [FAILED_EVERY]]``."""
    db_path, count = argv[0], int(argv[1])
    task_name = argv[2] if len(argv) > 2 else "noop"
    failed_every = int(argv[3]) if len(argv) > 3 else 0
    asyncio.run(_fill(db_path, count, task_name, 2000, failed_every))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
