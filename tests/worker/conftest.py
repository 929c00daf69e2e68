"""Fixtures of the worker tests: a FakePlatform on a real Unix socket, real worker processes."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.worker._platform import FakePlatform

APPS = Path(__file__).parent / "apps"


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    fake = FakePlatform().start()
    yield fake
    fake.close()


def run_worker(
    platform: FakePlatform,
    mode: str,
    target: str = "worker_app:app",
    timeout: float = 60,
    **env: str,
) -> subprocess.CompletedProcess[str]:
    """Run `python -m render_sdk.cli TARGET` as the platform would, and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "render_sdk.cli", target],
        cwd=APPS,
        env=platform.env(mode, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def run_worker_unread(
    platform: FakePlatform, mode: str, target: str = "worker_app:app", timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Like :func:`run_worker`, but nothing reads the worker's stdout and stderr until it has
    exited (a platform slow to read its workers' output)."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "render_sdk.cli", target],
        cwd=APPS,
        env=platform.env(mode),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        proc.wait(timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stdout is not None and proc.stderr is not None
    out, err = proc.stdout.read(), proc.stderr.read()
    return subprocess.CompletedProcess(proc.args, proc.wait(), out, err)
