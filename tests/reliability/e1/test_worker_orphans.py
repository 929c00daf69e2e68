"""When the engine is SIGKILLed, its worker processes exit instead of lingering.

Without this, every kill left the worker processes (the pre-started pool, and on the
process-per-run path every attempt in flight) retrying a socket that can never answer again for
the full retry period (180 s), and repeated kills piled them up. The engine gives its workers
``RENDER_SDK_ENGINE_PID``; this SDK's worker stops retrying once that process is gone.
"""

from __future__ import annotations

import os
import select
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from render_sdk.workflows._errors import CallbackAPIError
from render_sdk.workflows._transport import CallbackClient
from tests.reliability.e1._rest import engine_process, start_run, wait_terminal

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="reads /proc and uses pidfds"
)


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as f:
        return [int(p) for p in f.read().split()]


def _wait_running(client: httpx.Client, run_ids: list[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        states = {client.get(f"/v1/task-runs/{r}").json()["status"] for r in run_ids}
        if states == {"running"}:
            return
        time.sleep(0.02)
    raise AssertionError(f"runs did not start: {states}")


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


TARGETS = {"fast": ["crash_app:app"], "process": ["--", sys.executable, "crash_app.py"]}


@pytest.mark.parametrize("path", sorted(TARGETS))
def test_workers_exit_when_the_engine_is_killed(tmp_path: Path, path: str) -> None:
    (tmp_path / "markers").mkdir()
    engine = engine_process(tmp_path, TARGETS[path], "--max-concurrency", "4")
    engine.start()
    try:
        with httpx.Client(base_url=engine.base_url, timeout=30.0) as client:
            runs = [
                start_run(client, "leaf", [str(tmp_path / "markers"), "k", 1]) for _ in range(6)
            ]
            wait_terminal(engine.base_url, runs, timeout=30)
            # Parents waiting on subtasks, and subtasks, in flight when the engine dies.
            trees = [
                start_run(client, "tree", [str(tmp_path / "markers"), f"t{i}", 8]) for i in range(3)
            ]
            _wait_running(client, trees)
        assert engine.proc is not None
        workers = _children(engine.proc.pid)
        assert len(workers) >= 3
        engine.kill()
        # The retry period of the socket is 180 s; the workers notice the engine is gone.
        assert _wait_gone(workers, timeout=20.0) == []
        engine.start()  # the database is fine for the next engine
    finally:
        engine.stop()


@pytest.mark.timeout(30)
def test_socket_client_gives_up_at_once_when_the_engine_is_gone(tmp_path: Path) -> None:
    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    pid = int(gone.stdout)
    client = CallbackClient(str(tmp_path / "no.sock"), retry_seconds=600, engine_pid=pid)
    with pytest.raises(CallbackAPIError, match=f"the engine that started this worker, pid {pid}"):
        client.call("GET", "/input")


def test_socket_client_keeps_retrying_while_the_engine_lives(tmp_path: Path) -> None:
    client = CallbackClient(str(tmp_path / "no.sock"), retry_seconds=0.3, engine_pid=os.getpid())
    with pytest.raises(CallbackAPIError, match=r"gave up after retrying for 0\.3s"):
        client.call("GET", "/input")
