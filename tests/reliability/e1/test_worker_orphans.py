"""When the engine is SIGKILLed, its reused (serve-mode) worker processes exit instead of lingering.

Without this, every kill left the pre-started processes retrying a socket that can never answer
again for the full retry period (180 s), and repeated kills piled them up.
"""

from __future__ import annotations

import os
import select
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.reliability.e1._rest import engine_process, start_run, wait_terminal

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and uses pidfds"
)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(p) for p in f.read().split()]


def _wait_gone(pids: list[int], timeout: float) -> list[int]:
    """Wait (on pidfds, no polling) until the processes exit; those still alive at ``timeout``."""
    fds: dict[int, int] = {}
    for pid in pids:
        try:
            fds[os.pidfd_open(pid)] = pid
        except ProcessLookupError:
            pass  # already gone
    deadline = time.monotonic() + timeout
    try:
        while fds and time.monotonic() < deadline:
            ready, _, _ = select.select(list(fds), [], [], deadline - time.monotonic())
            for fd in ready:
                os.close(fd)
                del fds[fd]
        return sorted(fds.values())
    finally:
        for fd in fds:
            os.close(fd)


def test_serve_workers_exit_when_the_engine_is_killed(tmp_path: Path) -> None:
    (tmp_path / "markers").mkdir()
    engine = engine_process(tmp_path, ["crash_app:app"], "--max-concurrency", "4")
    engine.start()
    try:
        with httpx.Client(base_url=engine.base_url, timeout=30.0) as client:
            runs = [
                start_run(client, "leaf", [str(tmp_path / "markers"), "k", 1]) for _ in range(6)
            ]
            wait_terminal(engine.base_url, runs, timeout=30)
            # Two long ones still running when the engine dies.
            start_run(client, "leaf", [str(tmp_path / "markers"), "k", 4])
            start_run(client, "leaf", [str(tmp_path / "markers"), "k", 4])
        assert engine.proc is not None
        workers = _children(engine.proc.pid)
        assert len(workers) >= 4  # the pre-started pool
        engine.kill()
        # The retry period of the socket is 180 s; the workers notice their parent is gone.
        assert _wait_gone(workers, timeout=20.0) == []
        engine.start()  # the database is fine for the next engine
    finally:
        engine.stop()
