"""Client CPU per ``start_task`` / ``run_task`` with 64 calls in flight (benchmark C1).

Runs in its own process so that its CPU time (``time.process_time``) is the client's alone; the
engine runs in another process. Prints one JSON object on stdout.

    RENDER_LOCAL_DEV_URL=http://127.0.0.1:8120 python -m bench._c1_client --mode start --n 2000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from typing import Any


async def _drive(render: Any, mode: str, n: int, inflight: int) -> tuple[float, float, list[str]]:
    """Make ``n`` calls with ``inflight`` at a time; return (CPU s, wall s, run ids)."""
    ids: list[str] = []
    remaining = n

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            if mode == "start":
                run = await render.workflows.start_task("noop", [])
            else:
                run = await render.workflows.run_task("noop", [])
            ids.append(run.id)

    cpu0, wall0 = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(inflight)))
    return time.process_time() - cpu0, time.perf_counter() - wall0, ids


async def main_async(mode: str, n: int, inflight: int, warmup: int) -> dict[str, Any]:
    from bench._engine import wait_terminal
    from render_sdk import RenderAsync

    async with RenderAsync() as render:
        _, _, warm_ids = await _drive(render, mode, warmup, inflight)
        await wait_terminal(render, warm_ids, 300)
        cpu, wall, ids = await _drive(render, mode, n, inflight)
        await wait_terminal(render, ids, 300)
    return {
        "mode": mode,
        "n": n,
        "inflight": inflight,
        "cpu_ms_per_call": cpu * 1000 / n,
        "wall_seconds": wall,
        "calls_per_s": n / wall,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--mode", choices=("start", "run"), required=True)
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--inflight", type=int, default=64)
    parser.add_argument("--warmup", type=int, default=200)
    args = parser.parse_args(argv)
    result = asyncio.run(main_async(args.mode, args.n, args.inflight, args.warmup))
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
