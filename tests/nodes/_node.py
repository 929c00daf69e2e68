"""What the several-node tests share: :class:`Node`, one ``render-workflows dev`` process on a
shared PostgreSQL database (tests/pg.py; the fixtures that start them are in conftest.py), and
:func:`until`."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from tests.e2e._engine import APPS, free_port

# Seconds: short, so that a killed node's runs start again soon, and well above the tasks'
# length, so that a killed node's worker (which finishes its task) is done before the rerun.
LEASE = 4
DEADLINE = 240.0  # seconds any one wait may take on a loaded machine


class Node:
    """One ``render-workflows dev`` process on the shared database."""

    def __init__(
        self,
        name: str,
        db: str,
        records: Path,
        logs: Path,
        concurrency: int = 2,
        app: str = "nodes_app:app",
    ) -> None:
        self.name = name
        self.app = app
        self.db = db
        self.records = records
        self.log_path = logs / f"node-{name}.log"
        self.concurrency = concurrency
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Node:
        command = [
            sys.executable, "-m", "render_sdk.cli", "dev", "--port", str(self.port),
            "--db", self.db, "--lease-seconds", str(LEASE),
            "--max-concurrency", str(self.concurrency), self.app,
        ]  # fmt: skip
        env = {
            **os.environ, "PYTHONUNBUFFERED": "1", "NODE_NAME": self.name,
            "RECORDS": str(self.records),
        }  # fmt: skip
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                command, cwd=APPS, stdout=log, stderr=subprocess.STDOUT, env=env
            )
        until(lambda: self._ready(), f"node {self.name} to listen", self.output)
        return self

    def _ready(self) -> bool:
        assert self.proc is not None
        if self.proc.poll() is not None:
            raise AssertionError(f"node {self.name} exited:\n{self.output()[-3000:]}")
        try:
            return httpx.get(f"{self.url}/tasks", timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # --- REST -----------------------------------------------------------------------------------
    def start_run(self, task: str, *args: Any) -> str:
        answer = httpx.post(f"{self.url}/task-runs", json={"task": task, "input": list(args)})
        assert answer.status_code == 202, answer.text
        return str(answer.json()["id"])

    def get(self, run_id: str) -> dict[str, Any]:
        answer = httpx.get(f"{self.url}/task-runs/{run_id}", timeout=30.0)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        return body

    def wait_done(self, run_id: str) -> dict[str, Any]:
        found: dict[str, Any] = {}

        def done() -> bool:
            found.update(self.get(run_id))
            return found["status"] in ("completed", "failed", "canceled")

        until(done, f"run {run_id} to end (asked node {self.name})", self.output)
        return found


def until(check: Callable[[], bool], what: str, output: Callable[[], str] = str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {DEADLINE:g}s for {what}\n{output()[-3000:]}")
        time.sleep(0.1)
