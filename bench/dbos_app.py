"""The DBOS counterpart of bench/app.py: no-op workflows on a DBOS queue over PostgreSQL.

Run as the DBOS worker process of the benchmarks (bench/_dbos.py starts it):

    BENCH_DBOS_URL=postgresql://... python -m bench.dbos_app

The queue runs at most ``BENCH_DBOS_CONCURRENCY`` workflows at once in this process (8, the local
engine's default slots on 2 cores) and polls every ``BENCH_DBOS_POLL`` seconds (0.01: DBOS's
default of 1 s would put half a second into every latency).
"""

from __future__ import annotations

import os
import threading

from dbos import DBOS, DBOSConfig

QUEUE = "bench"
POLL_SECONDS = float(os.environ.get("BENCH_DBOS_POLL", "0.01"))

config: DBOSConfig = {
    "name": "render-bench",
    "system_database_url": os.environ.get("BENCH_DBOS_URL", ""),
    "log_level": "WARNING",
}
DBOS(config=config)


@DBOS.workflow()
def noop() -> None:
    """Do nothing."""
    return None


@DBOS.workflow()
def parent_one() -> None:
    """Enqueue one no-op workflow and wait for its result."""
    DBOS.retrieve_queue(QUEUE).enqueue(noop).get_result(polling_interval_sec=POLL_SECONDS)


@DBOS.workflow()
def fan_out(n: int) -> int:
    """Enqueue ``n`` no-op workflows, wait for all of them, return how many finished."""
    queue = DBOS.retrieve_queue(QUEUE)
    handles = [queue.enqueue(noop) for _ in range(n)]
    for handle in handles:
        handle.get_result(polling_interval_sec=POLL_SECONDS)
    return len(handles)


def main() -> None:
    DBOS.launch()
    DBOS.register_queue(
        QUEUE,
        worker_concurrency=int(os.environ.get("BENCH_DBOS_CONCURRENCY", "8")),
        polling_interval_sec=POLL_SECONDS,
    )
    print("dbos worker ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main()
