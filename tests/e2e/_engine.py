"""A real ``render-workflows dev`` engine in a subprocess, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

APPS = Path(__file__).resolve().parent / "apps"
# Which store the end-to-end engines use: "sqlite" (a file in the test's folder) or "postgres"
# (a fresh database of the tests' throwaway cluster, tests/pg.py); `nox -s e2e_postgres` sets it.
STORE_ENV = "RENDER_TEST_ENGINE_STORE"


def engine_store() -> str:
    store = os.environ.get(STORE_ENV, "sqlite")
    if store not in ("sqlite", "postgres"):
        raise ValueError(f"{STORE_ENV} must be sqlite or postgres, got {store!r}")
    return store


def engine_db(folder: Path, name: str = "workflows") -> Path | str:
    """A new database for an engine: ``folder/name.db``, or a PostgreSQL URL (see STORE_ENV)."""
    if engine_store() == "postgres":
        from tests.pg import shared_cluster

        cluster = shared_cluster()
        return cluster.url(cluster.create_database())
    return folder / f"{name}.db"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class EngineProcess:
    """Start, kill and restart an engine on one database file."""

    def __init__(
        self,
        db: Path | str,
        target: list[str],
        log_path: Path,
        extra_args: list[str] | None = None,
        cwd: Path = APPS,
    ) -> None:
        self.db = db
        self.target = target
        self.log_path = log_path
        self.extra_args = extra_args or []
        self.cwd = cwd
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60.0) -> None:
        command = [sys.executable, "-m", "render_sdk.cli", "dev", "--port", str(self.port)]
        command += ["--db", str(self.db), *self.extra_args, *self.target]
        log = self.log_path.open("ab")
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            command, cwd=self.cwd, stdout=log, stderr=subprocess.STDOUT, env=env
        )
        log.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"engine exited with {self.proc.returncode}:\n{self.output()[-4000:]}"
                )
            try:
                answer = httpx.get(f"{self.base_url}/v1/tasks", headers=self._auth(), timeout=1.0)
                if answer.status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"engine not ready in {timeout} s:\n{self.output()[-4000:]}")

    def _auth(self) -> dict[str, str]:
        if "--api-key" not in self.extra_args:
            return {}
        return {
            "Authorization": f"Bearer {self.extra_args[self.extra_args.index('--api-key') + 1]}"
        }

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return int(self.proc.returncode)

    def kill(self) -> None:
        """SIGKILL the engine (its worker processes are left to notice the socket is gone)."""
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait()

    def output(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
