"""The process floor: forking a pre-imported process per run vs handing a run to a reused one.

Runs in its own process, after importing what a worker of this SDK imports (``render_sdk.workflows``
and the benchmark app). Per run, the fork variant forks, the child writes one byte to a pipe and
exits, the parent reads it and reaps the child; the reused variant sends one byte to a long-lived
child over a pipe and reads its one-byte answer. CPU is the parent's plus its children's
(``getrusage``). These are process mechanics only: no HTTP, no callback. It also times a one-row
SQLite commit in WAL mode with ``synchronous=FULL`` (fsync, the engine's default) and ``NORMAL``.
Prints one JSON object.

    python -m bench._floor --n 500
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time


def _cpu() -> float:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def fork_per_run(n: int) -> tuple[float, float]:
    """(CPU s, wall s) of ``n`` fork + one-byte answer + exit + reap."""
    cpu0, wall0 = _cpu(), time.perf_counter()
    for _ in range(n):
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(r)
            os.write(w, b"x")
            os._exit(0)
        os.close(w)
        os.read(r, 1)
        os.close(r)
        os.waitpid(pid, 0)
    return _cpu() - cpu0, time.perf_counter() - wall0


def reused(n: int) -> tuple[float, float]:
    """(CPU s, wall s) of ``n`` one-byte round trips to one long-lived child."""
    to_child_r, to_child_w = os.pipe()
    to_parent_r, to_parent_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(to_child_w)
        os.close(to_parent_r)
        while os.read(to_child_r, 1) == b"x":
            os.write(to_parent_w, b"y")
        os._exit(0)
    os.close(to_child_r)
    os.close(to_parent_w)
    cpu0, wall0 = _cpu(), time.perf_counter()
    for _ in range(n):
        os.write(to_child_w, b"x")
        os.read(to_parent_r, 1)
    wall = time.perf_counter() - wall0
    os.write(to_child_w, b"q")
    os.waitpid(pid, 0)  # the child's CPU is counted once it is reaped
    return _cpu() - cpu0, wall


def sqlite_commit(folder: str, synchronous: str, n: int) -> float:
    """Seconds per one-row commit to an SQLite WAL database in ``folder``."""
    import sqlite3
    import tempfile

    with tempfile.TemporaryDirectory(dir=folder) as tmp:
        conn = sqlite3.connect(os.path.join(tmp, "floor.db"), isolation_level=None)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        for _ in range(20):
            conn.execute("INSERT INTO t (v) VALUES ('warm')")
        t0 = time.perf_counter()
        for _ in range(n):
            conn.execute("INSERT INTO t (v) VALUES ('x')")
        elapsed = time.perf_counter() - t0
        conn.close()
    return elapsed / n


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="process floor: fork per run vs reused")
    parser.add_argument("--n", type=int, default=500)
    parser.add_argument("--db-dir", default=".", help="where the SQLite commit probe writes")
    args = parser.parse_args(argv)
    import bench.app  # noqa: F401
    import render_sdk.workflows  # noqa: F401  (what a pre-imported worker has loaded)

    modules = len(sys.modules)
    fork_per_run(20)
    fork_cpu, fork_wall = fork_per_run(args.n)
    reused(20)
    reuse_cpu, reuse_wall = reused(args.n)
    json.dump(
        {
            "n": args.n,
            "modules_loaded": modules,
            "fork_cpu_ms": fork_cpu * 1000 / args.n,
            "fork_wall_ms": fork_wall * 1000 / args.n,
            "reused_cpu_ms": reuse_cpu * 1000 / args.n,
            "reused_wall_ms": reuse_wall * 1000 / args.n,
            "sqlite_commit_full_ms": sqlite_commit(args.db_dir, "FULL", args.n) * 1000,
            "sqlite_commit_normal_ms": sqlite_commit(args.db_dir, "NORMAL", args.n) * 1000,
        },
        sys.stdout,
    )
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
